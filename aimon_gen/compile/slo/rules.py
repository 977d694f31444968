"""SLOs -> slo.rules.yml: recording rules per window, error budget, burn-rate alerts.

Layers, one rule group per SLO (rules in a group run in order, so each layer reads the
one recorded just before it at the same timestamp):

1. `slo:sli_bad:rate` / `slo:sli_total:rate` {window="5m"}: bad and all events per second,
   from the raw series (the only rules that read them).
2. the same two for every longer window, as the average of a shorter recorded window
   sampled on its own grid (`[1h:5m]`, `[6h:30m]`, `[3d:30m]`, `[30d:2h]`): the tiles are weighted by
   their traffic because numerator and denominator are averaged separately (averaging
   ratios would let a quiet hour count as much as a busy one).
3. `slo:sli_error:ratio` = bad / total for every window (one rule); 0, not NaN, without traffic.
4. `slo:burn_rate:ratio` per window, `slo:objective:ratio`, `slo:error_budget:ratio`,
   `slo:error_budget_remaining:ratio` (over the period).
5. One alert per window pair (`long_window`, `short_window` labels), the two windows joined
   after dropping `window` (a join across different `window` values never matches), with
   the low-traffic guard; and SLOSeriesMissing when the SLI's series are absent.

Every series carries `slo`, `service`, `window` (not the alerts), `model` or `pipeline`
and the entry's own labels (e.g. `team`, for Alertmanager routing).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ...sli import SLODef, slo_defs
from ...spec.types import duration_seconds
from ..result import Alert, Bundle, BurnLine, CompiledSLO, RuleGroup
from ..templating import template_literal

SLO_RULES = "slo"  # slo.rules.yml

WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
# Each longer window is averaged from a shorter recorded one sampled every its length
# (at most 144 points, 360 for a 30d period), so evaluation reads few samples. The price:
# a window ends at the last tile boundary, up to one tile ago (the period: up to 2h).
SOURCE = {"30m": "5m", "1h": "5m", "2h": "30m", "6h": "30m", "1d": "30m", "3d": "30m"}
PERIOD_SOURCE = "2h"
# Share of the error budget each pair may burn in its long window (SRE Workbook).
BUDGET_SHARE = {"1h/5m": Decimal("0.02"), "6h/30m": Decimal("0.05"), "1d/2h": Decimal("0.1"),
                "3d/6h": Decimal("0.1")}
ALERT = {"page": "SLOBurnRatePage", "ticket": "SLOBurnRateTicket"}
MISSING = "SLOSeriesMissing"


@dataclass(frozen=True)
class Pair:
    long: str
    short: str
    share: Decimal        # budget share burnt in `long` at the threshold
    burn: Decimal         # threshold: share x period / long
    tier: str             # page | ticket
    severity: str
    for_: str

    @property
    def alert(self) -> str:
        return ALERT[self.tier]

    @property
    def name(self) -> str:
        return f"{self.long}/{self.short}"


def num(d: Decimal) -> str:
    """A PromQL literal: at most 6 decimals, no exponent, no trailing zeros."""
    text = format(d.quantize(Decimal("1e-6")).normalize(), "f")
    return text


def windows(slo: SLODef) -> list[str]:
    period = duration_seconds(slo.period)
    return [w for w in WINDOWS if duration_seconds(w) < period] + [slo.period]


def source(window: str, slo: SLODef) -> str | None:
    return None if window == "5m" else SOURCE.get(window, PERIOD_SOURCE if window == slo.period else None)


def pairs(spec, slo: SLODef) -> tuple[list[Pair], list[Pair]]:
    """(pairs that can fire, pairs whose threshold needs more than 100% errors)."""
    period, s = duration_seconds(slo.period), spec.slo_alerting
    fire: list[Pair] = []
    never: list[Pair] = []
    for tier, setting in (("page", s.page), ("ticket", s.ticket)):
        if ALERT[tier] in spec.rules.disabled:
            continue
        for name in BUDGET_SHARE:
            long, short = name.split("/")
            if name not in setting.windows or duration_seconds(long) > period:
                continue
            burn = Decimal(num(BUDGET_SHARE[name] * Decimal(period) / Decimal(duration_seconds(long))))
            pair = Pair(long, short, BUDGET_SHARE[name], burn, tier, setting.severity, setting.for_)
            (fire if burn * slo.budget < 1 else never).append(pair)
    return fire, never


def compile_slo(ctx, bundle: Bundle) -> None:
    """The step: slo.rules.yml, when the spec declares SLOs (unittests.py adds their tests)."""
    spec, defs = ctx.spec, slo_defs(ctx.spec)
    if not defs:
        return
    groups = []
    for slo in defs:
        fire, never = pairs(spec, slo)
        if never:
            _warn_never(ctx, slo, never)
        alerts = alert_rules(spec, slo, fire)
        groups.append(RuleGroup(f"slo-{slo.slo}", _recording(slo) + alerts,
                                [Alert(a["alert"], a["labels"]["severity"], "slo") for a in alerts]))
        bundle.slos.append(CompiledSLO(slo.slo, float(num(slo.objective)), slo.period, tuple(windows(slo)),
                                       tuple(BurnLine(p.long, p.short, float(p.burn), p.tier, p.severity)
                                             for p in fire)))
    bundle.add_rules(SLO_RULES, groups)


def _warn_never(ctx, slo: SLODef, never: list[Pair]) -> None:
    pct = num(slo.objective * 100)
    most = num(1 / slo.budget)
    what = ", ".join(f"{p.tier} {p.name} at {num(p.burn)}x" for p in never)
    page = any(p.tier == "page" for p in never)
    ctx.warn(slo.path, f"SLO {slo.slo}: objective {pct}% can {'never page' if page else 'never fire some alerts'}: "
             f"with 100% errors the budget burns at most {most}x, below the threshold of {what}; "
             f"{'that alert is' if len(never) == 1 else 'those alerts are'} left out",
             "raise the objective, or move the pairs to the other tier with slo_alerting.page/ticket.windows")


def _sel(slo: SLODef, window: str) -> str:
    return f'{{slo="{slo.slo}", window="{window}"}}'


def _own(slo: SLODef, window: str) -> dict:
    # Already on the input series; repeated so promtool's duplicate-rule lint tells the rules apart.
    return {"slo": slo.slo, "window": window}


def _recording(slo: SLODef) -> list[dict]:
    labels, wins = slo.labels, windows(slo)
    rules = [{"record": "slo:sli_bad:rate", "expr": slo.sli.bad_expr(), "labels": {**labels, "window": "5m"}},
             {"record": "slo:sli_total:rate", "expr": slo.sli.total_expr(), "labels": {**labels, "window": "5m"}}]
    for w in wins[1:]:
        src = source(w, slo)
        assert src is not None  # only 5m has no source, and wins[1:] skips it
        for kind in ("bad", "total"):
            rules.append({"record": f"slo:sli_{kind}:rate",
                          "expr": f"avg_over_time(slo:sli_{kind}:rate{_sel(slo, src)}[{w}:{src}])",
                          "labels": {"slo": slo.slo, "window": w}})
    # One rule for every window: bad and total match on all labels, `window` included.
    # No traffic: 0/0 would be NaN and poison every window built on it; count it as no errors.
    sel = f'{{slo="{slo.slo}"}}'
    rules.append({"record": "slo:sli_error:ratio",
                  "expr": f"slo:sli_bad:rate{sel} / (slo:sli_total:rate{sel} > 0) or slo:sli_total:rate{sel} * 0",
                  "labels": {"slo": slo.slo}})
    budget = num(slo.budget)
    for w in wins:
        rules.append({"record": "slo:burn_rate:ratio", "expr": f"slo:sli_error:ratio{_sel(slo, w)} / {budget}",
                      "labels": _own(slo, w)})
    rules += [
        {"record": "slo:objective:ratio", "expr": f"vector({num(slo.objective)})", "labels": dict(labels)},
        {"record": "slo:error_budget:ratio", "expr": f"vector({budget})", "labels": dict(labels)},
        {"record": "slo:error_budget_remaining:ratio",
         "expr": f"1 - slo:sli_error:ratio{_sel(slo, slo.period)} / {budget}", "labels": _own(slo, slo.period)},
    ]
    return rules


def alert_rules(spec, slo: SLODef, fire: list[Pair]) -> list[dict]:
    base = spec.rules.runbook_base_url.rstrip("/")
    out = [_burn_alert(spec, slo, p, base) for p in fire]
    if MISSING not in spec.rules.disabled:
        s = spec.slo_alerting
        out.append({
            "alert": MISSING,
            "expr": f"vector(1) unless on () count({slo.sli.required})",
            "for": s.missing_for,
            # Alert labels and annotations are templates: the spec's values go in as literals.
            "labels": {**{k: template_literal(v) for k, v in slo.labels.items()}, "severity": s.missing_severity},
            "annotations": {
                "summary": f"SLO {slo.slo} cannot be measured: its SLI series are missing",
                "description": f"No series match {template_literal(str(slo.sli.required))} for {s.missing_for}, "
                               f"so the error budget of {slo.slo} is not tracked and its burn-rate alerts cannot fire. "
                               f"Check that the target is up and exports this metric.",
                "runbook_url": f"{base}/{MISSING}"}})
    return out


def burn_expr(slo: SLODef, p: Pair, min_rate: float) -> str:
    burn = num(p.burn)
    expr = (f"max without (window) (slo:burn_rate:ratio{_sel(slo, p.long)}) > {burn}\n"
            f"and max without (window) (slo:burn_rate:ratio{_sel(slo, p.short)}) > {burn}")
    if slo.guarded and min_rate > 0:
        expr += f"\nand max without (window) (slo:sli_total:rate{_sel(slo, p.long)}) >= {min_rate:g}"
    return expr


def _burn_alert(spec, slo: SLODef, p: Pair, base: str) -> dict:
    return {
        "alert": p.alert,
        "expr": burn_expr(slo, p, spec.slo_alerting.min_request_rate),
        "for": p.for_,
        "labels": {"slo": slo.slo, "severity": p.severity, "tier": p.tier,
                   "long_window": p.long, "short_window": p.short},
        "annotations": {
            "summary": f"SLO {slo.slo} is burning its error budget too fast ({p.long}/{p.short})",
            "description": burn_description(slo, p),
            "runbook_url": f"{base}/{p.alert}"}}


REMAINING = ('{{ with printf "slo:error_budget_remaining:ratio{slo=%q}" $labels.slo | query }}'
             '{{ . | first | value | humanizePercentage }}{{ else }}unknown{{ end }}')


def burn_description(slo: SLODef, p: Pair, value: str = '{{ printf "%.2f" $value }}',
                     remaining: str = REMAINING) -> str:
    """The description template; tests pass the rendered value and remaining budget."""
    return (f"Burn rate over the last {p.long} is {value}x and over the last {p.short} "
            f"also above {num(p.burn)}x (the rate that spends {num(p.share * 100)}% of the {slo.period} "
            f"error budget in {p.long}). Error budget left: {remaining}.")
