"""What a pack group covers: the spec entries of its scope, their label, its exporter's job."""

from __future__ import annotations

from ... import kinds

SCOPE_LABEL = kinds.SCOPE_LABEL


def job_of(kind: str) -> str:
    """The scrape job of an exporter kind (the kinds registry owns the names)."""
    return kinds.job(kind)


def scope_entries(spec, scope: str, kind: str) -> list:
    """The spec entries a group's rules cover, in spec order."""
    if scope == "node_groups":
        return [g for g in spec.node_groups if g.gpu or not kinds.kind(kind).gpu]
    if scope == "models":
        return [m for m in spec.models if m.server == kind]
    if scope == "pipelines":
        return list(spec.pipelines)
    if scope == "storage":
        return [s for s in spec.storage if s.kind == kind]
    return []
