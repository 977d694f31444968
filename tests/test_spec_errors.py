"""Bad specs: each gives the exact line, column and message, exit 1, no traceback, nothing written."""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from aimon_gen.cli import app

BASE = """\
version: 1
name: ai-prod
node_groups:
  - name: h100-train
    hosts: [gpu-a1.internal]
    gpu: {model: H100-80GB, count: 8}
"""

# (id, spec text, expected "line:col: path: message" fragments, one per expected problem)
CASES = [
    ("unknown top-level key", BASE + "nodegroups: []\n",
     ["7:1: nodegroups: unknown field 'nodegroups' (did you mean 'node_groups'?)"]),
    ("typo in nested key", BASE.replace("count: 8", "cuont: 8"),
     ["6:29: node_groups[0].gpu.cuont: unknown field 'cuont' (did you mean 'count'?)",
      "6:10: node_groups[0].gpu.count: 'count' is required"]),
    ("wrong type: string for int", BASE.replace("count: 8", 'count: "8"'),
     ["6:36: node_groups[0].gpu.count: expected a valid integer, got '8'"]),
    ("count out of range", BASE.replace("count: 8", "count: 0"),
     ["6:36: node_groups[0].gpu.count: Input should be greater than or equal to 1, got 0"]),
    ("bad duration", BASE + "prometheus: {scrape_interval: 15 seconds}\n",
     ["7:31: prometheus.scrape_interval: '15 seconds' is not a Prometheus duration"]),
    ("duration as number", BASE + "prometheus: {evaluation_interval: 15}\n",
     ["7:35: prometheus.evaluation_interval: 15 is not a Prometheus duration"]),
    ("zero duration", BASE + "prometheus: {scrape_interval: 0s}\n",
     ["7:31: prometheus.scrape_interval: a duration must be longer than 0s"]),
    ("bad byte size", BASE + "prometheus: {retention: {size: 500G}}\n",
     ["7:32: prometheus.retention.size: '500G' is not a byte size"]),
    ("bad label name", BASE + "    labels: {2team: x}\n",
     ["7:14: node_groups[0].labels.2team: '2team' is not a valid label name"]),
    ("reserved label", BASE + "    labels: {instance: x}\n",
     ["7:14: node_groups[0].labels.instance: label 'instance' is set by aimon-gen's label scheme"]),
    ("boolean label value", BASE + "    labels: {team: yes}\n",
     ["7:20: node_groups[0].labels.team: label values are strings: quote True"]),
    ("unknown server kind", BASE + "models:\n  - {name: m, server: vlm, targets: [a:8000]}\n",
     ["8:23: models[0].server: 'vlm' is not allowed; choose one of: vllm, triton, tgi, sglang, custom "
      "(did you mean 'vllm'?)"]),
    ("port out of range", BASE + "models:\n  - {name: m, server: vllm, targets: [a:70000]}\n",
     ["8:39: models[0].targets[0]: 'a:70000': the port must be a number from 1 to 65535"]),
    ("exporter port out of range", BASE + "exporters: {node_exporter: {port: 0}}\n",
     ["7:35: exporters.node_exporter.port: Input should be greater than or equal to 1, got 0"]),
    ("duplicate yaml key", BASE + "name: again\n",
     ["7:1: name: duplicate key 'name' (first given on line 2)"]),
    ("duplicate yaml key and duplicate name, one round", BASE + "  - {name: h100-train, hosts: [gpu-b1]}\nname: again\n",
     ["8:1: name: duplicate key 'name' (first given on line 2)",
      "7:12: node_groups[1].name: duplicate name 'h100-train' (also node_groups[0])"]),
    ("duplicate node group name", BASE + "  - {name: h100-train, hosts: [gpu-b1]}\n",
     ["7:12: node_groups[1].name: duplicate name 'h100-train' (also node_groups[0])"]),
    ("same host in two groups", BASE + "  - {name: other, hosts: [gpu-a1.internal]}\n",
     ["job 'node_exporter' would scrape instance 'gpu-a1.internal' twice"]),
    ("same endpoint for two models", BASE + "models:\n  - {name: a, server: vllm, targets: [x:8000]}\n"
     "  - {name: b, server: vllm, targets: [x]}\n",
     ["9:39: models[1].targets[0]: job 'vllm' would scrape instance 'x:8000' twice"]),
    ("missing version", BASE.replace("version: 1\n", ""),
     ["1:1: version: 'version' is required"]),
    ("wrong version", BASE.replace("version: 1", "version: 2"),
     ["1:10: version: 2 is not allowed; choose one of: 1"]),
    ("bad name", BASE.replace("name: ai-prod", "name: AI Prod"),
     ["2:7: name: 'AI Prod' is not a valid name"]),
    ("backwards host range", BASE.replace("[gpu-a1.internal]", '["gpu-[9:1]"]'),
     ["5:12: node_groups[0].hosts: range [9:1] runs backwards; write [1:9]"]),
    ("unknown threshold", BASE + "thresholds: {gpu_utilisation_high: 95}\n",
     ["7:14: thresholds.gpu_utilisation_high: unknown threshold 'gpu_utilisation_high' "
      "(did you mean 'gpu_utilization_high'?)"]),
    ("scrape timeout above interval", BASE + "prometheus: {scrape_interval: 10s, scrape_timeout: 20s}\n",
     ["7:52: prometheus.scrape_timeout: scrape_timeout 20s is longer than scrape_interval 10s"]),
    ("cluster in external labels", BASE + "prometheus: {external_labels: {cluster: x}}\n",
     ["7:32: prometheus.external_labels.cluster: 'cluster' comes from the spec's top-level name"]),
    ("list instead of mapping", BASE + "prometheus: [a, b]\n",
     ["7:13: prometheus: expected a mapping of fields, got ['a', 'b']"]),
    ("yaml syntax error", BASE + "models: [\n",
     ["8:1: YAML syntax error"]),
    ("empty file", "", ["spec.yaml: the spec is empty"]),
    ("comments only", "# nothing here\n", ["spec.yaml: the spec is empty"]),
    ("not a mapping", "- a\n- b\n", ["1:1: the spec must be a mapping"]),
    ("binary garbage", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ["spec.yaml:3:1: this is a binary file, not a YAML spec (a NUL byte)"]),
    ("invalid utf-8", b"version: 1\nname: \xff\xfe\n", ["2:1: not UTF-8 text (byte 0xff)"]),
    ("ten megabytes", BASE + "# " + "x" * (10 * 1024 * 1024) + "\n",
     ["spec.yaml: the file is 10.0 MiB; a spec may be at most 5 MiB"]),
]


@pytest.mark.parametrize("name,text,expected", CASES, ids=[c[0] for c in CASES])
def test_bad_spec(tmp_path, name, text, expected):
    spec = tmp_path / "spec.yaml"
    spec.write_bytes(text.encode() if isinstance(text, str) else text)
    out = tmp_path / "out"
    cwd = os.getcwd()
    os.chdir(tmp_path)  # messages name the spec as given: spec.yaml
    try:
        result = CliRunner().invoke(app, ["build", "spec.yaml", "-o", str(out)])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("spec.yaml")]
    assert len(lines) == len(expected), result.stderr
    for fragment in expected:
        assert any(f"spec.yaml:{fragment}" in line or fragment in line for line in lines), \
            f"{fragment!r} not in:\n{result.stderr}"
    assert "Traceback" not in result.output
    assert result.stderr.rstrip().endswith("nothing written")
    assert not out.exists()


def test_all_problems_reported_at_once(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(BASE + "prometheus: {scrape_intervl: 15s, evaluation_interval: 1x}\n"
                    "models:\n  - {name: m, server: tgx, targets: [a]}\n")
    result = CliRunner().invoke(app, ["validate", str(spec)])
    assert result.exit_code == 1
    assert result.stderr.count(str(spec) + ":") == 3
    assert "3 problems found" in result.stderr


def test_failed_build_leaves_output_untouched(tmp_path):
    """A spec that breaks after a good build leaves the previous output byte for byte."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(BASE)
    out = tmp_path / "out"
    assert CliRunner().invoke(app, ["build", str(spec), "-o", str(out), "--no-validate"]).exit_code == 0
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    spec.write_text(BASE.replace("count: 8", "count: -1"))
    assert CliRunner().invoke(app, ["build", str(spec), "-o", str(out)]).exit_code == 1
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before


def _problems(tmp_path, text: str) -> list[str]:
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    result = CliRunner().invoke(app, ["validate", str(spec)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    lines = [line.removeprefix(f"{spec}:") for line in result.stderr.splitlines() if line.startswith(str(spec))]
    assert f"{len(lines)} problem" in result.stderr
    return lines


def test_schema_errors_and_cross_checks_in_one_round(tmp_path):
    """The cross-checks run on the spec without the entries the schema rejected, and name
    places as the user's spec has them (indices after a left-out entry are not shifted)."""
    text = BASE + """\
  - name: broken
    hosts: [gpu-b1.internal]
    labls: {team: x}
  - name: cpu
    hosts: [cpu-1.internal]
    labels: {job: etl}
  - name: h100-train
    hosts: [gpu-a1.internal]
models:
  - {name: m, server: vllmm, targets: ["infer-1:8000"]}
  - {name: n, server: vllm, targets: ["infer-2:8000"], thresholds: {vllm_error_ratio_hgh: {value: 1}}}
prometheus: {scrape_interval: 15s, scrape_timeout: 30s}
bogus: 1
"""
    assert _problems(tmp_path, text) == [
        "9:5: node_groups[1].labls: unknown field 'labls' (did you mean 'labels'?)",
        "12:14: node_groups[2].labels.job: label 'job' is set by aimon-gen's label scheme "
        "(choose another name, e.g. team or pool)",
        "13:11: node_groups[3].name: duplicate name 'h100-train' (also node_groups[0]) "
        "(names must be unique within node_groups)",
        "14:12: node_groups[3].hosts: job 'node_exporter' would scrape instance 'gpu-a1.internal' twice "
        "(also from node_groups[0].hosts) (each host or endpoint belongs to one entry)",
        "16:23: models[0].server: 'vllmm' is not allowed; choose one of: vllm, triton, tgi, sglang, custom "
        "(did you mean 'vllm'?)",
        "17:69: models[1].thresholds.vllm_error_ratio_hgh: unknown threshold 'vllm_error_ratio_hgh' "
        "(did you mean 'vllm_error_ratio_high'?)",
        "18:52: prometheus.scrape_timeout: scrape_timeout 30s is longer than scrape_interval 15s "
        "(Prometheus refuses this; make it at most the interval)",
        "19:1: bogus: unknown field 'bogus' (allowed: version, name, environment, prometheus, exporters, "
        "node_groups, models, pipelines, storage, slos, slo_alerting, thresholds, rules, alerting, grafana, outputs)",
    ]


def test_no_cross_check_finding_that_follows_from_a_rejected_entry(tmp_path):
    """A receiver with a typo is left out of the cross-checks; the route that names it must not
    be reported as naming an unknown receiver (that would be the same mistake twice)."""
    text = BASE + """\
alerting:
  default_receiver: oncall
  receivers:
    - {name: oncall, webhok: {url: "http://hooks.internal/a"}}
  routes:
    - {match: {severity: critical}, receiver: oncall}
"""
    assert _problems(tmp_path, text) == [
        "10:22: alerting.receivers[0].webhok: unknown field 'webhok' (did you mean 'webhook'?)"]
