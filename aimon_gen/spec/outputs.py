"""The spec's `outputs` section (which formats a build writes, and the Kubernetes settings),
and the Kubernetes selector a model or pipeline may give instead of host targets."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .finding import Finding
from .types import LabelValue, Name

FORMATS = ("files", "kubernetes")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# Kubernetes label keys may carry a DNS prefix (`app.kubernetes.io/name`).
K8sLabels = dict[str, LabelValue]


class Kubernetes(_Strict):
    namespace: Name = Field("monitoring", description="Namespace of every generated manifest.")
    rule_labels: K8sLabels = Field(
        {}, description="Labels on each PrometheusRule, matching your Prometheus's `ruleSelector` "
                        "(kube-prometheus-stack: `release: <helm release>`).")
    monitor_labels: K8sLabels = Field(
        {}, description="Labels on each ScrapeConfig and PodMonitor/ServiceMonitor, matching the "
                        "Prometheus's `scrapeConfigSelector` / `podMonitorSelector` / `serviceMonitorSelector`.")
    dashboard_labels: K8sLabels = Field(
        {"grafana_dashboard": "1"}, description="Labels the Grafana sidecar looks for on dashboard ConfigMaps.")
    alertmanager: Name = Field(
        "main", description="Name of the Alertmanager resource: its config goes to Secret `alertmanager-<name>`.")


class Outputs(_Strict):
    formats: list[Literal["files", "kubernetes"]] = Field(
        ["files"], min_length=1,
        description="What a build writes: `files` (prometheus.yml, rules, alertmanager.yml, dashboards) "
                    "and/or `kubernetes` (manifests under kubernetes/). `aimon-gen build --format` overrides it.")
    kubernetes: Kubernetes = Kubernetes()


class KubernetesTargets(_Strict):
    """Pods (or Services) found by Kubernetes service discovery instead of fixed host targets."""
    namespace: Name = Field(description="Namespace the pods or services run in.")
    selector: K8sLabels = Field(min_length=1, description="Label selector (matchLabels), e.g. {app: vllm}.")
    port: str = Field("metrics", pattern=r"^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$",
                      description="Name of the container (pod) or service port serving the metrics.")
    role: Literal["pod", "service"] = Field(
        "pod", description="pod: PodMonitor / kubernetes_sd role endpoints of pods; service: ServiceMonitor.")


def output_problems(spec):
    """Cross-field checks of the sections above (Findings at spec paths)."""

    for kind in ("models", "pipelines"):
        for i, entry in enumerate(getattr(spec, kind)):
            if not entry.targets and entry.kubernetes is None:
                yield Finding((kind, i), f"{kind[:-1]} '{entry.name}' has no targets",
                              "give `targets: [host:port]` or `kubernetes: {namespace, selector}`")
    p = spec.prometheus
    if p.shard_targets and len(p.shard_targets) != p.shards:
        yield Finding(("prometheus", "shard_targets"),
                      f"{len(p.shard_targets)} shard targets for {p.shards} shards",
                      "give one host:port per shard, or none for prometheus-shard-<i>:9090")
    if p.shards > 1 and p.global_layer == "remote_write" and not p.remote_write:
        yield Finding(("prometheus", "global_layer"), "global_layer remote_write needs a prometheus.remote_write entry",
                      "add remote_write: [{name, url, tenant}] (Thanos Receive, Mimir or Cortex), or use federation")
    if len(set(spec.outputs.formats)) != len(spec.outputs.formats):
        yield Finding(("outputs", "formats"), "a format is listed twice", "list each of files, kubernetes once")
