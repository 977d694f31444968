"""What a pack group covers: the spec entries of its scope, their label, its exporter's job."""

from __future__ import annotations

from ... import scheme

SCOPE_LABEL = {"node_groups": "node_group", "models": "model", "pipelines": "pipeline", "storage": "storage"}


def job_of(kind: str) -> str:
    """The scrape job of an exporter kind (scheme.py owns the names)."""
    fixed = {"node_exporter": scheme.JOB_NODE, "dcgm_exporter": scheme.JOB_DCGM, "pipeline": scheme.JOB_PIPELINE,
             "prometheus": scheme.JOB_PROMETHEUS, "alertmanager": scheme.JOB_ALERTMANAGER}
    return fixed.get(kind) or scheme.JOB_MODEL.get(kind) or scheme.JOB_STORAGE[kind]


def scope_entries(spec, scope: str, kind: str) -> list:
    """The spec entries a group's rules cover, in spec order."""
    if scope == "node_groups":
        return [g for g in spec.node_groups if g.gpu or kind != "dcgm_exporter"]
    if scope == "models":
        return [m for m in spec.models if m.server == kind]
    if scope == "pipelines":
        return list(spec.pipelines)
    if scope == "storage":
        return [s for s in spec.storage if s.kind == kind]
    return []
