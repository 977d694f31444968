"""YAML spec -> validated Spec, or every problem at its file:line:col.

Reading and schema errors go through the one loader (aimon_gen/loader.py); what is the
spec's own is here: the cross-checks (spec/checks.py), run even when the schema rejected
some entries, so that a typo and a duplicate name are reported in one round.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import Problem, SpecInvalid

# format_path: also imported from here by build.py and spec/alerting_checks.py.
from ..loader import SPEC, PathT, Positions, data_path, format_path, parse_yaml, schema_problems
from .checks import run_checks
from .model import Spec


@dataclass
class Loaded:
    spec: Any  # Spec
    file: str
    positions: Positions
    warnings: list[Problem]


def load_spec(path: str | Path) -> Loaded:
    """Read, parse and validate a spec file. Raises SpecInvalid with every problem."""
    file = str(path)
    data, positions, problems = parse_yaml(Path(path), file, SPEC)
    try:
        spec = Spec.model_validate(data, context={})
    except ValidationError as exc:
        schema = schema_problems(exc, data, positions, file, Spec, problems)
        rest = [p for p in checks_without_invalid(exc, data, positions, file) if not p.warning]
        raise SpecInvalid(problems + schema + sorted(rest)) from None

    findings = _problems(run_checks(spec), positions, file)
    errors = problems + [p for p in findings if not p.warning]  # problems: duplicate keys and the like
    if errors:
        raise SpecInvalid(errors)
    return Loaded(spec, file, positions, sorted(findings))


def _problems(findings, positions: Positions, file: str, restore=lambda path: path) -> list[Problem]:
    out = []
    for f in findings:
        path = restore(f.path)
        message = f.message.replace("{also}", format_path(restore(f.also))) if f.also else f.message
        out.append(Problem(file, *positions.of(path, f.at_key), format_path(path), message, f.hint, f.warning))
    return out


def checks_without_invalid(exc: ValidationError, data: dict, positions: Positions, file: str) -> list[Problem]:
    """The cross-checks, run on the spec without the entries the schema rejected, so that a
    typo and a duplicate name are reported in one round. Each rejected entry is left out
    whole (models[2], not just its bad field, whose absence a check would misread); a
    top-level field outside a list goes whole. Checks that read a section which lost
    something are skipped (checks.READS): what they would say could follow from the loss."""
    cut = set()
    for err in exc.errors(include_url=False):
        path = data_path(err["loc"], data)
        at = next((i for i, part in enumerate(path) if isinstance(part, int)), None)
        cut.add(path[:at + 1] if at is not None else path[:1])
    if () in cut:
        return []
    kept, restore = _without(data, cut)
    try:
        spec = Spec.model_validate(kept, context={})
    except ValidationError:
        return []  # a required field was rejected: nothing sound to check
    return _problems(run_checks(spec, skip=frozenset(p[0] for p in cut)), positions, file, restore)


def _without(data: Any, cut: set) -> tuple[Any, Any]:
    """`data` without the values at the `cut` paths, and a function from a path in the result
    back to the same place in `data` (list indices shift when an entry is left out)."""
    removed: dict[PathT, list[int]] = {}

    def strip(node: Any, path: PathT) -> Any:
        if isinstance(node, dict):
            return {k: strip(v, path + (k,)) for k, v in node.items() if path + (k,) not in cut}
        if isinstance(node, list):
            gone = [i for i in range(len(node)) if path + (i,) in cut]
            if gone:
                removed[path] = gone
            return [strip(v, path + (i,)) for i, v in enumerate(node) if path + (i,) not in cut]
        return node

    def restore(path: PathT) -> PathT:
        out: list = []
        for part in path:
            if isinstance(part, int):
                for gone in removed.get(tuple(out), ()):
                    part += gone <= part
            out.append(part)
        return tuple(out)

    return strip(data, ()), restore
