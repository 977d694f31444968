"""alertmanager.yml through the real amtool (and Alertmanager): check-config, routing tests,
the Python router against amtool's, inhibition in a running Alertmanager, secrets."""

from __future__ import annotations

import itertools
import json
import subprocess
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml
from typer.testing import CliRunner

from aimon_gen import check
from aimon_gen.build import generate
from aimon_gen.cli import app
from aimon_gen.compile.alerting.alertmanager import CONFIG
from aimon_gen.errors import CheckFailed
from aimon_gen.output import write_tree
from aimon_gen.spec import routing

from aimon_gen.verify.stack import free_port
from conftest import EXAMPLE, stop, tool

EVERY_CHANNEL = """\
version: 1
name: ai-prod
node_groups:
  - {name: h100-train, hosts: [gpu-a1.internal], gpu: {model: H100-80GB, count: 8}, labels: {team: research, pool: training}}
alerting:
  resolve_timeout: 10m
  default_receiver: ops
  smtp: {smarthost: "smtp.example.com:587", from: am@example.com, auth_username: am,
         auth_password_file: SECRETS/smtp}
  receivers:
    - name: ops
      email: [{to: ops@example.com}, {to: boss@example.com, require_tls: false, send_resolved: false}]
      webhook: {url: "http://hooks.internal/ops", max_alerts: 10}
    - name: oncall
      pagerduty: {routing_key_file: SECRETS/pagerduty}
      opsgenie: {api_key_file: SECRETS/opsgenie, api_url: "https://api.eu.opsgenie.com/", priority: P1}
    - name: research-slack
      send_resolved: false
      slack: [{channel: "#research", api_url_file: SECRETS/slack}, {channel: "#gpu", api_url_file: SECRETS/slack}]
  routes:
    - {receiver: oncall, match: {severity: critical}, continue: true, repeat_interval: 1h}
    - receiver: research-slack
      match: {team: research}
      group_by: [alertname, host]
      routes:
        - {match: {pool: training, severity: [warning, info]}, mute_time_intervals: [night], group_wait: 1m}
        - {match_re: {alertname: "GPU.*"}, active_time_intervals: [office]}
    - {receiver: oncall, match: {team: ["ml ops", "a.b"]}}
  maintenance_windows:
    - {name: night, weekdays: [saturday, "monday:friday"], times: ["00:00-06:00", "22:00-24:00"], time_zone: Europe/Berlin}
    - {name: office, times: ["09:00-17:00"]}
  tests:
    - {labels: {severity: critical, team: research}, receivers: [oncall, research-slack]}
    - {labels: {severity: warning, team: research, pool: training}, receivers: [research-slack]}
    - {labels: {severity: warning}, receivers: [ops]}
    - {labels: {severity: info, team: ml ops}, receivers: [oncall]}
    - {labels: {severity: info, team: aXb}, receivers: [ops]}
"""


def _spec(write_spec, tmp_path, text=EVERY_CHANNEL):
    secrets = tmp_path / "secrets"
    secrets.mkdir(exist_ok=True)
    for name in ("smtp", "pagerduty", "opsgenie", "slack"):
        (secrets / name).write_text(f"TOPSECRET-{name}-value\n")
    return write_spec(text.replace("SECRETS", str(secrets)))


@pytest.mark.e2e  # many amtool runs or checked builds (slow)
def test_every_channel_kind_passes_amtool_check_config(tmp_path, write_spec):
    tool("amtool")
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["build", str(_spec(write_spec, tmp_path)), "-o", str(out), "--timings"])
    assert r.exit_code == 0, r.output + r.stderr
    assert "amtool check-config" in r.stdout and r.stdout.count("amtool config routes") == 5
    doc = yaml.safe_load((out / CONFIG).read_text())
    kinds = {k for rcv in doc["receivers"] for k in rcv if k.endswith("_configs")}
    assert kinds == {"email_configs", "webhook_configs", "pagerduty_configs", "opsgenie_configs", "slack_configs"}
    checked = subprocess.run([tool("amtool"), "check-config", str(out / CONFIG)], capture_output=True, text=True)
    assert checked.returncode == 0 and "SUCCESS" in checked.stdout, checked.stdout + checked.stderr


@pytest.mark.e2e  # many amtool runs or checked builds (slow)
def test_secrets_never_reach_the_output(tmp_path, write_spec):
    tool("amtool")
    out = tmp_path / "out"
    spec = _spec(write_spec, tmp_path)
    assert CliRunner().invoke(app, ["build", str(spec), "-o", str(out)]).exit_code == 0
    text = "".join(p.read_text() for p in out.rglob("*") if p.is_file())
    assert "TOPSECRET" not in text
    doc = yaml.safe_load((out / CONFIG).read_text())
    files = [v for k, v in _items(doc) if k.endswith("_file")]
    assert sorted(set(files)) == sorted(str(tmp_path / "secrets" / n) for n in ("opsgenie", "pagerduty", "slack", "smtp"))


def test_inline_secret_fails_the_build_and_writes_nothing(tmp_path, write_spec):
    out = tmp_path / "out"
    spec = write_spec(EVERY_CHANNEL.replace("{routing_key_file: SECRETS/pagerduty}", "{routing_key: R0UT1NGKEY}"))
    r = CliRunner().invoke(app, ["build", str(spec), "-o", str(out)])
    assert r.exit_code == 1
    assert ("spec.yaml:15:32: alerting.receivers[1].pagerduty.routing_key: 'routing_key' would write a secret "
            "into alertmanager.yml; put the secret in a file and give its path as 'routing_key_file'") in r.stderr
    assert "R0UT1NGKEY" not in r.stderr and not out.exists()


def _items(node):
    if isinstance(node, dict):
        for k, v in node.items():
            yield k, v
            yield from _items(v)
    elif isinstance(node, list):
        for v in node:
            yield from _items(v)


def _staged(tmp_path, spec_path):
    files, bundle, loaded = generate(spec_path)
    stage = tmp_path / "stage"
    write_tree(stage, files)
    return stage, bundle, loaded


def test_a_wrong_expectation_fails_amtool_routing_test(tmp_path, write_spec):
    tool("amtool")
    stage, bundle, _ = _staged(tmp_path, _spec(write_spec, tmp_path))
    assert check.run(stage, _routing_tests(bundle))  # the spec's own tests pass
    labels, _ = bundle.alertmanager_tests[0]
    bundle.alertmanager_tests[0] = (labels, ["research-slack", "oncall"])  # wrong order: tree order counts
    with pytest.raises(CheckFailed) as exc:
        check.run(stage, _routing_tests(bundle))
    assert "routing test alerting.tests[0]" in exc.value.file
    assert "Expected receivers did not match" in exc.value.output and "oncall,research-slack" in exc.value.output


def _routing_tests(bundle) -> check.CheckPlan:
    """The plan's amtool routing tests alone."""
    cmds = check.plan(bundle, "spec.yaml", "t").commands
    return check.CheckPlan([c for c in cmds if c.args[:3] == ("config", "routes", "test")])


def test_example_routing_tests_run_in_the_build(tmp_path):
    tool("amtool")
    stage, bundle, loaded = _staged(tmp_path, EXAMPLE)
    checks = check.plan(bundle, EXAMPLE.name, loaded.spec.name)
    tests = [c for c in checks.commands if c.args[:3] == ("config", "routes", "test")]
    assert len(tests) == len(loaded.spec.alerting.tests) >= 4
    check.run(stage, check.CheckPlan([c for c in checks.commands if c.tool == "amtool"]))


@pytest.mark.e2e  # many amtool runs or checked builds (slow)
def test_python_router_agrees_with_amtool(tmp_path, write_spec):
    """The build-time analysis is only as good as its mirror of Alertmanager's routing."""
    amtool = tool("amtool")
    for spec_path in (EXAMPLE, _spec(write_spec, tmp_path)):
        stage, bundle, loaded = _staged(tmp_path, spec_path)
        root = routing.tree(loaded.spec.alerting)
        values = {"severity": ["critical", "warning", ""], "team": ["genai", "research", "data", "risk", "ml ops", "a.b", "aXb", ""],
                  "pool": ["training", ""], "storage": ["training-data", ""], "alertname": ["GPUHot", "X"]}
        combos = [{k: v for k, v in zip(values, combo) if v} for combo in itertools.product(*values.values())]

        def amtool_says(labels, config=stage / CONFIG):
            args = [f"{k}={v}" for k, v in labels.items()]
            return subprocess.run([amtool, "config", "routes", "test", f"--config.file={config}", *args],
                                  capture_output=True, text=True, check=True).stdout.strip()

        with ThreadPoolExecutor(16) as pool:
            for labels, got in zip(combos, pool.map(amtool_says, combos)):
                assert got == ",".join(routing.receivers(root, labels)), (spec_path, labels)


def _post(url: str, body) -> None:
    req = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=5).read()


@pytest.mark.e2e  # runs a real Alertmanager
def test_inhibitions_in_a_running_alertmanager(tmp_path, write_spec):
    """Node down silences the host's other alerts; critical silences the same alert's warning;
    an SLO page silences its ticket. Alerts on other hosts stay active."""
    binary = tool("alertmanager")
    stage, bundle, _ = _staged(tmp_path, _spec(write_spec, tmp_path))
    # A pair of levels of one condition under two names, as the GPU rules generate them.
    levels = [r for r in bundle.alertmanager["inhibit_rules"] if r["source_matchers"][0].startswith("alertname=")
              and r["source_matchers"][0] != 'alertname="NodeDown"']
    assert levels, "the GPU rules have warning/critical levels under two names"
    # The temperature pair (GPUXidError is used below for grouping, so not its fatal pair).
    pair = next(r for r in levels if "Temperature" in r["source_matchers"][0])
    high, critical = (pair[k][0].split('"')[1] for k in ("target_matchers", "source_matchers"))
    port = free_port()
    proc = subprocess.Popen([binary, f"--config.file={stage / CONFIG}", f"--storage.path={tmp_path / 'data'}",
                             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}/api/v2"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/status", timeout=1).read()
                break
            except OSError:
                time.sleep(0.05)
        else:
            pytest.fail("alertmanager did not start: " + proc.stderr.read1().decode())
        c = {"cluster": "ai-prod"}
        alerts = [
            {**c, "alertname": "NodeDown", "severity": "critical", "host": "gpu-a1", "instance": "gpu-a1"},
            {**c, "alertname": "GPUTemperatureHigh", "severity": "warning", "host": "gpu-a1", "gpu": "0"},
            {**c, "alertname": "GPUTemperatureHigh", "severity": "warning", "host": "gpu-a2", "gpu": "0"},
            {**c, "alertname": "GPUMemoryFull", "severity": "critical", "host": "gpu-a2", "gpu": "1"},
            {**c, "alertname": "GPUMemoryFull", "severity": "warning", "host": "gpu-a2", "gpu": "1"},
            {**c, "alertname": "GPUMemoryFull", "severity": "warning", "host": "gpu-a2", "gpu": "2"},
            {**c, "alertname": "SLOBurnRatePage", "severity": "critical", "tier": "page", "slo": "llama-availability"},
            {**c, "alertname": "SLOBurnRateTicket", "severity": "warning", "tier": "ticket", "slo": "llama-availability"},
            {**c, "alertname": "SLOBurnRateTicket", "severity": "warning", "tier": "ticket", "slo": "scorer-latency"},
            # Tiers with the same severity: the page still silences the ticket.
            {**c, "alertname": "SLOBurnRatePage", "severity": "warning", "tier": "page", "slo": "etl-freshness"},
            {**c, "alertname": "SLOBurnRateTicket", "severity": "warning", "tier": "ticket", "slo": "etl-freshness"},
            {**c, "alertname": critical, "severity": "critical", "host": "gpu-d1", "gpu": "0"},
            {**c, "alertname": high, "severity": "warning", "host": "gpu-d1", "gpu": "0"},
            {**c, "alertname": high, "severity": "warning", "host": "gpu-d1", "gpu": "1"},
        ]
        _post(f"{base}/alerts", [{"labels": a} for a in alerts])
        expected_inhibited = {1, 4, 7, 10, 12}
        for _ in range(100):
            got = json.loads(urllib.request.urlopen(f"{base}/alerts", timeout=5).read())
            state = {tuple(sorted(a["labels"].items())): a["status"]["state"] for a in got}
            if len(state) == len(alerts) and "unprocessed" not in state.values():
                break
            time.sleep(0.05)
        for i, a in enumerate(alerts):
            key = tuple(sorted(a.items()))
            assert state[key] == ("suppressed" if i in expected_inhibited else "active"), a
        # Default grouping: one notification per alert and node group, not one per host.
        _post(f"{base}/alerts", [{"labels": {**c, "alertname": "GPUXidError", "severity": "warning",
                                             "node_group": group, "host": host}}
                                 for group, host in (("train", "gpu-b1"), ("train", "gpu-b2"), ("infer", "gpu-c1"))])
        for _ in range(100):
            groups = json.loads(urllib.request.urlopen(f"{base}/alerts/groups", timeout=5).read())
            xid = sorted(sorted(a["labels"]["host"] for a in g["alerts"]) for g in groups
                         if g["labels"].get("alertname") == "GPUXidError")
            if sum(map(len, xid)) == 3:
                break
            time.sleep(0.05)
        assert xid == [["gpu-b1", "gpu-b2"], ["gpu-c1"]]
    finally:
        stop(proc)


SLACK_ONLY = """\
version: 1
name: ai-prod
alerting:
  default_receiver: research-slack
  group_wait: 1s
  receivers:
    - name: research-slack
      slack: {channel: "#research", api_url_file: SECRETS/slack}
"""


@pytest.mark.e2e  # runs a real Alertmanager
def test_slack_notification_reads_the_url_file_and_says_what_broke(tmp_path, write_spec):
    """A running Alertmanager posts to the URL in api_url_file, with summary, severity,
    description and runbook in the text (Alertmanager's own default text is empty)."""
    import http.server
    import threading

    binary = tool("alertmanager")
    got: list[dict] = []

    class Sink(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server API
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    spec = _spec(write_spec, tmp_path, SLACK_ONLY)
    (tmp_path / "secrets" / "slack").write_text(f"http://127.0.0.1:{server.server_port}/hook\n")
    stage, _, _ = _staged(tmp_path, spec)
    port = free_port()
    proc = subprocess.Popen([binary, f"--config.file={stage / CONFIG}", f"--storage.path={tmp_path / 'data'}",
                             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                _post(f"http://127.0.0.1:{port}/api/v2/alerts", [{
                    "labels": {"alertname": "GPUTemperatureHigh", "severity": "warning", "host": "gpu-a1"},
                    "annotations": {"summary": "GPU 0 on gpu-a1 runs hot", "description": "88 C (threshold 85)",
                                    "runbook_url": "https://runbooks.example.com/GPUTemperatureHigh"}}])
                break
            except OSError:
                time.sleep(0.05)
        for _ in range(200):
            if got:
                break
            time.sleep(0.05)
        assert got, "no Slack notification arrived"
        attachment = got[0]["attachments"][0]
        assert got[0]["channel"] == "#research"
        assert attachment["text"] == ("*GPU 0 on gpu-a1 runs hot* (warning)\n88 C (threshold 85)\n"
                                      "Runbook: https://runbooks.example.com/GPUTemperatureHigh\n")
    finally:
        stop(proc)
        server.shutdown()


@pytest.mark.e2e  # many amtool runs or checked builds (slow)
def test_output_readme_commands_run_and_list_the_secret_files(tmp_path, write_spec):
    tool("amtool")
    out = tmp_path / "out"
    assert CliRunner().invoke(app, ["build", str(_spec(write_spec, tmp_path)), "-o", str(out)]).exit_code == 0
    readme = (out / "README.md").read_text()
    commands = [line for line in readme.splitlines() if line.startswith("amtool ")]
    assert len(commands) == 4  # check-config and the first three routing tests
    for command in commands:
        r = subprocess.run(["bash", "-c", command], cwd=out, capture_output=True, text=True)
        assert r.returncode == 0, (command, r.stdout, r.stderr)
    listed = [line[3:-1] for line in readme.splitlines() if line.startswith("- `") and "/secrets/" in line]
    assert listed == sorted(str(tmp_path / "secrets" / n) for n in ("opsgenie", "pagerduty", "slack", "smtp"))
