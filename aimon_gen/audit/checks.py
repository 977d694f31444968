"""The five audit checks, pure: Prometheus API answers (JSON as it sends them) and what the
spec expects (expect.py) in, Problems out; and the batched queries they need."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from ..promql import duration_seconds, matcher, normalise, quote
from .expect import Expected
from .report import Problem

# A job may hold up to this many times plan's series estimate: plan assumes typical label values
# (CPUs, disks, GPUs, models per server) that real hosts often double, while a label with
# runaway values (a request id, a path) multiplies series by 10 and more.
SERIES_FACTOR = 3.0
_EXAMPLES = 3  # metric names shown per problem


def targets(exp: Expected, active: list[dict]) -> tuple[list[Problem], set[str]]:
    """Jobs with no target, targets down; and the jobs with a target up (whose series count)."""
    problems, live = [], set()
    by_job: dict[str, list[dict]] = defaultdict(list)
    for t in active:
        by_job[t["labels"].get("job", "")].append(t)
    for job in exp.jobs:
        found = by_job.get(job, [])
        if not found:
            problems.append(Problem("targets", job, job, "no targets: Prometheus does not scrape this job",
                                    "add the job's scrape config from the generated prometheus.yml (or the "
                                    "Kubernetes manifests) and reload Prometheus"))
            continue
        for t in sorted(found, key=lambda t: t["labels"].get("instance", "")):
            if t.get("health") == "up":
                live.add(job)
                continue
            problems.append(Problem(
                "targets", job, t["labels"].get("instance", t.get("scrapeUrl", "")),
                f"target {t.get('health', 'unknown')}: {t.get('lastError') or 'not scraped yet'}",
                f"make {t.get('scrapeUrl', 'the target')} answer: the exporter running, listening on that "
                f"port and path, reachable from Prometheus (spec: the entry's targets, "
                f"exporters.{exp.kind_of_job.get(job, job)}.port and .path)"))
    return problems, live


def series_query(exp: Expected, live: set[str]) -> str | None:
    """One query for every (job, metric) the rules and dashboards read of the jobs that are up."""
    names = sorted({n.metric for n in exp.needs.values() if n.job in live})
    if not names:
        return None
    return f"count by (job, __name__) ({{{matcher('__name__', names)}, {matcher('job', sorted(live))}}})"


def series(exp: Expected, live: set[str], present: list[dict]) -> list[Problem]:
    have = {(r["metric"].get("job", ""), r["metric"].get("__name__", "")) for r in present}
    problems = []
    for (job, metric), need in sorted(exp.needs.items()):
        if job in live and (job, metric) not in have:
            problems.append(Problem(
                "series", job, metric, f"no series of job {job}; read by {_some(need.readers)}", need.fix))
    return problems


def label_queries(exp: Expected, live: set[str]) -> dict[str, str]:
    """label -> one query listing (job, metric) of the series lacking it."""
    parts: dict[str, list[str]] = defaultdict(list)
    by_label: dict[str, list[str]] = defaultdict(list)
    for job in sorted(live):
        for label in exp.target_labels.get(job, ()):
            by_label[label].append(job)
    for label, jobs in by_label.items():
        parts[label].append(f"{{{matcher('job', jobs)}, {label}=\"\"}}")
    needs: dict[tuple[str, str], list[str]] = defaultdict(list)
    for need in exp.needs.values():
        for label in sorted(need.labels):
            if need.job in live and label not in exp.target_labels.get(need.job, ()):
                needs[(label, need.job)].append(need.metric)
    for (label, job), metrics in sorted(needs.items()):
        parts[label].append(f"{{job={quote(job)}, {matcher('__name__', sorted(metrics))}, {label}=\"\"}}")
    return {label: f"count by (job, __name__) ({' or '.join(p)})" for label, p in sorted(parts.items())}


def labels(exp: Expected, missing: dict[str, list[dict]]) -> list[Problem]:
    """One problem per (job, label) from the label queries' answers."""
    problems = []
    for label, rows in sorted(missing.items()):
        by_job: dict[str, list[str]] = defaultdict(list)
        for r in rows:
            if r["metric"].get("__name__", "") in exp.made_by_rules:
                continue  # recording rules keep `job` but aggregate the target labels away
            by_job[r["metric"].get("job", "")].append(r["metric"].get("__name__", ""))
        for job, metrics in sorted(by_job.items()):
            metrics = sorted(set(metrics))
            if label in exp.target_labels.get(job, ()):
                fix = (f"scrape job {job} as the generated prometheus.yml does: its static labels and "
                       f"relabel_configs set {label} on every target")
            else:
                kind = exp.kind_of_job.get(job, job)
                fix = (f"make the exporter put {label} on {metrics[0]}, as its contract says "
                       f"(aimon_gen/catalog/{kind}.yaml); the generated rules and dashboards group or match on it")
            problems.append(Problem("labels", job, label, f"missing on {len(metrics)} metric"
                                    f"{'s' if len(metrics) != 1 else ''}: {_some(metrics)}", fix))
    return problems


def rules(exp: Expected, loaded: list[dict]) -> list[Problem]:
    """Every generated group loaded, with the same rules (expressions compared parsed), healthy."""
    problems = []
    for path, group in exp.groups:
        reload = f"list {path} under rule_files in prometheus.yml, install the generated file and reload Prometheus"
        g = _loaded_group(path, group, loaded)
        if g is None:
            problems.append(Problem("rules", "", group.name, f"rule group not loaded ({len(group.rules)} rules "
                                    f"of {path})", reload))
            continue
        pool = list(g.get("rules") or [])
        for rule in group.rules:
            kind, name = _kind(rule)
            want = normalise(str(rule["expr"]))
            same = [r for r in pool if r.get("type") == kind and r.get("name") == name]
            match = next((r for r in same if normalise(r.get("query", "")) == want), None)
            subject = f"{group.name}: {name}"
            if match is None and same:
                pool.remove(same[0])
                problems.append(Problem("rules", "", subject, f"loaded with another expression: {same[0].get('query')}",
                                        f"{reload} (generated: {want})"))
            elif match is None:
                problems.append(Problem("rules", "", subject, f"{kind} rule not loaded", reload))
            else:
                pool.remove(match)
                problems.extend(_loaded_rule(rule, match, subject, reload))
    return problems


def _kind(rule: dict) -> tuple[str, str]:
    return ("alerting", rule["alert"]) if "alert" in rule else ("recording", rule["record"])


def _loaded_group(path: str, group, loaded: list[dict]) -> dict | None:
    """The loaded group of that name from the file of that name; else (a renamed file) one of that
    name holding a rule of the group (two files may each have a group `vllm`)."""
    named = [g for g in loaded if g.get("name") == group.name]
    same_file = [g for g in named if str(g.get("file", "")).rsplit("/", 1)[-1] == path.rsplit("/", 1)[-1]]
    if same_file:
        return same_file[0]
    wanted = {_kind(r) for r in group.rules}
    return next((g for g in named if any((r.get("type"), r.get("name")) in wanted for r in g.get("rules") or [])),
                None)


def _loaded_rule(rule: dict, loaded: dict, subject: str, reload: str) -> Iterable[Problem]:
    want_for = _seconds(rule.get("for"))
    if "alert" in rule and abs(float(loaded.get("duration") or 0) - want_for) > 1e-6:
        yield Problem("rules", "", subject, f"loaded with for: {loaded.get('duration')}s, generated "
                      f"{rule.get('for')}", reload)
    if loaded.get("health") == "err":
        yield Problem("rules", "", subject, f"evaluation error: {loaded.get('lastError', '')}",
                      "the series it reads are malformed (e.g. duplicates after relabelling): see the error; "
                      "the series and labels checks above point at the exporter")


def _seconds(duration) -> float:
    return duration_seconds(str(duration)) if duration else 0.0


def cardinality_query(live: set[str]) -> str | None:
    return f"count by (job) ({{{matcher('job', sorted(live))}}})" if live else None


def cardinality(exp: Expected, live: set[str], counts: list[dict], factor: float = SERIES_FACTOR) -> list[Problem]:
    """Jobs holding more than `factor` times plan's estimate. Fewer is not reported: a metric the
    rules read and the job lacks is the series check's finding, named; the rest is hardware."""
    have = {r["metric"].get("job", ""): float(r["value"][1]) for r in counts}
    problems = []
    for job in exp.jobs:
        planned = exp.series.get(job)
        n = have.get(job, 0.0)
        if job in live and planned and n > planned * factor:
            problems.append(Problem(
                "cardinality", job, f"{n:,.0f} series", f"more than {factor:g}x the {planned:,} that "
                "`aimon-gen plan` estimates", f"find the label with runaway values (topk(10, count by (__name__) "
                f"({{job={quote(job)}}}))) and drop it with metric_relabel_configs; if the hosts are just bigger, "
                "audit with --assume (e.g. host_cpus=128) as for plan"))
    return problems


def _some(items: list[str]) -> str:
    shown = ", ".join(items[:_EXAMPLES])
    return shown + (f" and {len(items) - _EXAMPLES} more" if len(items) > _EXAMPLES else "")

