"""Per-workload threshold defaults (rules/thresholds.yaml `workloads:`) and their order:
catalog default < the node group's workload < the spec's `thresholds` < the entry's own."""

from __future__ import annotations

import yaml

from aimon_gen import thresholds
from aimon_gen.build import generate

SPEC = """
version: 1
name: w
node_groups:
  - {name: train, hosts: [t1.internal], gpu: {model: H100, count: 8}, workload: training}
  - {name: serve, hosts: [s1.internal], gpu: {model: L40S, count: 4}, workload: inference}
  - {name: lab, hosts: [l1.internal], gpu: {model: A100, count: 4}}
"""


def _alerts(files, name):
    return [r for g in yaml.safe_load(files["alert.rules.yml"])["groups"] for r in g["rules"] if r["alert"] == name]


def test_workload_sets_the_defaults_of_gpu_alerts(write_spec):
    files, _, loaded = generate(write_spec(SPEC))
    by_group = {r["labels"].get("node_group", "default"): r for r in _alerts(files, "HighGPUUtilization")}
    # training: off; inference: its own warning rule; mixed (the default workload): the shared info rule.
    assert set(by_group) == {"serve", "default"}
    assert by_group["serve"]["labels"]["severity"] == "warning" and 'node_group="serve"' in by_group["serve"]["expr"]
    assert by_group["default"]["labels"]["severity"] == "info" and 'node_group!~"train|serve"' in by_group["default"]["expr"]
    idle = _alerts(files, "GPUAllocatedButIdle")
    assert [r["labels"].get("node_group") for r in idle] == ["train"]
    assert loaded.spec.node_groups[2].workload == "mixed"


def test_spec_and_entry_overrides_beat_the_workload_default(write_spec):
    spec = SPEC.replace("name: w\n", "name: w\nthresholds: {gpu_utilization_high: {severity: critical}}\n")
    spec = spec.replace("workload: training}", "workload: training,\n     thresholds: {gpu_utilization_high: {enabled: true, value: 99}}}")
    _, _, loaded = generate(write_spec(spec))
    train, serve, lab = loaded.spec.node_groups
    t = thresholds.resolve(loaded.spec, "gpu_utilization_high", train)
    assert (t.enabled, t.value, t.severity) == (True, 99.0, "critical")
    s = thresholds.resolve(loaded.spec, "gpu_utilization_high", serve)
    assert (s.enabled, s.value, s.severity, s.for_) == (True, 90.0, "critical", "15m")
    assert thresholds.resolve(loaded.spec, "gpu_utilization_high", lab).severity == "critical"


def test_xid_lists_are_data_and_leave_application_faults_out(write_spec):
    files, _, _ = generate(write_spec(SPEC))
    app_faults = {"13", "31", "43", "45"}
    for alert, name in (("GPUXidError", "gpu_xid_error"), ("GPUFatalXidError", "gpu_xid_fatal")):
        xids = thresholds.catalog()[name]["params"]["xids"]
        assert xids and not app_faults & set(xids), name
        [rule] = _alerts(files, alert)
        assert f'xid=~"{"|".join(xids)}"' in rule["expr"], rule["expr"]
    assert {"48", "79", "95"} <= set(thresholds.catalog()["gpu_xid_fatal"]["params"]["xids"])
