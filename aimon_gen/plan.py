"""Capacity plan: active series, samples per second and disk per scrape job, from the spec and the
metric catalogs, under the assumptions in `aimon_gen/catalog/cardinality.yaml` (printed with the plan).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from .catalog import exporter_metrics
from .compile.context import Context
from .compile.result import Bundle
from .compile.scrape.config import compile_prometheus
from .compile.scrape.sharding import shard_of
from .resources import read_yaml
from .scheme import Job
from .spec.types import duration_seconds

_HERE = Path(__file__).resolve().parent / "catalog"


@cache
def assumptions_file() -> dict:

    return read_yaml(_HERE / "cardinality.yaml")


@dataclass
class JobPlan:
    job: str
    exporter: str
    targets: int
    catalog_series: int      # per all targets: series of the catalog's metrics
    unlisted_series: int     # per all targets: the rest the exporter emits (assumed)
    synthetic_series: int    # up, scrape_* per target
    per_shard: list[int] = field(default_factory=list)  # series per shard (hashmod of each address)

    @property
    def series(self) -> int:
        return self.catalog_series + self.unlisted_series + self.synthetic_series


@dataclass
class Plan:
    jobs: list[JobPlan]
    scrape_interval_s: float
    retention_s: float | None
    bytes_per_sample: float
    budget: int
    shards: int
    assumptions: dict = field(default_factory=dict)

    @property
    def series(self) -> int:
        return sum(j.series for j in self.jobs)

    @property
    def samples_per_second(self) -> float:
        return self.series / self.scrape_interval_s

    @property
    def per_shard(self) -> list[int]:
        return [sum(j.per_shard[i] for j in self.jobs) for i in range(self.shards)]

    @property
    def disk_bytes(self) -> float | None:
        if self.retention_s is None:
            return None
        return self.samples_per_second * self.retention_s * self.bytes_per_sample


def _value(value, assumptions: dict, gpus: int) -> int:
    if isinstance(value, int):
        return value
    if value == "gpus":
        return gpus
    return int(assumptions[value])


def series_per_target(exporter: str, assumptions: dict, gpus: int = 0) -> tuple[int, int]:
    """(catalog series, unlisted series) one target of this exporter emits."""
    data = assumptions_file()
    values = data["label_values"].get(exporter, {})
    total = 0
    for info in exporter_metrics(exporter).values():
        if not info.emitted or info.synthetic:
            continue
        sets = 1
        for label in info.labels:
            if label != "le":
                sets *= _value(values.get(label, 1), assumptions, gpus)
        if exporter == "dcgm_exporter" and "gpu" not in info.labels:
            sets *= gpus  # every GPU series carries the GPU's identity labels
        if info.type == "histogram":
            total += sets * (len(info.buckets) + 1 + 2)
        elif info.type == "summary":
            total += sets * (int(assumptions["quantiles"]) + 2)
        else:
            total += sets
    extra = data["unlisted"].get(exporter, {})
    unlisted = int(extra.get("base", 0)) + sum(
        int(v) * int(assumptions[k[len("per_"):]]) for k, v in extra.items() if k.startswith("per_"))
    return total, unlisted


def scrape_jobs(spec) -> list[Job]:
    """The jobs the build's scrape step declares (the typed result, not prometheus.yml's text)."""
    bundle = Bundle()
    compile_prometheus(Context(spec, "", Path(".")), bundle)
    return bundle.scrape_jobs


def estimate(spec, overrides: dict | None = None, shards: int | None = None) -> Plan:
    """The plan for the spec (with `shards` instead of the spec's prometheus.shards when given)."""
    data = assumptions_file()
    assumptions = {**data["assumptions"], **(overrides or {})}
    synthetic = int(data["synthetic"])
    gpus_by_group = {g.name: (g.gpu.count if g.gpu else 0) for g in spec.node_groups}
    p = spec.prometheus
    n_shards = shards or p.shards
    out = []
    for job in scrape_jobs(spec):
        if job.exporter == "prometheus":  # every shard (and the global layer's peers) scrapes itself
            own = series_per_target("prometheus", assumptions)
            out.append(JobPlan(job.name, "prometheus", n_shards, own[0] * n_shards, own[1] * n_shards,
                               synthetic * n_shards, [sum(own) + synthetic] * n_shards))
            continue
        plan = JobPlan(job.name, job.exporter, 0, 0, 0, 0, [0] * n_shards)
        for group in job.groups:
            gpus = gpus_by_group.get(dict(group.labels).get("node_group", ""), 0)
            c, u = series_per_target(job.exporter, assumptions, gpus)
            if group.kubernetes is None:
                for target in group.targets:
                    plan.per_shard[shard_of(target, n_shards)] += c + u + synthetic
                n = len(group.targets)
            else:  # pod addresses are known at run time only: spread evenly
                # a discovered node group's exporters: one pod per expected host (DaemonSets)
                n = getattr(group.kubernetes, "expected", None) or int(assumptions["pods_per_selector"])
                for i in range(n):
                    plan.per_shard[i % n_shards] += c + u + synthetic
            plan.targets += n
            plan.catalog_series += n * c
            plan.unlisted_series += n * u
            plan.synthetic_series += n * synthetic
        out.append(plan)
    retention = duration_seconds(p.retention.time) if p.retention.time else None
    return Plan(out, duration_seconds(p.scrape_interval), retention, float(data["bytes_per_sample"]),
                p.series_budget, n_shards, assumptions)


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{n:.0f} B"
        n /= 1000
    return f"{n:.1f} TB"


def suggested_shards(plan: Plan, spec) -> int | None:
    """The fewest shards whose fullest one stays within the budget (hashmod is uneven), or None."""
    first = max(2, math.ceil(plan.series / plan.budget))
    for n in range(first, 65):
        if max(estimate(spec, plan.assumptions, n).per_shard) <= plan.budget:
            return n
    return None


def report(plan: Plan, spec) -> tuple[str, list[str]]:
    """(table, warnings) for the terminal."""
    rows = [("job", "targets", "series", "samples/s")]
    for j in plan.jobs:
        rows.append((j.job, str(j.targets), f"{j.series:,}", f"{j.series / plan.scrape_interval_s:,.0f}"))
    rows.append(("total", str(sum(j.targets for j in plan.jobs)), f"{plan.series:,}",
                 f"{plan.samples_per_second:,.0f}"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
             for r in rows]
    p = spec.prometheus
    if plan.disk_bytes is not None:
        lines.append(f"disk for {p.retention.time} retention: {_size(plan.disk_bytes)} "
                     f"(at {plan.bytes_per_sample} bytes per sample, scrape interval {p.scrape_interval})")
    if plan.shards > 1:
        lines.append("per shard (hashmod of each target's address): "
                     + ", ".join(f"{i}: {n:,}" for i, n in enumerate(plan.per_shard)))
    a = plan.assumptions
    lines.append(f"assumptions: {a['host_cpus']} CPUs per host, {a['pods_per_selector']} pods per Kubernetes "
                 "selector, label values and unlisted series per exporter as in aimon_gen/catalog/cardinality.yaml; "
                 "recording rules add their own series")
    warnings = []
    fullest = max(plan.per_shard)
    if fullest > plan.budget:
        n = suggested_shards(plan, spec)
        advice = f"set prometheus.shards: {n}" if n else "no shard count up to 64 fits: raise the budget"
        warnings.append(f"about {fullest:,} series on {'one Prometheus' if plan.shards == 1 else 'the fullest shard'} "
                        f"exceeds the budget of {plan.budget:,} (prometheus.series_budget): {advice}")
    return "\n".join(lines), warnings


def parse_assumptions(items: list[str]) -> dict:
    """`name=value` pairs for --assume; unknown names raise ValueError with the known ones."""
    known = assumptions_file()["assumptions"]
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or name not in known or not value.isdigit():
            raise ValueError(f"--assume {item}: use NAME=NUMBER with NAME one of {', '.join(known)}")
        out[name] = int(value)
    return out
