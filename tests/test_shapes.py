"""A rule shape is tested once (compile/shapes.py): entries whose rules and tests differ only in
their own label values share one promtool test; anything else that differs is tested on its own.
And the batched tool runs still name the file that failed."""

from __future__ import annotations

import pytest
from conftest import tool

from aimon_gen import check
from aimon_gen.build import build, generate
from aimon_gen.compile.shapes import Shapes, rename, text_of
from aimon_gen.render import documents

FLEET = """
version: 1
name: shapes
node_groups:
  - {name: gpu-a, hosts: ["a[1:3].dc1"], gpu: {model: H100-80GB, count: 8}, labels: {team: research}}
  - {name: gpu-b, hosts: ["b[1:3].dc1"], gpu: {model: H100-80GB, count: 8}, labels: {team: vision}}
  - {name: gpu-c, hosts: ["c[1:3].dc1"], gpu: {model: H100-80GB, count: 4}, labels: {team: research}}
models:
  - {name: m0, server: vllm, targets: [i0:8000], labels: {team: t0}, slo: {availability: 99.9}}
  - {name: m1, server: vllm, targets: [i1:8000], labels: {team: t1}, slo: {availability: 99.9}}
  - {name: m2, server: vllm, targets: [i2:8000], labels: {team: t2}, slo: {availability: 99.9}}
  - {name: m3, server: vllm, targets: [i3:8000], labels: {team: t3}, slo: {availability: 99.5}}
  - {name: m4, server: tgi, targets: [i4:3000], labels: {team: t4}, slo: {availability: 99.9}}
pipelines:
  - {name: p0, targets: [e0:9108], freshness: 1h}
  - {name: p1, targets: [e1:9108], freshness: 1h}
  - {name: p2, targets: [e2:9108], freshness: 2h}
"""


@pytest.fixture(scope="module")
def docs(tmp_path_factory):
    path = tmp_path_factory.mktemp("spec") / "spec.yaml"
    path.write_text(FLEET.lstrip("\n"))
    return documents(generate(path)[1])


def _slos_tested(doc: dict) -> set[str]:
    return {e["expr"].split('slo="')[1].split('"')[0] for g in doc["tests"] for e in g["promql_expr_test"]
            if 'slo="' in e["expr"]}


def test_slo_tests_once_per_shape(docs):
    """m1 and m2 are m0 renamed; m3 (another objective) and m4 (another server's SLI) are not."""
    test = docs["tests/slo.test.yml"]
    assert test["rule_files"] == ["rules/slo-shapes.rules.yml"]
    assert _slos_tested(test) == {"m0-availability", "m3-availability", "m4-availability"}
    shapes = docs["tests/rules/slo-shapes.rules.yml"]["groups"]
    every = {g["name"]: g for g in docs["slo.rules.yml"]["groups"]}
    assert len(every) == 5   # every SLO's own rules are still in slo.rules.yml (check rules)
    assert [g["name"] for g in shapes] == ["slo-m0-availability", "slo-m3-availability", "slo-m4-availability"]
    assert all(g == every[g["name"]] for g in shapes)   # the tested rules exactly as Prometheus loads them


def test_no_shape_shared_keeps_the_full_rule_file(write_spec):
    spec = FLEET
    for model, objective in (("m1", "99.8"), ("m2", "99.7"), ("m4", "99.1")):
        before, after = spec.split(f"name: {model},")
        spec = before + f"name: {model}," + after.replace("availability: 99.9", f"availability: {objective}", 1)
    docs = documents(generate(write_spec(spec))[1])
    assert docs["tests/slo.test.yml"]["rule_files"] == ["../slo.rules.yml"]
    assert "tests/rules/slo-shapes.rules.yml" not in docs


def test_per_entry_alerts_tested_once_per_shape(docs):
    """One rule per pipeline (each: true): p1 is p0 renamed, p2's freshness differs."""
    tested = {a["exp_labels"]["pipeline"] for g in docs["tests/pipelines.test.yml"]["tests"]
              for t in g["alert_rule_test"] if t["alertname"] == "DataPipelineStalled" for a in t["exp_alerts"]}
    assert tested == {"p0", "p2"}
    loaded = [r for g in docs["tests/rules/pipelines.rules.yml"]["groups"] for r in g["rules"]
              if r["alert"] == "DataPipelineStalled"]
    assert [r["labels"]["pipeline"] for r in loaded] == ["p0", "p2"]
    every = [r for g in docs["alert.rules.yml"]["groups"] for r in g["rules"] if r["alert"] == "DataPipelineStalled"]
    assert [r["labels"]["pipeline"] for r in every] == ["p0", "p1", "p2"]
    # GPUMissing compares with each group's gpu.count: gpu-b is gpu-a renamed (other team too), gpu-c is not
    missing = {a["exp_labels"]["node_group"] for g in docs["tests/gpu.test.yml"]["tests"]
               for t in g["alert_rule_test"] if t["alertname"] == "GPUMissing" for a in t["exp_alerts"]}
    assert missing == {"gpu-a", "gpu-c"}


def test_a_test_file_loads_its_own_packs_rules_only(docs):
    for path, doc in docs.items():
        if path.startswith("tests/") and path.endswith(".test.yml") and path != "tests/slo.test.yml":
            stem = path[len("tests/"):-len(".test.yml")]
            assert doc["rule_files"] == [f"rules/{stem}.rules.yml"]
            asked = {t["alertname"] for g in doc["tests"] for t in g["alert_rule_test"]}
            loaded = {r["alert"] for g in docs[f"tests/rules/{stem}.rules.yml"]["groups"] for r in g["rules"]}
            assert asked == loaded
    # every rule a test loads is, in its group, the rule Prometheus loads
    every = {(g["name"], repr(r)) for g in docs["alert.rules.yml"]["groups"] for r in g["rules"]}
    copies = [(g["name"], repr(r)) for path, doc in docs.items() if path.endswith(".rules.yml")
              and path.startswith("tests/rules/") and path != "tests/rules/slo-shapes.rules.yml" for g in doc["groups"]
              for r in g["rules"]]
    assert copies and set(copies) <= every


def test_same_shape_only_by_renaming_own_values():
    shapes = Shapes()
    a = text_of({"expr": 'x{pipeline="p0"} > 3600', "labels": {"team": "t0"}})
    assert not shapes.known("k", a, {"": "p0", "team": "t0"})
    assert shapes.known("k", text_of({"expr": 'x{pipeline="p1"} > 3600', "labels": {"team": "t1"}}),
                        {"": "p1", "team": "t1"})
    # a threshold is never an own value: another number is another shape
    assert not shapes.known("k", text_of({"expr": 'x{pipeline="p2"} > 7200', "labels": {"team": "t0"}}),
                            {"": "p2", "team": "t0"})
    # numbers are not renamed, even when they are label values
    assert not shapes.known("n", text_of({"v": "1", "t": 5}), {"": "1"}) and not shapes.known(
        "n", text_of({"v": "2", "t": 5}), {"": "2"})
    assert rename("ab a b", {"a": "b", "b": "a"}) == "ba b a"   # one pass: a swap stays a swap
    assert rename("etl-00 etl-0", {"etl-0": "x", "etl-00": "y"}) == "y x"   # longest first


def test_a_batched_failure_names_its_file():
    c = check.Command("promtool", ("test", "rules", "tests/a.test.yml", "tests/b.test.yml"), "tests/a, tests/b",
                      (("tests/a.test.yml", "tests/a.test.yml"), ("tests/b.test.yml", "tests/b.test.yml")))
    out = "Unit Testing:  tests/a.test.yml\n  SUCCESS\n\nUnit Testing:  tests/b.test.yml\n  FAILED:\n  x\n"
    assert check.failed_files(c, out) == "tests/b.test.yml"
    config = check.Command("promtool", ("check", "config", ".check-prometheus.yml", "sharding/.check-x.yml"), "all",
                           ((".check-prometheus.yml", "prometheus.yml"), ("sharding/.check-x.yml", "sharding/x.yml")))
    assert check.failed_files(config, "Checking sharding/.check-x.yml\n  FAILED: bad\n") == "sharding/x.yml"
    assert check.failed_files(config, "something else\n") == "all"


@pytest.mark.e2e  # promtool on the whole build
def test_shared_shapes_pass_promtool(write_spec, tmp_path):
    tool("promtool")
    done = build(write_spec(FLEET), tmp_path / "out", use_cache=False)
    ran = [t.command.args for t in done.timings if t.command.args[:2] == ("test", "rules")]
    assert sorted(f for args in ran for f in args[2:]) == sorted(
        p for p in done.files if p.startswith("tests/") and p.endswith(".test.yml"))


@pytest.mark.e2e
def test_a_failing_test_file_in_a_batch_is_named(write_spec, tmp_path):
    tool("promtool")
    rendered, bundle, loaded = generate(write_spec(FLEET))
    stage = tmp_path / "stage"
    for rel, data in rendered.items():
        (stage / rel).parent.mkdir(parents=True, exist_ok=True)
        (stage / rel).write_bytes(data)
    broken = (stage / "tests/rules/pipelines.rules.yml").read_text().replace("> 3600", "> 99999")
    (stage / "tests/rules/pipelines.rules.yml").write_text(broken)
    plan = check.plan(bundle, "spec.yaml", loaded.spec.name)
    with pytest.raises(Exception) as exc:
        check.run(stage, check.CheckPlan([c for c in plan.commands if c.args[:2] == ("test", "rules")]))
    assert exc.value.file == "tests/pipelines.test.yml"
