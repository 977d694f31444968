"""Cross-field checks a schema cannot express. Each returns Findings at spec paths."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..errors import did_you_mean
from .types import duration_seconds


@dataclass(frozen=True)
class Finding:
    path: tuple
    message: str
    hint: str = ""
    warning: bool = False
    at_key: bool = False
    # Another place the message names as `{also}`: the loader writes it as the user's spec has
    # it (the checks may have run on the spec without its invalid entries, where indices shift).
    also: tuple = ()


RESERVED_LABELS = {"job", "instance", "host", "node_group", "gpu_model", "model", "pipeline", "storage",
                   "cluster", "environment", "shard"}


def unique_names(spec) -> Iterable[Finding]:
    for kind in ("node_groups", "models", "pipelines", "storage", "slos"):
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
    scopes = [(("node_groups", i), g) for i, g in enumerate(spec.node_groups)]
    scopes += [(("models", i), m) for i, m in enumerate(spec.models)]
    scopes += [(("pipelines", i), p) for i, p in enumerate(spec.pipelines)]
    scopes += [(("storage", i), s) for i, s in enumerate(spec.storage)]
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
    from ..scheme import instance_of, jobs

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
    from ..thresholds import catalog

    known = catalog()
    scopes: list[tuple[tuple, dict]] = [(("thresholds",), spec.thresholds)]
    for kind in ("node_groups", "models", "pipelines", "storage"):
        scopes += [((kind, i, "thresholds"), item.thresholds) for i, item in enumerate(getattr(spec, kind))]
    for path, settings in scopes:
        for name in settings:
            if name not in known:
                yield Finding(path + (name,), f"unknown threshold '{name}'",
                              did_you_mean(name, known) or "see `aimon-gen thresholds` for the list", at_key=True)


CHECKS: list[Callable] = [unique_names, reserved_labels, target_collisions, intervals, threshold_names]

# Top-level sections a check relates across their entries and fields. When the schema rejects
# part of a spec, the checks still run on the rest (load.checks_without_invalid), except those
# reading a section that lost something: their finding could follow from the loss (a route to
# a receiver that was left out, a timeout measured against a default interval). Checks that
# look at one entry at a time, or only for duplicates, cannot be misled by a missing entry.
READS: dict[Callable, tuple[str, ...]] = {target_collisions: ("exporters",), intervals: ("prometheus",)}


def run_checks(spec, skip: frozenset = frozenset()) -> list[Finding]:
    """Every check's findings; `skip`: top-level sections that lost something (see READS)."""
    return [f for check in CHECKS if not skip & set(READS.get(check, ())) for f in check(spec)]


def _alerting(spec) -> Iterable[Finding]:
    from .alerting_checks import alerting_checks  # imported late: it imports Finding from here
    return alerting_checks(spec)


CHECKS.append(_alerting)
READS[_alerting] = ("alerting",)


def _outputs(spec) -> Iterable[Finding]:
    from .outputs import output_problems  # imported late: it imports Finding from here
    return output_problems(spec)


CHECKS.append(_outputs)
READS[_outputs] = ("prometheus", "outputs")


def _slo(spec) -> Iterable[Finding]:
    from .slo import slo_problems  # imported late: it imports Finding from here
    return slo_problems(spec)


CHECKS.append(_slo)
READS[_slo] = ("slo_alerting",)
