"""The spec's `grafana` section: datasource, folder and where Grafana finds the dashboards."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Datasource(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    name: str = Field("Prometheus", min_length=1, description="Datasource name shown in Grafana.")
    uid: str = Field("prometheus", pattern=r"^[a-zA-Z0-9_-]{1,40}$",
                     description="Fixed uid: every dashboard panel refers to the datasource by it.")
    url: str = Field("http://localhost:9090", pattern=r"^https?://\S+$",
                     description="Prometheus as Grafana's server reaches it (access: proxy).")


class Grafana(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    datasource: Datasource = Datasource()
    folder: str = Field("AI infrastructure", min_length=1, description="Grafana folder of the dashboards.")
    dashboards_path: str = Field(
        "", pattern=r"^(/\S*)?$",
        description="Absolute folder on the Grafana host holding the dashboards/*.json files; "
                    "empty means /var/lib/grafana/dashboards/<spec name>.")
    tags: list[str] = Field([], description="Extra tags on every dashboard (they always carry 'aimon-gen' and the spec name).")
    refresh: str = Field("1m", pattern=r"^(\d+[smhd])?$", description="Dashboard auto-refresh; empty turns it off.")
