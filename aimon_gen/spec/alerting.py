"""The spec's `alerting` section: receivers, routes, inhibition, maintenance windows."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Alerting(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
