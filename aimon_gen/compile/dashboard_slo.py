"""SLO rows of the dashboards: one row per SLO the spec declares, from dashboards/slo.yaml.

The error-ratio templates there say, per SLO kind and model server, which share of events
was bad over a window; the rows show objective, SLI over the period, error budget left and
the burn rate per alert window with that window's alert line.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..scheme import JOB_MODEL, JOB_PIPELINE
from ..spec.types import duration_seconds
from .dashboard_defs import DashboardDef

_SEVERITY_COLOR = {"page": "red", "ticket": "orange"}


@dataclass(frozen=True)
class SLO:
    title: str
    kind: str            # availability | latency | freshness | service
    objective: float     # fraction, e.g. 0.999
    period: str          # e.g. 30d
    template: str        # error-ratio PromQL with <w> left open


def _le(seconds: float) -> str:
    # Client libraries write whole bounds as "1" (Go) or "1.0" (Python): match either.
    return f"{int(seconds)}|{int(seconds)}.0" if seconds == int(seconds) else repr(seconds)


def _join(*parts: str) -> str:
    return ", ".join(p for p in parts if p)


def slos(spec, sdef: DashboardDef, cluster: str) -> list[SLO]:
    """Every SLO of the spec whose SLI the templates can express, in spec order."""
    ratios, out = sdef.error_ratio, []
    for m in spec.models:
        if not m.slo:
            continue
        sel = _join(f'job="{JOB_MODEL[m.server]}"', cluster, f'model="{m.name}"')
        if m.slo.availability is not None and m.server in ratios.get("availability", {}):
            out.append(SLO(f"{m.name} availability", "availability", m.slo.availability / 100, m.slo.window,
                           ratios["availability"][m.server].replace("<sel>", sel)))
        if m.slo.latency is not None and m.server in ratios.get("latency", {}):
            le = _le(duration_seconds(m.slo.latency.threshold))
            out.append(SLO(f"{m.name} latency < {m.slo.latency.threshold}", "latency",
                           m.slo.latency.objective / 100, m.slo.window,
                           ratios["latency"][m.server].replace("<sel>", sel).replace("<le>", le)))
    for p in spec.pipelines:
        if p.slo and "freshness" in ratios:
            sel = _join(f'job="{JOB_PIPELINE}"', cluster, f'pipeline="{p.name}"')
            out.append(SLO(f"{p.name} freshness", "freshness", p.slo.freshness / 100, p.slo.window,
                           ratios["freshness"].replace("<sel>", sel)
                           .replace("<freshness>", str(int(duration_seconds(p.freshness))))))
    for s in spec.slos:
        if "service" in ratios:
            out.append(SLO(s.name, "service", s.objective / 100, s.window,
                           ratios["service"].replace("<good>", s.good).replace("<total>", s.total)))
    return out


def _ratio(slo: SLO, window: str) -> str:
    return slo.template.replace("<w>", window)


def _slo_def(defs) -> DashboardDef | None:
    return next((d for d in defs if d.error_ratio), None)


def budget_targets(spec, defs, filters: dict) -> list:
    """One instant query per SLO: the share of its error budget left over its period."""
    from .dashboards import Target

    sdef = _slo_def(defs)
    if sdef is None:
        return []
    return [Target(f"1 - ({_ratio(s, s.period)}) / (1 - {s.objective:g})", s.title, True)
            for s in slos(spec, sdef, filters["all"])]


def slo_rows(spec, sdef: DashboardDef, filters: dict) -> list:
    from .dashboards import Panel, Target

    rows = []
    for s in slos(spec, sdef, filters["all"]):
        period = duration_seconds(s.period)
        sli = f"1 - ({_ratio(s, s.period)})"
        burn = Panel("timeseries", "Burn rate per alert window", "short", 10, 8,
                     "Error ratio over the window divided by the error budget (1 - objective); "
                     "each line turns its alert's colour above the rate that pages or opens a ticket.")
        for w in sdef.burn_windows:
            burn.targets.append(Target(f"({_ratio(s, w.long)}) / (1 - {s.objective:g})", f"{w.long} window"))
            factor = round(w.budget * period / duration_seconds(w.long), 4)
            burn.overrides.append((f"{w.long} window", [(None, "green"), (factor, _SEVERITY_COLOR.get(w.severity, "red"))]))
        rows.append((f"SLO: {s.title}", [
            Panel("stat", "Objective", "percentunit", 4, 8, f"The SLO: {s.objective:.4%} good over {s.period}.",
                  targets=[Target(f"vector({s.objective:g})", "objective", True)], steps=[(None, "blue")]),
            Panel("stat", f"SLI over {s.period}", "percentunit", 5, 8, "Share of good events over the SLO period.",
                  steps=[(None, "red"), (s.objective, "green")], targets=[Target(sli, "SLI", True)]),
            Panel("gauge", "Error budget left", "percentunit", 5, 8,
                  "1 - (error ratio over the period) / (1 - objective); below 0 the SLO is missed.",
                  min=0, max=1, steps=[(None, "red"), (0.0, "orange"), (0.25, "green")],
                  targets=[Target(f"1 - ({_ratio(s, s.period)}) / (1 - {s.objective:g})", "budget left", True)]),
            burn,
        ]))
    return rows
