"""Sharding: which rules may run on one shard, the shard configs and the global layer (checked by promtool)."""

from __future__ import annotations

import subprocess

import pytest
import yaml
from typer.testing import CliRunner

from aimon_gen.cli import app
from aimon_gen.compile.scrape.sharding import federated_names, shard_local, split_groups

from conftest import tool

SPEC = """
version: 1
name: big
prometheus:
  shards: 3
  global_layer: %s
  remote_write:
    - {name: mimir, url: "http://mimir.monitoring:8080/api/v1/push", tenant: ai-prod}
node_groups:
  - {name: h100, hosts: ["gpu-[1:12].internal"], gpu: {model: H100-80GB, count: 8}}
models:
  - {name: chat, server: vllm, targets: [infer-1:8000, infer-2:8000]}
"""


@pytest.mark.parametrize("expr, local", [
    ("up == 0", True),
    ('rate(vllm:request_success_total{job="vllm"}[5m]) > 0', True),
    ("sum by (instance, gpu) (DCGM_FI_DEV_GPU_UTIL)", True),
    ("avg without (gpu) (DCGM_FI_DEV_GPU_UTIL) > 90", True),
    ("count(DCGM_FI_DEV_GPU_TEMP) by (host) < 8", True),
    ("sum by (model) (rate(vllm:request_success_total[5m]))", False),
    ("sum(up)", False),
    ("avg without (instance, host) (up)", False),
    ('absent(up{job="vllm"})', False),
    ('histogram_quantile(0.99, sum by (le, model) (rate(x_bucket[5m])))', False),
    ('up{job="a", note="sum by (model) (x)"} == 0', True),  # strings are not PromQL
])
def test_which_expressions_are_exact_on_one_shard(expr, local):
    assert shard_local(expr) is local


def test_groups_move_whole_and_follow_their_inputs():
    groups = [
        {"name": "per-target", "rules": [{"record": "instance:up:max", "expr": "max by (instance) (up)"}]},
        {"name": "fleet", "rules": [{"record": "job:up:sum", "expr": "sum by (job) (up)"},
                                    {"record": "instance:x", "expr": "up"}]},
        # local by its own expression, but it reads a series only the global layer has
        {"name": "after-fleet", "rules": [{"alert": "FleetDown", "expr": "job:up:sum == 0"}]},
    ]
    local, global_ = split_groups(groups)
    assert [g["name"] for g in local] == ["per-target"]
    assert [g["name"] for g in global_] == ["fleet", "after-fleet"]
    # the global layer pulls the shard-recorded series and the raw ones its rules read
    assert federated_names(local, global_) == ["instance:up:max", "up"]


def test_same_group_name_in_two_rule_files_stays_in_separate_files():
    from aimon_gen.compile.scrape.config import prometheus_config, scrape_jobs
    from aimon_gen.compile.scrape.sharding import split
    from aimon_gen.spec.load import load_spec
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "s.yaml").write_text(SPEC % "federation")
        spec = load_spec(Path(d) / "s.yaml").spec
    fleet = {"name": "models", "rules": [{"record": "job:up:sum", "expr": "sum by (job) (up) > bool 0"}]}
    per_target = {"name": "models", "rules": [{"alert": "Down", "expr": "up == 0"}]}
    later = {"name": "after", "rules": [{"alert": "FleetDown", "expr": "job:up:sum == 0"}]}
    prometheus = prometheus_config(spec, ["a.rules.yml", "b.rules.yml"], {}, scrape_jobs(spec))
    out = split(spec, prometheus, {"a": {"groups": [later, per_target]}, "b": {"groups": [fleet]}})
    assert sorted(out.shard_rules) == ["a"]
    assert sorted(out.global_rules) == ["a", "b"]
    # a group reading a series a global group of a later file records is global as well
    assert out.global_rules["a"]["groups"] == [later]
    assert out.shard_configs[0]["rule_files"] == ["shard-a.rules.yml"]
    assert out.global_config["rule_files"] == ["global-a.rules.yml", "global-b.rules.yml"]
    match = out.global_config["scrape_configs"][1]["params"]["match[]"]
    assert match == ['{__name__="up"}']  # `bool` is a keyword, job:up:sum is recorded globally


def _build(tmp_path, write_spec, layer: str):
    tool("promtool")
    tool("amtool")
    out = tmp_path / layer
    r = CliRunner().invoke(app, ["build", str(write_spec(SPEC % layer)), "-o", str(out)])
    assert r.exit_code == 0, r.output
    return out


def _load(path):
    return yaml.safe_load(path.read_text())


@pytest.mark.e2e  # checked sharded builds (slow)
def test_shard_configs_split_every_job_by_hashmod(tmp_path, write_spec):
    out = _build(tmp_path, write_spec, "federation")
    shards = [_load(out / f"sharding/prometheus-shard-{i}.yml") for i in range(3)]
    assert not (out / "sharding/prometheus-shard-3.yml").exists()
    assert [s["global"]["external_labels"]["shard"] for s in shards] == ["0", "1", "2"]
    for i, cfg in enumerate(shards):
        for sc in cfg["scrape_configs"]:
            if sc["job_name"] == "prometheus":
                assert "relabel_configs" not in sc  # each shard watches itself
                continue
            hashmod, keep = sc["relabel_configs"][:2]
            assert hashmod == {"source_labels": ["__address__"], "modulus": 3, "target_label": "__tmp_hash",
                               "action": "hashmod"}
            assert keep == {"source_labels": ["__tmp_hash"], "regex": str(i), "action": "keep"}
        # long-term storage from every shard, tenant header from the spec
        assert cfg["remote_write"][0]["headers"] == {"X-Scope-OrgID": "ai-prod"}
    glob = _load(out / "sharding/prometheus-global.yml")
    fed = next(sc for sc in glob["scrape_configs"] if sc["job_name"] == "federate")
    assert fed["honor_labels"] is True and fed["metrics_path"] == "/federate"
    assert fed["static_configs"] == [{"targets": [f"prometheus-shard-{i}:9090" for i in range(3)]}]
    assert '{__name__="up"}' in fed["params"]["match[]"]
    assert "shard" not in glob["global"]["external_labels"]
    readme = (out / "README.md").read_text()
    assert "Sharded Prometheus" in readme and "--storage.tsdb.min-block-duration=2h" in readme


@pytest.mark.e2e  # checked sharded builds (slow)
def test_every_generated_config_passes_promtool(tmp_path, write_spec):
    """The build checked them already; this runs promtool on the written files as a user would
    (credentials and rule files where the configs say)."""
    promtool = tool("promtool")
    out = _build(tmp_path, write_spec, "federation")
    for cfg in sorted((out / "sharding").glob("prometheus-*.yml")):
        r = subprocess.run([promtool, "check", "config", "--lint-fatal", cfg.name], cwd=cfg.parent,
                           capture_output=True, text=True)
        assert r.returncode == 0, (cfg.name, r.stdout + r.stderr)


@pytest.mark.e2e  # checked sharded builds (slow)
def test_remote_write_layer_has_no_global_prometheus(tmp_path, write_spec):
    out = _build(tmp_path, write_spec, "remote_write")
    assert not (out / "sharding/prometheus-global.yml").exists()
    assert (out / "sharding/prometheus-shard-2.yml").exists()
    readme = (out / "README.md").read_text()
    assert "Global layer: remote_write" in readme and "tenant `ai-prod`" in readme
    assert "mimirtool rules load" in readme


@pytest.mark.e2e  # checked sharded builds (slow)
def test_one_shard_writes_no_sharding_folder(tmp_path, write_spec):
    tool("promtool")
    tool("amtool")
    out = tmp_path / "one"
    r = CliRunner().invoke(app, ["build", str(write_spec(SPEC.replace("shards: 3", "shards: 1") % "federation")),
                                 "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert not (out / "sharding").exists()
    assert "Sharded" not in (out / "README.md").read_text()


def test_remote_write_layer_needs_a_remote_write(write_spec):
    spec = write_spec("version: 1\nname: t\nprometheus: {shards: 2, global_layer: remote_write}\n")
    r = CliRunner().invoke(app, ["validate", str(spec)])
    assert r.exit_code == 1
    assert "spec.yaml:3:" in r.output and "needs a prometheus.remote_write entry" in r.output
