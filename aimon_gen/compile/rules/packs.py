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

The pydantic models below are the format: a pack is loaded by aimon_gen/loader.py, which
reports every problem at its file:line:col with what is allowed.

Templates use Jinja2 with `<%= expr %>`, `<% stmt %>` and `<%# comment %>`: none of these
can occur in PromQL or in Go templates. The YAML is parsed FIRST; only then is each string
rendered on its own, so a value can never add keys, items or documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    model_validator,
)

from ... import catalog, kinds
from ...errors import SpecInvalid, did_you_mean
from ...loader import RULE_PACK, Positions, load
from ...resources import data_dir

# Group conditions on the spec's prometheus section: a group about a feature the spec does
# not use would read series that never exist (or, for Watchdog, fire with nobody listening).
When = Literal["alertmanagers", "remote_write"]
Severity = Literal["critical", "warning", "info", "none"]
# The registry's scopes, or none: a Literal built from data, so the loader reports it like any choice.
Scope = Literal[(*kinds.SCOPES, "none")]  # type: ignore[valid-type]
SCOPES, WHEN = get_args(Scope), get_args(When)


def _scalar(value: Any) -> Any:
    # A test value is a number or a template that renders to one; a bool is neither.
    # ValueError, not TypeError: pydantic turns only ValueError into a reported problem.
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"expected a number or a string, got {value!r}")  # noqa: TRY004
    return value


def _exporter(kind: str) -> str:
    if kind not in catalog.KINDS:
        raise ValueError(f"unknown exporter '{kind}' ({did_you_mean(kind, catalog.KINDS) or ', '.join(catalog.KINDS)})")
    return kind


Scalar = Annotated[Any, BeforeValidator(_scalar)]
Labels = dict[StrictStr, StrictStr]


class _Pack(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Repeat(_Pack):
    label: StrictStr
    fire: Scalar | None = None
    quiet: Scalar | None = None


class TestInput(_Pack):
    metric: StrictStr | None = None
    histogram: StrictStr | None = None
    labels: Labels = {}
    fire: Scalar | None = None
    quiet: Scalar | None = None
    repeat: Repeat | None = None

    @model_validator(mode="after")
    def _one_series(self):
        if (self.metric is None) == (self.histogram is None):
            raise ValueError("a test input names either `metric` or `histogram`")
        return self


class AlertTest(_Pack):
    input: list[TestInput]
    value: Scalar
    keep: StrictStr | list[StrictStr] = "all"
    drop: list[StrictStr] = []
    at: StrictStr | None = None


class Recording(_Pack):
    record: StrictStr
    expr: StrictStr
    labels: Labels = {}


class Alert(_Pack):
    alert: StrictStr
    expr: StrictStr
    threshold: StrictStr | None = None     # named in rules/thresholds.yaml
    each: StrictBool = False
    for_: StrictStr | None = Field(None, alias="for")
    severity: Severity | None = None
    summary: StrictStr
    description: StrictStr
    labels: Labels = {}
    test: AlertTest
    runbook: StrictStr | None = None
    inhibits: list[StrictStr] = []

    @model_validator(mode="after")
    def _has_level(self):
        if self.threshold is None and (self.for_ is None or self.severity is None):
            raise ValueError(f"alert {self.alert} needs a `threshold` (see rules/thresholds.yaml) "
                             "or both `for` and `severity`")
        return self


class Group(_Pack):
    name: StrictStr
    requires: Annotated[StrictStr, AfterValidator(_exporter)]   # exporter kind (catalog KINDS)
    scope: Scope
    when: When | None = None
    recording: list[Recording] = []
    alerts: list[Alert] = []


class Pack(_Pack):
    groups: list[Group]


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
    groups: list        # SrcMap per group: the pack's data, each value with its line
    user: bool
    model: Pack         # the same, validated and typed


def _with_lines(value: Any, path: tuple, positions: Positions) -> Any:
    """The data with each mapping, list and string carrying its line and column: templates
    are rendered from these and their errors reported at the string's file:line."""
    if isinstance(value, dict):
        out: Any = SrcMap({str(k): _with_lines(v, path + (k,), positions) for k, v in value.items()})
    elif isinstance(value, list):
        out = SrcList(_with_lines(v, path + (i,), positions) for i, v in enumerate(value))
    elif isinstance(value, str):
        out = Src(value)
    else:
        return value
    out.line, out.col = positions.of(path)
    return out


def load_pack(path: Path, shown: str, user: bool) -> PackFile:
    """Parse and validate one pack file; every problem is reported at its line."""
    pack, data, positions = load(path, Pack, shown, RULE_PACK)
    return PackFile(path, shown, list(_with_lines(data, (), positions)["groups"]), user, pack)


# The shipped packs, in output order (rules/ also holds data files that are not packs).
SHIPPED = kinds.PACKS


def shipped_packs() -> list[PackFile]:

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
