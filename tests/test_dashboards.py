"""Dashboards: valid against Grafana's dashboard model, queries that parse and read real
metrics, only what the spec uses, thresholds from the spec, deterministic output."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from conftest import EXAMPLE, ROOT  # noqa: E402
from grafana_schema import problems  # noqa: E402

from aimon_gen.build import generate  # noqa: E402
from aimon_gen.catalog import emitted_metrics  # noqa: E402
from aimon_gen.compile.dashboards.panels import dashboard_uid  # noqa: E402
from aimon_gen.compile.result import BurnLine, Bundle, CompiledSLO, RuleGroup  # noqa: E402
from aimon_gen.render import documents  # noqa: E402

promql_parser = pytest.importorskip("promql_parser")

_VAR = re.compile(r"\$\{?(\w+)\}?")
_GRAFANA_VARS = {"__rate_interval": "5m", "__interval": "1m", "__range": "1d"}


def _build(path: Path):
    files, bundle, _ = generate(path)
    dashboards = {p: d for p, d in documents(bundle).items() if p.startswith("dashboards/")}
    return files, bundle, dashboards


def _panels(doc):
    return [p for p in doc["panels"] if p["type"] != "row"]


def _queries(doc):
    """(where, PromQL) of every query a dashboard runs: panels, variables, annotations."""
    for p in _panels(doc):
        for t in p.get("targets", []):
            yield f"{p['title']}/{t['refId']}", t["expr"]
    for v in doc["templating"]["list"]:
        if v["type"] == "query":
            m = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", v["query"])
            assert m, f"variable {v['name']}: unexpected query {v['query']!r}"
            yield f"variable {v['name']}", m.group(1)
    for a in doc["annotations"]["list"]:
        if "expr" in a:
            yield f"annotation {a['name']}", a["expr"]


def _substitute(expr: str, defined: set[str]) -> str:
    def one(m):
        name = m.group(1)
        if name in _GRAFANA_VARS:
            return _GRAFANA_VARS[name]
        assert name in defined, f"${name} is not a variable of this dashboard: {expr}"
        return ".*"
    return _VAR.sub(one, expr)


def _metrics(node) -> set[str]:
    pp = promql_parser
    if isinstance(node, pp.VectorSelector):
        names = {node.name} if node.name else set()
        names |= {m.value for m in node.matchers.matchers if m.name == "__name__"}
        return names
    if isinstance(node, pp.MatrixSelector):
        return _metrics(node.vector_selector)
    if isinstance(node, pp.BinaryExpr):
        return _metrics(node.lhs) | _metrics(node.rhs)
    if isinstance(node, pp.Call):
        return set().union(*(_metrics(a) for a in node.args)) if node.args else set()
    if isinstance(node, (pp.AggregateExpr, pp.ParenExpr, pp.UnaryExpr, pp.SubqueryExpr)):
        out = _metrics(node.expr)
        if isinstance(node, pp.AggregateExpr) and node.param is not None:
            out |= _metrics(node.param)
        return out
    return set()


@pytest.fixture(scope="module")
def example():
    return _build(EXAMPLE)


def test_example_emits_every_dashboard_and_provisioning(example):
    files, bundle, dashboards = example
    assert sorted(dashboards) == [f"dashboards/{n}.json" for n in
                                  ("gpu", "models", "overview", "pipelines", "resources", "slo")]
    assert "grafana/provisioning/datasources/aimon-gen.yml" in files
    assert "grafana/provisioning/dashboards/aimon-gen.yml" in files


@pytest.mark.parametrize("spec_file", sorted((ROOT / "specs").glob("*.yaml")), ids=lambda p: p.name)
def test_queries_parse_and_read_only_emitted_or_recorded_metrics(spec_file):
    from aimon_gen.spec.load import load_spec
    from grafana_schema import problems as model_problems

    files, bundle, dashboards = _build(spec_file)
    spec = load_spec(spec_file).spec
    known = emitted_metrics(spec) | set(bundle.recorded_names()) | {"ALERTS"}
    assert dashboards and all(model_problems(d) == [] for d in dashboards.values())
    for path, doc in dashboards.items():
        defined = {v["name"] for v in doc["templating"]["list"]}
        for where, expr in _queries(doc):
            tree = promql_parser.parse(_substitute(expr, defined))
            unknown = _metrics(tree) - known
            assert not unknown, f"{path} {where}: reads {sorted(unknown)}, which no configured exporter emits"


def test_every_panel_has_unit_datasource_and_fits(example):
    for path, doc in example[2].items():
        for p in _panels(doc):
            assert p["fieldConfig"]["defaults"].get("unit"), f"{path} {p['title']}: no unit"
            assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert all(t["datasource"] == p["datasource"] for t in p["targets"])
            assert p["targets"], f"{path} {p['title']}: no query"


def test_ids_in_order_uids_stable_and_unique(example):
    uids = set()
    for path, doc in example[2].items():
        assert [p["id"] for p in doc["panels"]] == list(range(1, len(doc["panels"]) + 1))
        assert doc["uid"] == dashboard_uid("ai-prod", Path(path).stem)
        uids.add(doc["uid"])
    assert len(uids) == len(example[2])


def test_long_spec_name_gives_valid_distinct_uids():
    a = dashboard_uid("a" * 63, "overview")
    b = dashboard_uid("a" * 62 + "b", "overview")
    assert len(a) <= 40 and re.fullmatch(r"[a-zA-Z0-9_-]+", a) and a != b
    assert dashboard_uid("ai.prod", "gpu") == "ai-prod-gpu"


def test_build_is_deterministic_and_has_no_timestamps(example):
    again, _, _ = _build(EXAMPLE)
    for path, data in example[0].items():
        if path.startswith(("dashboards/", "grafana/")):
            assert again[path] == data, path
            assert not re.search(rb"20\d\d-\d\d-\d\dT", data), path


def test_only_what_the_spec_uses(write_spec):
    _, bundle, dashboards = _build(write_spec("""
        version: 1
        name: small
        node_groups:
          - {name: gpu, hosts: [gpu-1.internal], gpu: {model: H100-80GB, count: 8}}
        models:
          - {name: det, server: triton, targets: ["triton-1.internal:8002"]}
    """))
    assert sorted(dashboards) == ["dashboards/gpu.json", "dashboards/models.json", "dashboards/overview.json",
                                  "dashboards/resources.json"]
    text = json.dumps(dashboards["dashboards/models.json"])
    assert "nv_inference_request_success" in text
    for other in ("vllm:", "tgi_", "ml_inference_", "ml_model_accuracy"):
        assert other not in text, other
    rows = [p["title"] for p in dashboards["dashboards/models.json"]["panels"] if p["type"] == "row"]
    assert "Triton" in rows and "vLLM" not in rows and "Quality" not in rows
    overview = json.dumps(dashboards["dashboards/overview.json"])
    assert "data_pipeline" not in overview and "Error budget" not in overview


def test_no_gpu_no_gpu_dashboard(write_spec):
    _, bundle, dashboards = _build(write_spec("""
        version: 1
        name: cpu
        node_groups:
          - {name: etl, hosts: [etl-1.internal]}
    """))
    assert sorted(dashboards) == ["dashboards/overview.json", "dashboards/resources.json"]
    assert "DCGM" not in json.dumps(dashboards)


def _panel(doc, title):
    return next(p for p in _panels(doc) if p["title"] == title)


def _steps(panel):
    return [(s["value"], s["color"]) for s in panel["fieldConfig"]["defaults"]["thresholds"]["steps"]]


def test_thresholds_follow_the_specs_alert_thresholds(write_spec):
    base = """
        version: 1
        name: t
        node_groups:
          - {name: gpu, hosts: [gpu-1.internal], gpu: {model: H100-80GB, count: 8}}
    """.rstrip(" ")
    _, _, d = _build(write_spec(base + "        thresholds: {gpu_utilization_high: {value: 77, severity: critical}}\n"))
    panel = _panel(d["dashboards/gpu.json"], "GPU utilisation")
    assert _steps(panel) == [(None, "green"), (77, "red")]
    assert panel["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"] == {"mode": "line"}
    _, _, d = _build(write_spec(base + "        thresholds: {gpu_utilization_high: {enabled: false}}\n", "off.yaml"))
    off = _panel(d["dashboards/gpu.json"], "GPU utilisation")
    assert _steps(off) == [(None, "green")]  # explicit, or Grafana would colour from 80
    assert "custom" not in off["fieldConfig"]["defaults"]


def test_pipeline_panels_turn_red_at_each_pipelines_freshness(example):
    doc = example[2]["dashboards/pipelines.json"]
    overrides = _panel(doc, "Time since last successful run")["fieldConfig"]["overrides"]
    assert overrides == [{"matcher": {"id": "byName", "options": "feature-etl"}, "properties": [
        {"id": "thresholds", "value": {"mode": "absolute", "steps": [
            {"value": None, "color": "green"}, {"value": 3600.0, "color": "red"}]}}]}]


def test_slo_rows_per_slo_with_burn_rate_lines(example):
    _, bundle, dashboards = example
    doc = dashboards["dashboards/slo.json"]
    rows = [p["title"] for p in doc["panels"] if p["type"] == "row"]
    assert rows == ["SLO: llama-70b-chat-availability", "SLO: llama-70b-chat-latency", "SLO: qwen-coder-latency"]
    assert all(t["expr"].removeprefix("1 - ").startswith("slo:") for p in _panels(doc) for t in p["targets"])
    burn = _panel(doc, "Burn rate per alert window")
    lines = {o["matcher"]["options"]: o["properties"][0]["value"]["steps"][1]["value"]
             for o in burn["fieldConfig"]["overrides"]}
    assert lines == {"1h window": 14.4, "6h window": 6.0, "1d window": 3.0, "3d window": 1.0}


def test_no_slo_rules_no_slo_dashboard(example):
    from aimon_gen.compile.context import Context
    from aimon_gen.compile.dashboards.panels import compile_dashboards
    from aimon_gen.spec.load import load_spec

    ctx = Context(load_spec(EXAMPLE).spec, str(EXAMPLE), EXAMPLE.parent)
    bundle = Bundle()
    compile_dashboards(ctx, bundle)
    assert "slo" not in bundle.dashboards
    assert "Error budget" not in json.dumps(bundle.dashboards["overview"])


# The SLO step's declared fields; the rule text below says otherwise on purpose: rows must not read it.
SLO = CompiledSLO("m-availability", 0.99, "7d", ("5m", "6h", "7d"), (BurnLine("6h", "5m", 1.4, "page", "critical"),))
SLO_RULES = [RuleGroup("slo-m-availability", [
    {"record": "slo:objective:ratio", "expr": "vector(0.5)", "labels": {"slo": "m-availability"}},
    {"record": "slo:error_budget_remaining:ratio",
     "expr": '1 - slo:sli_error:ratio{slo="m-availability", window="30d"} / 0.5'}])]


def test_slo_rows_read_the_compiled_slo_and_its_alerts_declared_lines(write_spec):
    from aimon_gen.compile.context import Context
    from aimon_gen.compile.dashboards.panels import compile_dashboards
    from aimon_gen.spec.load import load_spec

    path = write_spec("""
        version: 1
        name: s
        models:
          - {name: m, server: custom, targets: [m-1.internal], slo: {availability: 99, window: 7d}}
    """)
    ctx = Context(load_spec(path).spec, str(path), path.parent)
    bundle = Bundle(slos=[SLO])
    bundle.add_rules("slo", SLO_RULES)
    compile_dashboards(ctx, bundle)
    doc = bundle.dashboards["slo"]
    assert problems(doc) == []
    assert [p["title"] for p in doc["panels"] if p["type"] == "row"] == ["SLO: m-availability"]
    burn = _panel(doc, "Burn rate per alert window")
    assert burn["targets"][0]["expr"] == 'slo:burn_rate:ratio{slo="m-availability", cluster=~"$cluster", window=~"6h"}'
    assert [(o["matcher"]["options"], o["properties"][0]["value"]["steps"][1]) for o in
            burn["fieldConfig"]["overrides"]] == [("6h window", {"value": 1.4, "color": "red"})]
    sli = _panel(doc, "SLI over 7d")
    assert sli["targets"][0]["expr"] == '1 - slo:sli_error:ratio{slo="m-availability", cluster=~"$cluster", window="7d"}'
    assert _steps(sli) == [(None, "red"), (0.99, "green")]
    budget = _panel(bundle.dashboards["overview"], "Error budget left")
    assert [t["expr"] for t in budget["targets"]] == ['slo:error_budget_remaining:ratio{cluster=~"$cluster"}']


def test_links_point_at_emitted_dashboards(example):
    uids = {d["uid"] for d in example[2].values()}
    linked = 0
    for doc in example[2].values():
        assert doc["links"][0]["type"] == "dashboards" and doc["links"][0]["tags"] == ["aimon-gen", "ai-prod"]
        assert set(doc["links"][0]["tags"]) <= set(doc["tags"])
        for p in _panels(doc):
            for link in p.get("links", []):
                assert re.match(r"/d/([\w-]+)\?", link["url"]).group(1) in uids
                linked += 1
    assert linked >= 5


def test_cluster_variable_matches_series_without_the_label(example):
    """`cluster` is an external label: local series lack it, and All (`.*`) must still match."""
    for doc in example[2].values():
        cluster = next(v for v in doc["templating"]["list"] if v["name"] == "cluster")
        assert cluster["includeAll"] and cluster["allValue"] == ".*"
        assert cluster["current"]["value"] == "$__all"
        for where, expr in _queries(doc):
            assert 'cluster="' not in expr and "cluster!=" not in expr, where
    assert re.fullmatch(".*", "")  # a missing label is the empty string, which .* matches


def test_provisioning_uses_the_specs_datasource_and_folder(write_spec):
    files, bundle, dashboards = _build(write_spec("""
        version: 1
        name: prov
        node_groups:
          - {name: etl, hosts: [etl-1.internal]}
        grafana:
          datasource: {name: Prom Main, uid: prom-main, url: "http://prometheus.monitoring:9090"}
          folder: ML platform
          dashboards_path: /srv/grafana/ml
    """))
    ds = yaml.safe_load(files["grafana/provisioning/datasources/aimon-gen.yml"])
    assert ds["apiVersion"] == 1
    assert ds["datasources"] == [{"name": "Prom Main", "type": "prometheus", "uid": "prom-main", "access": "proxy",
                                  "url": "http://prometheus.monitoring:9090", "isDefault": False,
                                  "editable": False, "jsonData": {"timeInterval": "15s"}}]
    prov = yaml.safe_load(files["grafana/provisioning/dashboards/aimon-gen.yml"])["providers"][0]
    assert (prov["type"], prov["folder"], prov["options"]["path"]) == ("file", "ML platform", "/srv/grafana/ml")
    for doc in dashboards.values():
        var = doc["templating"]["list"][0]
        assert (var["type"], var["current"]["value"]) == ("datasource", "prom-main")


def test_default_dashboards_path_is_per_spec(example):
    prov = yaml.safe_load(example[0]["grafana/provisioning/dashboards/aimon-gen.yml"])["providers"][0]
    assert prov["options"]["path"] == "/var/lib/grafana/dashboards/ai-prod"


def test_definitions_name_known_thresholds_and_panel_types():
    from aimon_gen import thresholds
    catalog = thresholds.catalog()
    missing = []
    for path in sorted((ROOT / "dashboards").glob("[!_]*.yaml")):
        doc = yaml.safe_load(path.read_text())
        for row in doc.get("rows", []):
            for panel in row["panels"]:
                names = panel.get("thresholds", []) + [n for q in panel.get("queries", []) for n in q.get("thresholds", [])]
                missing += [f"{path.name}: {panel['title']}: {n}" for n in names if n not in catalog]
    assert not missing, "thresholds not in rules/thresholds.yaml:\n" + "\n".join(missing)


def _definition_problems(tmp_path, monkeypatch, files: dict[str, str]) -> dict:
    from aimon_gen.compile.dashboards import definitions as dashboard_defs
    from aimon_gen.errors import SpecInvalid

    (tmp_path / "_common.yaml").write_text((ROOT / "dashboards/_common.yaml").read_text())
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    monkeypatch.setattr(dashboard_defs, "data_dir", lambda name: tmp_path)
    dashboard_defs.definitions.cache_clear()
    try:
        with pytest.raises(SpecInvalid) as err:
            dashboard_defs.definitions()
    finally:
        dashboard_defs.definitions.cache_clear()
    return {f"{p.file}:{p.line}:{p.col}": str(p) for p in err.value.problems}


def test_every_mistake_in_every_definition_is_reported_at_its_line(tmp_path, monkeypatch):
    found = _definition_problems(tmp_path, monkeypatch, {
        "x.yaml": "title: X\nuid: x\nrows:\n  - title: R\n    panels:\n"
                  "      - {title: P, type: graph, unit: short}\n"
                  "      - {title: Q, type: stat, unit: short, wdith: 6}\n",
        "y.yaml": "title: Y\nuid: Y!\n"})
    assert set(found) == {"dashboards/x.yaml:6:26", "dashboards/x.yaml:7:45", "dashboards/y.yaml:2:6"}, found
    assert "rows[0].panels[0].type: 'graph' is not allowed; choose one of: timeseries" in found["dashboards/x.yaml:6:26"]
    assert "rows[0].panels[1].wdith: unknown field 'wdith' (allowed: title, type, unit, w, h," in found[
        "dashboards/x.yaml:7:45"]
    assert "uid: String should match pattern" in found["dashboards/y.yaml:2:6"]


def test_names_a_definition_uses_must_exist(tmp_path, monkeypatch):
    found = _definition_problems(tmp_path, monkeypatch, {"x.yaml": (
        "title: X\nuid: x\nneeds: [gpus]\nrows:\n  - title: R\n    panels:\n"
        "      - {title: P, type: stat, unit: short, thresholds: [gpu_utilisation_high],\n"
        "         queries: [{expr: 'up{<%= nodes %>}', needs: ['server:vlm']}]}\n")})
    assert found == {
        "dashboards/x.yaml:3:9": "dashboards/x.yaml:3:9: needs[0]: unknown need 'gpus' (did you mean 'gpu'?)",
        "dashboards/x.yaml:7:58": "dashboards/x.yaml:7:58: rows[0].panels[0].thresholds[0]: unknown threshold "
                                  "'gpu_utilisation_high' (did you mean 'gpu_utilization_high'?)",
        "dashboards/x.yaml:8:27": "dashboards/x.yaml:8:27: rows[0].panels[0].queries[0].expr: unknown filter "
                                  "'nodes' (did you mean 'node'?)",
        "dashboards/x.yaml:8:55": "dashboards/x.yaml:8:55: rows[0].panels[0].queries[0].needs[0]: unknown need "
                                  "'server:vlm' (did you mean 'server:vllm'?)"}
    found = _definition_problems(tmp_path, monkeypatch, {"x.yaml": (
        "title: X\nuid: x\nrows:\n  - title: R\n    panels:\n"
        "      - {title: P, type: stat, unit: short, queries: [{expr: 'up{<%= node }'}]}\n")})
    assert list(found) == ["dashboards/x.yaml:6:62"], found
    assert "rows[0].panels[0].queries[0].expr: template error: " in found["dashboards/x.yaml:6:62"]


def test_the_old_filter_form_is_refused_not_sent_to_grafana(tmp_path, monkeypatch):
    """`{@model}` was the filter syntax before the one template language: left in a copied
    definition it would reach Grafana as text and the panel would match nothing."""
    found = _definition_problems(tmp_path, monkeypatch, {"x.yaml": (
        "title: X\nuid: x\nrows:\n  - title: R\n    panels:\n"
        "      - {title: P, type: stat, unit: short, queries: [{expr: 'up{@model}'}]}\n")})
    assert list(found) == ["dashboards/x.yaml:6:62"], found
    assert "'{@name}' is no longer a filter (write it as {<%= name %>})" in found["dashboards/x.yaml:6:62"]


def test_a_node_groups_own_threshold_colours_its_series(write_spec):
    _, _, d = _build(write_spec("""
        version: 1
        name: g
        node_groups:
          - {name: a, hosts: [a-1.internal], gpu: {model: H100-80GB, count: 8}}
          - {name: b, hosts: [b-1.internal], gpu: {model: A100-40GB, count: 4},
             thresholds: {gpu_utilization_high: {value: 70, severity: warning}}}
    """))
    panel = _panel(d["dashboards/gpu.json"], "Utilisation by node group")
    assert _steps(panel) == [(None, "green"), (90, "blue")]  # mixed pools: info
    assert panel["fieldConfig"]["overrides"] == [{"matcher": {"id": "byName", "options": "b"}, "properties": [
        {"id": "thresholds", "value": {"mode": "absolute", "steps": [
            {"value": None, "color": "green"}, {"value": 70.0, "color": "orange"}]}}]}]


def test_each_models_series_gets_its_servers_alert_threshold(example):
    panel = _panel(example[2]["dashboards/models.json"], "Latency p50, p90, p99")
    lines = {o["matcher"]["options"]: o["properties"][0]["value"]["steps"] for o in panel["fieldConfig"]["overrides"]}
    assert lines == {"fraud-scorer p99": [{"value": None, "color": "green"}, {"value": 0.5, "color": "orange"}],
                     # vLLM's e2e latency alert is info: it grows with the answer's length
                     "llama-70b-chat p99": [{"value": None, "color": "green"}, {"value": 30.0, "color": "blue"}]}


def test_an_alert_above_zero_leaves_zero_green(example):
    xid = _panel(example[2]["dashboards/gpu.json"], "XIDs in the last hour")
    (_, base), (value, colour) = _steps(xid)
    assert base == "green" and 0 < value < 1e-6 and colour == "orange"


@pytest.mark.e2e  # builds in several processes (slow)
def test_same_bytes_across_processes_and_hash_seeds(tmp_path):
    import os
    import subprocess
    code = ("import sys, json; from pathlib import Path; from aimon_gen.build import generate; "
            "f = generate(Path(sys.argv[1]))[0]; "
            "sys.stdout.buffer.write(b''.join(f[p] for p in sorted(f) if p.startswith(('dashboards/', 'grafana/'))))")
    outs = {subprocess.run([sys.executable, "-c", code, str(EXAMPLE)], capture_output=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(outs) == 1 and len(next(iter(outs))) > 50_000


def test_gpus_reporting_turns_red_where_gpu_missing_fires(example):
    panel = _panel(example[2]["dashboards/gpu.json"], "GPUs reporting per host")
    assert panel["targets"][0]["legendFormat"] == "{{node_group}}/{{host}}"
    assert panel["fieldConfig"]["overrides"] == [{"matcher": {"id": "byRegexp", "options": "^h100-train/"},
                                                  "properties": [{"id": "thresholds", "value": {
                                                      "mode": "absolute", "steps": [{"value": None, "color": "red"},
                                                                                    {"value": 8.0, "color": "green"}]}}]}]
    assert re.match(panel["fieldConfig"]["overrides"][0]["matcher"]["options"], "h100-train/gpu-a1.internal")


def test_layout_wraps_before_a_panel_would_pass_column_24():
    from types import SimpleNamespace as P

    from aimon_gen.compile.dashboards.sdk import layout
    rows = [("a", [P(w=16, h=8), P(w=12, h=6), P(w=12, h=6)]), ("b", [P(w=24, h=4)])]
    assert layout(rows) == [(0, [(0, 1), (0, 9), (12, 9)]), (15, [(0, 16)])]


def test_storage_only_spec_gets_the_storage_row_and_no_empty_dashboards(write_spec):
    _, _, dashboards = _build(write_spec("""
        version: 1
        name: st
        storage:
          - {name: lake, kind: s3, targets: ["minio-1.internal:9000"]}
    """))
    assert sorted(dashboards) == ["dashboards/overview.json", "dashboards/resources.json"]
    rows = [p["title"] for p in dashboards["dashboards/resources.json"]["panels"] if p["type"] == "row"]
    assert rows == ["Storage"]
    uids = {d["uid"] for d in dashboards.values()}
    for doc in dashboards.values():
        assert problems(doc) == []
        for p in _panels(doc):
            assert all(re.match(r"/d/([\w-]+)\?", link["url"]).group(1) in uids for link in p.get("links", []))


def test_grafana_section_errors_say_what_to_write(write_spec):
    from aimon_gen.errors import SpecInvalid
    from aimon_gen.spec.load import load_spec

    path = write_spec("""
        version: 1
        name: g
        grafana:
          dashboards_path: dashboards
          refresh: 1 minute
          datasource: {uid: "bad uid!", url: "prometheus:9090"}
    """)
    with pytest.raises(SpecInvalid) as err:
        load_spec(path)
    shown = {(p.line, p.path, p.message) for p in err.value.problems}
    assert (4, "grafana.dashboards_path", "'dashboards' is not an absolute path on the Grafana host, "
            "e.g. /var/lib/grafana/dashboards/ai-prod") in shown
    assert (5, "grafana.refresh", "'1 minute' is not a refresh interval such as 30s, 1m or 5m "
            "(empty: no auto-refresh)") in shown
    assert {(p.path, p.line) for p in err.value.problems} >= {("grafana.datasource.uid", 6),
                                                              ("grafana.datasource.url", 6)}
