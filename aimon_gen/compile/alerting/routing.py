"""Where the generated alerts would go: build-time analysis of the routing tree.

Each generated alert (the rules the earlier compile steps made) is expanded into the
label sets it fires with, one per spec entry it watches (node group, model, pipeline,
storage), and sent through the routes with spec/routing.py. Errors: a route matcher on a
label no alert carries. Warnings: alerts that only the default receiver would get.

Label sets come from the parsed expression (aimon_gen/promql.py): the jobs it selects
(`job="..."`, else the exporters of the catalog metrics it reads, following recording
rules), the target labels of those jobs (scheme.py), equality matchers that pick one
entry (`model="x"`), and `by (...)` clauses that drop the rest. Close enough for routing
on owner labels such as team; the routing tests check the real thing with amtool.
"""

from __future__ import annotations

from dataclasses import dataclass

from ... import kinds
from ...catalog import metric_info
from ...errors import did_you_mean
from ...promql import grouping_labels, kept_labels, label_matches, metric_names, selectors
from ...scheme import JOB_PROMETHEUS, Job, TargetGroup, jobs
from ...spec import routing

# Labels every alert has: its name, and what Prometheus adds on the way to Alertmanager.
_ALWAYS = {"alertname"}


@dataclass(frozen=True)
class Instance:
    alert: str
    labels: dict
    scope: str      # e.g. "node_group=h100-train", for messages
    dropped: frozenset = frozenset()  # target labels the expression aggregates away


def analyse(ctx, rules: list[dict]) -> None:
    """`rules`: every generated rule, rule files in name order."""
    al = ctx.spec.alerting
    instances = alert_instances(ctx.spec, rules)
    _unknown_labels(ctx, al, known_labels(ctx.spec, rules, instances))
    if instances:
        _default_only(ctx, al, instances)


def _unknown_labels(ctx, al, known: set[str]) -> None:
    for path, route in _routes(al.routes, ("alerting",)):
        for key in ("match", "match_re"):
            for label in getattr(route, key):
                if label not in known:
                    ctx.error(path + (key, label), f"no generated alert carries label '{label}', so this "
                              "route can never match", did_you_mean(label, known) or
                              "set it as a label of a node group, model, pipeline or storage entry",
                              at_key=True)


def _default_only(ctx, al, instances: list[Instance]) -> None:
    root = routing.tree(al)
    routed_on = {m.label for node in routing.walk(root) for m in node.matchers}
    only_default: dict[str, dict] = {}
    lost: dict[str, set] = {}
    for inst in instances:
        # A heartbeat (Watchdog, severity none) has its own generated route (compile/alerting/alertmanager.py).
        if inst.labels.get("severity") == "none":
            continue
        if routing.match(root, inst.labels) == [root]:
            only_default.setdefault(inst.alert, {})[inst.scope] = True
            lost.setdefault(inst.alert, set()).update(inst.dropped & routed_on)
    # One warning per owner without a route (a node group's 18 alerts are one problem), and
    # one per alert whose aggregation drops the label the routes match on (its own fix).
    by_owner: dict[tuple, list[str]] = {}
    for alert, scopes in only_default.items():
        owners = tuple(s for s in scopes if s)
        if not lost[alert]:
            by_owner.setdefault(owners, []).append(alert)
            continue
        labels = ", ".join(sorted(lost[alert]))
        ctx.warn(("alerting", "default_receiver"),
                 f"alert {alert}{_owners(owners, ' (', ')')} reaches only the default receiver "
                 f"'{al.default_receiver}': its rule's `by (...)` drops {labels}, which the routes match on",
                 f"keep {labels} in that rule's by (...) clause, or also route on labels it keeps")
    for owners, alerts in by_owner.items():
        if len(alerts) == 1:
            what = f"alert {alerts[0]}{_owners(owners, ' (', ')')} reaches"
        else:
            what = f"{len(alerts)} alerts{_owners(owners, ' of ', '')} ({_first_three(alerts)}) reach"
        ctx.warn(("alerting", "default_receiver"), f"{what} only the default receiver '{al.default_receiver}'",
                 ("add a route for its owner, e.g. match: {team: ...}" if owners else
                  "add a route that matches them (e.g. on job or severity)")
                 + f"; or, if '{al.default_receiver}' is meant for them, end the routes with "
                   f"{{receiver: {al.default_receiver}}}")


def _owners(names: tuple, before: str, after: str) -> str:
    return before + _first_three(names) + after if names else ""


def _first_three(names) -> str:
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _rules(doc) -> list[dict]:
    if not isinstance(doc, dict):
        return []
    return [r for g in doc.get("groups", []) for r in g.get("rules", [])]


def _routes(routes, parent: tuple):
    for i, r in enumerate(routes):
        path = parent + ("routes", i)
        yield path, r
        yield from _routes(r.routes, path)


def alert_instances(spec, rules: list[dict]) -> list[Instance]:

    records = _Records([r for r in rules if "record" in r])
    by_job = {j.name: j for j in jobs(spec)}
    # Prometheus scrapes itself (scrape.py), outside the spec's jobs: its alerts carry job and instance.
    by_job[JOB_PROMETHEUS] = Job(JOB_PROMETHEUS, "prometheus", "/metrics", "http",
                                 (TargetGroup(("localhost:9090",), (), ()),), False)
    kinds = {j.exporter: j.name for j in by_job.values()}
    external = {"cluster": spec.name, "environment": spec.environment, **spec.prometheus.external_labels}
    out = []
    memo: dict = {}
    for r in rules:
        if "alert" not in r:
            continue
        exprs, recorded = _expand(r["expr"], records, memo=memo)
        static = {**external, **recorded, **{k: str(v) for k, v in (r.get("labels") or {}).items()},
                  "alertname": r["alert"]}
        keep = kept_labels(r["expr"])
        equal: dict[str, set] = {}
        for sel in (sel for e in exprs for sel in selectors(e)):
            for label, value in sel.equal().items():
                equal.setdefault(label, set()).add(value)
        scopes = []
        for job in _jobs_of(exprs, by_job, kinds):
            for group in job.groups:
                labels = dict(group.labels)
                if any(k in labels and labels[k] not in vals for k, vals in equal.items()):
                    continue
                target = group.targets[0] if group.targets else ""  # Kubernetes entries: found at run time
                host = target.rsplit(":", 1)[0]
                labels.update(job=job.name, host=host, instance=host if job.host_instance else target)
                scopes.append(labels)
        for labels in scopes or [{}]:
            dropped = frozenset(k for k in labels if keep is not None and k not in keep)
            labels = {k: v for k, v in labels.items() if k not in dropped}
            owner = next((f"{k}={labels[k]}" for k in ("node_group", "model", "pipeline", "storage") if k in labels),
                         "")
            out.append(Instance(r["alert"], {**labels, **static}, owner, dropped - set(static)))
    return out


class _Records:
    """The recording rules by name, each with the labels its series carry (its equality matchers
    and its own labels), and an index by label value: a selector such as slo:x{slo="a"} looks at
    the rules of one SLO, not at every SLO's (quadratic in SLOs before)."""

    def __init__(self, rules: list[dict]) -> None:
        self.by_name: dict[str, list[tuple[dict, dict, dict]]] = {}
        for r in rules:
            set_labels = {k: str(v) for k, v in (r.get("labels") or {}).items()}
            own = {label: value for s in selectors(r["expr"]) for label, value in s.equal().items()}
            self.by_name.setdefault(r["record"], []).append((r, {**own, **set_labels}, set_labels))
        self._index: dict[tuple[str, str], tuple[dict[str, list[int]], list[int]]] = {}

    def picked(self, name: str | None, want: dict[str, str]) -> list[tuple[dict, dict, dict]]:
        """The rules of `name` a selector's `label="value"` matchers may pick, in rule order (a
        superset: the caller still compares every label)."""
        entries = self.by_name.get(name or "", [])
        if len(entries) < 2 or not want:
            return entries
        label, value = next(iter(want.items()))
        key = (name or "", label)
        if key not in self._index:
            with_value: dict[str, list[int]] = {}
            without: list[int] = []
            for i, (_, own, _) in enumerate(entries):
                if label in own:
                    with_value.setdefault(own[label], []).append(i)
                else:
                    without.append(i)
            self._index[key] = (with_value, without)
        with_value, without = self._index[key]
        return [entries[i] for i in sorted(with_value.get(value, []) + without)]


def _expand(expr: str, records: _Records, depth: int = 0, memo: dict | None = None) -> tuple[tuple[str, ...], dict]:
    """The expression and the expressions of the recording rules it reads (only the rules its
    selectors pick, e.g. slo:burn_rate:ratio{slo="x"} picks x's), and the labels those
    recording rules set."""
    if memo is not None and (expr, depth) in memo:
        return memo[(expr, depth)]
    exprs, labels = [expr], {}  # type: list[str], dict[str, str]
    if depth > 5:
        return tuple(exprs), labels
    for sel in selectors(expr):
        want = sel.equal()
        for r, own, set_labels in records.picked(sel.name, want):
            if any(label in own and own[label] != value for label, value in want.items()):
                continue
            more, sub = _expand(r["expr"], records, depth + 1, memo)
            exprs += more
            labels.update(sub)
            labels.update(set_labels)
    result = tuple(exprs), labels
    if memo is not None:
        memo[(expr, depth)] = result
    return result


def _jobs_of(exprs: tuple[str, ...], by_job: dict, kinds: dict) -> list:

    named: list[str] = []
    for sel in (sel for e in exprs for sel in selectors(e)):
        for label, op, value in sel.matchers:
            if label == "job" and op in ("=", "=~"):
                named += [v for v in by_job if label_matches(op, value, v)]
    if not named:
        for name in {n for e in exprs for n in metric_names(e)}:
            info = metric_info(name)
            if info and info.exporter in kinds and not info.synthetic:  # up, scrape_*: every job has them
                named.append(kinds[info.exporter])
    return [by_job[n] for n in sorted(set(named))]


def known_labels(spec, rules: list[dict], instances: list[Instance]) -> set[str]:
    """Every label name some generated alert may carry."""

    known = set(_ALWAYS) | {"severity", "job", "host", "instance", "cluster", "environment"}
    known |= set(spec.prometheus.external_labels)
    if getattr(spec.prometheus, "shards", 1) > 1:
        known.add("shard")  # each shard's external label
    if any(getattr(e, "kubernetes", None) for kind in kinds.SCOPES for e in getattr(spec, kind)):
        known |= {"namespace", "pod"}  # set by the kubernetes_sd relabelling (scrape.py)
    for job in jobs(spec):
        for group in job.groups:
            known |= {k for k, _ in group.labels}
    for inst in instances:
        known |= set(inst.labels)
    for r in rules:
        known |= set(r.get("labels") or {})
        expr = str(r.get("expr", ""))
        known |= {label for sel in selectors(expr) for label, _, _ in sel.matchers}
        known |= grouping_labels(expr)
        for name in metric_names(expr):
            info = metric_info(name)
            if info:
                known |= set(info.labels)
    return known
