"""The spec's `grafana` section: datasource and dashboard folder."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Datasource(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    name: str = "Prometheus"
    uid: str = Field("prometheus", pattern=r"^[a-zA-Z0-9_-]{1,40}$")
    url: str = "http://localhost:9090"


class Grafana(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    datasource: Datasource = Datasource()
    folder: str = "AI infrastructure"
