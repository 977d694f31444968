"""Spec -> prometheus.yml (and file_sd target files when the spec asks for them)."""

from __future__ import annotations

import dataclasses
import string

from ...promql import re2_escape
from ...scheme import JOB_ALERTMANAGER, JOB_PROMETHEUS, Job, NodePods, TargetGroup, jobs
from ...spec.types import duration_seconds, format_duration
from ..result import Bundle
from .clients import client_fields, client_parts, owner
from .discovery import discovery_sd_config

# Strips the port from the address: node and GPU series join on the bare host name.
_HOST_REGEX = r"(.+):\d+"


def compile_prometheus(ctx, bundle: Bundle) -> None:
    """The step: the scrape jobs, and prometheus.yml listing the rule files of the steps before it."""
    bundle.scrape_jobs = scrape_jobs(ctx.spec)
    bundle.prometheus = prometheus_config(ctx.spec, [f"{stem}.rules.yml" for stem in sorted(bundle.rule_files)],
                                          bundle.targets, bundle.scrape_jobs)


def scrape_jobs(spec) -> list[Job]:
    """Every job prometheus.yml scrapes, in its order: Prometheus itself, Alertmanager (where
    Prometheus sends alerts), then the spec's exporters (scheme.jobs)."""
    own = [Job(JOB_PROMETHEUS, "prometheus", "/metrics", "http",
               (TargetGroup(("localhost:9090",), (), ("prometheus",)),), False)]
    if spec.prometheus.alertmanagers:
        own.append(Job(JOB_ALERTMANAGER, "alertmanager", "/metrics", "http",
                       (TargetGroup(tuple(spec.prometheus.alertmanagers), (), ("prometheus", "alertmanagers")),),
                       False))
    return own + jobs(spec)


def prometheus_config(spec, rule_files: list[str], targets: dict, scrape: list[Job]) -> dict:
    """prometheus.yml; with `service_discovery: file`, each entry's targets go into `targets`
    under (job, entry), which render writes as targets/<job>/<entry>.json."""
    p = spec.prometheus
    cfg: dict = {"global": _global(spec)}
    if rule_files:
        cfg["rule_files"] = list(rule_files)
    if p.alertmanagers:
        cfg["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": list(p.alertmanagers)}]}]}
    scrape_configs = []
    for job in scrape:
        if job.exporter == "prometheus":
            scrape_configs.append({"job_name": job.name, "static_configs": [{"targets": list(job.groups[0].targets)}]})
            continue
        if job.exporter == "alertmanager":
            scrape_configs.append(alertmanager_scrape_config(job.groups[0].targets))
            continue
        static = tuple(g for g in job.groups if g.kubernetes is None and g.discovery is None)
        parts = client_parts(job, static)
        for name, groups in parts:
            scrape_configs.append(_scrape_config(spec, dataclasses.replace(job, groups=groups), targets,
                                                 name, len(parts) > 1))
        scrape_configs += [kubernetes_sd_config(job, g) for g in job.groups if g.kubernetes is not None]
        scrape_configs += [discovery_sd_config(job, g) for g in job.groups if g.discovery is not None]
    cfg["scrape_configs"] = scrape_configs
    if p.remote_write:
        cfg["remote_write"] = [_remote_write(rw) for rw in p.remote_write]
    return cfg


def alertmanager_scrape_config(alertmanagers) -> dict:
    """Alertmanager's own /metrics, at the addresses (and ports) Prometheus sends alerts to:
    the alertmanager pack watches its reloads, notifications and cluster."""
    return {"job_name": JOB_ALERTMANAGER, "static_configs": [{"targets": list(alertmanagers)}],
            "relabel_configs": [{"source_labels": ["__address__"], "regex": _HOST_REGEX, "target_label": "host",
                                 "replacement": "$1"}]}


def _global(spec) -> dict:
    p = spec.prometheus
    g = {"scrape_interval": p.scrape_interval}
    timeout = p.scrape_timeout or format_duration(min(duration_seconds(p.scrape_interval), 10))
    g["scrape_timeout"] = timeout
    g["evaluation_interval"] = p.evaluation_interval
    g["external_labels"] = {"cluster": spec.name, "environment": spec.environment, **p.external_labels}
    return g


def _scrape_config(spec, job: Job, targets: dict, name: str, split: bool) -> dict:
    """One scrape config of a job's host targets; `split`: the job's entries differ in their
    client settings, so each part lists its own target files and keeps the job's `job` label."""
    sc: dict = {"job_name": name}
    if job.path != "/metrics":
        sc["metrics_path"] = job.path
    sc.update(_client(job, job.groups[0].client))
    if spec.prometheus.service_discovery == "file":
        for group in job.groups:
            targets[(job.name, owner(group))] = [{"targets": list(group.targets), "labels": dict(group.labels)}]
        files = [f"targets/{job.name}/{owner(g)}.json" for g in job.groups] if split else [f"targets/{job.name}/*.json"]
        sc["file_sd_configs"] = [{"files": files}]
    else:
        sc["static_configs"] = [{"targets": list(g.targets), "labels": dict(g.labels)} for g in job.groups]
    relabel: list[dict] = [{"target_label": "job", "replacement": job.name}] if name != job.name else []
    relabel.append({"source_labels": ["__address__"], "regex": _HOST_REGEX, "target_label": "host",
                    "replacement": "$1"})
    if job.host_instance:
        relabel.append({"source_labels": ["__address__"], "regex": _HOST_REGEX,
                        "target_label": "instance", "replacement": "$1"})
    sc["relabel_configs"] = relabel
    return sc


def kubernetes_sd_config(job: Job, group) -> dict:
    """A job's targets found by Kubernetes service discovery: one scrape config per spec entry,
    whose `job` label is the exporter's job, so rules and dashboards see no difference."""
    k = group.kubernetes
    if isinstance(k, NodePods):
        return _node_pods_sd_config(job, group, k)
    pod = k.role == "pod"
    meta = "__meta_kubernetes_pod_label_" if pod else "__meta_kubernetes_service_label_"
    keep = [{"source_labels": [meta + _sanitize(key)], "regex": re2_escape(value), "action": "keep"}
            for key, value in k.selector.items()]
    port_label = "__meta_kubernetes_pod_container_port_name" if pod else "__meta_kubernetes_endpoint_port_name"
    keep.append({"source_labels": [port_label], "regex": re2_escape(k.port), "action": "keep"})
    relabel = keep + [
        {"target_label": "job", "replacement": job.name},
        # host: the node the pod runs on, so model series join node and GPU series
        {"source_labels": ["__meta_kubernetes_pod_node_name"], "target_label": "host"},
        {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
        {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
    ] + [{"target_label": name, "replacement": value} for name, value in group.labels]
    sc: dict = {"job_name": f"{job.name}-kubernetes-{owner(group)}"}
    if job.path != "/metrics":
        sc["metrics_path"] = job.path
    sc.update(_client(job, group.client))
    sc["kubernetes_sd_configs"] = [{"role": "pod" if pod else "endpoints", "namespaces": {"names": [k.namespace]}}]
    sc["relabel_configs"] = relabel
    return sc


def node_pods_relabeling(job: Job, group: TargetGroup) -> list[dict]:
    """Relabelling of a node group's exporter pods: keep the exporter's pods on the group's nodes
    (node labels come from attach_metadata), then give the target the labels a listed host's
    target has. No pod/namespace/container target labels: dcgm-exporter's own (the workload
    using each GPU) then stay on the series as they are."""
    k = group.kubernetes
    keep = [{"source_labels": ["__meta_kubernetes_pod_label_" + _sanitize(key)], "regex": re2_escape(value),
             "action": "keep"} for key, value in sorted(k.selector.items())]
    keep.append({"source_labels": ["__meta_kubernetes_pod_container_port_name"], "regex": re2_escape(k.port),
                 "action": "keep"})
    keep += [{"source_labels": ["__meta_kubernetes_node_label_" + _sanitize(key)], "regex": re2_escape(value),
              "action": "keep"} for key, value in sorted(k.node_selector.items())]
    node = "__meta_kubernetes_pod_node_name"
    return keep + [{"target_label": "job", "replacement": job.name},
                   {"source_labels": [node], "target_label": "host"},
                   {"source_labels": [node], "target_label": "instance"}] + [
        {"target_label": name, "replacement": value} for name, value in group.labels]


def _node_pods_sd_config(job: Job, group: TargetGroup, k: NodePods) -> dict:
    sd: dict = {"role": "pod", "namespaces": {"names": [k.namespace]},
                "attach_metadata": {"node": True}}  # node labels select the group (Prometheus >= 2.35)
    if k.api_server:
        sd["api_server"] = k.api_server
    sc: dict = {"job_name": f"{job.name}-kubernetes-{owner(group)}"}
    if job.path != "/metrics":
        sc["metrics_path"] = job.path
    sc.update(_client(job, group.client))
    sc["kubernetes_sd_configs"] = [sd]
    sc["relabel_configs"] = node_pods_relabeling(job, group)
    return sc


def _client(job: Job, client) -> dict:
    # groups made outside scheme.jobs (tests, Prometheus's own job) carry no client settings
    if client is None:
        return {"scheme": job.scheme} if job.scheme != "http" else {}
    return client_fields(client)


def _sanitize(key: str) -> str:
    # Kubernetes label keys become meta label names with every other character as `_`.
    return "".join(c if c in _LABEL_CHARS else "_" for c in key)


_LABEL_CHARS = frozenset(string.ascii_letters + string.digits + "_")


def _remote_write(rw) -> dict:
    out: dict = {"name": rw.name, "url": rw.url}
    headers = dict(rw.headers)
    if rw.tenant:
        headers["X-Scope-OrgID"] = rw.tenant
    if headers:
        out["headers"] = headers
    if rw.basic_auth:
        out["basic_auth"] = {"username": rw.basic_auth.username, "password_file": rw.basic_auth.password_file}
    if rw.bearer_token_file:
        out["authorization"] = {"credentials_file": rw.bearer_token_file}
    return out
