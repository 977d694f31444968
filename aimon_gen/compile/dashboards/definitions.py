"""Dashboard definitions as data: the `dashboards/*.yaml` files and their model.

Each file describes one dashboard (rows, panels, queries, units, thresholds by name);
`_common.yaml` holds the template variables and label filters they share. Files whose
name starts with `_` are not dashboards. See dashboards/gpu.yaml for a commented example.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ...errors import did_you_mean
from ...resources import data_dir, read_yaml

# Panel types Grafana ships that are not Angular (graph/singlestat are off since Grafana 11).
PanelType = Literal["timeseries", "stat", "gauge", "bargauge", "table", "heatmap", "state-timeline"]


class _Def(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Query(_Def):
    expr: str = Field(min_length=1, description="PromQL; {@filter} becomes the filter's label matchers.")
    legend: str = ""
    instant: bool = False
    table: bool = Field(False, description="Table format (one row per series).")
    heatmap: bool = Field(False, description="Heatmap format (histogram buckets by `le`).")
    needs: list[str] = []
    unless: list[str] = Field([], description="Left out when the spec has any of these, e.g. the raw form of "
                                               "a query whose recorded series `recorded:<name>` exists.")
    thresholds: list[str] = Field([], description="This query's own alert thresholds, for series named after a "
                                                   "node group, model or pipeline in the legend.")


class Step(_Def):
    color: str
    value: float | None = None


class PanelDef(_Def):
    title: str = Field(min_length=1)
    type: PanelType
    unit: str = Field(min_length=1, description="A Grafana unit id: percent, percentunit, bytes, s, reqps ...")
    w: int = Field(12, ge=1, le=24)
    h: int = Field(8, ge=1, le=40)
    description: str = ""
    min: float | None = None
    max: float | None = None
    thresholds: list[str] = Field([], description="Alert threshold names (rules/thresholds.yaml): the panel "
                                                   "turns the alert's severity colour where the alert fires.")
    below: bool = Field(False, description="The alert fires below the threshold (e.g. accuracy).")
    steps: list[Step] = Field([], description="Fixed colour steps, when no alert threshold applies.")
    no_value: str | None = None
    link: str | None = Field(None, description="uid suffix of the dashboard this panel drills down to.")
    needs: list[str] = []
    per_pipeline_freshness: bool = Field(False, description="Series named after a pipeline turn red at its freshness.")
    slo_budget: bool = Field(False, description="One query per SLO: the error budget left.")
    gpus_expected: str | None = Field(None, description="Threshold name (gpu_missing): series named "
                                                        "`<node group>/...` turn its colour below the group's "
                                                        "gpu.count.")
    queries: list[Query] = []


class RowDef(_Def):
    title: str = Field(min_length=1)
    needs: list[str] = []
    panels: list[PanelDef] = Field(min_length=1)


class DashboardDef(_Def):
    title: str = Field(min_length=1)
    uid: str = Field(pattern=r"^[a-z0-9-]{1,20}$", description="Suffix of the dashboard uid: <spec name>-<uid>.")
    needs: list[str] = []
    tags: list[str] = []
    variables: list[str] = []
    rows: list[RowDef] = []
    slo_rows: bool = Field(False, description="Add one row per SLO recorded in slo.rules.yml.")


class VariableDef(_Def):
    label: str
    query: str


class FilterDef(_Def):
    job: str | None = None
    labels: list[str] = []
    extra: str | None = None


class Common(_Def):
    variables: dict[str, VariableDef]
    filters: dict[str, FilterDef]


class DefinitionError(ValueError):
    """A shipped or copied dashboard definition that does not match the model."""


def _load(path, model):
    doc = read_yaml(path)
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise DefinitionError(f"dashboards/{path.name}: {where}: {first['msg']}") from None


_FACTS = ("nodes", "gpu", "models", "pipelines", "storage", "slos")
_FACT_KINDS = {"server": ("vllm", "triton", "tgi", "custom"), "storage": ("s3", "ceph")}
_FILTER_RE = re.compile(r"@([a-z_][a-z0-9_]*)")


def _unknown(kind: str, name: str, known) -> str:
    return f"unknown {kind} {name!r} ({did_you_mean(name, known) or 'known: ' + ', '.join(sorted(known))})"


def _fact_problem(token: str) -> str | None:
    kind, _, value = token.partition(":")
    if token in _FACTS or (kind == "recorded" and value) or value in _FACT_KINDS.get(kind, ()):
        return None
    return _unknown("need", token, [*_FACTS, *(f"{k}:{v}" for k, vs in _FACT_KINDS.items() for v in vs)])


def _problems(common: Common, d: DashboardDef) -> list[str]:
    """Names a definition uses that do not exist: they would silently hide a panel or a colour."""
    from ...thresholds import catalog

    out = [_unknown("variable", v, common.variables) for v in d.variables if v not in common.variables]
    tokens = list(d.needs)
    for row in d.rows:
        tokens += row.needs
        for panel in row.panels:
            tokens += panel.needs
            names = panel.thresholds + [n for q in panel.queries for n in q.thresholds]
            names += [panel.gpus_expected] if panel.gpus_expected else []
            out += [f"{panel.title}: " + _unknown("threshold", n, catalog()) for n in names if n not in catalog()]
            for q in panel.queries:
                tokens += q.needs + q.unless
                out += [f"{panel.title}: " + _unknown("filter", "@" + f, ["@" + k for k in common.filters])
                        for f in _FILTER_RE.findall(q.expr) if f not in common.filters]
    return out + [p for p in map(_fact_problem, tokens) if p]


@cache
def definitions() -> tuple[Common, tuple[DashboardDef, ...]]:
    """The shared pieces and every dashboard definition, in file-name order."""
    folder = data_dir("dashboards")
    common = _load(folder / "_common.yaml", Common)
    files = [p for p in sorted(folder.glob("*.yaml")) if not p.name.startswith("_")]
    dashboards = tuple(_load(p, DashboardDef) for p in files)
    for path, d in zip(files, dashboards, strict=True):
        problems = _problems(common, d)
        if problems:
            raise DefinitionError(f"dashboards/{path.name}: " + "; ".join(problems))
    return common, dashboards
