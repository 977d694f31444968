"""Metric catalogs: loadable, sourced, names as the exporters expose them."""

from __future__ import annotations

import pytest

from aimon_gen import catalog
from aimon_gen.spec.load import load_spec
from conftest import EXAMPLE


@pytest.mark.parametrize("kind", catalog.KINDS)
def test_every_metric_has_type_help_and_source(kind):
    metrics = catalog.exporter_metrics(kind)
    assert metrics
    for name, info in metrics.items():
        assert info.type in catalog.TYPES
        assert info.help and info.unit, name
        repo, _, file = info.source.partition(": ")
        assert repo and file, f"{name} has no source"
        if info.type == "histogram":
            assert info.buckets, f"histogram {name} declares no buckets"


def test_counter_suffixes_follow_the_real_exporters():
    vllm = catalog.exporter_metrics("vllm")
    assert all(n.endswith("_total") for n, i in vllm.items() if i.type == "counter")
    for kind in ("triton", "tgi"):
        assert not any(n.endswith("_total") for n in catalog.exporter_metrics(kind))


def test_custom_latency_buckets_hold_the_slo_thresholds():
    buckets = catalog.histogram_buckets("ml_inference_latency_seconds_bucket")
    for le in (0.1, 0.25, 0.5, 1.0, 2.5):
        assert le in buckets


def test_tgi_buckets_are_the_routers_geometric_series():
    buckets = catalog.histogram_buckets("tgi_request_duration")
    assert len(buckets) == 35
    assert buckets[0] == 0.0001 * 1.5
    assert all(b2 > b1 for b1, b2 in zip(buckets, buckets[1:]))


def test_histogram_buckets_rejects_non_histograms():
    with pytest.raises(KeyError):
        catalog.histogram_buckets("DCGM_FI_DEV_GPU_UTIL")


def test_emitted_metrics_of_the_example_follow_its_exporters():
    spec = load_spec(EXAMPLE).spec
    names = catalog.emitted_metrics(spec)
    assert "DCGM_FI_DEV_GPU_UTIL" in names                      # dcgm default field
    assert "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL" in names             # enabled by aimon-gen's CSV
    assert "DCGM_FI_DEV_RETIRED_SBE" not in names               # off by default, not enabled
    assert "vllm:e2e_request_latency_seconds_bucket" in names   # histogram expanded
    assert "vllm:e2e_request_latency_seconds" not in names
    assert "ml_inference_requests_total" in names
    assert "nv_inference_request_success" not in names          # no Triton model in the example
    assert "ceph_health_status" not in names
    assert "up" in names and "prometheus_tsdb_head_series" in names


def test_counters_csv_enables_only_what_is_asked():
    csv = catalog.dcgm_counters_csv(["DCGM_FI_DEV_ECC_DBE_VOL_TOTAL"])
    fields = [line.split(",")[0] for line in csv.splitlines() if line and not line.startswith("#")]
    assert "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL" in fields
    assert "DCGM_FI_DEV_GPU_UTIL" in fields
    assert "DCGM_FI_DEV_ECC_SBE_AGG_TOTAL" not in fields
    assert all(len(line.split(",")) == 3 for line in csv.splitlines() if not line.startswith("#"))
