"""Named thresholds: the catalog (rules/thresholds.yaml) and their resolution per scope.

A threshold is looked up most specific first: the node group, model, pipeline or storage
entry that a series belongs to, then the spec's top-level `thresholds`, then the default.
The default itself may depend on what a node group is for: a catalog entry's `workloads:`
(training / inference / mixed) adjusts value, for, severity or enabled for node groups of
that workload, before any of the spec's overrides apply. A catalog entry's `params:` are
fixed, documented constants of the rule (e.g. which XID codes it reads), not overridable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from .loader import load
from .resources import data_dir
from .spec.types import duration_seconds

_LAYER_KEYS = {"value": "value", "for": "for_", "severity": "severity", "enabled": "enabled"}
Number = StrictInt | StrictFloat
Severity = Literal["critical", "warning", "info"]


def _for(value: str) -> str:
    duration_seconds(value)  # raises ValueError: not a duration
    return value


# A rule's `for`: 0m (fire at once) is allowed, unlike the spec's durations.
For = Annotated[StrictStr, AfterValidator(_for)]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Layer(_Entry):
    """A workload's adjustment of a default (the keys of _LAYER_KEYS)."""
    value: Number | None = None
    for_: For | None = Field(None, alias="for")
    severity: Severity | None = None
    enabled: StrictBool | None = None


class Entry(_Entry):
    value: Number
    for_: For | None = Field(None, alias="for")
    severity: Severity | None = None
    enabled: StrictBool = True
    unit: StrictStr = ""
    description: StrictStr
    workloads: dict[Literal["training", "inference", "mixed"], Layer] = {}
    params: dict[StrictStr, Any] = {}


class Catalog(_Entry):
    thresholds: dict[StrictStr, Entry]


@dataclass(frozen=True)
class Threshold:
    name: str
    value: float
    for_: str | None
    severity: str | None
    enabled: bool
    unit: str
    description: str
    params: dict = field(default_factory=dict, compare=False, hash=False)


@cache
def catalog() -> dict[str, dict]:
    """name -> {value, for, severity, unit, description, workloads, params} from rules/thresholds.yaml,
    checked against Entry (a mistake is reported at its file:line)."""
    _, data, _ = load(data_dir("rules") / "thresholds.yaml", Catalog, "rules/thresholds.yaml")
    return data["thresholds"]


def resolve(spec, name: str, scope=None) -> Threshold:
    """The threshold `name` as it applies to `scope` (a node group, model, ... or None)."""
    entry = catalog()[name]
    merged = {"value": entry["value"], "for_": entry.get("for"), "severity": entry.get("severity"),
              "enabled": entry.get("enabled", True)}
    workload = getattr(scope, "workload", None)
    for key, value in ((entry.get("workloads") or {}).get(workload) or {}).items():
        merged[_LAYER_KEYS[key]] = value
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
                     entry.get("unit", ""), entry.get("description", ""), dict(entry.get("params") or {}))
