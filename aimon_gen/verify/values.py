"""What the simulated exporters report: healthy values, and how each fault changes them.

Names, types and labels come from the metric catalog; this module only says how much.
A metric the table does not know gets a neutral value (counters grow 1/s, gauges 1;
names that say error/failure/violation stay at 0), so a new catalog entry is served
at once and a rule that fires on a neutral value shows up as an unexpected alert.
"""

from __future__ import annotations

import itertools

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
# Per exporter kind, where a label name means something else there: vLLM's HTTP API
# (prometheus-fastapi-instrumentator groups status codes as 2xx/4xx/5xx).
KIND_LABEL_VALUES = {
    ("vllm", "status"): ("2xx", "5xx"),
    ("vllm", "handler"): ("/v1/chat/completions",),
    ("vllm", "method"): ("POST",),
}

GAUGES = {
    # dcgm-exporter
    "DCGM_FI_DEV_GPU_UTIL": 55, "DCGM_FI_DEV_MEM_COPY_UTIL": 30, "DCGM_FI_DEV_ENC_UTIL": 0,
    "DCGM_FI_DEV_DEC_UTIL": 0, "DCGM_FI_DEV_FB_USED": 30000, "DCGM_FI_DEV_FB_FREE": 50000,
    "DCGM_FI_DEV_FB_RESERVED": 500, "DCGM_FI_DEV_GPU_TEMP": 55, "DCGM_FI_DEV_MEMORY_TEMP": 60,
    "DCGM_FI_DEV_POWER_USAGE": 350, "DCGM_FI_DEV_POWER_MGMT_LIMIT": 700, "DCGM_FI_DEV_SM_CLOCK": 1755,
    "DCGM_FI_DEV_MEM_CLOCK": 2619, "DCGM_FI_DEV_XID_ERRORS": 0, "DCGM_FI_DEV_ROW_REMAP_FAILURE": 0,
    "DCGM_FI_DEV_ROW_REMAP_PENDING": 0,
    "DCGM_FI_PROF_GR_ENGINE_ACTIVE": 0.6, "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE": 0.4,
    "DCGM_FI_PROF_DRAM_ACTIVE": 0.5, "DCGM_FI_PROF_SM_ACTIVE": 0.6, "DCGM_FI_PROF_SM_OCCUPANCY": 0.4,
    "DCGM_EXP_XID_ERRORS_COUNT": 0, "DCGM_EXP_CLOCK_EVENTS_COUNT": 0, "DCGM_EXP_GPU_HEALTH_STATUS": 0,
    # vLLM
    "vllm:num_requests_running": 4, "vllm:num_requests_waiting": 0, "vllm:kv_cache_usage_perc": 0.3,
    "vllm:gpu_cache_usage_perc": 0.3,
    # Triton
    "nv_inference_pending_request_count": 0, "nv_gpu_utilization": 0.5,
    "nv_gpu_memory_total_bytes": 80e9, "nv_gpu_memory_used_bytes": 30e9, "nv_gpu_power_usage": 300,
    "nv_gpu_power_limit": 700, "nv_cpu_utilization": 0.3, "nv_cpu_memory_used_bytes": 8e9,
    # TGI
    "tgi_queue_size": 0, "tgi_batch_current_size": 4, "tgi_batch_current_max_tokens": 4096,
    # MinIO
    "minio_cluster_capacity_usable_free_bytes": 6e12, "minio_cluster_capacity_usable_total_bytes": 10e12,
    "minio_cluster_capacity_raw_free_bytes": 12e12, "minio_cluster_capacity_raw_total_bytes": 20e12,
    "minio_cluster_nodes_offline_total": 0, "minio_cluster_nodes_online_total": 4,
    "minio_cluster_drive_offline_total": 0, "minio_cluster_drive_online_total": 16,
    "minio_s3_requests_inflight_total": 3, "minio_s3_requests_waiting_total": 0,
    "minio_node_drive_latency_us": 800, "minio_node_drive_free_bytes": 1.5e12, "minio_node_drive_total_bytes": 2.5e12,
    # Ceph
    "ceph_health_status": 0, "ceph_osd_up": 1, "ceph_osd_in": 1, "ceph_cluster_total_bytes": 100e12,
    "ceph_cluster_total_used_bytes": 40e12, "ceph_pool_stored": 30e12, "ceph_pool_max_avail": 20e12,
    "ceph_osd_apply_latency_ms": 5, "ceph_osd_commit_latency_ms": 5, "ceph_pg_total": 128, "ceph_pg_degraded": 0,
}

RATES = {  # per second
    "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION": 350_000, "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL": 1e6,
    "DCGM_FI_PROF_PCIE_TX_BYTES": 1e8, "DCGM_FI_PROF_PCIE_RX_BYTES": 1e8,
    "vllm:prompt_tokens_total": 2000, "vllm:generation_tokens_total": 1000,
    "nv_inference_request_success": REQUESTS_PER_S, "nv_inference_count": REQUESTS_PER_S,
    "nv_inference_exec_count": REQUESTS_PER_S, "nv_energy_consumption": 300,
    "nv_inference_request_duration_us": REQUESTS_PER_S * 50_000, "nv_inference_queue_duration_us": REQUESTS_PER_S * 500,
    "nv_inference_compute_input_duration_us": REQUESTS_PER_S * 100,
    "nv_inference_compute_infer_duration_us": REQUESTS_PER_S * 45_000,
    "nv_inference_compute_output_duration_us": REQUESTS_PER_S * 100,
    "tgi_request_count": REQUESTS_PER_S, "tgi_request_success": REQUESTS_PER_S,
    "minio_s3_requests_total": REQUESTS_PER_S, "minio_s3_traffic_received_bytes": 1e7,
    "minio_s3_traffic_sent_bytes": 2e7, "minio_s3_requests_ttfb_seconds_distribution": REQUESTS_PER_S,
    "ceph_osd_op_r": 100, "ceph_osd_op_w": 50, "ceph_osd_op_r_out_bytes": 1e7, "ceph_osd_op_w_in_bytes": 5e6,
    "ceph_osd_op_r_latency_sum": 100 * 0.005, "ceph_osd_op_r_latency_count": 100,
    "ceph_osd_op_w_latency_sum": 50 * 0.01, "ceph_osd_op_w_latency_count": 50,
}

LATENCIES = {  # histogram -> healthy seconds per observation
    "vllm:e2e_request_latency_seconds": 0.25, "vllm:time_to_first_token_seconds": 0.05,
    "vllm:inter_token_latency_seconds": 0.02, "vllm:request_queue_time_seconds": 0.01,
    "vllm:request_inference_time_seconds": 0.2, "tgi_request_duration": 0.25,
    "tgi_request_queue_duration": 0.005, "tgi_request_validation_duration": 0.001,
    "tgi_request_inference_duration": 0.2, "tgi_request_mean_time_per_token_duration": 0.02,
}
# What "latency up" makes a model server report: seconds per request, above the default
# thresholds in rules/thresholds.yaml (vLLM e2e 30s, TTFT 2s, TGI 30s, Triton queue 100ms).
SLOW = {"vllm:e2e_request_latency_seconds": 60.0, "vllm:time_to_first_token_seconds": 5.0,
        "vllm:request_inference_time_seconds": 55.0, "tgi_request_duration": 60.0,
        "tgi_request_inference_duration": 59.0, "nv_inference_request_duration_us": 2.0,
        "nv_inference_queue_duration_us": 0.5, "nv_inference_compute_infer_duration_us": 1.5}
CUSTOM_SLOW = 2.0
_ERRORISH = ("error", "fail", "violation", "preemption", "remapped_rows", "replay", "retired", "degraded", "offline")

HOT_CELSIUS = 95
XID_CODE = 79


def catalog(kind: str) -> list:
    from ..catalog import exporter_metrics
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
    if kind == "vllm":
        return {"model_name": name}
    if kind == "triton":   # the model clients call, when the SLO names it
        return {"model": getattr(getattr(target.entry, "slo", None), "triton_model", None) or name}
    if kind == "s3":
        return {"server": target.address}
    return {}


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
    from ..compile.slo.sli import latency_histogram
    if slo is None or latency_histogram(target.kind, slo.metric) != name:
        return default
    from ..spec.types import duration_seconds
    return min(default, duration_seconds(slo.threshold) / 2)


def freshness_seconds(pipeline) -> float:
    from ..spec.types import duration_seconds
    return float(duration_seconds(pipeline.freshness)) if pipeline is not None else 3600.0
