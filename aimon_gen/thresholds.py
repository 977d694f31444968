"""Named thresholds: the catalog (rules/thresholds.yaml) and their resolution per scope.

A threshold is looked up most specific first: the node group, model, pipeline or storage
entry that a series belongs to, then the spec's top-level `thresholds`, then the default.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from .resources import data_dir, read_yaml


@dataclass(frozen=True)
class Threshold:
    name: str
    value: float
    for_: str | None
    severity: str | None
    enabled: bool
    unit: str
    description: str


@cache
def catalog() -> dict[str, dict]:
    """name -> {value, for, severity, unit, description} from rules/thresholds.yaml."""
    return read_yaml(data_dir("rules") / "thresholds.yaml")["thresholds"]


def resolve(spec, name: str, scope=None) -> Threshold:
    """The threshold `name` as it applies to `scope` (a node group, model, ... or None)."""
    entry = catalog()[name]
    merged = {"value": entry["value"], "for_": entry.get("for"), "severity": entry.get("severity"), "enabled": True}
    for layer in (spec.thresholds, getattr(scope, "thresholds", None) or {}):
        setting = layer.get(name)
        if setting is None:
            continue
        for key in ("value", "for_", "severity"):
            if getattr(setting, key) is not None:
                merged[key] = getattr(setting, key)
        if "enabled" in setting.model_fields_set:
            merged["enabled"] = setting.enabled
    return Threshold(name, float(merged["value"]), merged["for_"], merged["severity"], merged["enabled"],
                     entry.get("unit", ""), entry.get("description", ""))
