"""Spec + dashboards/*.yaml -> dashboards/<name>.json (built with grafana-foundation-sdk).

A definition's rows, panels and queries carry `needs:`; only what the spec uses is
emitted (no model dashboard without models, no vLLM row without a vLLM model). Queries
name filters (`{<%= gpu %>}`, the packs' template syntax) that expand to matchers for the dashboard's own variables.
Thresholds come from the spec's alert thresholds (dashboard_thresholds.py).
"""

from __future__ import annotations

import hashlib
import string
from pathlib import Path

from ...spec.types import duration_seconds
from ..result import Bundle
from . import slo as dashboard_slo, thresholds
from .board import Board, Panel, Target, expand, filters_for
from .definitions import DashboardDef, PanelDef, definitions
from .sdk import to_json

_UID_CHARS = frozenset(string.ascii_letters + string.digits + "_-")


def facts(spec, bundle: Bundle) -> set[str]:
    """What the spec has, as the tokens definitions' `needs:` lists name."""
    out = set()
    if spec.node_groups:
        out.add("nodes")
    if any(g.gpu for g in spec.node_groups):
        out.add("gpu")
    if any(g.gpu and g.kubernetes for g in spec.node_groups):  # dcgm-exporter names each GPU's pod
        out.add("gpu_workloads")
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
    out.update(f"recorded:{name}" for name in bundle.recorded_names())
    return out


def dashboard_uid(spec_name: str, suffix: str) -> str:
    """<spec name>-<suffix> as Grafana allows it (<= 40 of [a-zA-Z0-9_-]); long names get a hash."""
    uid = "".join(c if c in _UID_CHARS else "-" for c in f"{spec_name}-{suffix}")
    if len(uid) <= 40:
        return uid
    digest = hashlib.sha1(uid.encode()).hexdigest()[:8]
    return f"{uid[:40 - len(suffix) - 10]}-{digest}-{suffix}"


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
    overrides = (freshness_overrides(spec) if pdef.per_pipeline_freshness
                 else thresholds.overrides(spec, pdef, queries, steps))
    regex = thresholds.gpus_expected(spec, pdef.gpus_expected) if pdef.gpus_expected else []
    return Panel(pdef.type, pdef.title, pdef.unit, pdef.w, pdef.h, pdef.description, pdef.min, pdef.max,
                 steps, pdef.no_value, links, overrides, regex, targets)


def plan(spec, bundle: Bundle) -> list[Board]:
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


def _board(spec, common, d: DashboardDef, have: set, uids: dict, bundle: Bundle) -> Board:
    slos = bundle.slos
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


def compile_dashboards(ctx, bundle: Bundle) -> None:
    """Compile step: dashboards/<name>.json for every dashboard the spec uses."""
    spec = ctx.spec
    common, _ = definitions()
    note = (f"Generated by aimon-gen from {Path(ctx.spec_file).name} (spec '{spec.name}'). "
            "Do not edit: change the spec and run `aimon-gen build`.")
    for b in plan(spec, bundle):
        bundle.dashboards[b.name] = to_json(spec, common, b, note)
