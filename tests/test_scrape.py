"""prometheus.yml: the label scheme as Prometheus itself computes it (promtool service discovery)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from aimon_gen.cli import app
from aimon_gen.spec.types import expand_hosts

from conftest import tool

FLEET = """
version: 1
name: fleet
environment: staging
prometheus: {service_discovery: %s}
node_groups:
  - name: h100
    hosts: ["gpu-[001:012].dc1"]
    gpu: {model: H100-80GB, count: 8}
    labels: {team: research}
  - name: cpu
    hosts: [cpu-1.dc1, "cpu-2.dc1:9101"]
models:
  - {name: chat, server: vllm, targets: [infer-1.dc1, "infer-1.dc1:8001"], labels: {team: genai}}
  - {name: ranker, server: triton, targets: [infer-1.dc1]}
  - {name: gen, server: tgi, targets: [tgi-1.dc1]}
  - {name: scorer, server: custom, targets: ["scorer.dc1:8080"]}
pipelines:
  - {name: etl, targets: [etl.dc1], freshness: 1h}
storage:
  - {name: lake, kind: s3, targets: [minio.dc1]}
  - {name: scratch, kind: ceph, targets: [ceph-mgr.dc1]}
"""


def _discover(promtool: str, folder: Path, jobs: list[str]) -> dict[str, list[dict]]:
    """Final target labels per job, as Prometheus computes them after relabelling."""
    procs = {job: subprocess.Popen([promtool, "check", "service-discovery", "--timeout=1s", "prometheus.yml", job],
                                   cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for job in jobs}
    out = {}
    for job, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 0, stderr
        out[job] = [t["labels"] for t in json.loads(stdout)]
    return out


def _build(tmp_path, write_spec, sd: str) -> Path:
    out = tmp_path / f"out-{sd}"
    r = CliRunner().invoke(app, ["build", str(write_spec(FLEET % sd)), "-o", str(out)])
    assert r.exit_code == 0, r.output
    return out


@pytest.mark.e2e  # promtool service discovery on full builds (slow)
def test_label_scheme_as_prometheus_sees_it(tmp_path, write_spec):
    promtool = tool("promtool")
    out = _build(tmp_path, write_spec, "static")
    cfg = yaml.safe_load((out / "prometheus.yml").read_text())
    jobs = [sc["job_name"] for sc in cfg["scrape_configs"] if sc["job_name"] != "prometheus"]
    assert jobs == ["node_exporter", "dcgm_exporter", "vllm", "triton", "tgi", "ml_inference", "pipelines",
                    "storage_s3", "storage_ceph"]
    targets = _discover(promtool, out, jobs)

    node = {t["__address__"]: t for t in targets["node_exporter"]}
    assert len(node) == 12 + 2
    gpu1 = node["gpu-001.dc1:9100"]
    assert (gpu1["instance"], gpu1["host"], gpu1["node_group"], gpu1["gpu_model"], gpu1["team"]) == \
        ("gpu-001.dc1", "gpu-001.dc1", "h100", "H100-80GB", "research")
    assert "gpu_model" not in node["cpu-1.dc1:9100"]
    assert node["cpu-2.dc1:9101"]["instance"] == "cpu-2.dc1", "a given port is kept but left out of instance"
    dcgm = {t["instance"]: t for t in targets["dcgm_exporter"]}
    assert sorted(dcgm) == [f"gpu-{i:03d}.dc1" for i in range(1, 13)], "only GPU groups run dcgm-exporter"
    assert dcgm["gpu-007.dc1"]["__address__"] == "gpu-007.dc1:9400"

    # model servers keep host:port instances (two servers may share a host) and join on `host`
    vllm = {t["instance"]: t for t in targets["vllm"]}
    assert set(vllm) == {"infer-1.dc1:8000", "infer-1.dc1:8001"}
    assert {t["host"] for t in vllm.values()} == {"infer-1.dc1"}
    assert {t["model"] for t in vllm.values()} == {"chat"}
    assert targets["triton"][0]["instance"] == "infer-1.dc1:8002"
    assert targets["tgi"][0]["instance"] == "tgi-1.dc1:3000"
    assert targets["pipelines"][0]["pipeline"] == "etl" and targets["pipelines"][0]["instance"] == "etl.dc1:9108"
    s3 = targets["storage_s3"][0]
    assert (s3["storage"], s3["__metrics_path__"], s3["instance"]) == ("lake", "/minio/v2/metrics/cluster",
                                                                        "minio.dc1:9000")
    # no two targets end with the same job and instance
    seen = [(t["job"], t["instance"]) for ts in targets.values() for t in ts]
    assert len(seen) == len(set(seen))


@pytest.mark.e2e  # promtool service discovery on full builds (slow)
def test_file_sd_gives_the_same_targets_as_static(tmp_path, write_spec):
    promtool = tool("promtool")
    static = _build(tmp_path, write_spec, "static")
    filesd = _build(tmp_path, write_spec, "file")
    cfg = yaml.safe_load((filesd / "prometheus.yml").read_text())
    node = next(sc for sc in cfg["scrape_configs"] if sc["job_name"] == "node_exporter")
    assert node["file_sd_configs"] == [{"files": ["targets/node_exporter/*.json"]}]
    assert json.loads((filesd / "targets/node_exporter/h100.json").read_text())[0]["labels"]["node_group"] == "h100"
    jobs = ["node_exporter", "vllm", "storage_ceph"]
    drop = ("__scrape_interval__", "__scrape_timeout__")

    def norm(targets):
        return {job: sorted((json.dumps({k: v for k, v in t.items() if k not in drop and not k.startswith(
            "__meta")}, sort_keys=True) for t in ts)) for job, ts in targets.items()}

    assert norm(_discover(promtool, filesd, jobs)) == norm(_discover(promtool, static, jobs))


def test_global_section(tmp_path, write_spec):
    spec = write_spec(FLEET % "static" + """\
thresholds: {}
""")
    out = tmp_path / "o"
    assert CliRunner().invoke(app, ["build", str(spec), "-o", str(out), "--no-validate"]).exit_code == 0
    g = yaml.safe_load((out / "prometheus.yml").read_text())["global"]
    assert g == {"scrape_interval": "15s", "scrape_timeout": "10s", "evaluation_interval": "15s",
                 "external_labels": {"cluster": "fleet", "environment": "staging"}}


def test_host_ranges_keep_zero_padding():
    assert expand_hosts("gpu-[001:128].internal")[:2] == ["gpu-001.internal", "gpu-002.internal"]
    assert len(expand_hosts("gpu-[001:128].internal")) == 128
    assert expand_hosts("n[8:10]") == ["n8", "n9", "n10"]
    assert expand_hosts("r[1:2]-g[01:02]") == ["r1-g01", "r1-g02", "r2-g01", "r2-g02"]
