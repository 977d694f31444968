"""Sharding end to end: two real Prometheus shards and a real global Prometheus on loopback.

The shard configs and the global one are the ones aimon-gen generates for `shards: 2`, plus a
small rule pack of this test's own (shard-local and global recording rules), split by the
same code a build uses. Targets: the real node_exporter and catalog-driven exporters. Checks:
every target is scraped by exactly the shard its hashmod names and by no other, every series
the shards record reaches the global layer, global rules see all shards, and `aimon-gen plan`'s
estimate against the shards' real series counts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from aimon_gen.build import generate
from aimon_gen.compile.result import RuleGroup
from aimon_gen.compile.scrape import sharding
from aimon_gen.plan import estimate
from aimon_gen.render import render

from catalog_exporter import CatalogExporter
from aimon_gen.verify.stack import free_port
from conftest import stop, tool

pytestmark = pytest.mark.e2e  # starts sharded Prometheus servers and node_exporter

PACK = {"groups": [
    {"name": "e2e-per-target", "rules": [
        {"record": "instance:up:max", "expr": "max by (instance, job) (up)"},
        {"record": "instance:scrape_samples:sum", "expr": "sum without (le) (scrape_samples_scraped)"}]},
    {"name": "e2e-fleet", "rules": [
        {"record": "job:up:sum", "expr": "sum by (job) (up)"},
        {"record": "job:instance_up:count", "expr": "count by (job) (instance:up:max)"}]},
]}


def _get(url: str, timeout: float = 5) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 - loopback only
        return r.read()


def _query(port: int, expr: str) -> list:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    return json.loads(_get(url))["data"]["result"]


def _poll(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except OSError as exc:  # not listening yet
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what} (last error: {last})")


@pytest.fixture
def procs():
    started: list[subprocess.Popen] = []
    folder = Path(tempfile.mkdtemp(prefix="aimon-gen-e2e-"))
    yield started, folder
    stop(*started)
    shutil.rmtree(folder, ignore_errors=True)


def _spec(folder: Path, node_port: int, dcgm_port: int, vllm: list[int], etl: list[int], shards: list[int]) -> Path:
    path = folder / "spec.yaml"
    path.write_text(f"""
version: 1
name: e2e
prometheus:
  scrape_interval: 1s
  evaluation_interval: 1s
  retention: {{time: 1d}}
  shards: 2
  shard_targets: [{', '.join(f'"127.0.0.1:{p}"' for p in shards)}]
exporters: {{node_exporter: {{port: {node_port}}}, dcgm_exporter: {{port: {dcgm_port}}}}}
node_groups:
  - {{name: gpu, hosts: ["127.0.0.1"], gpu: {{model: H100-80GB, count: 2}}}}
models:
  - {{name: chat, server: vllm, targets: [{', '.join(f'"127.0.0.1:{p}"' for p in vllm)}]}}
pipelines:
  - {{name: etl, freshness: 1h, targets: [{', '.join(f'"127.0.0.1:{p}"' for p in etl)}]}}
""")
    return path


def _self_target(doc: dict, port: int) -> dict:
    # The `prometheus` job scrapes the server itself; here it listens on a random port.
    for sc in doc["scrape_configs"]:
        if sc["job_name"] == "prometheus":
            sc["static_configs"] = [{"targets": [f"127.0.0.1:{port}"]}]
    return doc


def _start(started, folder: Path, name: str, config: dict, port: int) -> None:
    prometheus = tool("prometheus")
    (folder / f"{name}.yml").write_bytes(render(f"{name}.yml", config, "spec.yaml", "e2e"))
    log = open(folder / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
    started.append(subprocess.Popen(
        [prometheus, f"--config.file={folder / f'{name}.yml'}", f"--storage.tsdb.path={folder / f'data-{name}'}",
         f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))


def _active(port: int) -> list[dict]:
    data = json.loads(_get(f"http://127.0.0.1:{port}/api/v1/targets?state=active"))["data"]["activeTargets"]
    return data


def test_two_shards_and_a_global_prometheus(procs):
    t0 = time.monotonic()
    started, folder = procs
    node_exporter = tool("node_exporter")
    node_port = free_port()
    started.append(subprocess.Popen([node_exporter, f"--web.listen-address=127.0.0.1:{node_port}"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL))
    sims = [CatalogExporter("dcgm_exporter", gpus=2)] + [CatalogExporter("vllm") for _ in range(4)] + \
           [CatalogExporter("pipeline") for _ in range(3)]
    try:
        shard_ports, global_port = [free_port() for _ in range(2)], free_port()
        spec_path = _spec(folder, node_port, sims[0].port, [s.port for s in sims[1:5]], [s.port for s in sims[5:]],
                          shard_ports)
        _, bundle, loaded = generate(spec_path)
        spec = loaded.spec
        bundle.add_rules("e2e", [RuleGroup(g["name"], g["rules"]) for g in PACK["groups"]])
        split = sharding.split(spec, bundle.prometheus, {stem: f.doc() for stem, f in sorted(bundle.rule_files.items())})
        for side, files in (("shard", split.shard_rules), ("global", split.global_rules)):
            for stem, doc in files.items():
                name = f"{side}-{stem}.rules.yml"
                (folder / name).write_bytes(render(name, doc, "spec.yaml", "e2e"))
        for i, port in enumerate(shard_ports):
            _start(started, folder, f"prometheus-shard-{i}", _self_target(split.shard_configs[i], port), port)
        _start(started, folder, "prometheus-global", _self_target(split.global_config, global_port), global_port)

        expected = {f"127.0.0.1:{node_port}"} | {f"127.0.0.1:{s.port}" for s in sims}

        def all_up():
            seen = {}
            for i, port in enumerate(shard_ports):
                for t in _active(port):
                    if t["labels"]["job"] != "prometheus" and t["health"] == "up":
                        seen.setdefault(t["discoveredLabels"]["__address__"], []).append(i)
            return seen if set(seen) == expected else None

        seen = _poll(all_up, 45, "every target up on a shard")
        # exactly one shard each, the one hashmod names; both shards have work
        assert all(len(shards) == 1 for shards in seen.values()), seen
        # the real Prometheus agrees with the hashmod the plan uses to estimate each shard
        assert {a: s[0] for a, s in seen.items()} == {a: sharding.shard_of(a, 2) for a in expected}
        assert {s[0] for s in seen.values()} == {0, 1}, "hashmod put every target on one shard"

        # shard-local rules ran on the shards; the global layer has every recorded series, labelled by shard
        local = [r["record"] for doc in split.shard_rules.values() for g in doc["groups"]
                 for r in g["rules"] if "record" in r]
        assert {"instance:up:max", "instance:scrape_samples:sum"} <= set(local)
        for name in local:
            on_shards = sum(len(_query(p, name)) for p in shard_ports)
            if not on_shards:
                continue  # a rule of the shipped packs whose inputs this test does not serve
            _poll(lambda name=name, n=on_shards: len(_query(global_port, name)) >= n, 30, f"{name} on the global layer")
            series = _query(global_port, name)
            assert {s["metric"]["shard"] for s in series} <= {"0", "1"}
        # a global rule sees the targets of both shards: 4 vllm, 3 pipeline targets
        fleet = _poll(lambda: {r["metric"]["job"]: float(r["value"][1]) for r in _query(global_port, "job:up:sum")
                               if r["metric"]["job"] in ("vllm", "pipelines")} == {"vllm": 4.0, "pipelines": 3.0}
                      and _query(global_port, "job:instance_up:count"), 30, "global rules over both shards")
        assert fleet

        _compare_plan(spec, shard_ports, split)
    finally:
        for s in sims:
            s.close()
    wall = time.monotonic() - t0
    print(f"\nsharded e2e wall time: {wall:.1f}s")
    assert wall < 90


def _compare_plan(spec, shard_ports: list[int], split: sharding.Sharding) -> None:
    """The plan's per-job estimate against the series the shards really hold."""
    recorded = {r["record"] for doc in split.shard_rules.values() for g in doc["groups"]
                for r in g["rules"] if "record" in r}
    skip = "|".join(sorted(recorded | {"ALERTS", "ALERTS_FOR_STATE"}))
    measured: dict[str, int] = {}
    head = 0
    for port in shard_ports:
        for r in _query(port, f'count by (job) ({{job!="", __name__!~"{skip}"}})'):
            measured[r["metric"]["job"]] = measured.get(r["metric"]["job"], 0) + int(r["value"][1])
        metrics = _get(f"http://127.0.0.1:{port}/metrics").decode()
        head += int(float(next(line.split()[1] for line in metrics.splitlines()
                               if line.startswith("prometheus_tsdb_head_series "))))
    plan = estimate(spec, {"host_cpus": os.cpu_count() or 1})
    rows = {j.job: j for j in plan.jobs}
    report = [f"{'job':14} {'estimate':>9} {'measured':>9}"]
    for job, jp in rows.items():
        report.append(f"{job:14} {jp.series:9d} {measured.get(job, 0):9d}")
    report.append(f"{'total':14} {plan.series:9d} {sum(measured.values()):9d}  (head series incl. rules: {head})")
    print("\n" + "\n".join(report))
    # Simulated exporters serve exactly the catalog under the stated label values: the arithmetic must match.
    for job in ("dcgm_exporter", "vllm", "pipelines"):
        assert measured[job] == rows[job].catalog_series + rows[job].synthetic_series, job
    # Real processes: node_exporter and Prometheus itself, within the stated assumptions' reach.
    for job in ("node_exporter", "prometheus"):
        assert 0.67 <= rows[job].series / measured[job] <= 1.5, (job, rows[job].series, measured[job])
