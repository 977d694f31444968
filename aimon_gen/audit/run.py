"""audit(): compile the spec in memory, ask Prometheus, run the checks in order."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..build import compile_spec
from . import checks
from .client import PrometheusAPI, read_token
from .expect import expected
from .report import Problem


@dataclass
class Options:
    url: str
    bearer_token_file: Path | None = None
    timeout: float = 10.0
    assumptions: dict | None = None   # plan's --assume overrides


def audit(spec_path: Path, opts: Options) -> list[Problem]:
    """Every problem found; raises SpecInvalid for a bad spec, client.Unreachable when
    Prometheus cannot be asked (before or during the checks)."""
    token = read_token(opts.bearer_token_file) if opts.bearer_token_file else None
    api = PrometheusAPI(opts.url, token, opts.timeout)
    active = api.targets()  # first: an unreachable Prometheus fails before the compile's second
    bundle, loaded = compile_spec(spec_path)
    exp = expected(bundle, loaded.spec, opts.assumptions)
    problems, live = checks.targets(exp, active)
    query = checks.series_query(exp, live)
    problems += checks.series(exp, live, api.query(query) if query else [])
    missing = {label: api.query(q) for label, q in checks.label_queries(exp, live).items()}
    problems += checks.labels(exp, missing)
    problems += checks.rules(exp, api.rule_groups())
    query = checks.cardinality_query(live)
    problems += checks.cardinality(exp, live, api.query(query) if query else [])
    return problems
