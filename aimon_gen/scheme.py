"""The label scheme and the scrape jobs: shared facts every compiler uses.

One place says which job scrapes what and which labels each target carries, so that
series from different exporters on one host join:

- every target: `host` (host name without port) - the join key across all jobs;
- node_exporter and dcgm_exporter: `instance` is the host name too, plus `node_group`,
  `gpu_model` (GPU groups) and the group's own labels;
- model servers: `model` (+ the model's labels), one job per server kind;
- pipelines: `pipeline`; storage: `storage`;
- `cluster` and `environment` are external labels (see prometheus.yml `global`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import kinds
from .spec.client_auth import effective
from .spec.types import split_target

# job name per exporter (kinds.yaml); rule packs and dashboards select on these.
JOB_NODE = kinds.job("node_exporter")
JOB_DCGM = kinds.job("dcgm_exporter")
JOB_MODEL = {k: kinds.job(k) for k in kinds.of_scope("models")}
JOB_PIPELINE = kinds.job("pipeline")
JOB_STORAGE = {k: kinds.job(k) for k in kinds.of_scope("storage")}
JOB_PROMETHEUS = kinds.job("prometheus")
# Alertmanager itself: scraped at each of prometheus.alertmanagers (compile/scrape/config.py).
JOB_ALERTMANAGER = kinds.job("alertmanager")

# Exporters whose `instance` is the bare host name, so node and GPU series join on it.
HOST_INSTANCE_JOBS = tuple(kinds.job(k) for k in kinds.KINDS if kinds.kind(k).host_instance)


@dataclass(frozen=True)
class TargetGroup:
    targets: tuple[str, ...]   # host:port
    labels: tuple[tuple[str, str], ...]
    source: tuple              # spec path of the entry that declared it, for error messages
    kubernetes: Any = None  # KubernetesTargets: found by Kubernetes service discovery (targets empty)
    client: Any = None      # ScrapeOverride: scheme, credentials and TLS in effect (the kind's, or the entry's)
    discovery: Any = None   # spec.discovery.Discovery: a node group found by cloud/registry discovery
    port: int = 0           # where discovered targets are scraped (their exporter's port)


@dataclass(frozen=True)
class NodePods:
    """One exporter's pods on the nodes of a Kubernetes-discovered node group: read where a
    KubernetesTargets is (namespace, selector, port, role), plus the node membership."""
    namespace: str
    selector: dict
    port: str
    node_selector: dict
    expected: int              # expected_hosts: one pod per node (a DaemonSet)
    api_server: str | None = None
    role: str = "pod"


@dataclass(frozen=True)
class Job:
    name: str
    exporter: str              # key in spec.exporters
    path: str
    scheme: str
    groups: tuple[TargetGroup, ...]
    host_instance: bool


def _with_port(target: str, port: int) -> str:
    host, given = split_target(target)
    return target if given is not None else f"{host}:{port}"


def _labels(*parts: dict) -> tuple[tuple[str, str], ...]:
    merged: dict[str, str] = {}
    for part in parts:
        merged.update(part)
    return tuple(sorted(merged.items()))


def jobs(spec) -> list[Job]:
    """Every scrape job of the spec, in a stable order (without Prometheus itself)."""
    ex = spec.exporters
    out: list[Job] = []

    node_groups, gpu_groups = [], []
    for i, g in enumerate(spec.node_groups):
        base = {"node_group": g.name, **({"gpu_model": g.gpu.model} if g.gpu else {}), **g.labels}
        if g.kubernetes is not None:
            node_groups.append(_node_pods(g, g.kubernetes.node_exporter, base, i,
                                          effective(ex.node_exporter, g.scrape.node_exporter)))
            if g.gpu:
                gpu_groups.append(_node_pods(g, g.kubernetes.dcgm_exporter, base, i,
                                             effective(ex.dcgm_exporter, g.scrape.dcgm_exporter)))
            continue
        node_groups.append(_node_group(g, i, ex.node_exporter, g.scrape.node_exporter, base))
        if g.gpu:
            gpu_groups.append(_node_group(g, i, ex.dcgm_exporter, g.scrape.dcgm_exporter, base))
    if node_groups:
        out.append(_job(JOB_NODE, "node_exporter", ex.node_exporter, node_groups, True))
    if gpu_groups:
        out.append(_job(JOB_DCGM, "dcgm_exporter", ex.dcgm_exporter, gpu_groups, True))

    for kind, job in JOB_MODEL.items():
        exporter = getattr(ex, kind)
        groups = [g for i, m in enumerate(spec.models) if m.server == kind
                  for g in _entry_groups(m, exporter, {"model": m.name}, ("models", i))]
        if groups:
            out.append(_job(job, kind, exporter, groups, False))

    groups = [g for i, p in enumerate(spec.pipelines)
              for g in _entry_groups(p, ex.pipeline, {"pipeline": p.name}, ("pipelines", i))]
    if groups:
        out.append(_job(JOB_PIPELINE, "pipeline", ex.pipeline, groups, False))

    for kind, job in JOB_STORAGE.items():
        exporter = getattr(ex, kind)
        groups = [TargetGroup(tuple(_with_port(t, exporter.port) for t in s.targets),
                              _labels({"storage": s.name}, s.labels), ("storage", i, "targets"),
                              client=effective(exporter, s.scrape))
                  for i, s in enumerate(spec.storage) if s.kind == kind]
        if groups:
            out.append(_job(job, kind, exporter, groups, False))
    return out


def _node_group(g, i: int, exporter, override, labels: dict) -> TargetGroup:
    client = effective(exporter, override)
    if g.discovery is not None:
        return TargetGroup((), _labels(labels), ("node_groups", i, "discovery"), client=client,
                           discovery=g.discovery, port=exporter.port)
    return TargetGroup(tuple(_with_port(h, exporter.port) for h in g.hosts), _labels(labels),
                       ("node_groups", i, "hosts"), client=client)


def _node_pods(group, pods, base: dict, i: int, client) -> TargetGroup:
    k = group.kubernetes
    found = NodePods(pods.namespace, dict(pods.selector), pods.port, dict(k.node_selector),
                     group.expected_hosts or 1, k.api_server)
    return TargetGroup((), _labels(base), ("node_groups", i, "kubernetes"), found, client)


def _entry_groups(entry, exporter, owner: dict, path: tuple) -> list[TargetGroup]:
    """A model's or pipeline's targets: host targets and/or one Kubernetes-discovered group."""
    labels = _labels(owner, entry.labels)
    client = effective(exporter, entry.scrape)
    out = []
    if entry.targets:
        out.append(TargetGroup(tuple(_with_port(t, exporter.port) for t in entry.targets), labels,
                               path + ("targets",), client=client))
    if entry.kubernetes is not None:
        out.append(TargetGroup((), labels, path + ("kubernetes",), entry.kubernetes, client))
    return out


def _job(name, exporter_key, exporter, groups, host_instance) -> Job:
    return Job(name, exporter_key, exporter.path, exporter.scheme, tuple(groups), host_instance)


def discovered_target_labels(group: TargetGroup) -> dict[str, str]:
    """Labels of one target of a group without fixed targets, as discovery gives them. Example
    values, for unit tests: a cloud/registry-discovered node group names its hosts like a static one."""
    if group.discovery is not None:
        host = f"{dict(group.labels)['node_group']}-1"
        return {"instance": host, "host": host}
    return kubernetes_target_labels(group)


def kubernetes_target_labels(group: TargetGroup) -> dict[str, str]:
    """Labels of one target found by Kubernetes service discovery (see compile/scrape/config.py's
    relabelling): instance is the pod's address, host its node; on a node group's exporters both
    are the node's name, as for listed hosts. Example values, for unit tests."""
    if isinstance(group.kubernetes, NodePods):
        return {"instance": "node-1", "host": "node-1"}
    owner = dict(group.labels).get("model") or dict(group.labels).get("pipeline", "target")
    return {"instance": "10.0.0.1:8000", "host": "node-1", "namespace": group.kubernetes.namespace,
            "pod": f"{owner}-0"}


def instance_of(job: Job, target: str) -> str:
    return split_target(target)[0] if job.host_instance else target
