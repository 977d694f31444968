"""SLO declarations: what a model, pipeline or other service promises."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from .types import Duration, Name, Percent


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class LatencyObjective(_Strict):
    threshold: Duration = Field(description="Requests faster than this are good; must be a histogram bucket.")
    objective: Percent = Field(description="Percentage of requests that must be faster than the threshold.")


class ModelSLO(_Strict):
    availability: Percent | None = Field(None, description="Percentage of requests that must succeed.")
    latency: LatencyObjective | None = None
    window: Duration = Field("30d", description="SLO period.")


class PipelineSLO(_Strict):
    freshness: Percent = Field(description="Percentage of time the pipeline must be within its freshness budget.")
    window: Duration = "30d"


class ServiceSLO(_Strict):
    name: Name
    objective: Percent
    good: str = Field(description="PromQL selector of good events (a counter), e.g. http_requests_total{code!~\"5..\"}.")
    total: str = Field(description="PromQL selector of all events (a counter).")
    window: Duration = "30d"
