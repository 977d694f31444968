"""SLO rows of the dashboards: one row per SLO, with objective, SLI over the period, error
budget left and the burn rate per alert window with that window's alert line.

When the build has slo.rules.yml, the rows read its recorded series (`slo:*{slo=...}`) and
take each burn-rate line from the generated alert itself, so a line is crossed exactly when
that alert's condition holds. Without it, they compute the SLI inline from the error-ratio
templates of dashboards/slo.yaml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..scheme import JOB_MODEL, JOB_PIPELINE
from ..spec.types import duration_seconds
from .dashboard_defs import DashboardDef

_SEVERITY_COLOR = {"page": "red", "ticket": "orange", "critical": "red", "warning": "orange", "info": "blue"}
SLO_RULES = "slo.rules.yml"


@dataclass(frozen=True)
class RecordedSLO:
    slo: str
    objective: float
    period: str
    windows: tuple                            # recorded burn-rate windows, shortest first
    lines: list = field(default_factory=list)  # [(long window, burn rate, severity)] of its alerts


def recorded_slos(bundle: dict) -> list[RecordedSLO]:
    """The SLOs slo.rules.yml records, read from its rules (one group per SLO)."""
    out = []
    for group in (bundle.get(SLO_RULES) or {}).get("groups", []):
        rules = group.get("rules", [])
        by_record = {r["record"]: r for r in rules if "record" in r}
        objective, remaining = by_record.get("slo:objective:ratio"), by_record.get("slo:error_budget_remaining:ratio")
        if not objective or not remaining or "slo" not in objective.get("labels", {}):
            continue
        value = re.search(r"vector\(([0-9.]+)\)", objective["expr"])
        period = re.search(r'window="(\w+)"', remaining["expr"])
        if not value or not period:
            continue
        windows = tuple(dict.fromkeys(m.group(1) for r in rules if r.get("record") == "slo:burn_rate:ratio"
                                      for m in [re.search(r'window="(\w+)"', r["expr"])] if m))
        lines = []
        for r in rules:
            long = r.get("labels", {}).get("long_window") if "alert" in r else None
            m = long and re.search(rf'window="{long}"\}}\)\s*>\s*([0-9.]+)', r["expr"])
            if m:
                lines.append((long, float(m.group(1)), r["labels"].get("severity", "critical")))
        out.append(RecordedSLO(objective["labels"]["slo"], float(value.group(1)), period.group(1), windows, lines))
    return out


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


def budget_targets(spec, defs, filters: dict, bundle: dict) -> list:
    """One instant query per SLO: the share of its error budget left over its period."""
    from .dashboards import Target

    if recorded_slos(bundle):
        sel = ", ".join(p for p in (filters["all"],) if p)
        return [Target(f"slo:error_budget_remaining:ratio{{{sel}}}" if sel else "slo:error_budget_remaining:ratio",
                       "{{slo}}", True)]
    sdef = _slo_def(defs)
    if sdef is None:
        return []
    return [Target(f"1 - ({_ratio(s, s.period)}) / (1 - {s.objective:g})", s.title, True)
            for s in slos(spec, sdef, filters["all"])]


def recorded_rows(slos_: list[RecordedSLO], filters: dict) -> list:
    from .dashboards import Panel, Target

    rows = []
    for s in slos_:
        sel = _join(f'slo="{s.slo}"', filters["all"])
        shown = [w for w, _, _ in s.lines] or [w for w in s.windows if w != s.period]
        burn = Panel("timeseries", "Burn rate per alert window", "short", 10, 8,
                     "slo:burn_rate:ratio: error ratio over the window / error budget; each line turns its "
                     "alert's colour above the burn rate at which that alert fires.",
                     targets=[Target(f'slo:burn_rate:ratio{{{sel}, window=~"{"|".join(shown)}"}}', "{{window}} window")])
        burn.overrides = [(f"{w} window", [(None, "green"), (rate, _SEVERITY_COLOR.get(sev, "red"))])
                          for w, rate, sev in s.lines]
        rows.append((f"SLO: {s.slo}", [
            Panel("stat", "Objective", "percentunit", 4, 8, f"Good events the SLO promises over {s.period}.",
                  steps=[(None, "blue")], targets=[Target(f"slo:objective:ratio{{{sel}}}", "objective", True)]),
            Panel("stat", f"SLI over {s.period}", "percentunit", 5, 8, "Share of good events over the SLO period.",
                  steps=[(None, "red"), (s.objective, "green")],
                  targets=[Target(f'1 - slo:sli_error:ratio{{{sel}, window="{s.period}"}}', "SLI", True)]),
            Panel("gauge", "Error budget left", "percentunit", 5, 8,
                  "slo:error_budget_remaining:ratio; below 0 the SLO is missed.", min=0, max=1,
                  steps=[(None, "red"), (0.0, "orange"), (0.25, "green")],
                  targets=[Target(f"slo:error_budget_remaining:ratio{{{sel}}}", "budget left", True)]),
            burn,
        ]))
    return rows


def slo_rows(spec, sdef: DashboardDef, filters: dict, bundle: dict) -> list:
    from .dashboards import Panel, Target

    recorded = recorded_slos(bundle)
    if recorded:
        return recorded_rows(recorded, filters)
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
