"""Dashboards against a real Prometheus: every panel query returns data.

The real node_exporter and catalog-driven exporters (dcgm-exporter, every model server kind,
a pipeline, S3 storage) on loopback, scraped by a real Prometheus with the prometheus.yml and
rule files aimon-gen generates for them. Each query of every dashboard but the SLO one (its 30-day
windows need days of data) is run with its template variables at All, as Grafana would on
first load; a query that returns nothing means a panel that would show "No data".
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from aimon_gen.build import generate
from aimon_gen.render import documents

from catalog_exporter import CatalogExporter
from aimon_gen.verify.stack import free_port
from conftest import stop, tool

pytestmark = pytest.mark.e2e  # runs every dashboard query against a live Prometheus

_VAR = re.compile(r"\$\{?(\w+)\}?")
_GRAFANA = {"__rate_interval": "15s", "__interval": "5s", "__range": "1h"}


def _query(port: int, expr: str) -> list:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310 - loopback only
        return json.loads(r.read())["data"]["result"]


def _all(expr: str, cluster: str = ".*") -> str:
    return _VAR.sub(lambda m: _GRAFANA.get(m.group(1), cluster if m.group(1) == "cluster" else ".*"), expr)


def _spec(folder, node_port: int, sims: dict) -> str:
    text = f"""
version: 1
name: live
prometheus: {{scrape_interval: 1s, evaluation_interval: 1s}}
exporters: {{node_exporter: {{port: {node_port}}}, dcgm_exporter: {{port: {sims['dcgm_exporter'].port}}}}}
node_groups:
  - {{name: gpu, hosts: ["127.0.0.1"], gpu: {{model: H100-80GB, count: 2}}}}
models:
"""
    for kind in ("vllm", "triton", "tgi", "custom"):
        text += f'  - {{name: m-{kind}, server: {kind}, targets: ["127.0.0.1:{sims[kind].port}"]}}\n'
    text += f'pipelines:\n  - {{name: etl, freshness: 1h, targets: ["127.0.0.1:{sims["pipeline"].port}"]}}\n'
    text += "storage:\n" + "".join(f'  - {{name: st-{k}, kind: {k}, targets: ["127.0.0.1:{sims[k].port}"]}}\n'
                                   for k in ("s3",))
    path = folder / "spec.yaml"
    path.write_text(text)
    return path


@pytest.fixture
def stack(tmp_path):
    node_exporter, prometheus = tool("node_exporter"), tool("prometheus")
    procs, sims = [], {k: CatalogExporter(k, gpus=2) for k in ("dcgm_exporter", "vllm", "triton", "tgi", "custom",
                                                                 "pipeline", "s3")}
    try:
        node_port, prom_port = free_port(), free_port()
        procs.append(subprocess.Popen([node_exporter, f"--web.listen-address=127.0.0.1:{node_port}"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        files, bundle, _ = generate(_spec(tmp_path, node_port, sims))
        out = tmp_path / "out"
        for path, data in files.items():
            (out / path).parent.mkdir(parents=True, exist_ok=True)
            (out / path).write_bytes(data)
        procs.append(subprocess.Popen(
            [prometheus, f"--config.file={out / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'data'}",
             f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn"],
            cwd=out, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        yield prom_port, documents(bundle), len(sims) + 1
    finally:
        stop(*procs)
        for s in sims.values():
            s.close()


def _wait_for_data(port: int, targets: int) -> None:
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        try:
            up = _query(port, 'count(up{job!="prometheus"} == 1)')
            rates = _query(port, "rate(node_cpu_seconds_total[15s])")
            if up and int(float(up[0]["value"][1])) >= targets and rates:
                time.sleep(3)  # a few more scrapes for the 15s rates of every exporter
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError("targets did not come up")


def test_every_panel_query_returns_data(stack):
    port, bundle, targets = stack
    _wait_for_data(port, targets)
    empty, ran = [], 0
    for path, doc in sorted(bundle.items()):
        if not path.startswith("dashboards/") or path == "dashboards/slo.json":
            continue
        for panel in doc["panels"]:
            for t in panel.get("targets", []):
                ran += 1
                # `cluster` is an external label: a local Prometheus has no values for the variable, and
                # Grafana then sends All (.*) or an empty value; both must match the unlabelled series.
                for cluster in (".*", ""):
                    if not _query(port, _all(t["expr"], cluster)):
                        empty.append(f"{path} {panel['title']} {t['refId']} (cluster={cluster!r}): {t['expr']}")
        for v in doc["templating"]["list"]:
            if v["type"] == "query":
                sel, label = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", v["query"]).groups()
                values = {s["metric"].get(label) for s in _query(port, _all(sel))} - {None}
                if not values:
                    empty.append(f"{path} variable {v['name']}: no values")
    # Expected: no external labels locally, and no alert firing in a healthy fleet (the panel shows 0).
    expected = [f"{p} variable cluster: no values" for p in sorted(bundle)
                if p.startswith("dashboards/") and p != "dashboards/slo.json"]
    expected += [e for e in empty if " Firing alerts by severity " in e]
    assert ran > 50
    assert [e for e in empty if e not in expected] == [], "queries without data"
    assert [e for e in empty if "variable cluster" in e] == [e for e in expected if "variable cluster" in e]
