"""A discovered node group -> one scrape config with Prometheus's own SD config (ec2, gce, azure,
consul, dns) and the relabelling that gives its targets exactly a static group's labels:
`host` (and `instance`) from the machine's name, `node_group`, `gpu_model`, the group's labels."""

from __future__ import annotations

from ...promql import re2_escape
from ...scheme import Job, TargetGroup
from ...spec.discovery import kind_of
from .clients import client_fields

# An SRV target or node name, without the trailing dot of a fully qualified DNS name.
_NAME = r"(.+?)\.?"


def discovery_sd_config(job: Job, group: TargetGroup) -> dict:
    """The scrape config of one discovered group; its `job` label is the exporter's job, so rules
    and dashboards see no difference from a static group."""
    kind = kind_of(group.discovery)
    assert kind is not None  # spec/discovery.py's check refuses a group with none or several
    sd, host_meta, relabel = _MECHANISMS[kind](getattr(group.discovery, kind), group.port)
    relabel = relabel + [
        {"source_labels": [host_meta], "regex": _NAME, "target_label": "host", "replacement": "$1"},
        # a machine without the name host comes from cannot be joined across exporters: not scraped
        {"source_labels": ["host"], "regex": "", "action": "drop"},
    ]
    if job.host_instance:
        relabel.append({"source_labels": ["host"], "target_label": "instance"})
    relabel.append({"target_label": "job", "replacement": job.name})
    relabel += [{"target_label": name, "replacement": value} for name, value in group.labels]
    sc: dict = {"job_name": f"{job.name}-{kind}-{dict(group.labels)['node_group']}"}
    if job.path != "/metrics":
        sc["metrics_path"] = job.path
    if group.client is not None:  # the kind's scheme, credentials and TLS, or the group's own
        sc.update(client_fields(group.client))
    elif job.scheme != "http":
        sc["scheme"] = job.scheme
    sc[f"{kind}_sd_configs"] = [sd]
    sc["relabel_configs"] = relabel
    return sc


def _refresh(d) -> dict:
    return {"refresh_interval": d.refresh_interval} if d.refresh_interval else {}


def _ec2(d, port: int):
    sd: dict = {"region": d.region}
    for key in ("endpoint", "role_arn", "profile"):
        if getattr(d, key):
            sd[key] = getattr(d, key)
    sd["port"] = port  # the instance's private IP at the exporter's port
    sd["filters"] = [{"name": f"tag:{k}", "values": [v]} for k, v in sorted(d.tags.items())]
    meta = "__meta_ec2_private_dns_name" if d.host_from == "private_dns_name" else "__meta_ec2_tag_Name"
    return sd | _refresh(d), meta, []


def _gce(d, port: int):
    selector = " AND ".join(f'(labels.{k} = "{v}")' for k, v in sorted(d.labels.items()))
    sd = {"project": d.project, "zone": d.zone, "filter": selector, "port": port}
    return sd | _refresh(d), "__meta_gce_instance_name", []


def _azure(d, port: int):
    sd: dict = {"subscription_id": d.subscription_id, "authentication_method": d.authentication_method}
    if d.client_id:
        sd["client_id"] = d.client_id
    if d.resource_group:
        sd["resource_group"] = d.resource_group
    sd["port"] = port
    # Azure's discovery lists every machine of the subscription: the group is selected by tag here.
    keep = [{"source_labels": [f"__meta_azure_machine_tag_{_sanitize(k)}"], "regex": re2_escape(v), "action": "keep"}
            for k, v in sorted(d.tags.items())]
    meta = "__meta_azure_machine_name" if d.host_from == "name" else "__meta_azure_machine_computer_name"
    return sd | _refresh(d), meta, keep


def _consul(d, port: int):
    sd: dict = {"server": d.server}
    if d.scheme != "http":
        sd["scheme"] = d.scheme
    if d.datacenter:
        sd["datacenter"] = d.datacenter
    sd["services"] = list(d.services)
    if d.tags:
        sd["tags"] = list(d.tags)
    if d.node_meta:
        sd["node_meta"] = dict(sorted(d.node_meta.items()))
    if d.token_file:
        sd["authorization"] = {"credentials_file": d.token_file}
    # The node's address at the exporter's port, not the service's own port.
    address = [{"source_labels": ["__meta_consul_address"], "target_label": "__address__",
                "replacement": f"$1:{port}"}]
    return sd | _refresh(d), "__meta_consul_node", address


def _dns(d, port: int):
    sd = {"names": list(d.names), "type": "SRV"}
    address = [{"source_labels": ["__meta_dns_srv_record_target"], "regex": _NAME, "target_label": "__address__",
                "replacement": f"$1:{port}"}]
    return sd | _refresh(d), "__meta_dns_srv_record_target", address


_MECHANISMS = {"ec2": _ec2, "gce": _gce, "azure": _azure, "consul": _consul, "dns": _dns}


def _sanitize(key: str) -> str:
    # Prometheus turns a tag key into a meta label name with every other character as `_`.
    return "".join(c if c.isascii() and (c.isalnum() or c == "_") else "_" for c in key)
