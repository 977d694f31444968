"""Planned dashboards -> Grafana dashboard JSON, through grafana-foundation-sdk.

Only the SDK modules for the panel types in use are imported (the SDK is ~30 ms to load),
and only when dashboards are compiled. The SDK leaves panel ids, target datasources and
empty `options` to the caller; `_finish` adds them and puts keys in a reader's order.
"""

from __future__ import annotations

import importlib
from enum import Enum
from functools import cache

from .board import expand, filters_for

_PANEL_MODULE = {"timeseries": "timeseries", "stat": "stat", "gauge": "gauge", "bargauge": "bargauge",
                 "table": "table", "heatmap": "heatmap", "state-timeline": "statetimeline"}
_TOP_ORDER = ("id", "uid", "title", "description", "tags", "timezone", "editable", "graphTooltip", "time",
              "timepicker", "refresh", "schemaVersion", "fiscalYearStartMonth", "links", "annotations",
              "templating", "panels")
_PANEL_ORDER = ("id", "type", "title", "description", "collapsed", "gridPos", "datasource", "links", "targets",
                "fieldConfig", "options", "transformations", "panels")
_BUILTIN_ANNOTATION = {
    "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True, "hide": True,
    "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard"}


@cache
def _sdk(name: str):
    return importlib.import_module(f"grafana_foundation_sdk.builders.{name}")


def _models():
    from grafana_foundation_sdk.models import dashboard as m
    return m


def _thresholds(m, db, steps):
    return db.ThresholdsConfig().mode(m.ThresholdsMode.ABSOLUTE).steps(
        [m.Threshold(value=v, color=c) for v, c in steps])


def _target(prom, ds, t, ref: str):
    q = prom.Dataquery().expr(t.expr).ref_id(ref).datasource(ds)
    if t.legend:
        q = q.legend_format(t.legend)
    q = q.instant() if t.instant else q.range()
    if t.fmt != "time_series":
        from grafana_foundation_sdk.models.prometheus import PromQueryFormat
        q = q.format(PromQueryFormat(t.fmt))
    return q


def _panel(m, db, prom, ds, p):
    module = _sdk(_PANEL_MODULE[p.type])
    b = module.Panel().title(p.title).unit(p.unit).datasource(ds)
    if p.description:
        b = b.description(p.description)
    if p.min is not None:
        b = b.min(p.min)
    if p.max is not None:
        b = b.max(p.max)
    if p.no_value is not None:
        b = b.no_value(p.no_value)
    if p.steps:
        b = b.thresholds(_thresholds(m, db, p.steps))
        if p.type in ("stat", "bargauge", "gauge", "table", "state-timeline"):
            b = b.color_scheme(db.FieldColor().mode(m.FieldColorModeId.THRESHOLDS))
    for name, steps in p.overrides:
        b = b.override_by_name(name, [m.DynamicConfigValue(id_val="thresholds",
                                                           value=_thresholds(m, db, steps).build())])
    for regex, steps in p.regex_overrides:
        b = b.override_by_regexp(regex, [m.DynamicConfigValue(id_val="thresholds",
                                                              value=_thresholds(m, db, steps).build())])
    if p.links:
        b = b.links([db.DashboardLink(title).url(url).keep_time(False).include_vars(False) for title, url in p.links])
    for i, t in enumerate(p.targets):
        b = b.with_target(_target(prom, ds, t, _ref(i)))
    return _options(p, b)


def _options(p, b):
    common = _sdk("common")
    from grafana_foundation_sdk.models import common as mc
    if p.type == "timeseries":
        b = b.legend(common.VizLegendOptions().show_legend(True).display_mode(mc.LegendDisplayMode.LIST)
                     .placement(mc.LegendPlacement.BOTTOM).calcs([]))
        if len(p.steps) > 1 or p.overrides or p.regex_overrides:
            b = b.thresholds_style(common.GraphThresholdsStyleConfig().mode(mc.GraphThresholdsStyleMode.LINE))
    elif p.type in ("stat", "gauge", "bargauge"):
        b = b.reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    elif p.type == "heatmap":
        b = b.calculate(False)
    elif p.type == "table":  # one row per series: the sample time is noise there
        from grafana_foundation_sdk.models.dashboard import DataTransformerConfig
        b = b.with_transformation(DataTransformerConfig(id_val="organize", options={"excludeByName": {"Time": True}}))
    return b


def _ref(i: int) -> str:
    # A..Z, then AA, AB ... as Grafana names them
    return chr(65 + i) if i < 26 else _ref(i // 26 - 1) + chr(65 + i % 26)


def _variables(m, db, spec, common, board, ds):
    gf = spec.grafana.datasource
    out = [db.DatasourceVariable("datasource").label("Data source").type("prometheus")
           .current(m.VariableOption(text=gf.name, value=gf.uid, selected=True))]
    for i, name in enumerate(board.variables):
        v = common.variables[name]
        before = filters_for(common, board.variables[:i])  # narrow by earlier variables only
        out.append(db.QueryVariable(name).label(v.label).datasource(ds).query(expand(v.query, before))
                   .refresh(m.VariableRefresh.ON_TIME_RANGE_CHANGED).sort(m.VariableSort.ALPHABETICAL_ASC)
                   .include_all(True).all_value(".*").multi(True)
                   .current(m.VariableOption(text="All", value="$__all", selected=True)))
    return out


def build(spec, common, board, note: str):
    """The SDK's Dashboard model of one planned dashboard."""
    m, db, prom = _models(), _sdk("dashboard"), _sdk("prometheus")
    ds = m.DataSourceRef(type_val="prometheus", uid="${datasource}")
    tags = list(dict.fromkeys(["aimon-gen", spec.name, *spec.grafana.tags, *board.tags]))
    d = (db.Dashboard(board.title).uid(board.uid).description(note).tags(tags).timezone("browser")
         .editable().tooltip(m.DashboardCursorSync.CROSSHAIR).time("now-6h", "now")
         .variables(_variables(m, db, spec, common, board, ds))
         .link(db.DashboardLink(f"{spec.name} dashboards").type(m.DashboardLinkType.DASHBOARDS)
               .tags(["aimon-gen", spec.name]).as_dropdown(True).include_vars(True).keep_time(True)))
    if spec.grafana.refresh:
        d = d.refresh(spec.grafana.refresh)
    for (title, panels), (row_at, places) in zip(board.rows, layout(board.rows), strict=True):
        d = d.with_row(db.Row(title).grid_pos(m.GridPos(h=1, w=24, x=0, y=row_at)))
        for p, (x, y) in zip(panels, places, strict=True):
            d = d.with_panel(_panel(m, db, prom, ds, p).grid_pos(m.GridPos(h=p.h, w=p.w, x=x, y=y)))
    return d.build()


def layout(rows) -> list:
    """[(row y, [(x, y) per panel])]: panels left to right, wrapping before one would pass column 24."""
    out, y = [], 0
    for _, panels in rows:
        row_at, y, x, line_h, places = y, y + 1, 0, 0, []
        for p in panels:
            if x + p.w > 24:
                x, y, line_h = 0, y + line_h, 0
            places.append((x, y))
            x, line_h = x + p.w, max(line_h, p.h)
        out.append((row_at, places))
        y += line_h
    return out


def _finish(doc: dict, spec, board) -> dict:
    alerts = {"name": "Firing alerts", "datasource": {"type": "prometheus", "uid": "${datasource}"},
              "enable": True, "hide": False, "iconColor": "red",
              "expr": expand('ALERTS{<%= all %>, alertstate="firing"}', board.filters),
              "step": "60s", "titleFormat": "{{alertname}}", "tagKeys": "severity"}
    doc["annotations"] = {"list": [dict(_BUILTIN_ANNOTATION), alerts]}
    panels = []
    for i, panel in enumerate(doc.get("panels", []), start=1):
        panel["id"] = i
        if panel["type"] != "row":
            panel.setdefault("options", {})
            panel.setdefault("transformations", [])
        panels.append(_ordered(panel, _PANEL_ORDER))
    doc["panels"] = panels
    return _ordered(doc, _TOP_ORDER)


def _ordered(obj: dict, first: tuple) -> dict:
    out = {k: obj[k] for k in first if k in obj}
    out.update((k, v) for k, v in obj.items() if k not in out)
    return out


def _plain(obj):
    """The SDK model as plain dicts and lists: what its JSONEncoder writes, without a JSON round trip."""
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    if isinstance(obj, Enum):
        return _plain(obj.value)
    to_json = getattr(obj, "to_json", None)
    return _plain(to_json()) if callable(to_json) else obj


def to_json(spec, common, board, note: str) -> dict:
    """One dashboard as a plain JSON document (dicts and lists)."""
    return _finish(_plain(build(spec, common, board, note)), spec, board)
