"""The faults verify injects, what each must fire, and how they are packed into waves.

A scenario names a fault, the thing it breaks (a host, model, pipeline or target), the
labels by which its alerts are recognised, the alerts that must fire (name patterns,
each must match at least one alert) and the ones that may also fire. Scenarios whose
subjects do not overlap run at the same time (a wave), so a run takes about two waves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .. import kinds
from ..scheme import JOB_DCGM, JOB_MODEL, JOB_PIPELINE
from ..spec.types import split_target

# Alert-name patterns (case-insensitive search) per fault: must fire / may also fire.
EXPECT = {
    "gpu_hot": (["temperature"], ["temperature", "thermal", "throttl"]),
    "xid_error": (["xid"], []),
    "gpu_missing": (["gpumissing|gpus?missing"], []),
    "latency_up": (["latency"], ["latency", "firsttoken|ttft", "queue", "slo|burn|budget"]),
    "error_ratio_up": (["error|fail"], ["error|fail", "slo|burn|budget", "abort"]),
    "pipeline_stale": (["stale|stall|fresh"], ["throughput|records|slo|burn|budget"]),
    "exporter_down": (["down"], ["down|absent|missing|unavailable"]),
    # A model with no replica left on the node pages as <Server>ModelUnavailable.
    "node_down": (["^nodedown$"], ["down|absent|missing|unreachable|unavailable"]),
}
# Per server kind, what its latency and error faults must fire (besides SLO burn alerts),
# where it differs from EXPECT: kinds.yaml `verify.expect` (Triton's latency alert is the
# average request time from its microsecond counters, it has no histogram).
MODEL_EXPECT = {(fault, k): list(patterns) for k in kinds.KINDS
                for fault, patterns in (kinds.kind(k).verify.get("expect") or {}).items()}
SLO_BURN = "slo|burn|budget"

TITLES = {"gpu_hot": "GPU hot", "xid_error": "XID error", "gpu_missing": "GPU missing",
          "latency_up": "latency up", "error_ratio_up": "error ratio up", "pipeline_stale": "pipeline stale",
          "exporter_down": "exporter down", "node_down": "node down"}


@dataclass
class Scenario:
    fault: str
    subject: str                      # host, model, pipeline name or target address
    scope: dict[str, str]             # alert label -> value that ties an alert to this scenario
    resources: frozenset              # what it occupies, for packing waves
    expect: list[str] = field(default_factory=list)
    allow: list[str] = field(default_factory=list)
    job: str = ""                     # exporter_down: which job's target
    slo_prefix: str = ""              # SLO alerts name their SLO `<model or pipeline>-<kind>`

    @property
    def title(self) -> str:
        return f"{TITLES[self.fault]}: {self.subject}"

    def owns(self, labels: dict) -> bool:
        if self.slo_prefix and labels.get("slo", "").startswith(self.slo_prefix):
            return True
        return any(labels.get(k) == v for k, v in self.scope.items())

    def expected(self, name: str) -> bool:
        return any(name_matches(p, name) for p in self.expect)

    def allowed(self, name: str) -> bool:
        return any(name_matches(p, name) for p in self.expect + self.allow)


def name_matches(pattern: str, alertname: str) -> bool:
    """A scenario's expect/allow pattern (a case-insensitive regex search) against an alert name."""
    return re.search(pattern, alertname, re.I) is not None


def _host(address: str) -> str:
    return split_target(address)[0]


def plan(spec) -> list[Scenario]:
    """One scenario per fault kind the spec has a subject for (models: per server kind)."""
    out: list[Scenario] = []
    gpu_hosts = [(_host(h), g) for g in spec.node_groups if g.gpu for h in g.hosts]
    all_hosts = [_host(h) for g in spec.node_groups for h in g.hosts]

    def host_scope(h):
        return {"host": h, "instance": h}

    def on_host(h):  # everything that lives on a host
        res = {("host", h)}
        for m in spec.models:
            if any(_host(t) == h for t in m.targets):
                res.add(("model", m.name))
        for p in spec.pipelines:
            if any(_host(t) == h for t in p.targets):
                res.add(("pipeline", p.name))
        return frozenset(res)

    if gpu_hosts:
        pick = lambda i: gpu_hosts[i % len(gpu_hosts)][0]  # noqa: E731
        for i, fault in enumerate(("gpu_hot", "xid_error", "gpu_missing")):
            h = pick(i)
            out.append(_make(fault, h, host_scope(h), frozenset({("host", h)})))
        if not spec.storage:
            h = pick(3)
            out.append(_make("exporter_down", f"{JOB_DCGM} on {h}", host_scope(h), frozenset({("host", h)}),
                             job=JOB_DCGM))
    if all_hosts:
        h = gpu_hosts[-1][0] if gpu_hosts else all_hosts[-1]
        out.append(_make("node_down", h, host_scope(h), on_host(h)))

    by_kind: dict[str, list] = {}
    for m in (m for m in spec.models if m.targets):   # Kubernetes-discovered ones are not simulated
        by_kind.setdefault(m.server, []).append(m)
    for kind, models in by_kind.items():
        lat = next((m for m in models if m.slo and m.slo.latency), models[0])
        err = next((m for m in models if m.slo and m.slo.availability and m is not lat), None) \
            or next((m for m in models if m is not lat), lat)
        for fault, m, slo in (("latency_up", lat, m_slo(lat, "latency")),
                              ("error_ratio_up", err, m_slo(err, "availability"))):
            s = _make(fault, m.name, {"model": m.name, "model_name": m.name, "exported_model": m.name},
                      frozenset({("model", m.name)}), job=JOB_MODEL[kind])
            s.expect = list(MODEL_EXPECT.get((fault, kind), s.expect))
            s.slo_prefix = f"{m.name}-"
            if slo:
                s.expect.append(SLO_BURN)
            s.expect = s.expect or ["error|fail|abort"]   # a fault must fire something
            out.append(s)
    for p in [p for p in spec.pipelines if p.targets][:1]:
        s = _make("pipeline_stale", p.name, {"pipeline": p.name}, frozenset({("pipeline", p.name)}), job=JOB_PIPELINE)
        s.slo_prefix = f"{p.name}-"
        if p.slo:
            s.expect.append(SLO_BURN)
        out.append(s)
    if spec.storage:
        st = spec.storage[0]
        out.append(_make("exporter_down", f"storage {st.name}", {"storage": st.name},
                         frozenset({("storage", st.name)}), job=f"storage_{st.kind}"))
    return out


def m_slo(model, kind: str) -> bool:
    return bool(model.slo and getattr(model.slo, kind))


def _make(fault, subject, scope, resources, job="") -> Scenario:
    must, may = EXPECT[fault]
    return Scenario(fault, subject, scope, resources, list(must), list(may), job)


def waves(scenarios: list[Scenario]) -> list[list[Scenario]]:
    """Greedy packing: a scenario joins the first wave none of whose scenarios share a resource."""
    out: list[tuple[set, list]] = []
    for s in scenarios:
        for used, wave in out:
            if not (used & s.resources):
                used |= s.resources
                wave.append(s)
                break
        else:
            out.append((set(s.resources), [s]))
    return [wave for _, wave in out]
