"""A node group found by Kubernetes service discovery (`node_groups[].kubernetes`): which exporter
pods to scrape (defaults: the NVIDIA GPU Operator's dcgm-exporter and kube-prometheus-stack's
node-exporter) and the node labels that make a node a member of the group."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from .types import LabelValue, Name, Url

_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_NAME_CHARS = _ALNUM | frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ-_.")


def _dns_label(part: str, chars: frozenset) -> bool:
    return bool(part) and part[0].lower() in _ALNUM and part[-1].lower() in _ALNUM and set(part) <= chars


def _label_key(value: object) -> object:
    # [prefix/]name: prefix a DNS subdomain (<= 253), name <= 63 of [A-Za-z0-9-_.], alphanumeric ends
    if not isinstance(value, str):
        return value
    prefix, _, name = value.rpartition("/")
    ok = len(name) <= 63 and _dns_label(name, _NAME_CHARS)
    if prefix or "/" in value:
        ok = ok and len(prefix) <= 253 and all(_dns_label(p, _ALNUM | {"-"}) for p in prefix.split("."))
    if not ok:
        raise PydanticCustomError(
            "k8s_label_key", f"{value!r} is not a Kubernetes label key: [prefix/]name, the name at most 63 letters, "
            "digits, '-', '_' or '.' with a letter or digit at each end, the prefix a DNS name "
            "(e.g. nvidia.com/gpu.product)")
    return value


def _port_name(value: object) -> object:
    if isinstance(value, str) and not (len(value) <= 15 and _dns_label(value, _ALNUM | {"-"}) and value.islower()
                                       or value.isdigit()):
        raise PydanticCustomError(
            "k8s_port_name", f"{value!r} is not a container port name: at most 15 lower-case letters, digits or '-', "
            "e.g. metrics or http-metrics (the `name` of the port in the pod spec)")
    return value


K8sLabelKey = Annotated[str, BeforeValidator(_label_key),
                        WithJsonSchema({"type": "string", "description": "Kubernetes label key, e.g. "
                                        "nvidia.com/gpu.product"})]
Selector = dict[K8sLabelKey, LabelValue]
PortName = Annotated[str, BeforeValidator(_port_name),
                     WithJsonSchema({"type": "string", "description": "container port name, e.g. metrics"})]


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
        description="dcgm-exporter's pods (when the group has `gpu`); default: the GPU Operator's, namespace "
                    "gpu-operator, selector {app: nvidia-dcgm-exporter}, port metrics.")
    node_exporter: ExporterPods = Field(
        ExporterPods(namespace="monitoring", selector={"app.kubernetes.io/name": "prometheus-node-exporter"},
                     port="http-metrics"),
        description="node-exporter's pods; default: kube-prometheus-stack's, namespace monitoring, selector "
                    "{app.kubernetes.io/name: prometheus-node-exporter}, port http-metrics.")
    api_server: Url | None = Field(
        None, description="Kubernetes API URL for a Prometheus outside the cluster; in-cluster config when unset.")

