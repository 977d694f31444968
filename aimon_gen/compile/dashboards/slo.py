"""SLO rows of the dashboards: one row per SLO that slo.rules.yml records, with objective, SLI
over the period, error budget left and the burn rate per alert window.

Everything comes from the compiled SLOs of the build result (compile/slo/rules.py), not
from a second copy of the SLI definitions: the recorded series (`slo:*{slo=...}`) for the
queries, and each burn-rate line from the alert's own declared window and burn rate, so a line
is crossed exactly when that alert's condition holds.
"""

from __future__ import annotations

from ..result import CompiledSLO
from .board import Panel, Target

_SEVERITY_COLOR = {"critical": "red", "warning": "orange", "info": "blue"}


def budget_targets(filters: dict, slos: list[CompiledSLO]) -> list:
    """One instant query for the overview: every SLO's share of error budget left."""
    if not slos:
        return []
    sel = filters["all"]
    return [Target(f"slo:error_budget_remaining:ratio{{{sel}}}" if sel else "slo:error_budget_remaining:ratio",
                   "{{slo}}", True)]


def recorded_rows(slos: list[CompiledSLO], filters: dict) -> list:
    rows = []
    for s in slos:
        sel = ", ".join(p for p in (f'slo="{s.name}"', filters["all"]) if p)
        shown = [a.long for a in s.alerts] or [w for w in s.windows if w != s.period]
        burn = Panel("timeseries", "Burn rate per alert window", "short", 10, 8,
                     "slo:burn_rate:ratio: error ratio over the window / error budget; each line turns its "
                     "alert's colour above the burn rate at which that alert fires.",
                     steps=[(None, "green")],
                     targets=[Target(f'slo:burn_rate:ratio{{{sel}, window=~"{"|".join(shown)}"}}',
                                     "{{window}} window")])
        burn.overrides = [(f"{a.long} window", [(None, "green"), (a.burn, _SEVERITY_COLOR.get(a.severity, "red"))])
                          for a in s.alerts]
        rows.append((f"SLO: {s.name}", [
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
