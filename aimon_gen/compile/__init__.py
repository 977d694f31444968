"""Compile: pure steps from the Spec to the typed build result (a Bundle, compile/result.py).

Each step adds its part to the Bundle; prometheus.yml comes after the rule steps because it
lists their rule files, the README last because it lists every file. Nothing here writes files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..render import documents
from ..spec.finding import Finding
from . import readme
from .alerting.alertmanager import compile_alertmanager
from .dashboards.panels import compile_dashboards
from .dashboards.provisioning import compile_provisioning
from .kubernetes.manifests import compile_kubernetes
from .result import Bundle
from .rules.groups import compile_rules
from .scrape.config import compile_prometheus
from .scrape.sharding import compile_sharding
from .slo.rules import compile_slo
from .slo.unittests import compile_slo_tests


@dataclass
class Context:
    spec: Any            # Spec
    spec_file: str       # as the user named it, for messages
    spec_dir: Path       # user rule packs are relative to it
    # Findings (spec path, message) that do not stop the build; shown at their spec line.
    warnings: list = field(default_factory=list)

    # Problems only the compiled documents reveal (e.g. a route matching a label no alert
    # carries); the build stops with them at their spec line, like load-time findings.
    errors: list = field(default_factory=list)

    # `aimon-gen build --format` (files, kubernetes); empty: the spec's outputs.formats.
    formats: tuple = ()

    def output_formats(self) -> tuple:
        return tuple(self.formats or self.spec.outputs.formats)

    def warn(self, path: tuple, message: str, hint: str = "") -> None:
        self.warnings.append(Finding(path, message, hint, warning=True))

    def error(self, path: tuple, message: str, hint: str = "", at_key: bool = False) -> None:
        self.errors.append(Finding(path, message, hint, at_key=at_key))


def compile_bundle(ctx: Context) -> Bundle:
    """Run every step in order; each adds its part to one Bundle."""
    bundle = Bundle()
    for step in STEPS:
        step(ctx, bundle)
    listed = list(documents(bundle, readme=False))
    if "files" not in ctx.output_formats():  # the README lists what the build writes
        listed = [p for p in listed if p.startswith("kubernetes/")]
    bundle.readme = readme.compile_readme(ctx.spec, listed)
    return bundle


def _kubernetes(ctx: Context, bundle: Bundle) -> None:
    if "kubernetes" in ctx.output_formats():
        compile_kubernetes(ctx, bundle)


# Each step: (Context, Bundle) -> None, adding its part. Order matters: a step reads what the
# steps before it declared (Alertmanager the alerts' levels and pairs, dashboards the SLOs).
STEPS = [
    compile_rules,         # alert/recording rules, their unit tests, dcgm-counters.csv
    compile_slo,           # SLO recording rules, burn-rate alerts
    compile_slo_tests,     # their promtool unit tests
    compile_alertmanager,  # routes the alerts of both steps above
    compile_dashboards,    # reads the recorded names of the rules and SLO steps
    compile_provisioning,  # provisions the dashboards, when there are any
    compile_prometheus,    # lists the rule files of the steps above
    compile_sharding,      # shards > 1: per-shard configs, global layer
    _kubernetes,           # --format kubernetes: manifests of everything above
]
