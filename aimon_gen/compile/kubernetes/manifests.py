"""Bundle -> Kubernetes manifests for prometheus-operator and the Grafana sidecar.

Generic over the Bundle: every rule file becomes a PrometheusRule, every dashboard a
ConfigMap, the Alertmanager config (when there is one) a Secret, and the scrape
jobs of `prometheus.yml` ScrapeConfigs (host targets) or PodMonitors/ServiceMonitors
(targets given as Kubernetes selectors). Files go under `kubernetes/`, one manifest each,
with a `kustomization.yaml` listing them (`kubectl apply -k kubernetes/`).
"""

from __future__ import annotations

import string

from ...render import to_json, to_yaml
from ...scheme import NodePods, jobs
from ..result import Bundle
from ..scrape.clients import client_parts
from ..scrape.config import node_pods_relabeling
from .secrets import operator_auth

CONFIGMAP_LIMIT = 1024 * 1024  # bytes of data a ConfigMap may hold (etcd object limit)
MANAGED = {"app.kubernetes.io/managed-by": "aimon-gen"}

_DNS_CHARS = frozenset(string.ascii_lowercase + string.digits + ".-")

def compile_kubernetes(ctx, bundle: Bundle) -> None:
    """The step (--format kubernetes): a manifest per rule file, scrape job, dashboard and the
    Alertmanager config, and the kustomization listing them."""
    spec, k = ctx.spec, ctx.spec.outputs.kubernetes
    out = bundle.kubernetes

    def add(kind: str, name: str, doc: dict) -> None:
        out[f"{kind.lower()}-{name}.yaml"] = doc

    for stem, rule_file in sorted(bundle.rule_files.items()):
        name = _name(spec.name, stem)
        add("PrometheusRule", name, prometheus_rule(name, k, spec.name, rule_file.doc()))
    for kind, name, doc in scrape_manifests(spec, bundle.prometheus or {}):
        add(kind, name, doc)
    for i, g in enumerate(spec.node_groups):
        if g.discovery is not None:  # said rather than left out silently
            ctx.error(("node_groups", i, "discovery"), f"--format kubernetes writes no scrape manifest for node group "
                      f"'{g.name}' found by cloud/registry discovery yet",
                      "build with --format files and give its scrape config to your Prometheus "
                      "(e.g. additionalScrapeConfigs), or list its hosts")
    for stem in sorted(bundle.dashboards, key=lambda s: s + ".json"):  # in file-name order
        name = _name(spec.name, "dashboard-" + stem)
        doc = dashboard_configmap(name, k, spec, stem, to_json(bundle.dashboards[stem]))
        size = len(doc["data"][f"{stem}.json"].encode())
        if size > CONFIGMAP_LIMIT:
            ctx.error(("outputs", "kubernetes"), f"dashboard dashboards/{stem}.json is {size} bytes, over the 1 MiB "
                      "ConfigMap limit", "split the dashboard or write it as a plain file (formats: [files])")
        add("ConfigMap", name, doc)
    if bundle.alertmanager is not None:
        name = f"alertmanager-{k.alertmanager}"
        add("Secret", name, alertmanager_secret(name, k, spec.name, to_yaml(bundle.alertmanager)))
    out["kustomization.yaml"] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
        "metadata": {"name": spec.name, "namespace": k.namespace},
        "resources": sorted(out)}


def _name(*parts: str) -> str:
    # DNS-1123 subdomain: lower case alphanumerics, '-' and '.'; each run of anything else -> one '-'
    out: list[str] = []
    for c in "-".join(parts).lower():
        if c in _DNS_CHARS:
            out.append(c)
        elif not out or out[-1] != "\0":
            out.append("\0")
    text = "".join(out).replace("\0", "-").strip("-.")
    return text[:253]


def _meta(name: str, k, spec_name: str, labels: dict | None = None, annotations: dict | None = None) -> dict:
    meta = {"name": name, "namespace": k.namespace,
            "labels": {**(labels or {}), **MANAGED, "app.kubernetes.io/part-of": spec_name}}
    if annotations:
        meta["annotations"] = annotations
    return meta


def prometheus_rule(name: str, k, spec_name: str, rule_file: dict) -> dict:
    """spec.groups is the rule-file format itself, so the groups pass `promtool check rules`."""
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
            "metadata": _meta(name, k, spec_name, k.rule_labels),
            "spec": {"groups": list(rule_file.get("groups") or [])}}


def dashboard_configmap(name: str, k, spec, stem: str, text: str) -> dict:
    # grafana_folder: the kube-prometheus-stack sidecar's folderAnnotation
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": _meta(name, k, spec.name, k.dashboard_labels, {"grafana_folder": spec.grafana.folder}),
            "data": {f"{stem}.json": text}}


def alertmanager_secret(name: str, k, spec_name: str, text: str) -> dict:
    """The operator reads key alertmanager.yaml of Secret alertmanager-<name>. Receiver secrets stay
    `*_file` paths: mount them with the Alertmanager resource's `spec.secrets`."""
    return {"apiVersion": "v1", "kind": "Secret", "metadata": _meta(name, k, spec_name), "type": "Opaque",
            "stringData": {"alertmanager.yaml": text}}


def scrape_manifests(spec, prometheus: dict):
    """(kind, name, manifest) per scrape job: ScrapeConfig for host targets, Pod/ServiceMonitor per selector."""
    k = spec.outputs.kubernetes
    configs = {sc["job_name"]: sc for sc in prometheus.get("scrape_configs") or []}
    for job in jobs(spec):
        static = tuple(g for g in job.groups if g.kubernetes is None and g.discovery is None)
        for sc_name, groups in client_parts(job, static):
            if sc_name in configs:
                name = _name(spec.name, sc_name)
                yield "ScrapeConfig", name, _scrape_config(name, k, spec.name, job, groups, configs[sc_name])
        for group in job.groups:
            if group.kubernetes is None:
                continue
            labels = dict(group.labels)
            if isinstance(group.kubernetes, NodePods):
                name = _name(spec.name, job.name, labels["node_group"])
                yield "PodMonitor", name, _node_pod_monitor(name, k, spec.name, job, group)
                continue
            owner = labels.get("model") or labels["pipeline"]
            name = _name(spec.name, job.name, owner)
            kind = "PodMonitor" if group.kubernetes.role == "pod" else "ServiceMonitor"
            yield kind, name, _monitor(kind, name, k, spec.name, job, group)


def _scheme(job, client) -> str:
    return client.scheme if client is not None and client.scheme else job.scheme


def _scrape_config(name, k, spec_name, job, groups, sc: dict) -> dict:
    body: dict = {"staticConfigs": [{"targets": list(g.targets), "labels": dict(g.labels)} for g in groups]}
    if job.path != "/metrics":
        body["metricsPath"] = job.path
    client = groups[0].client
    if _scheme(job, client) != "http":
        body["scheme"] = _scheme(job, client).upper()
    body.update(operator_auth(client, name))
    # The operator names the job scrapeConfig/<ns>/<name>; rules and dashboards select on ours.
    body["relabelings"] = [{"targetLabel": "job", "replacement": job.name}] + [
        _relabeling(r) for r in sc.get("relabel_configs") or [] if r.get("target_label") != "job"]
    return {"apiVersion": "monitoring.coreos.com/v1alpha1", "kind": "ScrapeConfig",
            "metadata": _meta(name, k, spec_name, k.monitor_labels), "spec": body}


def _endpoint(name: str, job, group) -> dict:
    """A Pod/ServiceMonitor endpoint: the port, path and scheme, and the Secrets it scrapes with."""
    endpoint: dict = {"port": group.kubernetes.port}
    if job.path != "/metrics":
        endpoint["path"] = job.path
    if _scheme(job, group.client) != "http":
        endpoint["scheme"] = _scheme(job, group.client)
    endpoint.update(operator_auth(group.client, name))
    return endpoint


def _monitor(kind: str, name: str, k, spec_name: str, job, group) -> dict:
    t = group.kubernetes
    endpoint = _endpoint(name, job, group)
    endpoint["relabelings"] = (
        [{"targetLabel": "job", "replacement": job.name},
         {"sourceLabels": ["__meta_kubernetes_pod_node_name"], "targetLabel": "host"}]
        + [{"targetLabel": key, "replacement": value} for key, value in group.labels])
    spec = {"selector": {"matchLabels": dict(t.selector)}, "namespaceSelector": {"matchNames": [t.namespace]},
            ("podMetricsEndpoints" if kind == "PodMonitor" else "endpoints"): [endpoint]}
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": kind,
            "metadata": _meta(name, k, spec_name, k.monitor_labels), "spec": spec}


# Target labels the operator adds to every PodMonitor target. A listed host's target has none,
# and on dcgm-exporter's series `pod`/`namespace`/`container` name the workload using the GPU:
# dropped from the target, the series keep theirs (honorLabels stays false).
_OPERATOR_TARGET_LABELS = "container|endpoint|namespace|pod"


def _node_pod_monitor(name: str, k, spec_name: str, job, group) -> dict:
    """A node group's exporter DaemonSet pods on the group's nodes (node labels through
    attachMetadata, prometheus-operator >= 0.56), labelled as the same hosts listed would be.
    The operator keeps the selector's pods and the port itself; the node keeps follow."""
    t = group.kubernetes
    endpoint = _endpoint(name, job, group)
    node_rules = [r for r in node_pods_relabeling(job, group)
                  if r.get("action") != "keep" or r["source_labels"][0].startswith("__meta_kubernetes_node_")]
    endpoint["relabelings"] = [_relabeling(r) for r in node_rules] + [
        {"action": "labeldrop", "regex": _OPERATOR_TARGET_LABELS}]
    spec = {"selector": {"matchLabels": dict(t.selector)}, "namespaceSelector": {"matchNames": [t.namespace]},
            "attachMetadata": {"node": True}, "podMetricsEndpoints": [endpoint]}
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor",
            "metadata": _meta(name, k, spec_name, k.monitor_labels), "spec": spec}


_CAMEL = {"source_labels": "sourceLabels", "target_label": "targetLabel"}


def _relabeling(rule: dict) -> dict:
    return {_CAMEL.get(key, key): value for key, value in rule.items()}
