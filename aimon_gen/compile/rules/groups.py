"""Rule packs -> alert.rules.yml, recording.rules.yml, dcgm-counters.csv and unit tests.

Which groups: a pack group is used when the spec has something its exporter serves
(`requires`), for the scope entries that exporter serves (GPU node groups for dcgm, the
vLLM models for the vllm pack, ...).

Thresholds: an alert names a threshold; `thresholds.resolve(spec, name, entry)` gives its
value/for/severity per scope entry. Entries that resolve like the spec-wide default share
one rule, whose selector excludes every overridden entry; each distinct override gets its
own rule (same alert name) selecting exactly its entries. So an override never leaks to
targets it does not name. `each: true` alerts get one rule per entry (e.g. GPUMissing,
which compares with that group's gpu.count).

Checks (each reported at the pack's file:line): every metric a rule reads is emitted by a
configured exporter (aimon_gen/catalog) or recorded by the build; alert names are unique
across packs; every alert compares something.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ... import catalog, kinds
from ...errors import Problem, SpecInvalid, did_you_mean
from ...promql import has_comparison, matcher, metric_names
from ...thresholds import Threshold, resolve
from ..result import Alert, Bundle, RuleGroup
from ..templating import limits as templating_limits, render
from .packs import PackFile, SrcMap, shipped_packs, user_packs
from .scope import SCOPE_LABEL, job_of, scope_entries
from .unittests import NeverFiresFor, compile_tests

ALERT_RULES, RECORDING_RULES = "alert", "recording"  # alert.rules.yml, recording.rules.yml

@dataclass
class Variant:
    """One emitted rule of an alert: the threshold and the entries it covers."""
    threshold: Threshold | None
    entries: list
    matcher: str = ""
    entry: object = None
    labels: dict = field(default_factory=dict)


@dataclass
class BuiltAlert:
    source: SrcMap            # the pack's alert mapping (with lines)
    variant: Variant
    rule: dict                # the rendered Prometheus rule
    context: dict             # template context, reused by the unit tests


@dataclass
class BuiltGroup:
    name: str
    pack: PackFile
    kind: str
    scope: str
    recording: list = field(default_factory=list)   # (source, rule)
    alerts: list = field(default_factory=list)      # BuiltAlert


def variants(spec, rule, scope: str, entries: list) -> list[Variant]:
    """The rules one alert becomes (see the module docstring)."""
    name = rule.get("threshold")
    default = resolve(spec, name, None) if name else None
    if scope == "none":
        return [Variant(default, [])] if default is None or default.enabled else []
    label = SCOPE_LABEL[scope]  # every scope but none has one (packs.Scope is built from the same table)
    per_entry = [(e, resolve(spec, name, e) if name else None) for e in entries]
    if rule.get("each"):
        return [_single(label, e, t) for e, t in per_entry if t is None or t.enabled]
    # An entry that overrides a limit() threshold gets its own rule too.
    # A second named threshold an expression reads, e.g. a minimum request rate: <%= limit("name") %>.
    limits = templating_limits(str(rule.get("expr", "")))
    key = {id(e): tuple(resolve(spec, n, e).value for n in limits) for e in entries}
    base = tuple(resolve(spec, n, None).value for n in limits)
    same = [e for e, t in per_entry if t == default and key[id(e)] == base]
    overridden = [(e, t) for e, t in per_entry if t != default or key[id(e)] != base]
    out = []
    if same and (default is None or default.enabled):
        excluded = [e.name for e, _ in overridden]
        out.append(Variant(default, same, matcher(label, excluded, negate=True) if excluded else ""))
    out += [_single(label, e, t) for e, t in overridden if t is None or t.enabled]
    return out


def _single(label: str, entry, threshold) -> Variant:
    # The rule label repeats the series' own label: same alert labels, but promtool's
    # duplicate check (name + labels) tells this rule from the default one.
    return Variant(threshold, [entry], matcher(label, [entry.name]), entry, {label: entry.name})


def _context(spec, group, variant: Variant | None) -> dict:
    job = f'job="{job_of(group["requires"])}"'
    # n and at_seconds are set by the unit tests (a rule's strings render together).
    ctx = {"spec": spec, "job": job, "sel": job, "scope_label": SCOPE_LABEL.get(group["scope"], ""),
           "n": 0, "at_seconds": 0}
    if variant is not None:
        if variant.matcher:
            ctx["sel"] = f"{job}, {variant.matcher}"
        t = variant.threshold
        ctx.update(threshold=t.value if t else None, entry=variant.entry, entries=variant.entries,
                   params=t.params if t else {},
                   limit=lambda name, _e=variant.entry: resolve(spec, name, _e).value)
    return ctx


def _alert_rule(spec, group, src, variant: Variant, shown: str) -> BuiltAlert:
    ctx = _context(spec, group, variant)
    t = variant.threshold
    for_ = (t.for_ if t else None) or src.get("for")
    severity = (t.severity if t else None) or src.get("severity")
    if severity not in ("critical", "warning", "info", "none"):
        raise SpecInvalid([Problem(shown, src.line, src.col, "", f"alert {src['alert']}: severity must be "
                                   "critical, warning, info or none (a heartbeat)")])
    rule: dict[str, Any] = {"alert": str(src["alert"]), "expr": render(src["expr"], ctx, shown)}
    if for_ and for_ not in ("0s", "0m"):
        rule["for"] = str(for_)
    rule["labels"] = {"severity": str(severity), **variant.labels,
                      **{k: render(v, ctx, shown) for k, v in (src.get("labels") or {}).items()}}
    base = spec.rules.runbook_base_url.rstrip("/")
    rule["annotations"] = {"summary": render(src["summary"], ctx, shown),
                           "description": render(src["description"], ctx, shown),
                           "runbook_url": f"{base}/{src['alert']}"}
    return BuiltAlert(src, variant, rule, ctx)


def build_groups(spec, packs) -> list[BuiltGroup]:
    in_use = set(catalog.exporters_in_use(spec))
    disabled = set(spec.rules.disabled)
    built = []
    for pack in packs:
        for group in pack.groups:
            kind, scope = str(group["requires"]), str(group["scope"])
            entries = scope_entries(spec, scope, kind)
            if kind not in in_use or (scope != "none" and not entries) or not group_applies(spec, group):
                continue
            bg = BuiltGroup(str(group["name"]), pack, kind, scope)
            for src in group.get("recording") or []:
                if src["record"] in disabled:
                    continue
                ctx = _context(spec, group, None)
                rule: dict[str, Any] = {"record": str(src["record"]), "expr": render(src["expr"], ctx, pack.shown)}
                if src.get("labels"):
                    rule["labels"] = {k: render(v, ctx, pack.shown) for k, v in src["labels"].items()}
                bg.recording.append((src, rule))
            for src in group.get("alerts") or []:
                if src["alert"] in disabled:
                    continue
                for v in variants(spec, src, scope, entries):
                    bg.alerts.append(_alert_rule(spec, group, src, v, pack.shown))
            if bg.recording or bg.alerts:
                built.append(bg)
    return built


def group_applies(spec, group) -> bool:
    """A group's `when:` condition (rulepacks.WHEN): the spec uses that feature of Prometheus."""
    when = group.get("when")
    return when is None or bool(getattr(spec.prometheus, str(when)))


def check_groups(spec, built: list[BuiltGroup]) -> list[Problem]:
    """Metrics read exist, names unique, alerts compare: one Problem per finding."""
    problems = []
    emitted = catalog.emitted_metrics(spec)
    recorded = {rule["record"] for g in built for _, rule in g.recording}
    known = emitted | recorded
    group_seen: dict[str, str] = {}
    alert_seen: dict[str, tuple] = {}
    record_seen: dict[tuple, tuple] = {}
    for g in built:
        if group_seen.setdefault(g.name, g.pack.shown) != g.pack.shown:
            problems.append(Problem(g.pack.shown, 0, 0, "", f"rule group name '{g.name}' is also used in "
                                    f"{group_seen[g.name]}", "rename the group"))
        for src, rule in g.recording:
            # promtool --lint-fatal rejects two rules of one file with the same name and labels.
            key = (rule["record"], tuple(sorted((rule.get("labels") or {}).items())))
            where = (g.pack.shown, src.line)
            if record_seen.setdefault(key, where) != where:
                other = record_seen[key]
                problems.append(_p(g, src, f"recording rule '{rule['record']}' with the same labels is also defined "
                                   f"at {other[0]}:{other[1]}", "give it another name or a distinguishing label"))
            problems += _unknown_metrics(g, src["expr"], rule, known)
        for a in g.alerts:
            where = (g.pack.shown, a.source.line)
            if alert_seen.setdefault(a.rule["alert"], where) != where:
                other = alert_seen[a.rule["alert"]]
                problems.append(_p(g, a.source,
                                   f"alert name '{a.rule['alert']}' is also defined at {other[0]}:{other[1]}",
                                   "alert names must be unique"))
            # A heartbeat (severity none, e.g. Watchdog's vector(1)) fires always by design.
            if not has_comparison(a.rule["expr"]) and a.rule["labels"]["severity"] != "none":
                problems.append(_p(g, a.source["expr"], f"alert {a.rule['alert']} has no comparison, so it fires for "
                                   "every series", "compare with a threshold, e.g. `> <%= threshold %>`"))
            problems += _unknown_metrics(g, a.source["expr"], a.rule, known)
    return sorted(set(problems))


def _p(g: BuiltGroup, node, message: str, hint: str = "") -> Problem:
    return Problem(g.pack.shown, getattr(node, "line", 0), getattr(node, "col", 0), "", message, hint)


def _unknown_metrics(g: BuiltGroup, node, rule: dict, known: set[str]) -> list[Problem]:
    out = []
    for name in sorted(metric_names(rule["expr"]) - known):
        info = catalog.metric_info(name)
        if info is not None and not info.emitted:
            hint = f"{name} is off by default in {info.exporter}; aimon-gen does not enable it"
        elif info is not None:
            hint = f"{name} comes from {info.exporter}, which this spec does not scrape"
        else:
            hint = did_you_mean(name, known) or "see aimon_gen/catalog/*.yaml for the metrics each exporter emits"
        what = rule.get("alert") or rule.get("record")
        out.append(_p(g, node, f"{what} reads '{name}', which no configured exporter emits and no rule records", hint))
    return out


def compile_rules(ctx, bundle: Bundle) -> None:
    """The compile step: rule files, the dcgm counters CSV and the promtool unit tests."""
    spec = ctx.spec
    packs = shipped_packs() + user_packs(ctx)
    built = build_groups(spec, packs)
    problems = check_groups(spec, built)
    if problems:
        raise SpecInvalid(problems)
    _warn_unknown_disabled(ctx, packs)
    _warn_unused_overrides(ctx, packs)
    emitted = {a.rule["alert"] for g in built for a in g.alerts}
    recording = [RuleGroup(g.name, [r for _, r in g.recording]) for g in built if g.recording]
    alerts = [RuleGroup(g.name, [a.rule for a in g.alerts], [_declared(g, a, emitted) for a in g.alerts])
              for g in built if g.alerts]
    if alerts:
        bundle.add_rules(ALERT_RULES, alerts)
    if recording:
        bundle.add_rules(RECORDING_RULES, recording)
    csv_fields = _off_default_dcgm_fields(built)
    if csv_fields:
        bundle.dcgm_counters = catalog.dcgm_counters_csv(
            [m.name for m in catalog.exporter_metrics("dcgm_exporter").values() if m.enable])
    try:
        bundle.rule_tests.update(compile_tests(spec, built, ALERT_RULES in bundle.rule_files))
    except NeverFiresFor as exc:
        ctx.error(exc.path, str(exc), "choose a value below the histogram's largest bucket")


def _declared(g: BuiltGroup, a: BuiltAlert, emitted: set[str]) -> Alert:
    """What the pack declares about an emitted alert; `inhibits:` pairs only with alerts this build has."""
    t = a.variant.threshold
    lesser = tuple(sorted({str(n) for n in a.source.get("inhibits") or [] if str(n) in emitted}))
    return Alert(a.rule["alert"], a.rule["labels"]["severity"], g.scope, t.value if t else None, lesser)


def _off_default_dcgm_fields(built) -> set[str]:
    dcgm = catalog.exporter_metrics("dcgm_exporter")
    names = set()
    for g in built:
        for rule in [r for _, r in g.recording] + [a.rule for a in g.alerts]:
            names |= {n for n in metric_names(rule["expr"]) if n in dcgm and not dcgm[n].default}
    return names


def _warn_unknown_disabled(ctx, packs) -> None:
    names = {str(r[k]) for p in packs for g in p.groups for k, rules in (("alert", g.get("alerts")),
             ("record", g.get("recording"))) for r in rules or []}
    for i, name in enumerate(ctx.spec.rules.disabled):
        if name not in names:
            ctx.warn(("rules", "disabled", i), f"no rule is named '{name}'", did_you_mean(name, names))


def _warn_unused_overrides(ctx, packs) -> None:
    """A threshold set on an entry whose kind no alert with that threshold covers does nothing."""
    scopes: dict[str, set] = {}
    for p in packs:
        for g in p.groups:
            for r in g.get("alerts") or []:
                if r.get("threshold"):
                    scopes.setdefault(str(r["threshold"]), set()).add(str(g["scope"]))
    for kind in kinds.SCOPES:
        for i, entry in enumerate(getattr(ctx.spec, kind)):
            for name in entry.thresholds:
                used = scopes.get(name, set())
                if name in scopes and kind not in used:
                    where = ", ".join(sorted(u for u in used if u != "none")) or "the spec as a whole"
                    ctx.warn((kind, i, "thresholds", name), f"threshold '{name}' has no effect on {kind}",
                             f"it applies per {where}; set it there or at the top level", )
