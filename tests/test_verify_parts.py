"""verify's parts without the full run: config rewriting (held against promtool), the
route walk (held against amtool), the simulators (held against the metric catalog),
the fault plan, dashboard variables, and process clean-up."""

from __future__ import annotations

import functools

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from aimon_gen.build import generate
from aimon_gen.render import documents
from aimon_gen.catalog import exporter_metrics
from aimon_gen.spec import routing
from aimon_gen.verify import dashboards, rewrite, scenarios
from aimon_gen.verify.fleet import Fleet
from aimon_gen.verify.stack import MissingBinary, Stack, find_binary, http_get

from conftest import EXAMPLE, ROOT, tool


@pytest.fixture(scope="module")
def example():
    files, bundle, loaded = generate(EXAMPLE)
    return files, loaded.spec


@functools.cache
def _documents() -> dict:
    """The example's build result as documents, which verify reads (not the written bytes)."""
    return documents(generate(EXAMPLE)[1])


# --- time compression ---------------------------------------------------------------

def test_windows_offsets_and_steps_are_compressed_and_strings_are_not():
    expr = 'time() - max_over_time(x{a="[5m]", b=~"offset 1h"}[1h]) > 3600 or rate(y[5m:1m] offset 1d) > 0'
    out = rewrite.scale_expr(expr)
    assert out == ('time() - max_over_time(x{a="[5m]",b=~"offset 1h"}[20s]) > 3600 '
                   'or rate(y[5s:1s] offset 24m) > 0')


@pytest.mark.parametrize("window, expected", [("1m", "4s"), ("5m", "5s"), ("10m", "10s"), ("30d", "20s"), ("90s", "4s")])
def test_window_is_kept_between_bounds(window, expected):
    assert rewrite.scale_window(window) == expected


@pytest.mark.parametrize("given, expected", [("5m", "5s"), ("2m", "2s"), ("1h", "10s"), ("0s", "0s"), (None, None)])
def test_for_is_compressed_and_capped(given, expected):
    assert rewrite.scale_for(given) == expected


@pytest.mark.e2e  # verify's parts against promtool on the whole example (slow)
def test_rewritten_rules_still_pass_promtool(example, tmp_path):
    files, _ = example
    rule_files = [p for p in files if p.endswith(".rules.yml") and "/" not in p]  # what Prometheus loads
    if not rule_files:
        pytest.skip("the build emits no rule files yet")
    for rel in rule_files:
        (tmp_path / rel).write_text(yaml.safe_dump(rewrite.rules(yaml.safe_load(files[rel]))))
    proc = subprocess.run([tool("promtool"), "check", "rules", *rule_files], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --- prometheus.yml: same target labels as production ----------------------------------

def _sd_labels(promtool: str, folder: Path, job: str) -> list[dict]:
    out = subprocess.run([promtool, "check", "service-discovery", "prometheus.yml", job, "--timeout=1s"],
                         cwd=folder, capture_output=True, text=True, check=True).stdout
    # Prometheus drops every `__` label after relabelling (promtool still shows them).
    return sorted((json.dumps({k: v for k, v in t["labels"].items() if not k.startswith("__")}, sort_keys=True)
                   for t in json.loads(out)))


@pytest.mark.e2e  # verify's parts against promtool on the whole example (slow)
def test_rewritten_targets_keep_every_label_promtool_computes(example, tmp_path):
    """promtool's view of the final target labels: production config vs verify's loopback copy."""
    files, spec = example
    promtool = tool("promtool")
    prod, run = tmp_path / "prod", tmp_path / "run"
    for folder in (prod, run):
        folder.mkdir()
    doc = yaml.safe_load(files["prometheus.yml"])
    doc.pop("rule_files", None)
    (prod / "prometheus.yml").write_text(yaml.safe_dump(doc))
    ports = iter(range(20000, 30000))
    placed = {}

    def place(job, address, labels):
        placed[(job, address)] = f"127.0.0.1:{next(ports)}"
        return placed[(job, address)]
    new = rewrite.prometheus(doc, lambda sc: rewrite.static_targets(sc, _documents()), place, "127.0.0.1:9")
    (run / "prometheus.yml").write_text(yaml.safe_dump(new))
    assert new["global"]["scrape_interval"] == "1s" and "remote_write" not in new
    assert all(a.startswith("127.0.0.1:") for sc in new["scrape_configs"] for g in sc["static_configs"] for a in g["targets"])
    for sc in doc["scrape_configs"]:
        assert _sd_labels(promtool, prod, sc["job_name"]) == _sd_labels(promtool, run, sc["job_name"]), sc["job_name"]
    assert {job for job, _ in placed} >= {"node_exporter", "dcgm_exporter", "vllm", "ml_inference", "pipelines"}


def test_alertmanager_rewrite_sends_every_notifying_receiver_to_the_sink(example):
    files, _ = example
    if "alertmanager.yml" not in files:
        pytest.skip("no alertmanager.yml yet")
    src = yaml.safe_load(files["alertmanager.yml"])
    out = rewrite.alertmanager(src, "http://127.0.0.1:1")
    assert [r["name"] for r in out["receivers"]] == [r["name"] for r in src["receivers"]]
    for r in out["receivers"]:
        assert r["webhook_configs"] == [{"url": f"http://127.0.0.1:1/{r['name']}", "send_resolved": True}]
    assert out["route"]["group_wait"] == rewrite.GROUP_WAIT and out["inhibit_rules"] == src.get("inhibit_rules")
    assert "time_intervals" not in out and out["global"].keys() <= {"resolve_timeout"}


# --- routing: the Python walk agrees with amtool -----------------------------------------

LABEL_SETS = [
    {"alertname": "GPUTemperatureCritical", "severity": "critical", "team": "research", "pool": "training"},
    {"alertname": "GPUXidError", "severity": "warning", "team": "research", "pool": "training"},
    {"alertname": "X", "severity": "warning", "team": "genai", "model": "llama-70b-chat"},
    {"alertname": "X", "severity": "critical", "team": "data", "pipeline": "feature-etl"},
    {"alertname": "X", "severity": "warning", "storage": "training-data"},
    {"alertname": "X", "severity": "info"},
    {"alertname": "Watchdog", "severity": "none"},   # the generated heartbeat route comes first
]


@pytest.mark.parametrize("labels", LABEL_SETS, ids=lambda l: ",".join(f"{k}={v}" for k, v in l.items()))
def test_route_walk_matches_amtool(example, tmp_path, labels):
    files, spec = example
    if "alertmanager.yml" not in files:
        pytest.skip("no alertmanager.yml yet")
    (tmp_path / "am.yml").write_bytes(files["alertmanager.yml"])
    out = subprocess.run([tool("amtool"), "config", "routes", "test", f"--config.file={tmp_path / 'am.yml'}",
                          *[f"{k}={v}" for k, v in labels.items()]], capture_output=True, text=True)
    got = out.stdout.strip().split(",")
    assert got == routing.receivers(routing.from_config(yaml.safe_load(files["alertmanager.yml"])), labels)
    # The spec's own tree agrees, heartbeat route included, before anything is generated.
    assert got == routing.receivers(routing.tree(spec.alerting, routing.has_heartbeat(spec)), labels)


def test_inhibition_walk():
    cfg = {"inhibit_rules": [{"source_matchers": ['alertname="NodeDown"'], "target_matchers": ['alertname!="NodeDown"'],
                              "equal": ["host"]}]}
    down = {"alertname": "NodeDown", "host": "a"}
    assert routing.inhibited(cfg, {"alertname": "GPUMissing", "host": "a"}, [down])
    assert not routing.inhibited(cfg, {"alertname": "GPUMissing", "host": "b"}, [down])
    assert not routing.inhibited(cfg, down, [down])


# --- simulators serve what the catalog says ---------------------------------------------

def _exposed(body: bytes) -> tuple[dict[str, str], dict[str, set]]:
    types, labels = {}, {}
    for line in body.decode().splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
        elif line and not line.startswith("#"):
            name = line.split("{")[0].split(" ")[0]
            names = {kv.split("=")[0] for kv in line.split("{")[1].split("}")[0].split('",') if kv} if "{" in line else set()
            labels.setdefault(name, set()).update(n.strip().strip(",") for n in names)
    return types, labels


def _fleet(example):
    files, spec = example
    fleet = Fleet(spec, "http://127.0.0.1:9")
    doc = yaml.safe_load(files["prometheus.yml"])
    for sc in doc["scrape_configs"]:
        for address, labels in rewrite.static_targets(sc, _documents()):
            fleet.place(sc["job_name"], address, labels)
    return fleet


@pytest.mark.e2e  # serves every simulated exporter
@pytest.mark.parametrize("job, kind", [("dcgm_exporter", "dcgm_exporter"), ("vllm", "vllm"), ("storage_s3", "s3"),
                                       ("ml_inference", "custom"), ("pipelines", "pipeline"), ("sglang", "sglang")])
def test_simulator_serves_exactly_the_catalog(example, job, kind):
    _, spec = example
    fleet = _fleet(example)
    try:
        target = next(t for t in fleet.targets if t.job == job)
        url = f"http://127.0.0.1:{target.port}/metrics"
        http_get(url)
        types, labels = _exposed(http_get(url))
        for info in exporter_metrics(kind).values():
            if not info.emitted:
                assert not any(s in labels for s in info.series), info.name
                continue
            for series in info.series:
                assert series in labels, f"{kind}: {series} not served"
                served = labels[series] - ({"le"} if info.type == "histogram" else set())
                assert set(info.labels) <= served, f"{series}: {labels[series]} lacks {info.labels}"
            base = info.name[:-6] if info.type == "counter" and info.name.endswith("_total") else info.name
            assert info.type in (types.get(base), types.get(info.name)), info.name
        served = set(labels)
        catalog = {s for i in exporter_metrics(kind).values() if i.emitted for s in i.series}
        assert served <= catalog | {"ml_inference_requests_created"} | \
            {s for s in served if s.endswith("_created")}, served - catalog
    finally:
        fleet.close()


def _value(body: bytes, series: str, **want) -> list[float]:
    out = []
    for line in body.decode().splitlines():
        if line.startswith(series + "{") and all(f'{k}="{v}"' in line for k, v in want.items()):
            out.append(float(line.rsplit(" ", 1)[1]))
    return out


def test_faults_change_what_the_simulators_serve(example):
    _, spec = example
    fleet = _fleet(example)
    try:
        plan = {s.fault: s for s in scenarios.plan(spec)}
        dcgm = next(t for t in fleet.targets if t.job == "dcgm_exporter" and t.host == plan["gpu_hot"].subject)
        url = f"http://127.0.0.1:{dcgm.port}/metrics"
        assert max(_value(http_get(url), "DCGM_FI_DEV_GPU_TEMP")) < 83
        fleet.apply(plan["gpu_hot"])
        assert _value(http_get(url), "DCGM_FI_DEV_GPU_TEMP") == [95.0] * 8
        fleet.apply(plan["gpu_hot"], False)
        fleet.apply(plan["gpu_missing"])
        gpus = _value(http_get(f"http://127.0.0.1:{next(t.port for t in fleet.targets if t.job == 'dcgm_exporter' and t.host == plan['gpu_missing'].subject)}/metrics"), "DCGM_FI_DEV_GPU_UTIL")
        assert len(gpus) == 7
        fleet.apply(plan["node_down"])
        down = [t for t in fleet.targets if t.host == plan["node_down"].subject]
        assert {t.job for t in down} == {"node_exporter", "dcgm_exporter"}
        with pytest.raises(OSError):   # 503
            http_get(f"http://127.0.0.1:{down[1].port}/metrics")
    finally:
        fleet.close()


def test_sglang_faults_come_from_the_kinds_registry(example):
    """SGLang is data only (kinds.yaml): its identity label, what its faults serve and must fire."""
    _, spec = example
    plan = {(s.fault, s.subject): s for s in scenarios.plan(spec)}
    assert "abort" in plan[("error_ratio_up", "qwen-coder")].expect
    assert "firsttoken" in plan[("latency_up", "qwen-coder")].expect
    fleet = _fleet(example)
    try:
        target = next(t for t in fleet.targets if t.job == "sglang")
        url = f"http://127.0.0.1:{target.port}/metrics"
        assert _value(http_get(url), "sglang:num_requests_total", model_name="qwen-coder")
        before = _value(http_get(url), "sglang:num_aborted_requests_total")
        fleet.apply(plan[("error_ratio_up", "qwen-coder")])
        time.sleep(0.5)
        after = _value(http_get(url), "sglang:num_aborted_requests_total")
        assert before == [0.0] and after[0] > 1.0   # 5 aborts/s while failing
    finally:
        fleet.close()


# --- the fault plan -----------------------------------------------------------------------

def test_example_plan_covers_every_fault_in_non_overlapping_waves(example):
    _, spec = example
    plan = scenarios.plan(spec)
    assert {s.fault for s in plan} == set(scenarios.EXPECT)
    waves = scenarios.waves(plan)
    assert len(waves) <= 2
    for wave in waves:
        used = [r for s in wave for r in s.resources]
        assert len(used) == len(set(used))


def test_scenario_owns_alerts_by_subject_labels_and_slo_name(example):
    _, spec = example
    lat = next(s for s in scenarios.plan(spec) if s.fault == "latency_up" and s.subject == "llama-70b-chat")
    assert lat.owns({"model": "llama-70b-chat"}) and lat.owns({"slo": "llama-70b-chat-latency"})
    assert not lat.owns({"model": "fraud-scorer"}) and not lat.owns({"host": "gpu-a1.internal"})


# --- dashboards: template variables as Grafana fills them -------------------------------------

def test_all_becomes_a_regex_of_every_value_escaped_for_promql():
    var = {"name": "host", "includeAll": True, "current": {"value": "$__all"}}
    assert dashboards._chosen(var, ["a.internal", "b.internal"]) == r"(a\\.internal|b\\.internal)"
    assert dashboards._chosen({**var, "allValue": ".+"}, ["a"]) == ".+"
    assert dashboards._chosen({"current": {"value": "b"}}, ["a", "b"]) == "b"
    assert dashboards.substitute('x{h=~"$host", j="${job}", r="[[r]]"}[$__rate_interval]',
                                 {"host": "h", "job": "j", "r": "r", "__rate_interval": "30s"}) == 'x{h=~"h", j="j", r="r"}[30s]'


# --- processes and clean-up ---------------------------------------------------------------------

def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is gone for our purposes
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


@pytest.mark.e2e  # starts node_exporter
def test_stack_stops_processes_and_removes_its_folder_even_on_ctrl_c():
    binary = tool("node_exporter")
    with pytest.raises(KeyboardInterrupt):
        with Stack() as stack:
            proc = stack.node_exporter(binary)
            root, pid = stack.root, proc.popen.pid
            assert http_get(proc.url + "/metrics")
            raise KeyboardInterrupt
    assert not root.exists()
    assert not _alive(pid)


def test_missing_binary_says_what_to_install():
    with pytest.raises(MissingBinary, match="apt-get install prometheus-alertmanager"):
        find_binary("alertmanager", "/nonexistent/alertmanager")


def test_cli_reports_a_missing_binary_without_traceback():
    proc = subprocess.run([str(ROOT / ".venv" / "bin" / "aimon-gen"), "verify", str(EXAMPLE),
                           "--prometheus", "/nonexistent/prometheus"], capture_output=True, text=True)
    assert proc.returncode == 1
    assert "--prometheus /nonexistent/prometheus: does not exist" in proc.stderr and "Traceback" not in proc.stderr


def test_timestamps_of_both_apis_parse_to_the_same_instant():
    from aimon_gen.verify.waves import _ts
    assert _ts("2026-11-28T20:01:02.123456789Z") - _ts("2026-11-28T20:01:02Z") == pytest.approx(0.123456, abs=1e-6)
    assert _ts("2026-11-28T20:01:02.123Z") == pytest.approx(_ts("2026-11-28T20:01:02Z") + 0.123)


def test_report_shows_identical_info_rows_once_with_a_count():
    from aimon_gen.verify.report import Report

    r = Report()
    for _ in range(34):
        r.add("quiet", "NodeHighCPU", True, "this machine's own metrics", info=True)
    r.add("quiet", "baseline", True)
    r.add("quiet", "NodeHighCPU", True, "another reason", info=True)
    for name in ("gpu.json", "models.json"):
        r.add("dashboard variable", name, True, "$cluster is empty here", info=True)
    table = r.table()
    assert table.count("NodeHighCPU") == 2 and "this machine's own metrics (x34)" in table
    assert table.count("$cluster is empty here") == 1 and "gpu.json, models.json" in table
    assert "1 checks, 1 passed, 0 failed" in table


def test_alertmanager_job_is_served_by_the_stacks_real_alertmanager(example):
    """The `alertmanager` scrape job (prometheus.alertmanagers) reads the Alertmanager verify runs:
    its target serves exactly what that process serves, and is not a down, unknown job."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from aimon_gen.verify.simulators import http_get

    body = b"# TYPE alertmanager_config_last_reload_successful gauge\nalertmanager_config_last_reload_successful 1\n"

    class Metrics(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server API
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass
    server = HTTPServer(("127.0.0.1", 0), Metrics)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    files, spec = example
    fleet = Fleet(spec, "http://127.0.0.1:9")
    fleet.alertmanager_url = f"http://127.0.0.1:{server.server_port}"
    try:
        doc = yaml.safe_load(files["prometheus.yml"])
        [sc] = [sc for sc in doc["scrape_configs"] if sc["job_name"] == "alertmanager"]
        placed = [fleet.place("alertmanager", a, labels) for a, labels in rewrite.static_targets(sc, _documents())]
        assert placed and all(http_get(f"http://{p}/metrics", timeout=5) == body for p in placed)
    finally:
        fleet.close()
        server.shutdown()
