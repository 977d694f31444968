"""Panel colours from the spec's alert thresholds, so a panel turns red where its alert fires.

A panel (or one query of it) names thresholds of rules/thresholds.yaml. The spec-wide value
colours the panel; a series per node group, model or pipeline whose entry sets its own value
gets an override with it. Values convert from the catalog's unit to the panel's
(percent -> percentunit, milliseconds -> s). Grafana colours a value from a step on (>=),
an alert fires above it (>): a step at 0 is moved just above 0 so a count of 0 stays green.
"""

from __future__ import annotations

from ... import thresholds as th

SEVERITY_COLOR = {"critical": "red", "warning": "orange", "info": "blue"}
# first word of the catalog unit, panel unit -> factor
_UNIT_FACTOR = {("percent", "percentunit"): 0.01, ("ratio", "percent"): 100.0, ("milliseconds", "s"): 0.001}
_ABOVE_ZERO = 1e-9
SCOPES = {"{{node_group}}": "node_groups", "{{model}}": "models", "{{pipeline}}": "pipelines"}


def steps(spec, names: list[str], unit: str, below: bool, scope=None) -> list:
    """[(value | None, colour)] for the named thresholds as they apply to `scope`; [] if none applies."""
    catalog = th.catalog()
    marks = []
    for name in names:
        if name not in catalog:
            continue
        t = th.resolve(spec, name, scope)
        if t.enabled:
            value = t.value * _UNIT_FACTOR.get(((t.unit.split() or [""])[0], unit), 1.0)
            marks.append((value if value or below else _ABOVE_ZERO, SEVERITY_COLOR.get(t.severity or "warning", "red")))
    if not marks:
        return []
    marks.sort()
    if below:  # coloured below each mark, green above the highest
        colors = [c for _, c in marks] + ["green"]
        return [(None, colors[0])] + [(v, colors[i + 1]) for i, (v, _) in enumerate(marks)]
    return [(None, "green")] + marks


def _entries(spec, legend: str, needs: list[str]):
    """(token, entries) of the spec a legend names a series after, e.g. `{{model}} p99` -> models."""
    for token, attr in SCOPES.items():
        if token in legend:
            entries = getattr(spec, attr)
            kinds = {n.split(":", 1)[1] for n in needs if n.startswith("server:")}
            return token, [e for e in entries if not kinds or getattr(e, "server", None) in kinds]
    return None, []


def overrides(spec, pdef, queries, base: list) -> list:
    """[(series name, steps)]: per-entry values of the panel's thresholds, and each query's own."""
    out = []
    for q in queries:
        names = q.thresholds or pdef.thresholds
        token, entries = _entries(spec, q.legend, q.needs)
        if not names or token is None:
            continue
        for e in entries:
            own = steps(spec, names, pdef.unit, pdef.below, e)
            if q.thresholds or own != base:
                out.append((q.legend.replace(token, e.name), own or [(None, "green")]))
    return _unique(out)


def _unique(pairs: list) -> list:
    seen, out = set(), []
    for name, s in pairs:
        if name not in seen:
            seen.add(name)
            out.append((name, s))
    return out


def gpus_expected(spec, name: str) -> list:
    """[(regex, steps)]: series `<node group>/<host>` coloured where the GPUs-missing alert fires
    (count <= gpu.count - threshold), per GPU node group."""
    out = []
    for g in spec.node_groups:
        if not g.gpu or name not in th.catalog():
            continue
        t = th.resolve(spec, name, g)
        ok = g.gpu.count - t.value + 1
        steps_ = [(None, SEVERITY_COLOR.get(t.severity or "critical", "red")), (ok, "green")] if t.enabled \
            else [(None, "green")]
        out.append(("^" + g.name.replace(".", "\\.") + "/", steps_))  # names are [a-z0-9._-]
    return out
