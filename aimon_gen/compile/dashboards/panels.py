"""Spec + dashboards/*.yaml -> dashboards/<name>.json (built with grafana-foundation-sdk).

A definition's rows, panels and queries carry `needs:`; only what the spec uses is
emitted (no model dashboard without models, no vLLM row without a vLLM model). Queries
name filters (`{@gpu}`) that expand to matchers for the dashboard's own variables.
Thresholds come from the spec's alert thresholds (dashboard_thresholds.py).
"""

from __future__ import annotations

import hashlib
import re
import string
from dataclasses import dataclass, field
from pathlib import Path

from ...spec.types import duration_seconds
from . import thresholds
from .definitions import Common, DashboardDef, PanelDef, definitions

_FILTER_RE = re.compile(r"@([a-z_][a-z0-9_]*)")
_UID_CHARS = frozenset(string.ascii_letters + string.digits + "_-")


@dataclass
class Target:
    expr: str
    legend: str = ""
    instant: bool = False
    fmt: str = "time_series"          # time_series | table | heatmap


@dataclass
class Panel:
    type: str
    title: str
    unit: str
    w: int
    h: int
    description: str = ""
    min: float | None = None
    max: float | None = None
    steps: list = field(default_factory=list)        # [(value | None, color)]
    no_value: str | None = None
    links: list = field(default_factory=list)        # [(title, url)]
    overrides: list = field(default_factory=list)    # [(series name, steps)]
    regex_overrides: list = field(default_factory=list)  # [(series name regex, steps)]
    targets: list = field(default_factory=list)


@dataclass
class Board:
    name: str                 # file name: dashboards/<name>.json
    uid: str
    title: str
    tags: list
    variables: list
    rows: list                # [(row title, [Panel])]
    filters: dict             # filter name -> matchers for this dashboard


def facts(spec, bundle: dict) -> set[str]:
    """What the spec has, as the tokens definitions' `needs:` lists name."""
    out = set()
    if spec.node_groups:
        out.add("nodes")
    if any(g.gpu for g in spec.node_groups):
        out.add("gpu")
    if spec.models:
        out.add("models")
    out.update(f"server:{m.server}" for m in spec.models)
    if spec.pipelines:
        out.add("pipelines")
    if spec.storage:
        out.add("storage")
    out.update(f"storage:{s.kind}" for s in spec.storage)
    if spec.slos or any(m.slo for m in spec.models) or any(p.slo for p in spec.pipelines):
        out.add("slos")
    out.update(f"recorded:{name}" for name in recorded_names(bundle))
    return out


def recorded_names(bundle: dict) -> list[str]:
    """Every series a generated recording rule records, from the rule files in the bundle."""
    names = []
    for path in sorted(p for p in bundle if p.endswith(".rules.yml")):
        for group in (bundle[path] or {}).get("groups", []):
            names += [r["record"] for r in group.get("rules", []) if "record" in r]
    return names


def dashboard_uid(spec_name: str, suffix: str) -> str:
    """<spec name>-<suffix> as Grafana allows it (<= 40 of [a-zA-Z0-9_-]); long names get a hash."""
    uid = "".join(c if c in _UID_CHARS else "-" for c in f"{spec_name}-{suffix}")
    if len(uid) <= 40:
        return uid
    digest = hashlib.sha1(uid.encode()).hexdigest()[:8]
    return f"{uid[:40 - len(suffix) - 10]}-{digest}-{suffix}"


def filters_for(common: Common, variables: list[str]) -> dict[str, str]:
    """Each filter's matchers, using only the variables the dashboard (or variable) has."""
    out = {}
    for name, f in common.filters.items():
        parts = [f'job="{f.job}"'] if f.job else []
        parts += [f'{label}=~"${label}"' for label in f.labels if label in variables]
        parts += [f.extra] if f.extra else []
        out[name] = ", ".join(parts)
    return out


def expand(text: str, filters: dict[str, str]) -> str:
    def one(m):
        if m.group(1) not in filters:
            raise KeyError(f"unknown filter @{m.group(1)} in {text!r} (known: {', '.join(filters)})")
        return filters[m.group(1)]
    out = _FILTER_RE.sub(one, text)
    return out.replace("{, ", "{").replace(", }", "}")  # a filter with no matchers


def freshness_overrides(spec) -> list:
    return [(p.name, [(None, "green"), (duration_seconds(p.freshness), "red")]) for p in spec.pipelines]


def build_panel(spec, pdef: PanelDef, have: set, filters: dict, uids: dict, slo_targets) -> Panel | None:
    queries = [q for q in pdef.queries if set(q.needs) <= have and not set(q.unless) & have]
    targets = [Target(expand(q.expr, filters), q.legend, q.instant,
                      "table" if q.table else "heatmap" if q.heatmap else "time_series") for q in queries]
    if pdef.slo_budget:
        targets += slo_targets
    if not targets:
        return None
    links = [(f"{uids[pdef.link][1]} dashboard", f"/d/{uids[pdef.link][0]}?${{__url_time_range}}&${{__all_variables}}")
             ] if pdef.link in uids else []
    # Always explicit: without thresholds Grafana applies its default (red from 80).
    steps = (thresholds.steps(spec, pdef.thresholds, pdef.unit, pdef.below)
             or [(s.value, s.color) for s in pdef.steps] or [(None, "green")])
    overrides = freshness_overrides(spec) if pdef.per_pipeline_freshness else thresholds.overrides(spec, pdef, queries, steps)
    regex = thresholds.gpus_expected(spec, pdef.gpus_expected) if pdef.gpus_expected else []
    return Panel(pdef.type, pdef.title, pdef.unit, pdef.w, pdef.h, pdef.description, pdef.min, pdef.max,
                 steps, pdef.no_value, links, overrides, regex, targets)


def plan(spec, bundle: dict) -> list[Board]:
    """The dashboards this spec gets, as plain data (no SDK yet): those with a panel left."""
    common, defs = definitions()
    have = facts(spec, bundle)
    chosen = [d for d in defs if set(d.needs) <= have]
    uids = {d.uid: (dashboard_uid(spec.name, d.uid), d.title) for d in chosen}
    boards = [_board(spec, common, d, have, uids, bundle) for d in chosen]
    if all(b.rows for b in boards):
        return boards
    # Again without the empty ones, so that no panel links to a dashboard that is not emitted.
    uids = {b.name: uids[b.name] for b in boards if b.rows}
    return [_board(spec, common, d, have, uids, bundle) for d in chosen if d.uid in uids]


def _board(spec, common, d: DashboardDef, have: set, uids: dict, bundle: dict) -> Board:
    from . import slo as dashboard_slo

    slos = dashboard_slo.recorded_slos(bundle)
    filters = filters_for(common, d.variables)
    budget = dashboard_slo.budget_targets(filters, slos)
    rows = []
    for row in d.rows:
        if not set(row.needs) <= have:
            continue
        panels = [p for p in (build_panel(spec, pd, have, filters, uids, budget)
                              for pd in row.panels if set(pd.needs) <= have) if p]
        if panels:
            rows.append((row.title, panels))
    if d.slo_rows:
        rows += dashboard_slo.recorded_rows(slos, filters)
    return Board(d.uid, uids[d.uid][0], f"{spec.name} / {d.title}", d.tags, d.variables, rows, filters)


def compile_dashboards(ctx, bundle: dict) -> dict[str, object]:
    """Compile step: dashboards/<name>.json for every dashboard the spec uses."""
    from .sdk import to_json

    spec = ctx.spec
    common, _ = definitions()
    note = (f"Generated by aimon-gen from {Path(ctx.spec_file).name} (spec '{spec.name}'). "
            "Do not edit: change the spec and run `aimon-gen build`.")
    return {f"dashboards/{b.name}.json": to_json(spec, common, b, note) for b in plan(spec, bundle)}
