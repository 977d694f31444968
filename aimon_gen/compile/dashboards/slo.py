"""SLO rows of the dashboards: one row per SLO that slo.rules.yml records, with objective, SLI
over the period, error budget left and the burn rate per alert window.

Everything comes from the generated rules in the bundle, not from a second copy of the SLI
definitions: the recorded series (`slo:*{slo=...}`) for the queries, and each burn-rate line
from the generated alert itself, so a line is crossed exactly when that alert's condition holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_SEVERITY_COLOR = {"critical": "red", "warning": "orange", "info": "blue"}
SLO_RULES = "slo.rules.yml"


@dataclass(frozen=True)
class RecordedSLO:
    slo: str
    objective: float
    period: str
    windows: tuple                            # recorded burn-rate windows, shortest first
    lines: list = field(default_factory=list)  # [(long window, burn rate, severity)] of its alerts


def _window(expr: str) -> str | None:
    m = re.search(r'window="(\w+)"', expr)
    return m.group(1) if m else None


def _lines(rules: list) -> list:
    """(long window, burn rate, severity) of each burn-rate alert: `...window="1h"}) > 14.4`."""
    out = []
    for r in rules:
        long = r.get("labels", {}).get("long_window") if "alert" in r else None
        m = long and re.search(rf'window="{long}"\}}\)\s*>\s*([0-9.]+)', r["expr"])
        if m:
            out.append((long, float(m.group(1)), r["labels"].get("severity", "critical")))
    return out


def recorded_slos(bundle: dict) -> list[RecordedSLO]:
    """The SLOs slo.rules.yml records, read from its rules (one group per SLO)."""
    out = []
    for group in (bundle.get(SLO_RULES) or {}).get("groups", []):
        rules = group.get("rules", [])
        by_record = {r["record"]: r for r in rules if "record" in r}
        objective, remaining = by_record.get("slo:objective:ratio"), by_record.get("slo:error_budget_remaining:ratio")
        if not objective or not remaining or "slo" not in objective.get("labels", {}):
            continue
        value, period = re.search(r"vector\(([0-9.]+)\)", objective["expr"]), _window(remaining["expr"])
        if not value or not period:
            continue
        windows = tuple(dict.fromkeys(w for r in rules if r.get("record") == "slo:burn_rate:ratio"
                                      for w in [_window(r["expr"])] if w))
        out.append(RecordedSLO(objective["labels"]["slo"], float(value.group(1)), period, windows, _lines(rules)))
    return out


def budget_targets(filters: dict, slos: list[RecordedSLO]) -> list:
    """One instant query for the overview: every SLO's share of error budget left."""
    from .panels import Target

    if not slos:
        return []
    sel = filters["all"]
    return [Target(f"slo:error_budget_remaining:ratio{{{sel}}}" if sel else "slo:error_budget_remaining:ratio",
                   "{{slo}}", True)]


def recorded_rows(slos: list[RecordedSLO], filters: dict) -> list:
    from .panels import Panel, Target

    rows = []
    for s in slos:
        sel = ", ".join(p for p in (f'slo="{s.slo}"', filters["all"]) if p)
        shown = [w for w, _, _ in s.lines] or [w for w in s.windows if w != s.period]
        burn = Panel("timeseries", "Burn rate per alert window", "short", 10, 8,
                     "slo:burn_rate:ratio: error ratio over the window / error budget; each line turns its "
                     "alert's colour above the burn rate at which that alert fires.",
                     steps=[(None, "green")],
                     targets=[Target(f'slo:burn_rate:ratio{{{sel}, window=~"{"|".join(shown)}"}}',
                                     "{{window}} window")])
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
