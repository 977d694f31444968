"""The registry of domain kinds: the spec's scopes and the exporter kinds, from kinds.yaml.

Every other module asks here which kinds exist, so a new model server is a registry entry
(kinds.yaml), a metric catalog (catalog/<kind>.yaml), a rule pack, dashboard rows and SLI
data, with no Python to change.

- `SCOPES`: node_groups, models, pipelines, storage; `SCOPE_LABEL[scope]`: their label.
- `KINDS`: every exporter kind in output order; `kind(name)` -> `Kind`.
- `of_scope(scope)`: the kinds serving one spec list (`of_scope("models")`: the servers).
- `PACKS`: the shipped rule packs in output order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .resources import read_yaml


@dataclass(frozen=True)
class Kind:
    name: str
    scope: str                  # a SCOPES entry, or "none" (Prometheus's own jobs)
    job: str
    port: int = 0               # 0: not configurable in spec.exporters
    path: str = "/metrics"
    doc: str = ""
    gpu: bool = False           # node_groups: only hosts of GPU groups
    host_instance: bool = False
    verify: dict = field(default_factory=dict, compare=False)


_KEYS = {"scope", "job", "port", "path", "doc", "gpu", "host_instance", "verify"}


def load(path: Path) -> tuple[dict[str, str], dict[str, Kind], tuple[str, ...]]:
    """(scope -> label, name -> Kind, packs) from a registry file."""
    doc = read_yaml(path)
    scopes = dict(doc["scopes"])
    kinds = {}
    for name, entry in doc["exporters"].items():
        unknown = set(entry) - _KEYS
        if unknown or entry["scope"] not in (*scopes, "none"):
            raise ValueError(f"kinds.yaml: exporter {name}: unknown keys {sorted(unknown)} or scope")
        kinds[name] = Kind(name=name, **entry)
    return scopes, kinds, tuple(doc["packs"])


SCOPE_LABEL, _KINDS, PACKS = load(Path(__file__).resolve().parent / "kinds.yaml")
SCOPES: tuple[str, ...] = tuple(SCOPE_LABEL)
KINDS: tuple[str, ...] = tuple(_KINDS)


def kind(name: str) -> Kind:
    return _KINDS[name]


def of_scope(scope: str) -> tuple[str, ...]:
    """Kinds serving one spec list, in registry order (models: the model servers)."""
    return tuple(k for k, v in _KINDS.items() if v.scope == scope)


def job(name: str) -> str:
    """The scrape job of an exporter kind."""
    return _KINDS[name].job
