"""SLO declarations: what a model, pipeline or other service promises, and how SLO alerts behave.

Cross-checks that need the metric catalog (latency thresholds on declared buckets, server
kinds without a latency histogram, periods, label clashes) are `slo_problems` below,
listed in `checks.CHECKS`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .. import kinds
from ..catalog import histogram_buckets
from ..sli import availability_sli, latency_bound, latency_histogram, latency_histograms, parse_selector
from .finding import Finding
from .types import Duration, LabelName, LabelValue, Name, Percent, duration_seconds


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


# Multiwindow pairs (Google SRE Workbook): "long/short".
WindowPair = Literal["1h/5m", "6h/30m", "1d/2h", "3d/6h"]
Severity = Literal["critical", "warning", "info"]


class LatencyObjective(_Strict):
    threshold: Duration = Field(description="Requests faster than this are good; one of the histogram's buckets "
                                "(servers whose buckets the server fixes, rules/slo_sli.yaml `fixed_buckets`: "
                                "otherwise the largest bucket below it, with a warning).")
    objective: Percent = Field(description="Percentage of requests that must be faster than the threshold.")
    metric: Literal["ttft", "e2e", "itl"] | None = Field(
        None, description="Which latency: ttft (time to first token), e2e (whole request) or itl (time between "
        "tokens). Each server kind offers some (rules/slo_sli.yaml `latency`), the first listed being its default: "
        "ttft where the server has it, e2e elsewhere.")


class ModelSLO(_Strict):
    availability: Percent | None = Field(None, description="Percentage of requests that must succeed.")
    latency: LatencyObjective | None = None
    window: Duration = Field("30d", description="SLO period (30d, 28d, 7d or any period of at least 1d).")
    triton_model: LabelValue | None = Field(
        None, description="Triton only: the model clients call (e.g. an ensemble) whose requests the SLO counts. "
        "Without it every model of the server counts, and an ensemble's requests count again in each composing model.")


class PipelineSLO(_Strict):
    freshness: Percent = Field(description="Percentage of time the pipeline must be within its freshness budget.")
    window: Duration = Field("30d", description="SLO period (at least 1d).")


class ServiceSLO(_Strict):
    name: Name
    objective: Percent
    good: str = Field(description="PromQL selector of good events (a counter), e.g. "
                                  "http_requests_total{code!~\"5..\"}.")
    total: str = Field(description="PromQL selector of all events (a counter).")
    window: Duration = Field("30d", description="SLO period (at least 1d).")
    labels: dict[LabelName, LabelValue] = Field({}, description="Labels on the SLO's series and alerts, e.g. team for "
                                                                "routing.")


class SLOTier(_Strict):
    severity: Severity = Field(description="The `severity` label of this tier's burn-rate alerts.")
    windows: list[WindowPair] = Field(description="Window pairs (long/short) alerting in this tier.")
    for_: Duration = Field(alias="for", description="How long both windows must burn before the alert fires.")


class SLOAlerting(_Strict):
    """How SLO burn-rate alerts behave: which window pairs page, severities, guards."""
    page: SLOTier = Field(SLOTier(severity="critical", windows=["1h/5m", "6h/30m"], for_="2m"),
                          description="Fast burns: wake someone up.")
    ticket: SLOTier = Field(SLOTier(severity="warning", windows=["1d/2h", "3d/6h"], for_="15m"),
                            description="Slow burns: handle in working hours.")
    min_request_rate: float = Field(0.1, ge=0, description="Requests per second over the long window below which "
                                    "burn-rate alerts stay silent (one error at 3 a.m. is not an outage).")
    missing_for: Duration = Field("10m",
                                  description="How long an SLI series may be missing before SLOSeriesMissing fires.")
    missing_severity: Severity = "warning"


# Label names the SLO series set themselves; a user label with one of these names would clash.
SLO_LABELS = ("slo", "service", "window", "long_window", "short_window", "tier", "severity")
MIN_PERIOD = 86400


def slo_problems(spec) -> Iterable:
    """Spec errors in SLOs: periods, latency thresholds off the histogram's buckets, label clashes."""

    a = spec.slo_alerting
    for pair in set(a.page.windows) & set(a.ticket.windows):
        yield Finding(("slo_alerting", "ticket", "windows"), f"window pair {pair} is in both page and ticket",
                      "list each pair in one tier")
    for path, slo, labels in _declared(spec):
        if duration_seconds(slo.window) < MIN_PERIOD:
            yield Finding(path + ("window",), f"SLO period {slo.window} is shorter than 1d",
                          "multiwindow burn-rate alerts need a period of at least 1d, e.g. 7d, 28d or 30d")
        for name in labels:
            if name in SLO_LABELS:
                yield Finding(path[:2] + ("labels", name), f"label '{name}' is set on SLO series by aimon-gen",
                              "choose another name", at_key=True)
    for i, s in enumerate(spec.slos):
        yield from _plain_selectors(("slos", i), s)
    for i, m in enumerate(spec.models):
        if m.slo and m.slo.latency:
            yield from _latency_bucket(("models", i, "slo", "latency", "threshold"), m.server, m.slo.latency)
        if m.slo and m.slo.availability is not None:
            yield from _availability(("models", i, "slo", "availability"), m.server)
        if m.slo and m.slo.triton_model and m.server != "triton":
            yield Finding(("models", i, "slo", "triton_model"),
                          f"triton_model applies to Triton servers, not {m.server}",
                          "remove it", at_key=True)
        if m.slo and m.slo.availability is not None and m.server == "triton" and not m.slo.triton_model:
            yield Finding(("models", i, "slo", "availability"),
                          "the SLO counts the requests of every model this Triton server hosts; an ensemble's "
                          "requests are counted again by each of its composing models",
                          "name the model clients call in slo.triton_model", warning=True)


def _declared(spec):
    for i, m in enumerate(spec.models):
        if m.slo:
            yield ("models", i, "slo"), m.slo, m.labels
    for i, p in enumerate(spec.pipelines):
        if p.slo:
            yield ("pipelines", i, "slo"), p.slo, p.labels
    for i, s in enumerate(spec.slos):
        yield ("slos", i), s, s.labels


def _plain_selectors(path, slo) -> Iterable:

    for key in ("good", "total"):
        if parse_selector(getattr(slo, key)) is None:
            yield Finding(path + (key,), f"{key} must be a plain counter selector such as "
                          'http_requests_total{job="api", code!~"5.."}',
                          "aimon-gen takes rate() over it for each window; put any sum into a recording rule")


def _availability(path, server) -> Iterable:

    if availability_sli(server) is None:
        yield Finding(path, f"a {server} model server counts no failed requests, so availability cannot be measured",
                      "remove availability from this SLO (a latency objective still works), or serve the model "
                      "with a server that has one (" + ", ".join(k for k in kinds.of_scope("models")
                                                              if availability_sli(k)) + ")")


def _latency_bucket(path, server, latency) -> Iterable:

    offered = latency_histograms(server)
    if not offered:
        yield Finding(path[:-2], f"a {server} model server exposes no request latency histogram",
                      "remove latency from this SLO, or serve the model with a server that has one ("
                      + ", ".join(k for k in kinds.of_scope("models") if latency_histograms(k)) + ")")
        return
    metric = latency_histogram(server, latency.metric)
    if metric is None:
        yield Finding(path[:-1] + ("metric",), f"a {server} model server has no {latency.metric} histogram",
                      f"choose one of: {', '.join(offered)}")
        return
    seconds = duration_seconds(latency.threshold)
    buckets = histogram_buckets(metric)
    bound = latency_bound(server, latency.metric, seconds)
    shown = ", ".join(_fmt_bucket(b) for b in buckets)
    if bound is None:
        yield Finding(path, f"latency threshold {latency.threshold} is not a bucket of {metric}; "
                      f"another bucket would measure a different SLO",
                      f"choose one of the declared buckets (seconds): {shown}")
    elif abs(bound - seconds) > 1e-9 * max(1.0, seconds):
        yield Finding(path, f"latency threshold {latency.threshold} falls between buckets of {metric}: "
                      f"the SLO counts requests faster than {_fmt_bucket(bound)}s (the largest bucket below it) as "
                      f"good",
                      f"write a bucket to say what is measured (seconds): {shown}", warning=True)


def _fmt_bucket(b: float) -> str:
    """The shortest decimal that names the bucket (TGI's are computed, e.g. 0.00015000000000000001)."""
    for digits in range(1, 18):
        text = f"{b:.{digits}g}"
        if abs(float(text) - b) <= 1e-12 * abs(b):   # float artefacts of 0.0001 * 1.5**k
            break
    if "e" in text:
        text = f"{float(text):.{max(0, digits - 1 - int(text.split('e')[1]))}f}"
    return text
