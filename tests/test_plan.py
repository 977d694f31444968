"""aimon-gen plan: the estimate follows the spec and the stated assumptions; the budget warning."""

from __future__ import annotations

import pytest
from conftest import EXAMPLE
from typer.testing import CliRunner

from aimon_gen.catalog import exporter_metrics
from aimon_gen.cli import app
from aimon_gen.plan import assumptions_file, estimate, series_per_target
from aimon_gen.spec.load import load_spec

FLEET = """
version: 1
name: fleet
prometheus: {scrape_interval: 30s, retention: {time: 10d}, series_budget: %d}
node_groups:
  - {name: h100, hosts: ["gpu-[1:%d].dc1"], gpu: {model: H100-80GB, count: %d}}
models:
  - {name: chat, server: vllm, targets: [infer-1:8000]}
  - {name: k8s, server: vllm, kubernetes: {namespace: ai, selector: {app: vllm}}}
"""


def _plan(write_spec, hosts=4, gpus=8, budget=2_000_000, **assume):
    return estimate(load_spec(write_spec(FLEET % (budget, hosts, gpus))).spec, assume)


def test_series_scale_with_hosts_gpus_and_cpus(write_spec):
    base = {j.job: j for j in _plan(write_spec).jobs}
    more_hosts = {j.job: j for j in _plan(write_spec, hosts=8).jobs}
    more_gpus = {j.job: j for j in _plan(write_spec, gpus=4).jobs}
    more_cpus = {j.job: j for j in _plan(write_spec, host_cpus=128).jobs}
    assert more_hosts["node_exporter"].series == 2 * base["node_exporter"].series
    assert more_hosts["dcgm_exporter"].series == 2 * base["dcgm_exporter"].series
    # dcgm series are per GPU (plus the per-target synthetic ones)
    per_gpu = (base["dcgm_exporter"].catalog_series / 4) / 8
    assert more_gpus["dcgm_exporter"].catalog_series == 4 * 4 * per_gpu
    assert more_cpus["node_exporter"].series > base["node_exporter"].series
    assert more_cpus["dcgm_exporter"].series == base["dcgm_exporter"].series


def test_histograms_count_their_buckets():
    assumptions = assumptions_file()["assumptions"]
    catalog, _ = series_per_target("vllm", assumptions)
    # recount by hand from the catalog: one series per label set, histograms (buckets + Inf + sum + count)
    values = assumptions_file()["label_values"]["vllm"]
    expected = 0
    for info in exporter_metrics("vllm").values():
        if not info.emitted or info.synthetic:
            continue
        sets = 1
        for label in info.labels:
            sets *= values.get(label, 1)
        expected += sets * (len(info.buckets) + 3 if info.type == "histogram" else 1)
    assert catalog == expected
    assert any(i.type == "histogram" and len(i.buckets) > 5 for i in exporter_metrics("vllm").values())


def test_kubernetes_selectors_count_the_assumed_pods(write_spec):
    vllm = {j.job: j for j in _plan(write_spec).jobs}["vllm"]
    assert vllm.targets == 1 + assumptions_file()["assumptions"]["pods_per_selector"]
    assert {j.job: j for j in _plan(write_spec, pods_per_selector=10).jobs}["vllm"].targets == 11


def test_samples_and_disk_follow_interval_retention_and_bytes_per_sample(write_spec):
    plan = _plan(write_spec)
    assert plan.samples_per_second == plan.series / 30
    assert plan.disk_bytes == pytest.approx(plan.series / 30 * 10 * 86400 * assumptions_file()["bytes_per_sample"])


def test_cli_prints_jobs_total_disk_and_assumptions():
    r = CliRunner().invoke(app, ["plan", str(EXAMPLE)])
    assert r.exit_code == 0, r.output
    for word in ("node_exporter", "dcgm_exporter", "vllm", "total", "disk for 30d retention", "bytes per sample",
                 "assumptions: 64 CPUs per host"):
        assert word in r.output, word
    assert "warning" not in r.output


def test_budget_warning_suggests_the_fewest_shards_that_fit(write_spec):
    import re

    path = write_spec(FLEET % (10_000, 40, 8))
    spec = load_spec(path).spec
    plan = estimate(spec)
    r = CliRunner().invoke(app, ["plan", str(path)])
    assert r.exit_code == 0
    m = re.search(r"exceeds the budget of 10,000 \(prometheus.series_budget\): set prometheus.shards: (\d+)", r.output)
    assert m, r.output
    n = int(m.group(1))
    # the suggestion fits on its fullest shard (hashmod is uneven), one shard fewer does not
    assert max(estimate(spec, shards=n).per_shard) <= 10_000 < max(estimate(spec, shards=n - 1).per_shard)
    r = CliRunner().invoke(app, ["plan", str(path), "--budget", str(plan.series + 1)])
    assert "warning" not in r.output


def test_per_shard_estimate_follows_hashmod_of_each_address(write_spec):
    from aimon_gen.compile.scrape.sharding import shard_of

    spec = load_spec(write_spec(FLEET % (2_000_000, 40, 8))).spec
    plan = estimate(spec, shards=3)
    assert sum(plan.per_shard) == plan.series
    node = {j.job: j for j in plan.jobs}["node_exporter"]
    per_target = node.series // node.targets
    hosts = [f"gpu-{i}.dc1:9100" for i in range(1, 41)]
    assert node.per_shard == [per_target * sum(shard_of(h, 3) == i for h in hosts) for i in range(3)]
    assert len(set(node.per_shard)) > 1  # 40 hosts do not split evenly: the plan says so


def test_bad_assumption_is_a_usage_error():
    r = CliRunner().invoke(app, ["plan", str(EXAMPLE), "--assume", "cpus=8"])
    assert r.exit_code == 2 and "host_cpus" in r.output


def test_the_plan_counts_every_job_the_build_scrapes():
    """The plan reads the scrape step's typed jobs, so a job the build adds (Alertmanager's own
    /metrics at prometheus.alertmanagers) is counted too, with its targets."""
    from aimon_gen.build import generate

    _, bundle, loaded = generate(EXAMPLE)
    plan = estimate(loaded.spec)
    assert [j.job for j in plan.jobs] == [j.name for j in bundle.scrape_jobs]
    assert [sc["job_name"] for sc in bundle.prometheus["scrape_configs"]] == [j.name for j in bundle.scrape_jobs]
    am = next(j for j in plan.jobs if j.job == "alertmanager")
    assert am.targets == len(loaded.spec.prometheus.alertmanagers) >= 1
    assert am.catalog_series + am.unlisted_series == am.targets * sum(series_per_target("alertmanager", plan.assumptions))
