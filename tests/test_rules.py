"""Rule packs -> alert/recording rules and their promtool tests: compiler-level behaviour."""

from __future__ import annotations

import pytest
import yaml

from aimon_gen.build import generate
from aimon_gen.errors import SpecInvalid
from conftest import EXAMPLE

GPU2 = """
version: 1
name: t
node_groups:
  - name: a
    hosts: [a1.internal]
    gpu: {model: H100, count: 8}
    thresholds:
      gpu_utilization_high: 95
  - name: b
    hosts: [b1.internal]
    gpu: {model: A100, count: 4}
  - name: cpu
    hosts: [c1.internal]
"""


def _rules(files, name="alert.rules.yml"):
    return [r for g in yaml.safe_load(files[name])["groups"] for r in g["rules"]]


def _groups(files, name="alert.rules.yml"):
    return {g["name"]: g["rules"] for g in yaml.safe_load(files[name])["groups"]}


def test_example_alerts_carry_severity_summary_description_runbook():
    files, _, loaded = generate(EXAMPLE)
    alerts = _rules(files)
    assert len(alerts) > 40
    base = loaded.spec.rules.runbook_base_url
    for rule in alerts:
        if rule["alert"] == "Watchdog":   # the heartbeat: always firing, compares nothing, pages nobody
            assert rule["labels"]["severity"] == "none" and rule["expr"] == "vector(1)"
            continue
        assert rule["labels"]["severity"] in ("critical", "warning", "info")
        ann = rule["annotations"]
        assert ann["summary"] and ann["runbook_url"] == f"{base}/{rule['alert']}"
        assert "$value" in ann["description"] and "threshold" in ann["description"], rule["alert"]


def test_only_groups_for_exporters_the_spec_uses():
    files, _, _ = generate(EXAMPLE)
    groups = _groups(files)
    # The example has GPUs, nodes, a vLLM, an SGLang and a custom model, a pipeline and S3 storage.
    # Prometheus sends alerts (prometheus-alerting, alertmanager) and writes remotely (prometheus-remote-write).
    assert {"gpu", "node", "models", "vllm", "sglang", "pipelines", "storage-s3", "prometheus", "prometheus-alerting",
            "prometheus-remote-write", "alertmanager"} == set(groups)
    text = files["alert.rules.yml"].decode()
    assert "nv_inference" not in text and "tgi_" not in text and "ceph_" not in text


def test_seed_alerts_keep_their_meaning(write_spec):
    files, _, _ = generate(EXAMPLE)
    alerts = {r["alert"]: r for r in _rules(files)}
    # The seed's GPU alert keeps its expression; its severity follows the node group's
    # workload: off for the example's training pool, a warning for an inference pool.
    assert "HighGPUUtilization" not in alerts
    serving, _, _ = generate(write_spec(EXAMPLE.read_text().replace("workload: training", "workload: inference")))
    gpu = {r["alert"]: r for r in _rules(serving)}["HighGPUUtilization"]
    assert gpu["expr"] == 'avg_over_time(DCGM_FI_DEV_GPU_UTIL{job="dcgm_exporter", node_group="h100-train"}[5m]) > 90'
    assert gpu["for"] == "5m" and gpu["labels"]["severity"] == "warning"
    lat = alerts["HighInferenceLatency"]
    assert "histogram_quantile(0.99" in lat["expr"] and lat["expr"].endswith("> 0.5") and lat["for"] == "2m"
    stalled = alerts["DataPipelineStalled"]
    assert "max_over_time(data_pipeline_last_successful_run_timestamp" in stalled["expr"]
    assert stalled["expr"].endswith("> 3600") and stalled["labels"]["severity"] == "critical"


def test_override_gets_its_own_rule_and_the_default_excludes_it(write_spec):
    files, _, _ = generate(write_spec(GPU2))
    rules = [r for r in _rules(files) if r["alert"] == "HighGPUUtilization"]
    assert len(rules) == 2
    default, scoped = rules
    assert 'node_group!="a"' in default["expr"] and default["expr"].endswith("> 90")
    assert 'node_group="a"' in scoped["expr"] and scoped["expr"].endswith("> 95")
    assert scoped["labels"]["node_group"] == "a" and "node_group" not in default["labels"]


def test_disabled_scope_gets_no_rule(write_spec):
    spec = GPU2.replace("gpu_utilization_high: 95", "gpu_temperature_warning: {enabled: false}")
    files, _, _ = generate(write_spec(spec))
    temp = [r for r in _rules(files) if r["alert"] == "GPUTemperatureHigh"]
    assert len(temp) == 1 and 'node_group!="a"' in temp[0]["expr"]


def test_gpu_missing_compares_each_group_with_its_own_count(write_spec):
    files, _, _ = generate(write_spec(GPU2))
    missing = {r["labels"]["node_group"]: r["expr"] for r in _rules(files) if r["alert"] == "GPUMissing"}
    assert set(missing) == {"a", "b"}
    assert missing["a"].endswith("<= 7") and missing["b"].endswith("<= 3")


def test_no_gpu_no_gpu_rules_and_no_counters_csv(write_spec):
    files, _, _ = generate(write_spec("""
        version: 1
        name: t
        node_groups: [{name: cpu, hosts: [c1.internal]}]
    """))
    assert "gpu" not in _groups(files) and "dcgm-counters.csv" not in files
    assert "node" in _groups(files)


def test_counters_csv_enables_the_off_by_default_fields_rules_read():
    files, _, _ = generate(EXAMPLE)
    csv = files["dcgm-counters.csv"].decode()
    fields = {line.split(",")[0] for line in csv.splitlines() if line and not line.startswith("#")}
    text = files["alert.rules.yml"].decode()
    for field in ("DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "DCGM_FI_DEV_THERMAL_VIOLATION", "DCGM_FI_DEV_ROW_REMAP_PENDING",
                  "DCGM_EXP_XID_ERRORS_COUNT"):
        assert field in text and field in fields
    assert "DCGM_FI_DEV_GPU_UTIL" in fields


def test_disabled_rule_names_are_left_out_and_unknown_ones_warned(write_spec):
    spec = GPU2 + "rules:\n  disabled: [HighGPUUtilization, node_group:gpu_utilization:avg, HighGPUUtilisation]\n"
    files, _, loaded = generate(write_spec(spec))
    assert "HighGPUUtilization" not in files["alert.rules.yml"].decode()
    assert "node_group:gpu_utilization:avg" not in files["recording.rules.yml"].decode()
    warnings = [str(w) for w in loaded.warnings if "HighGPUUtilisation" in str(w)]
    assert warnings and "did you mean 'HighGPUUtilization'" in warnings[0]


def test_runbook_base_url_from_the_spec(write_spec):
    files, _, _ = generate(write_spec(GPU2 + "rules: {runbook_base_url: 'https://wiki.example.org/rb/'}\n"))
    urls = {r["annotations"]["runbook_url"] for r in _rules(files)}
    assert "https://wiki.example.org/rb/GPUMissing" in urls


@pytest.mark.e2e  # slow
def test_every_alert_rule_has_a_firing_and_a_quiet_test():
    files, _, _ = generate(EXAMPLE)
    groups = [t for path, body in files.items() if path.endswith(".test.yml") and path != "tests/slo.test.yml"
              for t in yaml.safe_load(body)["tests"]]
    for rule in _rules(files):
        name, labels = rule["alert"], rule["labels"]
        scoped = {k: v for k, v in labels.items() if k in ("node_group", "pipeline", "model", "storage")}
        fired = [(g, c) for g in groups for c in g["alert_rule_test"] if c["alertname"] == name and c["exp_alerts"]
                 and all(c["exp_alerts"][0]["exp_labels"].get(k) == v for k, v in scoped.items())]
        assert fired, f"{name} {scoped} has no firing test"
        group, check = fired[0]
        assert check["exp_alerts"][0]["exp_labels"]["severity"] == labels["severity"]
        # Quiet: a second target inside the threshold in the same group (the exact expected
        # list proves it silent), or a group of its own expecting nothing at that time.
        quiet_target = any('instance="quiet.' in s["series"] for s in group["input_series"])
        quiet_group = any(c["alertname"] == name and c["exp_alerts"] == [] and c["eval_time"] == check["eval_time"]
                          for g in groups for c in g["alert_rule_test"])
        assert quiet_target or quiet_group, f"{name} has no quiet test"
        if rule.get("for"):
            assert any(c["alertname"] == name and c["exp_alerts"] == [] for c in group["alert_rule_test"]), name


@pytest.mark.e2e  # builds every spec twice (slow)
def test_output_is_deterministic():
    first, _, _ = generate(EXAMPLE)
    second, _, _ = generate(EXAMPLE)
    for path in ("alert.rules.yml", "recording.rules.yml", "tests/gpu.test.yml", "dcgm-counters.csv"):
        assert first[path] == second[path]


def test_latency_threshold_above_every_bucket_is_an_error(write_spec):
    with pytest.raises(SpecInvalid) as exc:
        generate(write_spec("""
            version: 1
            name: t
            models: [{name: m, server: custom, targets: [m1.internal:8080]}]
            thresholds: {inference_latency_p99_high: 60}
        """))
    problem = [p for p in exc.value.problems if "could never fire" in p.message][0]
    assert problem.path == "thresholds.inference_latency_p99_high" and problem.line == 4


def test_threshold_set_where_no_alert_uses_it_is_warned(write_spec):
    spec = GPU2.replace("gpu_utilization_high: 95", "inference_latency_p99_high: 1")
    _, _, loaded = generate(write_spec(spec))
    found = [w for w in loaded.warnings if "inference_latency_p99_high" in str(w)]
    assert found and "has no effect on node_groups" in found[0].message and found[0].line == 8


def test_a_second_threshold_read_by_limit_is_overridden_per_entry(write_spec):
    # An error ratio's traffic floor (inference_error_min_rate, read with limit()) set on one
    # model gives that model its own rule; the other keeps the default floor.
    spec = write_spec("""
version: 1
name: t
models:
  - {name: busy, server: custom, targets: [a:8080]}
  - {name: quiet, server: custom, targets: [b:8080], thresholds: {inference_error_min_rate: 2}}
""")
    files, _, _ = generate(spec)
    rules = [r for r in _rules(files) if r["alert"] == "InferenceErrorRatioHigh"]
    floors = {r["labels"].get("model", "default"): r["expr"].rsplit(">=", 1)[1].strip() for r in rules}
    assert floors == {"default": "0.2", "quiet": "2"}
    assert 'model!="quiet"' in next(r["expr"] for r in rules if "model" not in r["labels"])
