"""A validator for Grafana dashboard JSON, written from Grafana's own dashboard model.

Source: grafana/grafana `kinds/dashboard/dashboard_kind.cue` (schema 0.0): the dashboard,
#Panel, #RowPanel, #GridPos, #FieldConfigSource, #FieldConfig, #ThresholdsConfig,
#Threshold, #DashboardLink and #DataSourceRef are closed CUE structs (no `...`), so a
key they do not declare is an error; #VariableModel, #Target and #AnnotationQuery are
open (`...`). Grafana 11 adds fields the schema of that release declares (dashboard
`preload`; panel `maxPerRow`, `hideTimeOverride`, `cacheTimeout`, `queryCachingTTL`;
timepicker `nowDelay`, `quick_ranges`) and drops `style`.

`problems(doc)` returns every violation as "path: message"; an empty list means valid.
"""

from __future__ import annotations

import re

DASHBOARD_KEYS = {"id", "uid", "title", "description", "revision", "gnetId", "tags", "timezone", "editable",
                  "graphTooltip", "time", "timepicker", "fiscalYearStartMonth", "liveNow", "weekStart", "refresh",
                  "schemaVersion", "version", "panels", "templating", "annotations", "links", "snapshot", "preload"}
REQUIRED = ("schemaVersion", "title", "uid", "panels", "templating", "annotations", "time")
PANEL_KEYS = {"type", "id", "pluginVersion", "tags", "targets", "title", "description", "transparent", "datasource",
              "gridPos", "links", "repeat", "repeatDirection", "repeatPanelId", "maxDataPoints", "thresholds",
              "timeRegions", "transformations", "interval", "timeFrom", "timeShift", "libraryPanel", "options",
              "fieldConfig", "maxPerRow", "hideTimeOverride", "cacheTimeout", "queryCachingTTL"}
PANEL_REQUIRED = ("type", "options", "fieldConfig", "transformations")
ROW_KEYS = {"type", "collapsed", "title", "datasource", "gridPos", "id", "panels", "repeat"}
GRIDPOS_KEYS = {"h", "w", "x", "y", "static"}
FIELD_CONFIG_KEYS = {"displayName", "displayNameFromDS", "description", "path", "writeable", "filterable", "unit",
                     "decimals", "min", "max", "mappings", "thresholds", "color", "links", "noValue", "custom"}
THRESHOLD_KEYS = {"value", "color", "index", "state"}
LINK_KEYS = {"title", "type", "icon", "tooltip", "url", "tags", "asDropdown", "targetBlank", "includeVars", "keepTime"}
DATASOURCE_KEYS = {"type", "uid"}
TIMEPICKER_KEYS = {"hidden", "refresh_intervals", "collapse", "enable", "time_options", "nowDelay", "quick_ranges"}
VARIABLE_TYPES = {"query", "adhoc", "constant", "datasource", "interval", "textbox", "custom", "system"}
FIELD_COLOR_MODES = {"thresholds", "palette-classic", "palette-saturated", "continuous-GrYlRd", "fixed"}
# Panel plugins Grafana 11 ships (public/app/plugins/panel); Angular ones are gone or off.
PANEL_TYPES = {"timeseries", "stat", "gauge", "bargauge", "table", "heatmap", "state-timeline", "status-history",
               "barchart", "histogram", "piechart", "text", "logs", "nodeGraph", "traces", "flamegraph", "geomap",
               "canvas", "news", "dashlist", "alertlist", "annolist", "xychart", "trend", "candlestick", "datagrid"}
ANGULAR = {"graph", "singlestat", "table-old", "grafana-piechart-panel", "grafana-worldmap-panel"}
UID_RE = re.compile(r"^[a-zA-Z0-9_-]{1,40}$")


def _closed(obj, allowed: set, path: str, out: list) -> bool:
    if not isinstance(obj, dict):
        out.append(f"{path}: must be an object")
        return False
    out += [f"{path}.{k}: unknown key (Grafana's schema does not allow it)" for k in obj if k not in allowed]
    return True


def _datasource(ref, path: str, out: list) -> None:
    if _closed(ref, DATASOURCE_KEYS, path, out):
        for key in ("type", "uid"):
            if not isinstance(ref.get(key), str) or not ref.get(key):
                out.append(f"{path}.{key}: a datasource reference needs a non-empty {key}")


def _gridpos(g, path: str, out: list) -> None:
    if not _closed(g, GRIDPOS_KEYS, path, out):
        return
    h, w, x, y = (g.get(k) for k in "hwxy")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (h, w, x, y)):
        out.append(f"{path}: h, w, x, y must be integers")
        return
    if h <= 0:
        out.append(f"{path}.h: must be > 0")
    if not 1 <= w <= 24:
        out.append(f"{path}.w: must be 1..24")
    if not 0 <= x < 24 or x + w > 24:
        out.append(f"{path}.x: panel must fit the 24-column grid (x={x}, w={w})")
    if y < 0:
        out.append(f"{path}.y: must be >= 0")


def _thresholds(t, path: str, out: list) -> None:
    if not _closed(t, {"mode", "steps"}, path, out):
        return
    if t.get("mode") not in ("absolute", "percentage"):
        out.append(f"{path}.mode: must be absolute or percentage")
    steps = t.get("steps")
    if not isinstance(steps, list) or not steps:
        out.append(f"{path}.steps: must be a non-empty list")
        return
    for i, s in enumerate(steps):
        if _closed(s, THRESHOLD_KEYS, f"{path}.steps[{i}]", out) and not isinstance(s.get("color"), str):
            out.append(f"{path}.steps[{i}].color: required")
    if steps[0].get("value") is not None:
        out.append(f"{path}.steps[0].value: the first step is the base (-Infinity, null)")
    values = [s.get("value") for s in steps[1:] if isinstance(s, dict)]
    if any(not isinstance(v, (int, float)) for v in values) or values != sorted(values):
        out.append(f"{path}.steps: values must be numbers sorted ascending")


def _field_config(fc, path: str, out: list) -> None:
    if not _closed(fc, {"defaults", "overrides"}, path, out):
        return
    defaults = fc.get("defaults")
    if _closed(defaults, FIELD_CONFIG_KEYS, f"{path}.defaults", out):
        if "thresholds" in defaults:
            _thresholds(defaults["thresholds"], f"{path}.defaults.thresholds", out)
        color = defaults.get("color")
        if color is not None and _closed(color, {"mode", "fixedColor", "seriesBy"}, f"{path}.defaults.color", out):
            if color.get("mode") not in FIELD_COLOR_MODES and not str(color.get("mode", "")).startswith("continuous-"):
                out.append(f"{path}.defaults.color.mode: unknown colour mode {color.get('mode')!r}")
    overrides = fc.get("overrides")
    if not isinstance(overrides, list):
        out.append(f"{path}.overrides: must be a list")
        return
    for i, o in enumerate(overrides):
        p = f"{path}.overrides[{i}]"
        if _closed(o, {"matcher", "properties"}, p, out):
            _closed(o.get("matcher"), {"id", "options"}, f"{p}.matcher", out)
            for j, prop in enumerate(o.get("properties") or []):
                if _closed(prop, {"id", "value"}, f"{p}.properties[{j}]", out) and prop.get("id") == "thresholds":
                    _thresholds(prop.get("value"), f"{p}.properties[{j}].value", out)


def _links(links, path: str, out: list) -> None:
    for i, link in enumerate(links or []):
        p = f"{path}[{i}]"
        if _closed(link, LINK_KEYS, p, out):
            if not link.get("title"):
                out.append(f"{p}.title: required")
            if link.get("type", "link") not in ("link", "dashboards"):
                out.append(f"{p}.type: must be link or dashboards")


def _targets(targets, path: str, out: list) -> None:
    if not isinstance(targets, list):
        out.append(f"{path}: must be a list")
        return
    seen = set()
    for i, t in enumerate(targets):
        ref = t.get("refId") if isinstance(t, dict) else None
        if not isinstance(ref, str) or not ref:
            out.append(f"{path}[{i}].refId: every query needs a refId")
        elif ref in seen:
            out.append(f"{path}[{i}].refId: {ref!r} repeats within the panel")
        seen.add(ref)
        if isinstance(t, dict) and "datasource" in t:
            _datasource(t["datasource"], f"{path}[{i}].datasource", out)


def _panel(p, path: str, out: list) -> None:
    ptype = p.get("type")
    if ptype in ANGULAR:
        out.append(f"{path}.type: {ptype!r} is an Angular panel (off since Grafana 11)")
    elif ptype not in PANEL_TYPES:
        out.append(f"{path}.type: {ptype!r} is not a panel type Grafana ships")
    _closed(p, PANEL_KEYS, path, out)
    out += [f"{path}.{k}: required" for k in PANEL_REQUIRED if k not in p]
    if not isinstance(p.get("options", {}), dict):
        out.append(f"{path}.options: must be an object")
    if "fieldConfig" in p:
        _field_config(p["fieldConfig"], f"{path}.fieldConfig", out)
    if "datasource" in p:
        _datasource(p["datasource"], f"{path}.datasource", out)
    if "targets" in p:
        _targets(p["targets"], f"{path}.targets", out)
    _links(p.get("links"), f"{path}.links", out)
    for i, tr in enumerate(p.get("transformations") or []):
        if not isinstance(tr, dict) or not tr.get("id"):
            out.append(f"{path}.transformations[{i}].id: required")


def _panels(panels, out: list) -> None:
    ids = set()
    for i, p in enumerate(panels):
        path = f"panels[{i}]"
        if not isinstance(p, dict):
            out.append(f"{path}: must be an object")
            continue
        pid = p.get("id")
        if not isinstance(pid, int) or isinstance(pid, bool) or pid < 0:
            out.append(f"{path}.id: a panel needs a non-negative integer id")
        elif pid in ids:
            out.append(f"{path}.id: {pid} repeats")
        ids.add(pid)
        if "gridPos" not in p:
            out.append(f"{path}.gridPos: required")
        else:
            _gridpos(p["gridPos"], f"{path}.gridPos", out)
        if p.get("type") == "row":
            _closed(p, ROW_KEYS, path, out)
            if not isinstance(p.get("panels"), list) or not isinstance(p.get("collapsed"), bool):
                out.append(f"{path}: a row needs `collapsed` and a `panels` list")
            if "datasource" in p:
                _datasource(p["datasource"], f"{path}.datasource", out)
        else:
            _panel(p, path, out)
    _overlaps([p for p in panels if isinstance(p, dict)], out)


def _overlaps(panels, out: list) -> None:
    boxes = []
    for i, p in enumerate(panels):
        g = p.get("gridPos")
        if isinstance(g, dict) and all(isinstance(g.get(k), int) for k in "hwxy"):
            boxes.append((i, g["x"], g["y"], g["x"] + g["w"], g["y"] + g["h"]))
    for a in range(len(boxes)):
        for b in range(a + 1, len(boxes)):
            i, ax0, ay0, ax1, ay1 = boxes[a]
            j, bx0, by0, bx1, by1 = boxes[b]
            if ax0 < bx1 and bx0 < ax1 and ay0 < by1 and by0 < ay1:
                out.append(f"panels[{j}].gridPos: overlaps panels[{i}]")


def _templating(t, out: list) -> None:
    if not _closed(t, {"list"}, "templating", out):
        return
    names = set()
    for i, v in enumerate(t.get("list") or []):
        path = f"templating.list[{i}]"
        if not isinstance(v, dict):
            out.append(f"{path}: must be an object")
            continue
        if v.get("type") not in VARIABLE_TYPES:
            out.append(f"{path}.type: {v.get('type')!r} is not a variable type")
        name = v.get("name")
        if not isinstance(name, str) or not name:
            out.append(f"{path}.name: required")
        elif name in names:
            out.append(f"{path}.name: {name!r} repeats")
        names.add(name)
        if v.get("hide", 0) not in (0, 1, 2):
            out.append(f"{path}.hide: must be 0, 1 or 2")
        if "datasource" in v:
            _datasource(v["datasource"], f"{path}.datasource", out)


def _annotations(a, out: list) -> None:
    if not _closed(a, {"list"}, "annotations", out):
        return
    for i, q in enumerate(a.get("list") or []):
        path = f"annotations.list[{i}]"
        if not isinstance(q, dict):
            out.append(f"{path}: must be an object")
            continue
        for key, kind in (("name", str), ("enable", bool), ("iconColor", str)):
            if not isinstance(q.get(key), kind):
                out.append(f"{path}.{key}: required ({kind.__name__})")
        if "datasource" not in q:
            out.append(f"{path}.datasource: required")
        else:
            _closed(q["datasource"], DATASOURCE_KEYS, f"{path}.datasource", out)


def problems(doc) -> list[str]:
    """Every way `doc` departs from Grafana's dashboard model."""
    out: list[str] = []
    if not _closed(doc, DASHBOARD_KEYS, "dashboard", out):
        return out
    out += [f"{k}: required" for k in REQUIRED if k not in doc]
    if not isinstance(doc.get("schemaVersion"), int) or doc.get("schemaVersion", 0) < 36:
        out.append("schemaVersion: must be an integer >= 36 (current dashboards)")
    if not isinstance(doc.get("title"), str) or not doc.get("title", "").strip():
        out.append("title: must not be blank")
    if not isinstance(doc.get("uid"), str) or not UID_RE.match(doc.get("uid", "")):
        out.append("uid: at most 40 characters of [a-zA-Z0-9_-]")
    if doc.get("graphTooltip", 0) not in (0, 1, 2):
        out.append("graphTooltip: must be 0, 1 or 2")
    if "refresh" in doc and not (doc["refresh"] is False or isinstance(doc["refresh"], str)):
        out.append("refresh: a duration string or false")
    time = doc.get("time")
    if time is not None and _closed(time, {"from", "to"}, "time", out):
        if not all(isinstance(time.get(k), str) for k in ("from", "to")):
            out.append("time: needs from and to")
    if "timepicker" in doc:
        _closed(doc["timepicker"], TIMEPICKER_KEYS, "timepicker", out)
    _links(doc.get("links"), "links", out)
    if "templating" in doc:
        _templating(doc["templating"], out)
    if "annotations" in doc:
        _annotations(doc["annotations"], out)
    if isinstance(doc.get("panels"), list):
        _panels(doc["panels"], out)
    elif "panels" in doc:
        out.append("panels: must be a list")
    return out
