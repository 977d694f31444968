"""The spec's `grafana` section: datasource, folder and where Grafana finds the dashboards."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from .types import Url, matching

Uid = matching(r"^[a-zA-Z0-9_-]{1,40}$", "a Grafana uid: 1 to 40 of letters, digits, _ and -, e.g. prom-main",
               "grafana")
AbsolutePath = matching(r"^(/\S*)?$", "an absolute path on the Grafana host, e.g. /var/lib/grafana/dashboards/ai-prod",
                        "grafana")
Refresh = matching(r"^(\d+[smhd])?$", "a refresh interval such as 30s, 1m or 5m (empty: no auto-refresh)", "grafana")


class Datasource(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    name: str = Field("Prometheus", min_length=1, description="Datasource name shown in Grafana.")
    uid: Uid = Field("prometheus", description="Fixed uid: every dashboard panel refers to the datasource by it.")
    url: Url = Field("http://localhost:9090", description="Prometheus as Grafana's server reaches it (access: proxy).")


class Grafana(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    datasource: Datasource = Datasource()
    folder: str = Field("AI infrastructure", min_length=1, description="Grafana folder of the dashboards.")
    dashboards_path: AbsolutePath = Field(
        "", description="Absolute folder on the Grafana host holding the dashboards/*.json files; "
                        "empty means /var/lib/grafana/dashboards/<spec name>.")
    tags: list[str] = Field([], description="Extra tags on every dashboard (they always carry 'aimon-gen' and the spec "
                                            "name).")
    refresh: Refresh = Field("1m", description="Dashboard auto-refresh; empty turns it off.")
