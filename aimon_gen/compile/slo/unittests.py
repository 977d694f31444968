"""promtool unit tests proving the SLO alerts fire (tests/slo.test.yml).

Every SLO runs through the same scenarios side by side (one test group per scenario, so
the test time grows with the scenarios, not with SLOs x scenarios):

- zero traffic: counters present but flat -> nothing fires, every ratio is 0 (no NaN);
- low traffic: 100% errors below `min_request_rate` -> nothing fires;
- missing: no series -> only SLOSeriesMissing fires, after its `for`;
- for the k-th window pair of each SLO (highest burn threshold first): a steady burn 1%
  above its threshold (it fires exactly `for` after its windows fill, not a minute before)
  and 1% below it (it stays silent; pairs with lower thresholds fire).

Expected values are computed here from the scenario's event counts with the formulas the
rules implement (rate over 5m of a counter growing `inc` per minute is 5*inc * (1/300)), in the
same float operations, so promtool's exact comparison holds. Series for `slos:` entries are
synthesized from their selectors' matchers.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from functools import cache

from ...promql import label_matches, quote
from ...sli import Selector, SLODef, slo_defs
from ...spec.types import duration_seconds, format_duration
from ..result import Bundle
from ..templating import printed
from .rules import MISSING, PERIOD_SOURCE, SLO_RULES, SOURCE, Pair, alert_rules, burn_description, num, pairs, windows

FULL = 1_000_000          # events per minute in burn scenarios
EVAL = 600                # the tests' evaluation interval (series are sampled every minute)
ABOVE, BELOW = 1.01, 0.99


@dataclass
class Case:
    """One SLO in one scenario."""
    slo: SLODef
    fire: list[Pair]
    series: list[tuple[str, int]] = field(default_factory=list)   # (series, increase per minute)
    bad: float | None = None        # 5m rates (None: absent)
    total: float | None = None


def _rate(inc: int) -> float:
    # Prometheus 2.42 extrapolatedRate: delta * ((extrapolated / sampled interval) / range seconds).
    return float(5 * inc) * ((300.0 / 300.0) / 300.0)


def _minutes(seconds: float) -> int:
    return int(seconds // 60)


# --- synthesizing series that match selectors ---------------------------------------------

def _matches(sel: Selector, name: str, labels: dict) -> bool:
    if sel.name != name:
        return False
    return all(label_matches(op, value, labels.get(label, "")) for label, op, value in sel.matchers)


def _candidates(label: str, sels) -> list[str]:
    out: list[str] = []
    for sel in sels:
        for lab, op, value in sel.matchers:
            if lab == label:
                out += value.split("|") if op.endswith("~") else [value]
    return list(dict.fromkeys(v.replace("\\", "") for v in out + ["x", "200", "500", "5xx", "error", ""]))


def realize(want: Selector, avoid: list[Selector]) -> dict | None:
    """Labels of a series matching `want` and none of `avoid` (None if none is found)."""
    sels = [want, *avoid]
    names = sorted({m[0] for s in sels for m in s.matchers})
    options = [_candidates(n, sels) for n in names]
    for combo in itertools.islice(itertools.product(*options), 20000):
        labels = {n: v for n, v in zip(names, combo, strict=True) if v}
        if _matches(want, want.name, labels) and not any(_matches(a, want.name, labels) for a in avoid):
            return labels
    return None


def _series_text(name: str, labels: dict) -> str:
    # Values through quote(): a spec label such as `x", evil="1` must stay one value.
    inner = ",".join(f"{k}={quote(str(v))}" for k, v in labels.items())
    return f"{name}{{{inner}}}"


def counter_series(slo: SLODef, bad: int, total: int) -> list[tuple[str, dict, int]] | None:
    """(name, labels, increase per minute) so that the SLI sees `bad` of `total` events."""
    sli = slo.sli
    first = sli.errors or sli.good
    assert first is not None  # a counter SLI counts errors or good events
    marked = realize(first, [])
    if marked is None:
        return None
    inc = bad if sli.errors else total - bad
    counted = any(_matches(t, first.name, marked) for t in sli.total)
    for part in sli.total:
        other = realize(part, [first])
        if other is not None:
            # The marked series is one of the totals: the other carries the rest.
            return [(first.name, marked, inc), (part.name, other, total - inc if counted else total)]
    return None


def counter_rates(slo: SLODef, series) -> tuple[float | None, float | None]:
    """The 5m bad and total rates the rules compute, in the rules' own float operations."""
    def part(sel):
        rates = [_rate(inc) for name, labels, inc in series if _matches(sel, name, labels)]
        return sum(rates[1:], rates[0]) if rates else None

    sli = slo.sli
    total = part(sli.total[0])
    if total is None:
        return None, None
    for sel in sli.total[1:]:
        total = total + (part(sel) or 0.0)
    if sli.errors:
        bad = part(sli.errors)
        return (total * 0 if bad is None else bad), total
    good = part(sli.good)
    return total - (0.0 if good is None else good), total


# --- scenarios -------------------------------------------------------------------------------

def ready(slo: SLODef, window: str) -> float:
    """The first evaluation at which a window's recorded value exists (series start at 0)."""
    return _ready(slo.sli.timestamp is not None, slo.period, window)


@cache
def _ready(freshness: bool, period: str, window: str) -> float:
    if window == "5m":
        # rate() needs a full 5m window; the freshness subquery has a value at once.
        return 0.0 if freshness else math.ceil(300 / EVAL) * EVAL
    src = SOURCE.get(window, PERIOD_SOURCE)
    grid = math.lcm(int(duration_seconds(src)), EVAL)   # subquery points that have a recorded sample
    return math.ceil(_ready(freshness, period, src) / grid) * grid


def fire_time(slo: SLODef, p: Pair) -> float:
    """The first evaluation at which the alert fires: windows filled, then `for` elapsed."""
    due = max(ready(slo, p.long), ready(slo, p.short)) + duration_seconds(p.for_)
    return math.ceil(due / EVAL) * EVAL


@cache
def _threshold(p: Pair) -> float:
    return float(num(p.burn))


def _case(spec, slo: SLODef, bad: int | None, total: int | None, stale: bool = False) -> Case:
    """bad/total events per minute (None: no series at all)."""
    case = Case(slo, sorted(pairs(spec, slo)[0], key=lambda p: -p.burn))
    if total is None:
        return case
    assert bad is not None  # the scenarios give bad and total together or neither
    if slo.sli.timestamp:
        case.bad, case.total = (1.0 if stale else 0.0), 1.0
        return case
    # A server that is up has its always-present series (SLI.present) whatever its traffic.
    present = slo.sli.present
    up = [(_series_text(present.name, {m[0]: m[2] for m in present.matchers if m[1] == "="}), 0)] if present else []
    series = counter_series(slo, bad, total)
    if series is None:
        case.series = up
        return case
    case.series = [(_series_text(n, labels), inc) for n, labels, inc in series] + up
    case.bad, case.total = counter_rates(slo, series)
    return case


def _values(case: Case, minutes: int) -> list[dict]:
    sli = case.slo.sli
    if sli.timestamp and case.total is not None:
        ts = _series_text(sli.timestamp.name, {m[0]: m[2] for m in sli.timestamp.matchers})
        age = int(sli.max_age) + 60
        return [{"series": ts, "values": f"-{age}+0x{minutes}" if case.bad else f"0+60x{minutes}"}]
    return [{"series": s, "values": f"0+{inc}x{minutes}"} for s, inc in case.series]


def ratio(case: Case) -> float | None:
    if case.total is None:
        return None
    assert case.bad is not None  # _case sets both rates or neither
    return case.bad / case.total if case.total > 0 else case.total * 0


def firing(spec, case: Case, t: float) -> list[Pair]:
    r = ratio(case)
    if r is None:
        return []
    burn = r / float(num(case.slo.budget))
    low = case.slo.guarded and case.total < spec.slo_alerting.min_request_rate
    return [p for p in case.fire if burn > _threshold(p) and not low and t >= fire_time(case.slo, p)]


def scenarios(spec, defs: list[SLODef]) -> list[tuple[str, list[Case]]]:
    out = [("zero traffic: nothing fires, every ratio is 0", [_case(spec, d, 0, 0) for d in defs])]
    low = int(spec.slo_alerting.min_request_rate * 30)
    if low >= 1:
        out.append((f"low traffic ({low}/min, all failing) below min_request_rate: nothing fires",
                    [_case(spec, d, low, low) for d in defs]))
    out.append(("no SLI series: only SLOSeriesMissing fires", [_case(spec, d, None, None) for d in defs]))
    most = max(len(pairs(spec, d)[0]) for d in defs)
    for k in range(most):
        for factor, word in ((ABOVE, "1% above"), (BELOW, "1% below")):
            title = f"window pair #{k + 1}: steady burn {word} its threshold"
            out.append((BUDGET_GROUP if k == most - 1 and factor == ABOVE else title,
                        [_burn_case(spec, d, k, factor, most) for d in defs]))
    return out


BUDGET_GROUP = "lowest window pair: steady burn 1% above its threshold, until the period's budget is computed"


def _burn_case(spec, slo: SLODef, k: int, factor: float, most: int) -> Case:
    fire = sorted(pairs(spec, slo)[0], key=lambda p: -p.burn)
    if slo.sli.timestamp:
        return _case(spec, slo, 0, 1, stale=(factor == ABOVE and k == most - 1))
    if k >= len(fire):
        return _case(spec, slo, 0, FULL)
    bad = min(FULL, round(float(fire[k].burn) * factor * float(slo.budget) * FULL))
    return _case(spec, slo, bad, FULL)


# --- the test file ---------------------------------------------------------------------------

def compile_slo_tests(ctx, bundle: Bundle) -> None:
    """The step after compile_slo: tests/slo.test.yml for the SLO rules it made."""
    if SLO_RULES in bundle.rule_files:
        bundle.rule_tests["slo"] = compile_tests(ctx.spec, slo_defs(ctx.spec), f"../{SLO_RULES}.rules.yml")


def compile_tests(spec, defs: list[SLODef], rule_file: str) -> dict:
    groups = [_group(spec, title, cases, i) for i, (title, cases) in enumerate(scenarios(spec, defs))]
    return {"rule_files": [rule_file], "evaluation_interval": format_duration(EVAL), "tests": groups}


def _end_and_checkpoints(spec, title: str, cases: list[Case], k: int | None) -> tuple[float, list[float]]:
    miss = duration_seconds(spec.slo_alerting.missing_for)
    if title.startswith("no SLI"):
        miss = math.ceil(miss / EVAL) * EVAL
        return miss, sorted({max(0.0, miss - EVAL), miss})
    times, ends = set(), [0.0]
    for c in cases:
        for i, p in enumerate(c.fire):
            t = fire_time(c.slo, p)
            times.update({t - EVAL, t})
            if title.startswith("low traffic"):
                # The guard is the same clause in every pair: the page pairs show it, quickly.
                if p.tier == "page":
                    ends.append(t)
            elif k is None or i == k and not c.slo.sli.timestamp or c.slo.sli.timestamp and c.bad:
                ends.append(t)
    if title == BUDGET_GROUP:
        # One group runs until every period window is filled, to check the budget series.
        ends += [ready(c.slo, c.slo.period) for c in cases]
    end = max(ends) or float(EVAL)
    return end, sorted(t for t in times | {end} if 0 <= t <= end)


def _group(spec, title: str, cases: list[Case], index: int) -> dict:
    k = _pair_index(title, cases)
    end, checkpoints = _end_and_checkpoints(spec, title, cases, k)
    minutes = _minutes(end) + 1
    series = [s for c in cases for s in _values(c, minutes)] or [{"series": "aimon_gen_unused", "values": "0"}]
    alerts = (sorted({p.alert for c in cases for p in c.fire})
              + ([MISSING] if MISSING not in spec.rules.disabled else []))
    group = {"name": title, "interval": "1m", "input_series": series,
             "alert_rule_test": [{"eval_time": format_duration(t), "alertname": name,
                                  "exp_alerts": _expected(spec, cases, name, t)}
                                 for t in checkpoints for name in alerts],
             "promql_expr_test": _samples(cases, end, zero=index == 0)}
    return group


def _pair_index(title: str, cases: list[Case]) -> int | None:
    if title == BUDGET_GROUP:
        return max(len(c.fire) for c in cases) - 1
    return int(title.split("#")[1].split(":")[0]) - 1 if title.startswith("window pair") else None


def _expected(spec, cases: list[Case], name: str, t: float) -> list[dict]:
    out = []
    miss = duration_seconds(spec.slo_alerting.missing_for)
    base = spec.rules.runbook_base_url.rstrip("/")
    for c in cases:
        slo = c.slo
        if name == MISSING:
            if c.total is None and t >= math.ceil(miss / EVAL) * EVAL:
                rule = next(r for r in _alert_rules(spec, slo) if r["alert"] == MISSING)
                # What Prometheus prints: the literal-escaped spec values come back as written.
                out.append({"exp_labels": {k: printed(v) for k, v in rule["labels"].items()},
                            "exp_annotations": {k: printed(v) for k, v in rule["annotations"].items()}})
            continue
        for p in firing(spec, c, t):
            if p.alert != name:
                continue
            out.append({"exp_labels": {**slo.labels, "severity": p.severity, "tier": p.tier,
                                       "long_window": p.long, "short_window": p.short},
                        "exp_annotations": _burn_annotations(slo, p, c, t, base)})
    return out


def _alert_rules(spec, slo):
    return alert_rules(spec, slo, [])


def _burn_annotations(slo: SLODef, p: Pair, c: Case, t: float, base: str) -> dict:
    r, b = ratio(c), float(num(slo.budget))
    assert r is not None  # only a case with rates fires
    left = "%.4g%%" % ((1 - r / b) * 100) if t >= ready(slo, slo.period) else "unknown"
    return {"summary": f"SLO {slo.slo} is burning its error budget too fast ({p.long}/{p.short})",
            "description": burn_description(slo, p, "%.2f" % (r / b), left),
            "runbook_url": f"{base}/{p.alert}"}


def _samples(cases: list[Case], end: float, zero: bool) -> list[dict]:
    at = format_duration(end)
    out: list[dict] = []
    for c in cases:
        slo, r = c.slo, ratio(c)
        sel = f'{{slo="{slo.slo}"}}'
        if r is None:
            out.append({"expr": f"slo:sli_error:ratio{sel}", "eval_time": at, "exp_samples": []})
            continue
        b = float(num(slo.budget))
        ready_windows = [w for w in windows(slo) if ready(slo, w) <= end]
        names = [("slo:burn_rate:ratio", r / b)] + ([("slo:sli_error:ratio", r)] if zero else [])
        for metric, value in names:
            out.append({"expr": f"{metric}{sel}", "eval_time": at, "exp_samples": [
                {"labels": _series_text(metric, {**slo.labels, "window": w}), "value": value}
                for w in ready_windows]})
        if slo.period in ready_windows:
            out.append({"expr": f"slo:error_budget_remaining:ratio{sel}", "eval_time": at, "exp_samples": [
                {"labels": _series_text("slo:error_budget_remaining:ratio", {**slo.labels, "window": slo.period}),
                 "value": 1 - r / b}]})
    if zero:
        # NaN is the only value not equal to itself.
        out += [{"expr": f"{m} != {m}", "eval_time": at, "exp_samples": []}
                for m in ("slo:sli_error:ratio", "slo:burn_rate:ratio", "slo:error_budget_remaining:ratio")]
    return out
