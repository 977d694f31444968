"""aimon_gen.instrument exposes exactly the custom-exporter contract of the metric
catalog (custom.yaml, pipeline.yaml), and the example server built on it works."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from aimon_gen.catalog import exporter_metrics
from aimon_gen.instrument import ModelMetrics, PipelineMetrics

from aimon_gen.verify.stack import free_port
from conftest import ROOT


def _families(registry) -> dict:
    text = generate_latest(registry).decode()
    return {f.name: f for f in text_string_to_metric_families(text)}, text


def _assert_contract(registry, kind: str, text_must_have=()):
    fams, text = _families(registry)
    catalog = exporter_metrics(kind)
    exposed = {}
    for f in fams.values():
        for s in f.samples:
            if not s.name.endswith("_created"):
                exposed.setdefault(s.name, set()).update(set(s.labels) - {"le"})
    want = {series for info in catalog.values() for series in info.series}
    assert set(exposed) == want, (set(exposed) ^ want)
    for info in catalog.values():
        for series in info.series:
            assert exposed[series] == set(info.labels), (series, exposed[series], info.labels)
        fam = fams[info.name[:-6] if info.name.endswith("_total") else info.name]
        assert fam.type == info.type, info.name
        if info.type == "histogram":
            les = sorted({float(s.labels["le"]) for s in fam.samples if s.name.endswith("_bucket")})
            assert les == sorted(list(info.buckets) + [float("inf")]), info.name
    for needle in text_must_have:
        assert needle in text


def test_model_metrics_are_the_catalog_contract():
    m = ModelMetrics()
    m.observe(0.03)
    m.observe(0.7, error=True)
    m.observe(0.04)
    m.set_accuracy(0.9)
    _assert_contract(m.registry, "custom", ['ml_inference_requests_total{status="error"} 1.0',
                                            'ml_inference_requests_total{status="success"} 2.0',
                                            "ml_model_accuracy 0.9",
                                            'ml_inference_latency_seconds_bucket{le="0.05"} 2.0'])


def test_status_takes_exactly_success_and_error_from_the_start():
    """Both values exist at 0 before any request, so an error ratio reads 0, not nothing."""
    fams, _ = _families(ModelMetrics().registry)
    samples = [s for s in fams["ml_inference_requests"].samples if s.name == "ml_inference_requests_total"]
    assert sorted((s.labels["status"], s.value) for s in samples) == [("error", 0.0), ("success", 0.0)]


def test_time_request_counts_an_exception_as_an_error():
    m = ModelMetrics()
    try:
        with m.time_request():
            raise KeyError("x")
    except KeyError:
        pass
    _, text = _families(m.registry)
    assert 'ml_inference_requests_total{status="error"} 1.0' in text
    assert 'ml_inference_requests_total{status="success"} 0.0' in text


def test_pipeline_metrics_are_the_catalog_contract():
    p = PipelineMetrics(stages=("extract", "load"))
    p.run_started()
    with p.stage("extract"):
        pass
    try:
        with p.stage("load"):
            raise OSError("disk")
    except OSError:
        pass
    p.run_succeeded(records=120, seconds=42.0, at=1_700_000_000)
    _assert_contract(p.registry, "pipeline", ['data_pipeline_failures_total{stage="load"} 1.0',
                                              "data_pipeline_last_successful_run_timestamp 1.7e+09",
                                              "data_pipeline_records_processed_total 120.0"])


def test_example_server_serves_predictions_and_the_contract():
    port, mport = free_port(), free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "examples" / "custom_model_server.py"),
                             "--port", str(port), "--metrics-port", str(mport)])
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                req = urllib.request.Request(f"http://127.0.0.1:{port}/predict", data=json.dumps({"x": [1, 3]}).encode())
                assert json.loads(urllib.request.urlopen(req, timeout=5).read()) == {"score": 2.0}
                break
            except OSError:
                assert time.monotonic() < deadline, "example server did not start"
                time.sleep(0.2)
        bad = urllib.request.Request(f"http://127.0.0.1:{port}/predict", data=b'{"x": []}')
        try:
            urllib.request.urlopen(bad, timeout=5)
        except urllib.error.HTTPError as exc:
            assert exc.code == 400
        text = urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=5).read().decode()
        assert 'ml_inference_requests_total{status="success"} 1.0' in text
        assert 'ml_inference_requests_total{status="error"} 1.0' in text
        assert "ml_model_accuracy 0.93" in text
    finally:
        proc.terminate()
        proc.wait(10)


def test_readme_documents_the_contract_exactly():
    """The README's contract table and bucket lists say what the catalog says."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Custom exporters: the metric contract", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = (cells[1], cells[2])
    want = {}
    for kind in ("custom", "pipeline"):
        for info in exporter_metrics(kind).values():
            labels = ", ".join(f"`{l}`" for l in info.labels) or "-"
            want[info.name] = (info.type, labels)
            if info.type == "histogram":
                listed = f"- `{info.name}`: " + ", ".join(str(b) for b in info.buckets)
                assert listed in section, f"README buckets of {info.name} differ from the catalog"
    assert rows == want
