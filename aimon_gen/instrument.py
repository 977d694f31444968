"""Expose the custom-exporter contract from your own model server or pipeline.

aimon-gen's rules, SLOs and dashboards read these exact series from `server: custom`
models (job ml_inference) and from pipelines (job pipelines); the metric catalog files
`aimon_gen/catalog/custom.yaml` and `pipeline.yaml` are the reference and a test keeps
this module equal to them. Only `prometheus_client` is needed, no web framework:

    from aimon_gen.instrument import ModelMetrics, serve
    metrics = ModelMetrics()
    with metrics.time_request():          # counts and times the request; an exception is status="error"
        predict(x)
    metrics.set_accuracy(0.94)
    serve(8000)                           # or mount metrics.registry in your own app

Do not add a `model` or `pipeline` label: Prometheus attaches them from the target.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

# Defaults of prometheus_client's Histogram: latency SLO thresholds must be one of them.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
RUN_BUCKETS = (1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0, 14400.0, 43200.0, 86400.0)
STAGE_BUCKETS = (0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 600.0, 1800.0, 3600.0)


def _registry(registry):
    from prometheus_client import CollectorRegistry
    return registry if registry is not None else CollectorRegistry()


# The only values of ml_inference_requests_total's `status` label.
SUCCESS, ERROR = "success", "error"


class ModelMetrics:
    """ml_inference_requests_total{status="success"|"error"}, ml_inference_latency_seconds
    (histogram), ml_model_accuracy."""

    def __init__(self, registry=None):
        from prometheus_client import Counter, Gauge, Histogram

        self.registry = _registry(registry)
        # prometheus_client adds `_total` to counters itself.
        self.requests = Counter("ml_inference_requests", 'Inference requests served, by outcome: '
                                'status="success" or status="error".', ["status"], registry=self.registry)
        self.latency = Histogram("ml_inference_latency_seconds", "Time to serve one inference request.",
                                 buckets=LATENCY_BUCKETS, registry=self.registry)
        self.accuracy = Gauge("ml_model_accuracy", "The model's latest measured accuracy (0-1).",
                              registry=self.registry)
        for status in (SUCCESS, ERROR):  # present from the start, so error ratios are 0, not absent
            self.requests.labels(status=status)

    def observe(self, seconds: float, error: bool = False) -> None:
        """One request that took `seconds`; `error=True` counts it as status="error"."""
        self.requests.labels(status=ERROR if error else SUCCESS).inc()
        self.latency.observe(seconds)

    @contextmanager
    def time_request(self):
        """Time the block as one request; an exception counts it as status="error" and is re-raised."""
        start = time.perf_counter()
        try:
            yield
        except BaseException:
            self.observe(time.perf_counter() - start, error=True)
            raise
        self.observe(time.perf_counter() - start)

    def set_accuracy(self, ratio: float) -> None:
        self.accuracy.set(ratio)


class PipelineMetrics:
    """data_pipeline_last_successful_run_timestamp, data_pipeline_records_processed_total,
    data_pipeline_failures_total{stage}, data_pipeline_runs_total,
    data_pipeline_run_duration_seconds, data_pipeline_stage_duration_seconds{stage}."""

    def __init__(self, registry=None, stages: tuple[str, ...] = ()):
        from prometheus_client import Counter, Gauge, Histogram

        self.registry = _registry(registry)
        self.last_success = Gauge("data_pipeline_last_successful_run_timestamp",
                                  "Unix time (seconds) at which the last run finished successfully.",
                                  registry=self.registry)
        self.records = Counter("data_pipeline_records_processed", "Records processed by successful work.",
                               registry=self.registry)
        self.failures = Counter("data_pipeline_failures", "Runs (or stages) that failed.", ["stage"],
                                registry=self.registry)
        self.runs = Counter("data_pipeline_runs", "Runs started.", registry=self.registry)
        self.run_duration = Histogram("data_pipeline_run_duration_seconds", "Wall time of one whole run.",
                                      buckets=RUN_BUCKETS, registry=self.registry)
        self.stage_duration = Histogram("data_pipeline_stage_duration_seconds", "Wall time of one stage of a run.",
                                        ["stage"], buckets=STAGE_BUCKETS, registry=self.registry)
        for stage in stages:
            self.failures.labels(stage=stage)

    def run_started(self) -> None:
        self.runs.inc()

    def stage_done(self, stage: str, seconds: float) -> None:
        self.stage_duration.labels(stage=stage).observe(seconds)

    def stage_failed(self, stage: str) -> None:
        self.failures.labels(stage=stage).inc()

    def run_succeeded(self, records: int, seconds: float, at: float | None = None) -> None:
        """A whole run finished: `records` processed in `seconds`, at unix time `at` (now)."""
        self.records.inc(records)
        self.run_duration.observe(seconds)
        self.last_success.set(time.time() if at is None else at)

    @contextmanager
    def stage(self, name: str):
        """Time a stage; an exception counts as a failure of that stage."""
        start = time.perf_counter()
        try:
            yield
        except BaseException:
            self.stage_failed(name)
            raise
        self.stage_done(name, time.perf_counter() - start)


def serve(port: int, registry=None, addr: str = "0.0.0.0"):
    """Serve /metrics of `registry` (default: prometheus_client's global one) in a thread."""
    from prometheus_client import REGISTRY, start_http_server
    return start_http_server(port, addr=addr, registry=registry if registry is not None else REGISTRY)
