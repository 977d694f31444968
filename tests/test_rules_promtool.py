"""The generated rules and their unit tests through the real promtool."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from aimon_gen.build import generate
from conftest import EXAMPLE, tool

pytestmark = pytest.mark.e2e  # every test runs promtool on a full build's rules and tests

ALL_KINDS = """
version: 1
name: all-kinds
node_groups:
  - name: gpu.a
    hosts: ["g[1:2].internal"]
    gpu: {model: A100, count: 4}
    labels: {team: research}
    thresholds:
      gpu_utilization_high: 95
      gpu_missing: {value: 2, severity: warning}
  - name: gpu-b
    hosts: [h1.internal]
    gpu: {model: H100, count: 8}
    thresholds:
      gpu_utilization_high: 95
      gpu_temperature_warning: {enabled: false}
  - name: cpu
    hosts: [c1.internal]
  - name: gpu-one  # one GPU: GPUMissing's test must fire with none reporting (only `up` left)
    hosts: [o1.internal]
    gpu: {model: L4, count: 1}
models:
  - {name: llm, server: vllm, targets: [v1.internal:8000]}
  - {name: tri, server: triton, targets: [t1.internal:8002], thresholds: {triton_queue_time_high: 250}}
  - {name: gen, server: tgi, targets: [t2.internal:3000]}
  - {name: cls, server: custom, targets: [c1.internal:8080], thresholds: {inference_latency_p99_high: 0.3}}
pipelines:
  - {name: etl, targets: [c1.internal:9108], freshness: 2h}
  - {name: feat, targets: [c1.internal:9109], freshness: 30m, thresholds: {pipeline_stalled: 1.5}}
storage:
  - {name: s3a, kind: s3, targets: [m1.internal]}
  - {name: cephy, kind: ceph, targets: [ceph1.internal]}
"""


def stage(files: dict, folder: Path) -> list[str]:
    """Write the rule files and this module's tests; return the test paths."""
    for path, body in files.items():
        if path.endswith(".rules.yml") or path.startswith("tests/"):
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).write_bytes(body)
    return sorted(p for p in files if p.startswith("tests/") and p.endswith(".test.yml") and p != "tests/slo.test.yml")


def promtool(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([tool("promtool"), *args], cwd=folder, capture_output=True, text=True)


def assert_rules_and_tests_pass(files: dict, folder: Path) -> None:
    tests = stage(files, folder)
    check = promtool(folder, "check", "rules", "--lint-fatal", "alert.rules.yml", "recording.rules.yml")
    assert check.returncode == 0, check.stdout + check.stderr
    run = promtool(folder, "test", "rules", *tests)
    assert run.returncode == 0, run.stdout + run.stderr


def test_example_rules_pass_promtool(tmp_path):
    files, _, _ = generate(EXAMPLE)
    assert_rules_and_tests_pass(files, tmp_path)


def test_every_server_and_storage_kind_passes_promtool(tmp_path, write_spec):
    files, _, _ = generate(write_spec(ALL_KINDS))
    groups = {g["name"] for g in yaml.safe_load(files["alert.rules.yml"])["groups"]}
    assert {"triton", "tgi", "storage-ceph", "storage-s3", "vllm", "models"} <= groups
    assert_rules_and_tests_pass(files, tmp_path)


def test_label_values_with_quotes_backslashes_and_newlines(tmp_path, write_spec):
    # The spec's label values reach the test inputs as PromQL strings and the expected
    # labels as YAML; promtool proves both are exact.
    # (Label values are one line: a newline is a spec error, see test_spec_yaml_edges.)
    spec = ALL_KINDS.replace("labels: {team: research}", 'labels: {team: "we \\"quote\\" \\\\ back {{ x }}"}')
    files, _, loaded = generate(write_spec(spec))
    assert loaded.spec.node_groups[0].labels["team"] == 'we "quote" \\ back {{ x }}'
    gpu_tests = yaml.safe_load(files["tests/gpu.test.yml"])["tests"]
    labels = gpu_tests[0]["alert_rule_test"][-1]["exp_alerts"][0]["exp_labels"]
    assert labels["team"] == 'we "quote" \\ back {{ x }}'
    assert_rules_and_tests_pass(files, tmp_path)


def test_spec_label_values_in_slo_alerts_round_trip_through_prometheus_templates(tmp_path, write_spec):
    """Alert labels are Go templates: a spec value that looks like one comes back as written,
    and one that would end a PromQL string in the SLO tests stays one value (promtool proves it)."""
    spec = """
    version: 1
    name: esc
    models:
      - name: m1
        server: custom
        targets: [c1.internal:8080]
        labels: {team: "{{ $labels.instance }}", owner: 'x", evil="1', back: 'a\\b', brace: "{{"}
        slo: {availability: 99.9}
    """
    files, _, _ = generate(write_spec(spec))
    missing = [r for g in yaml.safe_load(files["slo.rules.yml"])["groups"] for r in g["rules"]
               if r.get("alert") == "SLOSeriesMissing"][0]
    assert missing["labels"]["team"] == '{{ "{{" }} $labels.instance }}'
    (tmp_path / "tests").mkdir()
    for path in ("slo.rules.yml", "tests/slo.test.yml"):
        (tmp_path / path).write_bytes(files[path])
    run = promtool(tmp_path, "test", "rules", "tests/slo.test.yml")
    assert run.returncode == 0, run.stdout + run.stderr
    assert 'owner="x\\", evil=\\"1"' in files["tests/slo.test.yml"].decode()


def _run_case(folder: Path, series: list[tuple[str, str]], eval_time: str, expected: list[dict]) -> str:
    test = {"rule_files": ["alert.rules.yml"], "evaluation_interval": "1m",
            "tests": [{"interval": "1m", "input_series": [{"series": s, "values": v} for s, v in series],
                       "alert_rule_test": [{"eval_time": eval_time, "alertname": "HighGPUUtilization",
                                            "exp_alerts": expected}]}]}
    (folder / "case.test.yml").write_text(yaml.safe_dump(test))
    run = promtool(folder, "test", "rules", "case.test.yml")
    return "" if run.returncode == 0 else run.stdout + run.stderr


def test_threshold_override_applies_only_to_its_node_group(tmp_path, write_spec):
    """gpu.a and gpu-b override gpu_utilization_high to 95; cpu has no GPUs; a fresh
    group `gpu-c` keeps the default 90. At 92%, only gpu-c alerts."""
    spec = ALL_KINDS.replace("  - name: cpu\n", "  - {name: gpu-c, hosts: [k1.internal], gpu: {model: L4, count: 1}}\n"
                                                  "  - name: cpu\n")
    files, _, _ = generate(write_spec(spec))
    stage(files, tmp_path)

    def series(group: str, value: int) -> tuple[str, str]:
        return f'DCGM_FI_DEV_GPU_UTIL{{job="dcgm_exporter", node_group="{group}", instance="x", gpu="0"}}', f"{value}x30"

    # gpu-c is a `mixed` node group (the default workload): saturation is info after 15m.
    fired = {"exp_labels": {"job": "dcgm_exporter", "node_group": "gpu-c", "instance": "x", "gpu": "0",
                            "severity": "info"},
             "exp_annotations": {"summary": "GPU 0 on x is saturated",
                                 "description": "GPU 0 on x (gpu-c) averaged 92% utilisation over 5m (threshold 90%).",
                                 "runbook_url": "https://runbooks.example.com/aimon-gen/HighGPUUtilization"}}
    assert _run_case(tmp_path, [series("gpu.a", 92), series("gpu-b", 92), series("gpu-c", 92)], "20m", [fired]) == ""
    # Above the override, the overridden group alerts with its own threshold in the text.
    out = _run_case(tmp_path, [series("gpu.a", 96)], "20m", [])
    assert "gpu.a" in out and "threshold 95%" in out


def test_generated_tests_catch_a_broken_rule(tmp_path, write_spec):
    """The generated tests fail when a rule is wrong: an inclusive comparison fires on the
    quiet input, a default rule that forgets an override's scope fires on that entry."""
    spec = write_spec(ALL_KINDS.replace("  - name: cpu\n", "  - {name: gpu-c, hosts: [k1.internal], gpu: {model: L4, count: 1}}\n"
                                                        "  - name: cpu\n"))
    files, _, _ = generate(spec)
    text = files["alert.rules.yml"].decode()
    default = 'avg_over_time(DCGM_FI_DEV_GPU_UTIL{job="dcgm_exporter", node_group!~"gpu\\\\.a|gpu-b"}[5m]) > 90'
    assert default in text
    for broken in (default.replace("> 90", ">= 90"),
                   default.replace(', node_group!~"gpu\\\\.a|gpu-b"', "")):
        # the rule as Prometheus loads it and as the test loads it (tests/rules/gpu.rules.yml, a copy)
        mutated = {**files, **{p: files[p].decode().replace(default, broken).encode()
                               for p in ("alert.rules.yml", "tests/rules/gpu.rules.yml")}}
        folder = tmp_path / str(abs(hash(broken)))
        folder.mkdir()
        stage(mutated, folder)
        run = promtool(folder, "test", "rules", "tests/gpu.test.yml")
        assert run.returncode != 0 and "HighGPUUtilization" in run.stdout + run.stderr, broken
