"""Spec -> prometheus.yml (and file_sd target files when the spec asks for them)."""

from __future__ import annotations

from ..scheme import JOB_PROMETHEUS, Job, jobs
from ..spec.types import duration_seconds, format_duration

# Strips the port from the address: node and GPU series join on the bare host name.
_HOST_REGEX = r"(.+):\d+"


def compile_prometheus(spec, rule_files: list[str]) -> dict[str, object]:
    """prometheus.yml plus, with `service_discovery: file`, one targets/<job>/<entry>.json per entry."""
    p = spec.prometheus
    out: dict[str, object] = {}
    cfg: dict = {"global": _global(spec)}
    if rule_files:
        cfg["rule_files"] = list(rule_files)
    if p.alertmanagers:
        cfg["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": list(p.alertmanagers)}]}]}
    scrape_configs = [{"job_name": JOB_PROMETHEUS, "static_configs": [{"targets": ["localhost:9090"]}]}]
    for job in jobs(spec):
        scrape_configs.append(_scrape_config(spec, job, out))
    cfg["scrape_configs"] = scrape_configs
    if p.remote_write:
        cfg["remote_write"] = [_remote_write(rw) for rw in p.remote_write]
    out["prometheus.yml"] = cfg
    return out


def _global(spec) -> dict:
    p = spec.prometheus
    g = {"scrape_interval": p.scrape_interval}
    timeout = p.scrape_timeout or format_duration(min(duration_seconds(p.scrape_interval), 10))
    g["scrape_timeout"] = timeout
    g["evaluation_interval"] = p.evaluation_interval
    g["external_labels"] = {"cluster": spec.name, "environment": spec.environment, **p.external_labels}
    return g


def _scrape_config(spec, job: Job, files: dict) -> dict:
    sc: dict = {"job_name": job.name}
    if job.path != "/metrics":
        sc["metrics_path"] = job.path
    if job.scheme != "http":
        sc["scheme"] = job.scheme
    if spec.prometheus.service_discovery == "file":
        for group in job.groups:
            name = _group_name(group)
            files[f"targets/{job.name}/{name}.json"] = [{"targets": list(group.targets), "labels": dict(group.labels)}]
        sc["file_sd_configs"] = [{"files": [f"targets/{job.name}/*.json"]}]
    else:
        sc["static_configs"] = [{"targets": list(g.targets), "labels": dict(g.labels)} for g in job.groups]
    relabel = [{"source_labels": ["__address__"], "regex": _HOST_REGEX, "target_label": "host", "replacement": "$1"}]
    if job.host_instance:
        relabel.append({"source_labels": ["__address__"], "regex": _HOST_REGEX,
                        "target_label": "instance", "replacement": "$1"})
    sc["relabel_configs"] = relabel
    return sc


def _group_name(group) -> str:
    # node_group / model / pipeline / storage name of the spec entry behind the group
    labels = dict(group.labels)
    for key in ("node_group", "model", "pipeline", "storage"):
        if key in labels:
            return labels[key]
    raise ValueError("target group without an owner label")


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
