"""Rule packs: YAML files of alert and recording rule templates, read with their line numbers.

A pack file (shipped in `rules/`, or a user's in a folder named by `spec.rules.packs`):

    groups:
      - name: gpu                  # rule group name in alert.rules.yml / recording.rules.yml
        requires: dcgm_exporter    # exporter kind (catalog KINDS); the group is left out
                                   # when the spec has nothing that exporter serves
        scope: node_groups         # node_groups | models | pipelines | storage | none
        when: remote_write         # optional: left out unless the spec has it (WHEN below):
                                   # `alertmanagers` (prometheus.alertmanagers is not empty)
                                   # or `remote_write` (prometheus.remote_write is not empty)
        recording:
          - {record: ..., expr: ...}
        alerts:
          - alert: HighGPUUtilization
            threshold: gpu_utilization_high   # named in rules/thresholds.yaml (value, for, severity)
            each: false            # true: one rule per scope entry (`entry` in templates)
            expr: avg_over_time(DCGM_FI_DEV_GPU_UTIL{<%= sel %>}[5m]) > <%= threshold %>
            summary: ...           # Go templates ({{ $labels.x }}, {{ printf "%.4g" $value }})
            description: ...
            labels: {}             # extra alert labels
            test: {...}            # inputs for the generated promtool unit test (unittests.py)
            runbook: ...           # what it means and what to do; the README's alert table shows it
            inhibits: [Name]       # lesser alerts this one silences on the same target (alertmanager.yml)

Severity `none` (with `for` and `severity` instead of a threshold) is for a heartbeat such as
Watchdog: it always fires by design, needs no comparison, and its generated unit test has
no quiet case when its `test.input` is empty.

Templates use Jinja2 with `<%= expr %>`, `<% stmt %>` and `<%# comment %>`: none of these
can occur in PromQL or in Go templates. The YAML is parsed FIRST; only then is each string
rendered on its own, so a value can never add keys, items or documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ...errors import Problem, SpecInvalid, did_you_mean

SCOPES = ("node_groups", "models", "pipelines", "storage", "none")
GROUP_KEYS = {"name": str, "requires": str, "scope": str, "when": str, "recording": list, "alerts": list}
# Group conditions on the spec's prometheus section: a group about a feature the spec does
# not use would read series that never exist (or, for Watchdog, fire with nobody listening).
WHEN = ("alertmanagers", "remote_write")
RECORD_KEYS = {"record": str, "expr": str, "labels": dict}
ALERT_KEYS = {"alert": str, "expr": str, "threshold": str, "each": bool, "for": str, "severity": str,
              "summary": str, "description": str, "labels": dict, "test": dict, "runbook": str,
              "inhibits": list}
TEST_KEYS = {"input": list, "value": (str, int, float), "keep": (str, list), "drop": list, "at": str}
INPUT_KEYS = {"metric": str, "histogram": str, "labels": dict, "fire": (str, int, float), "quiet": (str, int, float),
              "repeat": dict}


class Src(str):
    """A string from a pack file that remembers where it was."""
    line: int = 0
    col: int = 0


class SrcMap(dict):
    line: int = 0
    col: int = 0


class SrcList(list):
    line: int = 0
    col: int = 0


@dataclass(frozen=True)
class PackFile:
    path: Path
    shown: str          # the name used in messages
    groups: list        # SrcMap per group
    user: bool


def _convert(loader: yaml.SafeLoader, node: yaml.Node):
    line, col = node.start_mark.line + 1, node.start_mark.column + 1
    if isinstance(node, yaml.MappingNode):
        out: Any = SrcMap()  # then a SrcList or Src in the other branches
        for key_node, value_node in node.value:
            key = str(loader.construct_object(key_node))
            if key in out:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key '{key}'", key_node.start_mark)
            out[key] = _convert(loader, value_node)
    elif isinstance(node, yaml.SequenceNode):
        out = SrcList(_convert(loader, n) for n in node.value)
    else:
        value = loader.construct_object(node)
        if not isinstance(value, str):
            return value
        out = Src(value)
    out.line, out.col = line, col
    return out


def load_pack(path: Path, shown: str, user: bool) -> PackFile:
    """Parse one pack file; every structural problem is reported at its line."""
    try:
        # libyaml when present: packs are parsed on every build.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(path.read_text(encoding="utf-8"))
        node = loader.get_single_node()
        doc = _convert(loader, node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise SpecInvalid([Problem(shown, mark.line + 1 if mark else 0, mark.column + 1 if mark else 0, "",
                                   f"rule pack is not valid YAML: {exc.problem}")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecInvalid([Problem(shown, 0, 0, "", f"cannot read rule pack: {exc}")]) from None
    problems: list[Problem] = []
    if not isinstance(doc, SrcMap) or not isinstance(doc.get("groups"), list):
        problems.append(Problem(shown, getattr(doc, "line", 1), 1, "",
                                "a rule pack is a mapping with a `groups:` list"))
        raise SpecInvalid(problems)
    for key in doc:
        if key != "groups":
            problems.append(_at(shown, doc, f"unknown key '{key}'", "a pack has only `groups:`"))
    for group in doc["groups"]:
        problems += _check_group(shown, group)
    if problems:
        raise SpecInvalid(problems)
    return PackFile(path, shown, list(doc["groups"]), user)


def _at(shown: str, node, message: str, hint: str = "") -> Problem:
    return Problem(shown, getattr(node, "line", 0), getattr(node, "col", 0), "", message, hint)


def _check_keys(shown: str, node, allowed: dict, what: str, required: tuple) -> list[Problem]:
    if not isinstance(node, dict):
        return [_at(shown, node, f"{what} must be a mapping")]
    problems = []
    for key, value in node.items():
        if key not in allowed:
            problems.append(_at(shown, value if hasattr(value, "line") else node, f"unknown key '{key}' in {what}",
                                did_you_mean(key, allowed) or f"allowed: {', '.join(allowed)}"))
        elif not isinstance(value, allowed[key]):
            problems.append(_at(shown, value if hasattr(value, "line") else node,
                                f"'{key}' in {what} has the wrong type ({type(value).__name__})"))
    for key in required:
        if key not in node:
            problems.append(_at(shown, node, f"{what} needs '{key}'"))
    return problems


def _check_group(shown: str, group) -> list[Problem]:
    from ... import catalog

    problems = _check_keys(shown, group, GROUP_KEYS, "a group", ("name", "requires", "scope"))
    if problems:
        return problems
    if group["requires"] not in catalog.KINDS:
        problems.append(_at(shown, group["requires"], f"unknown exporter '{group['requires']}'",
                            did_you_mean(group["requires"], catalog.KINDS) or ", ".join(catalog.KINDS)))
    if group["scope"] not in SCOPES:
        problems.append(_at(shown, group["scope"], f"unknown scope '{group['scope']}'",
                            did_you_mean(group["scope"], SCOPES) or ", ".join(SCOPES)))
    if "when" in group and group["when"] not in WHEN:
        problems.append(_at(shown, group["when"], f"unknown condition when: '{group['when']}'",
                            did_you_mean(group["when"], WHEN) or ", ".join(WHEN)))
    for rule in group.get("recording", []):
        problems += _check_keys(shown, rule, RECORD_KEYS, "a recording rule", ("record", "expr"))
    for rule in group.get("alerts", []):
        problems += _check_alert(shown, rule)
    return problems


def _check_alert(shown: str, rule) -> list[Problem]:
    problems = _check_keys(shown, rule, ALERT_KEYS, "an alert", ("alert", "expr", "summary", "description", "test"))
    if problems:
        return problems
    if "threshold" not in rule and ("for" not in rule or "severity" not in rule):
        problems.append(_at(shown, rule, f"alert {rule['alert']} needs a `threshold` (see rules/thresholds.yaml) "
                                         "or both `for` and `severity`"))
    test = rule["test"]
    problems += _check_keys(shown, test, TEST_KEYS, "a test", ("input", "value"))
    for item in test.get("input", []) if isinstance(test, dict) else []:
        problems += _check_keys(shown, item, INPUT_KEYS, "a test input", ())
        if isinstance(item, dict) and ("metric" in item) == ("histogram" in item):
            problems.append(_at(shown, item, "a test input names either `metric` or `histogram`"))
    return problems


# The shipped packs, in output order (rules/ also holds data files that are not packs).
SHIPPED = ("gpu", "node", "models", "vllm", "triton", "tgi", "pipelines", "storage", "prometheus", "alertmanager")


def shipped_packs() -> list[PackFile]:
    from ...resources import data_dir

    folder = data_dir("rules")
    return [load_pack(folder / f"{name}.yaml", f"rules/{name}.yaml", False)
            for name in SHIPPED if (folder / f"{name}.yaml").exists()]


def user_packs(ctx) -> list[PackFile]:
    """Packs from the folders in spec.rules.packs (relative to the spec file)."""
    packs, problems = [], []
    for i, folder_name in enumerate(ctx.spec.rules.packs):
        folder = ctx.spec_dir / folder_name
        if not folder.is_dir():
            ctx.error(("rules", "packs", i), f"rule pack folder '{folder_name}' does not exist",
                      f"a folder of *.yaml rule packs, relative to {Path(ctx.spec_file).name}")
            continue
        paths = sorted(list(folder.glob("*.yaml")) + list(folder.glob("*.yml")))
        if not paths:
            ctx.warn(("rules", "packs", i), f"rule pack folder '{folder_name}' holds no *.yaml files")
        for path in paths:
            try:
                # Named as the user would open it: from where they named the spec.
                packs.append(load_pack(path, str(Path(ctx.spec_file).parent / folder_name / path.name), True))
            except SpecInvalid as exc:
                problems += exc.problems
    if problems:
        raise SpecInvalid(problems)
    return packs
