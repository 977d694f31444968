"""What the simulated exporters report: healthy values, and how each fault changes them.

Names, types and labels come from the metric catalog; this module only says how much.
A metric the table does not know gets a neutral value (counters grow 1/s, gauges 1;
names that say error/failure/violation stay at 0), so a new catalog entry is served
at once and a rule that fires on a neutral value shows up as an unexpected alert.
"""

from __future__ import annotations

import itertools

from .. import kinds
from ..catalog import exporter_metrics
from ..sli import latency_histogram
from ..spec.types import duration_seconds

REQUESTS_PER_S = 10.0
CUSTOM_LATENCY = 0.04          # seconds, healthy
ACCURACY = 0.95
RECORDS_PER_RUN = 5000
PIPELINE_PERIOD_S = 5.0

# Values for label names that are not a device's identity.
LABEL_VALUES = {
    "finished_reason": ("stop", "length", "abort"),
    "reason": ("BACKEND", "REJECTED"),
    "err": ("validation", "generation"),
    "stage": ("extract", "transform", "load"),
    "status": ("success", "error"),          # ml_inference_requests_total (the custom contract)
    "api": ("GetObject", "PutObject"),
    "drive": ("/data1",),
    "ceph_daemon": ("osd.0", "osd.1"),
    "pool_id": ("1",),
    "xid": ("79",),
    "clock_event": ("hw_slowdown",),
    "le": ("0.05", "0.1", "0.5", "1", "+Inf"),
    "cpu": ("0",),
    "mode": ("idle",),
    "engine": ("0",),
    "version": ("1",),
    "gpu_uuid": ("GPU-7c1f0a2e-3b44-4d5e-9f60-1a2b3c4d5e6f",),
}


def _tables(key: str) -> dict:
    """One verify table of every kind in kinds.yaml, merged: metric names are unique across kinds."""
    return {name: value for k in kinds.KINDS for name, value in (kinds.kind(k).verify.get(key) or {}).items()}


# Per exporter kind, where a label name means something else there (vLLM's HTTP API).
KIND_LABEL_VALUES = {(k, label): tuple(str(v) for v in values) for k in kinds.KINDS
                     for label, values in (kinds.kind(k).verify.get("labels") or {}).items()}
GAUGES = _tables("gauges")
RATES = _tables("rates")   # per second
LATENCIES = _tables("latencies")   # histogram -> healthy seconds per observation
# What "latency up" makes a model server report: seconds per request, above the default
# thresholds in rules/thresholds.yaml.
SLOW = _tables("slow")
# What "error ratio up" makes a counter grow by (per second), for kinds whose error
# counters need no label-dependent split (the ones in rate() below do).
FAILING = _tables("failing")
CUSTOM_SLOW = 2.0
_ERRORISH = ("error", "fail", "violation", "preemption", "remapped_rows", "replay", "retired", "degraded", "offline")

HOT_CELSIUS = 95
XID_CODE = 79


def catalog(kind: str) -> list:
    return [m for m in exporter_metrics(kind).values() if m.emitted and not m.synthetic]


def label_names(kind: str, info) -> list[str]:
    names = list(info.labels)
    if kind == "dcgm_exporter" and "gpu" not in names:
        # exporter-computed series (xid, clock events) are per GPU too
        names = ["gpu", "UUID", "pci_bus_id", "device", "modelName", "Hostname"] + names
    return names


def label_sets(kind, info, names, identity, target):
    """Every label set a metric is served with for one device."""
    fixed = {**_target_identity(kind, target), **identity}
    free = [n for n in names if n not in fixed]
    choices = [KIND_LABEL_VALUES.get((kind, n)) or LABEL_VALUES.get(n, ("a",)) for n in free]
    for combo in itertools.product(*choices):
        yield {n: fixed[n] if n in fixed else combo[free.index(n)] for n in names}


def _target_identity(kind, target) -> dict:
    name = getattr(target.entry, "name", "")
    if kind == "triton":   # the model clients call, when the SLO names it
        return {"model": getattr(getattr(target.entry, "slo", None), "triton_model", None) or name}
    source = {"name": name, "address": target.address}
    return {label: source[what] for label, what in (kinds.kind(kind).verify.get("identity") or {}).items()}


def gauge(target, name: str, labels: dict, device: int, now: float) -> float:
    faults = target.faults
    if name == "DCGM_FI_DEV_GPU_TEMP" and "gpu_hot" in faults:
        return HOT_CELSIUS
    if device == 0 and "xid_error" in faults:
        if name == "DCGM_FI_DEV_XID_ERRORS":
            return XID_CODE
        if name == "DCGM_EXP_XID_ERRORS_COUNT":
            return 1
    if "latency_up" in faults and name in ("vllm:num_requests_waiting", "nv_inference_pending_request_count",
                                           "tgi_queue_size"):
        return 0  # slow, not queued: the fault is the server's own time
    if name in GAUGES:
        return float(GAUGES[name])
    if "timestamp" in name:
        return now
    return 0.0 if any(w in name.lower() for w in _ERRORISH) else 1.0


def rate(target, name: str, labels: dict, device: int) -> float:
    faults = target.faults
    failing = "error_ratio_up" in faults
    if name in ("nv_inference_request_failure", "tgi_request_failure"):
        first = labels.get("reason", labels.get("err")) in ("BACKEND", "generation")
        return REQUESTS_PER_S / 2 if failing and first else 0.0
    if name in ("nv_inference_request_success", "tgi_request_success") and failing:
        return REQUESTS_PER_S / 2
    if name == "ml_inference_requests_total":   # status="error" are the failures
        if labels.get("status") == "error":
            return REQUESTS_PER_S / 2 if failing else 0.0
        return REQUESTS_PER_S / 2 if failing else REQUESTS_PER_S
    if name == "vllm:request_success_total":
        # Failed requests never finish: they show as 5xx in http_requests_total only. Aborts
        # are clients cancelling, a small steady share.
        reason = labels.get("finished_reason")
        if reason == "abort":
            return REQUESTS_PER_S * 0.02
        return (REQUESTS_PER_S / 2 if failing else REQUESTS_PER_S) * (0.8 if reason == "stop" else 0.2)
    if name == "http_requests_total" and target.kind == "vllm":
        if labels.get("status") == "5xx":
            return REQUESTS_PER_S / 2 if failing else 0.0
        return REQUESTS_PER_S / 2 if failing else REQUESTS_PER_S
    if name in FAILING and failing:
        return float(FAILING[name])
    if name in SLOW and "latency_up" in faults:
        return REQUESTS_PER_S * SLOW[name] * 1e6   # Triton: cumulative microseconds
    if name in RATES:
        return float(RATES[name])
    if target.kind == "dcgm_exporter":
        return 0.0   # DCGM counters not listed are error counters (ECC, NVLink, retired pages)
    return 0.0 if any(w in name.lower() for w in _ERRORISH) else 1.0


def observations(target, name: str, labels: dict, device: int) -> tuple[float, float]:
    """(observations per second, seconds each) of a histogram."""
    if name in SLOW and "latency_up" in target.faults:
        return REQUESTS_PER_S, SLOW[name]
    return REQUESTS_PER_S, healthy_latency(target, name, LATENCIES.get(name, 0.01))


def healthy_latency(target, name: str, default: float) -> float:
    """Healthy latency, kept under the model's latency SLO threshold so a healthy run burns no budget."""
    slo = getattr(getattr(target.entry, "slo", None), "latency", None)
    if slo is None or latency_histogram(target.kind, slo.metric) != name:
        return default
    return min(default, duration_seconds(slo.threshold) / 2)


def freshness_seconds(pipeline) -> float:
    return float(duration_seconds(pipeline.freshness)) if pipeline is not None else 3600.0
