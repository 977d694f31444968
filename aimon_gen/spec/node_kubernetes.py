"""A node group found by Kubernetes service discovery (`node_groups[].kubernetes`): which exporter
pods to scrape (defaults: the NVIDIA GPU Operator's dcgm-exporter and kube-prometheus-stack's
node-exporter) and the node labels that make a node a member of the group."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from .finding import Finding
from .types import LabelValue, Name, Url

# Kubernetes label key: optional DNS prefix and '/', then a name of at most 63 characters.
_KEY = (r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
        r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
K8sLabelKey = Annotated[str, StringConstraints(pattern=_KEY, max_length=317)]
Selector = dict[K8sLabelKey, LabelValue]
PortName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ExporterPods(_Strict):
    """Where one exporter's pods run and which container port serves its metrics."""
    namespace: Name = Field(description="Namespace of the exporter's pods.")
    selector: Selector = Field(min_length=1, description="Pod label selector (matchLabels).")
    port: PortName = Field(description="Name of the container port serving /metrics.")


class NodeGroupKubernetes(_Strict):
    """Find the group's hosts as Kubernetes nodes: `host` is the node name."""
    node_selector: Selector = Field(
        min_length=1, description="Node labels (matchLabels) that make a node a member of this group, e.g. "
                                  "{nvidia.com/gpu.product: NVIDIA-H100-80GB-HBM3} or "
                                  "{node.kubernetes.io/instance-type: p5.48xlarge}.")
    dcgm_exporter: ExporterPods = Field(
        ExporterPods(namespace="gpu-operator", selector={"app": "nvidia-dcgm-exporter"}, port="metrics"),
        description="The GPU Operator's dcgm-exporter DaemonSet (used when the group has `gpu`).")
    node_exporter: ExporterPods = Field(
        ExporterPods(namespace="monitoring", selector={"app.kubernetes.io/name": "prometheus-node-exporter"},
                     port="http-metrics"),
        description="kube-prometheus-stack's node-exporter DaemonSet.")
    api_server: Url | None = Field(
        None, description="Kubernetes API URL for a Prometheus outside the cluster; in-cluster config when unset.")


def node_group_problems(spec) -> Iterable[Finding]:
    """Each node group gives its hosts one way, and a discovered one says how many to expect."""
    for i, g in enumerate(spec.node_groups):
        ways = [name for name, given in (("hosts", bool(g.hosts)), ("kubernetes", g.kubernetes is not None)) if given]
        if len(ways) > 1:
            yield Finding(("node_groups", i, ways[1]), f"node group '{g.name}' gives both {' and '.join(ways)}",
                          "give exactly one: `hosts:` for a fixed list, `kubernetes:` to discover the nodes",
                          at_key=True)
        elif not ways:
            yield Finding(("node_groups", i), f"node group '{g.name}' has no hosts",
                          "give `hosts: [name, ...]` or `kubernetes: {node_selector: {label: value}}`")
        if g.kubernetes is not None and g.expected_hosts is None:
            yield Finding(("node_groups", i, "kubernetes"), f"node group '{g.name}' is discovered but declares no "
                          "expected_hosts", "add `expected_hosts: N` (how many nodes you expect; plan and verify "
                          "use it)", at_key=True)
        if g.kubernetes is None and g.expected_hosts is not None and g.hosts:
            yield Finding(("node_groups", i, "expected_hosts"), f"node group '{g.name}' lists its hosts, so "
                          "expected_hosts says nothing more", "remove expected_hosts (it is for discovered groups)",
                          at_key=True)
