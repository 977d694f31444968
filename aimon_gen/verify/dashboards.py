"""Every dashboard panel query, with its template variables filled in as Grafana would
(each variable's first value from the live Prometheus), must return at least one series."""

from __future__ import annotations

import re

from ..promql import re2_escape
from ..render import Documents

# Grafana's built-in variables, for a dashboard opened on a run a minute old.
BUILTINS = {"__rate_interval": "30s", "__interval": "5s", "__interval_ms": "5000", "__range": "5m",
            "__range_s": "300", "__range_ms": "300000", "__auto_interval": "5s"}
_VAR = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)")
_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?:(.*)\s*,\s*)?([a-zA-Z_]\w*)\s*\)\s*$", re.S)


def panels(items):
    for p in items or []:
        yield p
        yield from panels(p.get("panels"))


def queries(files: Documents) -> list[tuple[str, str, dict, str]]:
    """(file, panel title, dashboard, expr) of every panel query in dashboards/*.json."""
    out = []
    for path in sorted(p for p in files if p.startswith("dashboards/") and p.endswith(".json")):
        doc = files[path]
        for p in panels(doc.get("panels")):
            for t in p.get("targets") or []:
                if t.get("expr"):
                    out.append((path, p.get("title") or f"panel {p.get('id')}", doc, t["expr"]))
    return out


def substitute(expr: str, values: dict[str, str]) -> str:
    def repl(m):
        name = m.group(1) or m.group(2) or m.group(3)
        return values.get(name, m.group(0))
    return _VAR.sub(repl, expr)


def variables(doc: dict, prom) -> tuple[dict[str, str], list[str]]:
    """First value of each template variable, in order (later ones may use earlier ones);
    and notes about variables with no value."""
    values, notes = dict(BUILTINS), []
    for v in (doc.get("templating") or {}).get("list") or []:
        name, kind = v.get("name"), v.get("type")
        if kind == "datasource":
            values[name] = "prometheus"
            continue
        options: list[str] = []
        if kind == "query":
            q = v.get("query")
            q = q.get("query", "") if isinstance(q, dict) else (q or "")
            m = _LABEL_VALUES.match(substitute(q, values))
            if m:
                try:
                    options = prom.label_values(m.group(2), m.group(1))
                except Exception:  # noqa: BLE001 - reported as a note below
                    options = []
        elif kind in ("custom", "interval"):
            options = [o.strip() for o in str(v.get("query", "")).split(",") if o.strip()]
        elif kind in ("constant", "textbox"):
            options = [str(v.get("query", ""))]
        values[name] = _chosen(v, sorted(set(options)))
        if not options:
            notes.append(f"${name} has no values")
    return values, notes


def _chosen(var: dict, options: list[str]) -> str:
    """What Grafana puts in the query: the current value, or for "All" the custom all
    value, else a regex of every option (match-everything when there are none)."""
    current = var.get("current") or {}
    value = current.get("value")
    value = value[0] if isinstance(value, list) and len(value) == 1 else value
    if value in ("$__all", ["$__all"]) or (value is None and var.get("includeAll")):
        if var.get("allValue"):
            return var["allValue"]
        return "(" + "|".join(_escape(o) for o in options) + ")" if options else ".*"
    if isinstance(value, str) and value in options:
        return value
    return options[0] if options else (value if isinstance(value, str) else "")


def _escape(value: str) -> str:
    # Grafana's Prometheus escaping: a regex escape, doubled inside the PromQL string.
    return re2_escape(value, backslash="\\\\")


def evaluate(files: Documents, prom) -> list[dict]:
    """One result per query: file, panel, expr (substituted), series count or error, notes."""
    results, cache = [], {}
    for path, title, doc, expr in queries(files):
        if path not in cache:
            cache[path] = variables(doc, prom)
        values, notes = cache[path]
        q = substitute(expr, values)
        result, error = prom.try_query(q)
        results.append({"file": path, "panel": title, "expr": q, "series": len(result or []),
                        "error": error, "notes": notes})
    return results
