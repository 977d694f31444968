"""Dashboard definitions as data: the `dashboards/*.yaml` files and their model.

Each file describes one dashboard (rows, panels, queries, units, thresholds by name);
`_common.yaml` holds the template variables and label filters they share. Files whose
name starts with `_` are not dashboards. See dashboards/gpu.yaml for a commented example.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from ... import kinds
from ...errors import Problem, SpecInvalid, did_you_mean
from ...loader import DASHBOARD, Positions, format_path, load
from ...resources import data_dir
from ...thresholds import catalog
from .. import templating

# Panel types Grafana ships that are not Angular (graph/singlestat are off since Grafana 11).
PanelType = Literal["timeseries", "stat", "gauge", "bargauge", "table", "heatmap", "state-timeline"]


M = TypeVar("M", bound=BaseModel)


class _Def(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Query(_Def):
    expr: str = Field(min_length=1, description="PromQL; {<%= filter %>} becomes the filter's label matchers.")
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
                                      "`<node group>/...` turn its colour below the group's gpu.count.")
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


def _load(path: Path, model: type[M], problems: list[Problem]) -> tuple[M, Positions] | None:
    try:
        result, _, positions = load(path, model, f"dashboards/{path.name}", DASHBOARD)
    except SpecInvalid as exc:
        problems += exc.problems
        return None
    return result, positions


_FACTS = ("nodes", "gpu", "gpu_workloads", "models", "pipelines", "storage", "slos")
_FACT_KINDS = {"server": kinds.of_scope("models"), "storage": kinds.of_scope("storage")}


def _unknown(kind: str, name: str, known) -> tuple[str, str]:
    return f"unknown {kind} {name!r}", did_you_mean(name, known) or "known: " + ", ".join(sorted(known))


def _fact_problem(token: str) -> tuple[str, str] | None:
    kind, _, value = token.partition(":")
    if token in _FACTS or (kind == "recorded" and value) or value in _FACT_KINDS.get(kind, ()):
        return None
    return _unknown("need", token, [*_FACTS, *(f"{k}:{v}" for k, vs in _FACT_KINDS.items() for v in vs)])


def _filter_problems(expr: str, at: tuple, common: Common) -> Iterator[tuple[tuple, tuple[str, str]]]:
    """A query's template names filters (`{<%= gpu %>}`): each must be one of _common.yaml."""
    try:
        used = templating.names(expr)
    except ValueError as exc:
        yield at, (str(exc), "a filter is written {<%= name %>}")
        return
    for f in sorted(used - set(common.filters)):
        yield at, _unknown("filter", f, common.filters)
    if "{@" in expr:  # the old filter form would reach Grafana as text and match nothing
        yield at, ("'{@name}' is no longer a filter", "write it as {<%= name %>}")


def _problems(common: Common, d: DashboardDef) -> Iterator[tuple[tuple, tuple[str, str]]]:
    """(data path, (message, hint)) for each name a definition uses that does not exist: it
    would silently hide a panel or a colour."""
    known = catalog()
    yield from ((("variables", i), _unknown("variable", v, common.variables))
                for i, v in enumerate(d.variables) if v not in common.variables)
    needs: list[tuple[tuple, list[str]]] = [(("needs",), d.needs)]
    for r, row in enumerate(d.rows):
        needs.append((("rows", r, "needs"), row.needs))
        for p, panel in enumerate(row.panels):
            at: tuple = ("rows", r, "panels", p)
            needs.append((at + ("needs",), panel.needs))
            names: list[tuple[tuple, str]] = [(at + ("thresholds", i), n) for i, n in enumerate(panel.thresholds)]
            names += [(at + ("gpus_expected",), panel.gpus_expected)] if panel.gpus_expected else []
            for q, query in enumerate(panel.queries):
                qat = at + ("queries", q)
                names += [(qat + ("thresholds", i), n) for i, n in enumerate(query.thresholds)]
                needs += [(qat + ("needs",), query.needs), (qat + ("unless",), query.unless)]
                yield from _filter_problems(query.expr, qat + ("expr",), common)
            yield from ((path, _unknown("threshold", n, known)) for path, n in names if n not in known)
    for path, tokens in needs:
        yield from ((path + (i,), p) for i, p in enumerate(map(_fact_problem, tokens)) if p)


def _common_problems(common: Common) -> Iterator[tuple[tuple, tuple[str, str]]]:
    for name, v in common.variables.items():
        yield from _filter_problems(v.query, ("variables", name, "query"), common)


@cache
def definitions() -> tuple[Common, tuple[DashboardDef, ...]]:
    """The shared pieces and every dashboard definition, in file-name order. Raises
    SpecInvalid with every problem of every file, each at its file:line."""
    folder = data_dir("dashboards")
    problems: list[Problem] = []
    files = [folder / "_common.yaml"] + [p for p in sorted(folder.glob("*.yaml")) if not p.name.startswith("_")]
    common = _load(files[0], Common, problems)
    loaded = [(path, _load(path, DashboardDef, problems)) for path in files[1:]]
    if common is not None:
        found = [(files[0], common[1], _common_problems(common[0]))]
        found += [(path, d[1], _problems(common[0], d[0])) for path, d in loaded if d is not None]
        for path, positions, each in found:
            problems += [Problem(f"dashboards/{path.name}", *positions.of(at), format_path(at), message, hint)
                         for at, (message, hint) in each]
    if problems or common is None:
        raise SpecInvalid(problems)
    return common[0], tuple(d[0] for _, d in loaded if d is not None)
