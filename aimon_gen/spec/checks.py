"""Cross-field checks a schema cannot express. Each returns Findings at spec paths."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .. import kinds
from ..errors import did_you_mean
from ..scheme import instance_of, jobs
from ..thresholds import catalog
from .alerting_checks import alerting_checks
from .client_auth import client_problems
from .finding import Finding
from .node_kubernetes import node_group_problems
from .outputs import output_problems
from .slo import slo_problems
from .types import duration_seconds

RESERVED_LABELS = {"job", "instance", "host", "node_group", "gpu_model", "model", "pipeline", "storage",
                   "cluster", "environment", "shard"}


def unique_names(spec) -> Iterable[Finding]:
    for kind in (*kinds.SCOPES, "slos"):
        seen: dict[str, int] = {}
        for i, item in enumerate(getattr(spec, kind)):
            if item.name in seen:
                yield Finding((kind, i, "name"), f"duplicate name '{item.name}' (also {{also}})",
                              f"names must be unique within {kind}", also=(kind, seen[item.name]))
            seen.setdefault(item.name, i)
    seen = {}
    for i, rw in enumerate(spec.prometheus.remote_write):
        if rw.name in seen:
            yield Finding(("prometheus", "remote_write", i, "name"), f"duplicate remote_write name '{rw.name}'")
        seen.setdefault(rw.name, i)


def reserved_labels(spec) -> Iterable[Finding]:
    scopes = [((kind, i), item) for kind in kinds.SCOPES for i, item in enumerate(getattr(spec, kind))]
    for path, item in scopes:
        for name in item.labels:
            if name in RESERVED_LABELS:
                yield Finding(path + ("labels", name), f"label '{name}' is set by aimon-gen's label scheme",
                              "choose another name, e.g. team or pool", at_key=True)
    for name in spec.prometheus.external_labels:
        if name in ("cluster", "environment"):
            yield Finding(("prometheus", "external_labels", name), f"'{name}' comes from the spec's top-level "
                          f"{'name' if name == 'cluster' else 'environment'}", "remove it here", at_key=True)


def target_collisions(spec) -> Iterable[Finding]:
    for job in jobs(spec):
        seen: dict[str, tuple] = {}
        for group in job.groups:
            for i, target in enumerate(group.targets):
                instance = instance_of(job, target)
                if instance in seen:
                    first = seen[instance]
                    yield Finding(group.source + (i,) if group.source[-1] != "hosts" else group.source,
                                  f"job '{job.name}' would scrape instance '{instance}' twice (also from {{also}})",
                                  "each host or endpoint belongs to one entry", also=first)
                else:
                    seen[instance] = group.source


def intervals(spec) -> Iterable[Finding]:
    p = spec.prometheus
    if p.scrape_timeout and duration_seconds(p.scrape_timeout) > duration_seconds(p.scrape_interval):
        yield Finding(("prometheus", "scrape_timeout"),
                      f"scrape_timeout {p.scrape_timeout} is longer than scrape_interval {p.scrape_interval}",
                      "Prometheus refuses this; make it at most the interval")


def threshold_names(spec) -> Iterable[Finding]:
    known = catalog()
    scopes: list[tuple[tuple, dict]] = [(("thresholds",), spec.thresholds)]
    for kind in kinds.SCOPES:
        scopes += [((kind, i, "thresholds"), item.thresholds) for i, item in enumerate(getattr(spec, kind))]
    for path, settings in scopes:
        for name in settings:
            if name not in known:
                yield Finding(path + (name,), f"unknown threshold '{name}'",
                              did_you_mean(name, known) or "see `aimon-gen thresholds` for the list", at_key=True)


CHECKS: list[Callable] = [unique_names, reserved_labels, target_collisions, intervals, threshold_names,
                          alerting_checks, output_problems, slo_problems, client_problems,
                          node_group_problems]

# Top-level sections a check relates across their entries and fields. When the schema rejects
# part of a spec, the checks still run on the rest (load.checks_without_invalid), except those
# reading a section that lost something: their finding could follow from the loss (a route to
# a receiver that was left out, a timeout measured against a default interval). Checks that
# look at one entry at a time, or only for duplicates, cannot be misled by a missing entry.
READS: dict[Callable, tuple[str, ...]] = {target_collisions: ("exporters",), intervals: ("prometheus",),
                                          alerting_checks: ("alerting",), output_problems: ("prometheus", "outputs"),
                                          slo_problems: ("slo_alerting",), client_problems: ("exporters",)}


def run_checks(spec, skip: frozenset = frozenset()) -> list[Finding]:
    """Every check's findings; `skip`: top-level sections that lost something (see READS)."""
    return [f for check in CHECKS if not skip & set(READS.get(check, ())) for f in check(spec)]
