"""How a scrape config authenticates: the prometheus.yml fields of a target group's client
settings (scheme, authorization, basic_auth, tls_config), and the split of one job into
several scrape configs when its entries are scraped with different settings."""

from __future__ import annotations

from ...scheme import Job, TargetGroup


def client_fields(client) -> dict:
    """scheme, authorization, basic_auth and tls_config as prometheus.yml has them (files only)."""
    if client is None:
        return {}
    out: dict = {}
    if client.scheme and client.scheme != "http":
        out["scheme"] = client.scheme
    if client.authorization is not None:
        a = client.authorization
        out["authorization"] = {**({"type": a.type} if a.type != "Bearer" else {}),
                                "credentials_file": a.credentials_file}
    if client.basic_auth is not None:
        out["basic_auth"] = {"username": client.basic_auth.username,
                             "password_file": client.basic_auth.password_file}
    if client.tls_config is not None:
        t = client.tls_config
        tls = {key: getattr(t, key) for key in ("ca_file", "cert_file", "key_file", "server_name")
               if getattr(t, key) is not None}
        if t.insecure_skip_verify:
            tls["insecure_skip_verify"] = True
        out["tls_config"] = tls
    return out


def client_parts(job: Job, groups: tuple[TargetGroup, ...]) -> list[tuple[str, tuple[TargetGroup, ...]]]:
    """(scrape config name, groups) per distinct client setting, in the groups' order. One setting
    keeps the job's name; with several, the part of the first group keeps it and each other
    part is named `<job>-<its first entry>` (its `job` label is relabelled back)."""
    parts: dict = {}
    for group in groups:
        parts.setdefault(_key(group.client), []).append(group)
    out = []
    for i, members in enumerate(parts.values()):
        name = job.name if i == 0 else f"{job.name}-{owner(members[0])}"
        out.append((name, tuple(members)))
    return out


def _key(client) -> str:
    # frozen models compare by value; their JSON is a hashable stand-in
    return client.model_dump_json() if client is not None else ""


def owner(group: TargetGroup) -> str:
    """node_group / model / pipeline / storage name of the spec entry behind the group."""
    labels = dict(group.labels)
    for key in ("node_group", "model", "pipeline", "storage"):
        if key in labels:
            return labels[key]
    raise ValueError("target group without an owner label")
