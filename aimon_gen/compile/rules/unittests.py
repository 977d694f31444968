"""Promtool unit tests for every generated alert rule (`tests/<pack>.test.yml`).

For each rule (each threshold variant), from the pack's `test:` section:
- "fires": the `fire` inputs, labelled like a real target of the rule's first scope entry;
  at `at` (default: `for` + 10m) the alert fires with exactly the expected labels and
  annotations; one interval before `for` has passed it does not fire yet.
- "quiet": the `quiet` inputs (just inside the threshold) never fire it.

Expected annotations are the pack's Go templates expanded here; only `{{ $labels.x }}`,
`{{ $value }}` and `{{ printf "%.Ng" $value }}` are supported, so the expansion is exact.
promtool 2.42 needs an explicit `interval` per group and compares floats exactly: inputs
use whole numbers and steps whose results are exact.
"""

from __future__ import annotations

from ... import kinds, scheme
from ...catalog import histogram_buckets
from ...promql import metric_names, quote
from ...spec.types import duration_seconds, split_target
from ..result import RuleFile, RuleGroup
from ..shapes import Shapes, text_of
from ..templating import NeverFires, go_annotation, number, render
from .scope import SCOPE_LABEL, job_of

INTERVAL = 60       # seconds between input samples
EVAL_INTERVAL = 600  # seconds between rule evaluations: every test group evaluates every rule
                     # of the files at each step, so 5m instead of 1m makes promtool 5x faster


def target_labels(spec, kind: str, scope_label: str, entry, jobs: list | None = None) -> dict:
    """The labels a real series of `entry` carries after the scrape (scheme.py's rules);
    `jobs`: scheme.jobs(spec), when the caller has it (it walks every target of the spec)."""
    job_name = job_of(kind)
    if entry is None:
        return {"job": job_name, "instance": "localhost:9090"}
    for job in scheme.jobs(spec) if jobs is None else jobs:
        if job.name != job_name:
            continue
        for group in job.groups:
            labels = dict(group.labels)
            if labels.get(scope_label) == entry.name:
                if not group.targets:  # found by service discovery
                    return {**labels, "job": job_name, **scheme.discovered_target_labels(group)}
                target = group.targets[0]
                return {**labels, "job": job_name, "instance": scheme.instance_of(job, target),
                        "host": split_target(target)[0]}
    raise ValueError(f"no scrape target for {scope_label}={entry.name}")


def _s(value):
    # Keep pack strings as they are (their identity finds their compiled template).
    return value if isinstance(value, str) else str(value)


def series_text(metric: str, labels: dict) -> str:
    inner = ", ".join(f"{k}={quote(str(v))}" for k, v in labels.items())
    return f"{metric}{{{inner}}}"


def _values(text: str, n: int) -> str:
    text = str(text).strip()
    return text if ("x" in text or " " in text) else f"{text}x{n}"


def _inputs(test, ctx, base: dict, case: str, n: int, shown: str) -> list[dict]:
    out = []
    for item in test.get("input") or []:
        rep = item.get("repeat")
        if case not in item and not (rep and case in rep):
            continue
        labels = {**base, **{k: render(v, ctx, shown) for k, v in (item.get("labels") or {}).items()}}
        raw = render(_s(item.get(case, item.get("fire", ""))), ctx, shown)
        if item.get("histogram"):
            out += _histogram(render(item["histogram"], ctx, shown), labels, raw, n)
            continue
        metric, values = render(item["metric"], ctx, shown), _values(raw, n)
        count = int(float(render(_s(rep[case]), ctx, shown))) if rep else 1
        for i in range(count):
            lab = {**labels, str(rep["label"]): str(i)} if rep else labels
            out.append({"series": series_text(metric, lab), "values": values})
    return out


def _histogram(metric: str, labels: dict, latency: str, n: int) -> list[dict]:
    """Series of a histogram where 1 request/s takes `latency` seconds ("None": no requests)."""
    seen = None if latency in ("None", "") else float(latency)
    out = []
    for bound in histogram_buckets(metric) + [float("inf")]:
        le = "+Inf" if bound == float("inf") else repr(bound)
        step = "0+60" if seen is not None and seen <= bound else "0"
        out.append({"series": series_text(f"{metric}_bucket", {**labels, "le": le}), "values": f"{step}x{n}"})
    rate = 0 if seen is None else 1
    out.append({"series": series_text(f"{metric}_count", labels), "values": f"0+{60 * rate}x{n}"})
    out.append({"series": series_text(f"{metric}_sum", labels), "values": f"0+{number(60 * rate * (seen or 0.0))}x{n}"})
    return out


def _expected(a, test, ctx, base: dict, shown: str) -> dict:
    first = (test.get("input") or [{}])[0]
    labels = {**base, **{k: render(v, ctx, shown) for k, v in (first.get("labels") or {}).items()}}
    if first.get("repeat"):
        labels[str(first["repeat"]["label"])] = "0"
    keep, drop = test.get("keep", "all"), test.get("drop") or []
    labels = {k: v for k, v in labels.items() if (keep == "all" or k in keep) and k not in drop}
    value = float(render(_s(test["value"]), ctx, shown))
    where = (shown, a.source.line)
    annotations = {k: go_annotation(v, labels, value, where) if k != "runbook_url" else v
                   for k, v in a.rule["annotations"].items()}
    return {"exp_labels": {**labels, **a.rule["labels"]}, "exp_annotations": annotations}


def alert_tests(spec, group, a, jobs: list | None = None) -> list[dict]:
    """The test groups of one alert rule: fires (and, before `for`, not yet), stays quiet."""
    shown, test = group.pack.shown, a.source["test"]
    entry = a.variant.entries[0] if a.variant.entries else None
    base = target_labels(spec, group.kind, SCOPE_LABEL.get(group.scope, ""), entry, jobs)
    for_s = duration_seconds(a.rule.get("for", "0s"))
    at_s = duration_seconds(render(test["at"], a.context, shown)) if test.get("at") else for_s + 600
    at_s = -(-at_s // EVAL_INTERVAL) * EVAL_INTERVAL  # an evaluation falls exactly on it
    n = int(at_s // INTERVAL) + 10
    ctx = {**a.context, "n": n, "at_seconds": at_s}
    name, at = a.rule["alert"], f"{int(at_s // INTERVAL)}m"
    scope = f" ({SCOPE_LABEL[group.scope]} {entry.name})" if entry is not None else ""
    checks = []
    if for_s >= INTERVAL:
        checks.append({"eval_time": f"{int(for_s // INTERVAL) - 1}m", "alertname": name, "exp_alerts": []})
    checks.append({"eval_time": at, "alertname": name, "exp_alerts": [_expected(a, test, ctx, base, shown)]})
    fire_series = _inputs(test, ctx, base, "fire", n, shown)
    if not test.get("input"):
        # No input: a heartbeat (Watchdog) that fires on nothing, so it has no quiet case.
        return [{"name": f"{name} fires without any input{scope}", "interval": "1m", "input_series": [],
                 "alert_rule_test": checks}]
    keep, drop = test.get("keep", "all"), test.get("drop") or []
    if (keep == "all" or "instance" in keep) and "instance" not in drop:
        # The quiet inputs come from a second target of the same entry: the alert keeps
        # `instance`, so the exact list of expected alerts proves they stay quiet, and one
        # group (promtool's cost is per group) tests both cases.
        quiet_base = {**base, "instance": f"quiet.{base['instance']}",
                      **({"host": f"quiet.{base['host']}"} if "host" in base else {})}
        merged = fire_series + _inputs(test, ctx, quiet_base, "quiet", n, shown)
        return [{"name": f"{name} fires, and stays quiet inside its threshold{scope}", "interval": "1m",
                 "input_series": merged, "alert_rule_test": checks}]
    fires = {"name": f"{name} fires{scope}", "interval": "1m", "input_series": fire_series,
             "alert_rule_test": checks}
    quiet = {"name": f"{name} stays quiet inside its threshold{scope}", "interval": "1m",
             "input_series": _inputs(test, ctx, base, "quiet", n, shown),
             "alert_rule_test": [{"eval_time": at, "alertname": name, "exp_alerts": []}]}
    return [fires, quiet]


def compile_tests(spec, built) -> tuple[dict[str, dict], dict[str, RuleFile]]:
    """Test-file stem (the pack's, `user-` for user packs) -> (promtool test file, the rules it loads).

    Alerts read raw series only, so the tests need not evaluate the recording rules; and an
    alert test asserts only its own alert, so each test file loads tests/<stem>.rules.yml: its
    pack's alert rules as in alert.rules.yml, without the per-entry rules left untested as
    another entry's shape (compile/shapes.py). promtool evaluates every loaded rule at every
    step of every test group: with every pack's rules, a fleet's tests took 10x longer."""
    cases: dict[str, list] = {}
    tested: dict[str, list[RuleGroup]] = {}
    shapes, jobs = Shapes(), scheme.jobs(spec)
    for group in built:
        stem = test_stem(group)
        rules = []
        for a in group.alerts:
            reads = metric_names(a.rule["expr"])
            try:
                found = alert_tests(spec, group, a, jobs)
            except NeverFires as exc:
                name = str(a.source.get("threshold", ""))
                raise NeverFiresFor(threshold_path(spec, name, a.variant.entry or (a.variant.entries or [None])[0]),
                                    f"{a.rule['alert']}: {exc}") from None
            if a.variant.entry is not None and shapes.known((stem, a.rule["alert"]), text_of([a.rule, found]),
                                                              _own_values(spec, group, a.variant.entry, jobs)):
                continue   # a rule per entry (`each:`, an override) whose shape an earlier entry's test proves
            rules.append(a.rule)
            cases.setdefault(stem, []).extend((t, reads) for t in found)
        if rules:
            tested.setdefault(stem, []).append(RuleGroup(group.name, rules))
    tests = {stem: {"rule_files": [f"rules/{stem}.rules.yml"], "evaluation_interval": f"{EVAL_INTERVAL // 60}m",
                    "tests": _pack(found)} for stem, found in cases.items()}
    return tests, {stem: RuleFile(groups) for stem, groups in tested.items()}


def test_stem(group) -> str:
    """The test file (tests/<stem>.test.yml) and test rule file of a pack's group."""
    return f"{'user-' if group.pack.user else ''}{group.pack.path.stem}"


def _own_values(spec, group, entry, jobs: list) -> dict[str, str]:
    """What a scope entry contributes to its rule and test: its name and its target's labels.
    Shapes (compile/shapes.py) tests one of the entries whose rule and test differ only in these."""
    base = target_labels(spec, group.kind, SCOPE_LABEL.get(group.scope, ""), entry, jobs)
    return {"": entry.name, **{k: str(v) for k, v in base.items()}}


class NeverFiresFor(Exception):
    def __init__(self, path: tuple, message: str):
        super().__init__(message)
        self.path = path


def threshold_path(spec, name: str, entry) -> tuple:
    """Where the spec sets threshold `name` for `entry` (for messages at the spec line)."""
    for kind in kinds.SCOPES:
        for i, item in enumerate(getattr(spec, kind)):
            if item is entry and name in item.thresholds:
                return (kind, i, "thresholds", name)
    return ("thresholds", name) if name in spec.thresholds else ("thresholds",)


def _pack(cases: list) -> list[dict]:
    """Share test groups between cases that cannot see each other's series.

    promtool loads the rule files again for every test group (~30 ms at 80 alerts), so
    cases go into one group when no case's alert reads a metric another case feeds in;
    then each alert sees exactly its own inputs and its exact expected list still holds."""
    buckets: list[tuple[dict, set, set]] = []   # (group, metrics read, metrics fed)
    for test, reads in cases:
        feeds = {s["series"].split("{", 1)[0] for s in test["input_series"]}
        for group, b_reads, b_feeds in buckets:
            if not (reads & b_feeds) and not (feeds & b_reads):
                group["name"] += f"; {test['name']}"
                group["input_series"] += test["input_series"]
                group["alert_rule_test"] += test["alert_rule_test"]
                b_reads |= reads
                b_feeds |= feeds
                break
        else:
            group = {"name": test["name"], "interval": test["interval"], "input_series": list(test["input_series"]),
                     "alert_rule_test": list(test["alert_rule_test"])}
            buckets.append((group, set(reads), feeds))
    return [g for g, _, _ in buckets]
