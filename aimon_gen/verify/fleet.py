"""The simulated estate: one simulator per scrape target, and the faults applied to them."""

from __future__ import annotations

from ..scheme import JOB_ALERTMANAGER, JOB_DCGM, JOB_MODEL, JOB_NODE, JOB_PIPELINE, JOB_PROMETHEUS, JOB_STORAGE
from ..spec.types import split_target
from . import simulators as sim

_MODEL_KIND = {job: kind for kind, job in JOB_MODEL.items()}
_STORAGE_KIND = {job: kind for kind, job in JOB_STORAGE.items()}


class Fleet:
    def __init__(self, spec, node_exporter_url: str):
        self.spec = spec
        self.node_url = node_exporter_url
        self.prometheus_url = ""
        self.alertmanager_url = ""   # the stack's real Alertmanager: the `alertmanager` job scrapes it
        self.servers = sim.Servers()
        self.targets: list[sim.Target] = []

    def place(self, job: str, address: str, labels: dict) -> str:
        """Start the simulator for one target; returns the loopback address Prometheus scrapes."""
        target = self._make(job, address, labels)
        self.targets.append(target)
        return f"127.0.0.1:{self.servers.serve(target)}"

    def _make(self, job, address, labels) -> sim.Target:
        host = split_target(address)[0]
        args = (job, job, address, host, labels)
        if job == JOB_NODE:
            return sim.NodeProxy(*args, upstream=self.node_url)
        if job == JOB_PROMETHEUS:
            return sim.UpstreamProxy(*args, upstream="")  # Prometheus's URL is known once it runs
        if job == JOB_ALERTMANAGER:
            return sim.UpstreamProxy(*args, upstream=self.alertmanager_url)
        if job == JOB_DCGM:
            group = _find(self.spec.node_groups, labels.get("node_group"))
            return sim.CatalogTarget(job, "dcgm_exporter", address, host, labels, entry=group,
                                     identity=sim.gpu_identity(host, group))
        if job in _MODEL_KIND:
            model = _find(self.spec.models, labels.get("model"))
            if _MODEL_KIND[job] == "custom":
                return sim.InstrumentedModel(job, "custom", address, host, labels, entry=model)
            return sim.CatalogTarget(job, _MODEL_KIND[job], address, host, labels, entry=model)
        if job == JOB_PIPELINE:
            return sim.InstrumentedPipeline(job, "pipeline", address, host, labels,
                                            entry=_find(self.spec.pipelines, labels.get("pipeline")))
        if job in _STORAGE_KIND:
            return sim.CatalogTarget(job, _STORAGE_KIND[job], address, host, labels,
                                     entry=_find(self.spec.storage, labels.get("storage")))
        unknown = sim.Target(*args)
        unknown.down = True  # a job verify cannot simulate shows as down in the targets check
        return unknown

    def set_prometheus(self, url: str) -> None:
        for t in self.targets:
            if isinstance(t, sim.UpstreamProxy) and t.job == JOB_PROMETHEUS:  # not Alertmanager's proxy
                t.upstream = url

    def apply(self, scenario, on: bool = True) -> None:
        for target in self._subjects(scenario):
            if scenario.fault in ("exporter_down", "node_down"):
                target.down = on
            elif scenario.fault == "gpu_missing" and isinstance(target, sim.CatalogTarget):
                target.missing = {len(target.identity) - 1} if on else set()
            elif on:
                target.faults.add(scenario.fault)
            else:
                target.faults.discard(scenario.fault)

    def _subjects(self, s) -> list[sim.Target]:
        f = s.fault
        if f in ("gpu_hot", "xid_error", "gpu_missing"):
            return [t for t in self.targets if t.job == JOB_DCGM and t.host == s.subject]
        if f == "node_down":
            return [t for t in self.targets if t.host == s.subject and t.job not in (JOB_PROMETHEUS, JOB_ALERTMANAGER)]
        if f == "exporter_down":
            key = next(iter(s.scope.items()))
            return [t for t in self.targets if t.job == s.job and t.labels.get(key[0], t.host) == key[1]][:1]
        if f in ("latency_up", "error_ratio_up"):
            return [t for t in self.targets if t.job == s.job and t.labels.get("model") == s.subject]
        if f == "pipeline_stale":
            return [t for t in self.targets if t.job == JOB_PIPELINE and t.labels.get("pipeline") == s.subject]
        raise ValueError(f"unknown fault {f}")

    def close(self) -> None:
        self.servers.close()


def _find(entries, name):
    return next((e for e in entries if e.name == name), None)
