"""`aimon-gen audit` against a real Prometheus on loopback scraping verify's simulated exporters
(the example spec, rules installed as generated, not time-compressed): clean when healthy; a
target on a wrong port, an exporter without a contract label and a rule file left out each
reported by the right check with exit 1; exit 2 when Prometheus cannot be asked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLE, ROOT, tool

from aimon_gen.audit import checks
from aimon_gen.audit.expect import Expected, expected
from aimon_gen.audit.report import Problem, table, to_json
from aimon_gen.build import compile_spec
from aimon_gen.promql import needed_labels, normalise
from aimon_gen.render import documents
from aimon_gen.verify import rewrite
from aimon_gen.verify.fleet import Fleet
from aimon_gen.verify.sink import Sink
from aimon_gen.verify.stack import Stack, free_port, http_get, wait_for

WRONG_PORT_JOB = "vllm"           # one of its targets is scraped on a port nobody listens on
UNLABELLED_JOB = "ml_inference"   # its exporter drops `status` from ml_inference_requests_total
LEFT_OUT = "slo.rules.yml"        # not listed under rule_files


def audit(url: str, *args: str, spec: Path = EXAMPLE) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "aimon_gen", "audit", str(spec), "--prometheus", url, *args],
                          capture_output=True, text=True, env=env, timeout=120)


class Live:
    """The example's stack as verify starts it, but with the rule files exactly as generated."""

    def __init__(self, stack: Stack):
        self.stack = stack
        bundle, loaded = compile_spec(EXAMPLE)
        self.docs = documents(bundle)
        self.run = stack.root / "run"
        self.run.mkdir()
        sink = Sink()
        stack.on_close(sink.close)
        node = stack.node_exporter(tool("node_exporter"))
        self.fleet = Fleet(loaded.spec, node.url)
        stack.on_close(self.fleet.close)
        self._write("alertmanager.yml", rewrite.alertmanager(bundle.alertmanager, sink.url))
        am = self._alertmanager()
        self.fleet.alertmanager_url = am.url
        self.config = rewrite.prometheus(bundle.prometheus, lambda sc: rewrite.static_targets(sc, self.docs),
                                         self.fleet.place, am.url.removeprefix("http://"))
        # As generated: the remote-write alerts read the queue's series (sends fail here: no DNS name).
        self.config["remote_write"] = bundle.prometheus["remote_write"]
        self.systemd = True  # node_exporter runs with --collector.systemd
        for target in self.fleet.targets:
            if target.job == "node_exporter":
                target.body = _with_gpu_server_series(target.body, self)  # type: ignore[method-assign]
        for rel in self.config["rule_files"]:
            self._write(rel, self.docs[rel])
        self._write("prometheus.yml", self.config)
        self.url = self._prometheus()
        self.fleet.set_prometheus(self.url)
        self.settle()

    def _alertmanager(self):
        """As deployed, with its cluster listener (verify's has none): the cluster alerts read it."""
        port = free_port()
        argv = [tool("alertmanager"), f"--config.file={self.run / 'alertmanager.yml'}",
                f"--storage.path={self.stack.root / 'alertmanager-data'}", f"--web.listen-address=127.0.0.1:{port}",
                f"--cluster.listen-address=127.0.0.1:{free_port()}", "--log.level=warn"]
        return self.stack.start("alertmanager", argv, f"http://127.0.0.1:{port}", "/-/ready")

    def _prometheus(self) -> str:
        """As verify starts it, but stopping at once: the remote-write queue would wait 1m to flush."""
        port = free_port()
        argv = [tool("prometheus"), f"--config.file={self.run / 'prometheus.yml'}",
                f"--storage.tsdb.path={self.stack.root / 'prometheus-data'}", f"--web.listen-address=127.0.0.1:{port}",
                "--web.enable-lifecycle", "--storage.remote.flush-deadline=1s", "--log.level=warn"]
        return self.stack.start("prometheus", argv, f"http://127.0.0.1:{port}", "/-/ready").url

    def _write(self, rel: str, doc) -> None:
        (self.run / rel).write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")

    def api(self, path: str):
        return json.loads(http_get(self.url + path))["data"]

    def settle(self, down: int = 0) -> None:
        """Until `down` targets are down, the rest up, and every loaded rule evaluated."""
        def ready():
            targets = self.api("/api/v1/targets?state=active")["activeTargets"]
            rules = [r for g in self.api("/api/v1/rules")["groups"] for r in g["rules"]]
            return (targets and rules and sum(t["health"] == "down" for t in targets) == down
                    and sum(t["health"] == "up" for t in targets) == len(targets) - down
                    and all(r.get("health") != "unknown" for r in rules))
        wait_for(ready, 60, what="targets scraped and rules evaluated")

    def break_things(self) -> None:
        for sc in self.config["scrape_configs"]:
            if sc["job_name"] == WRONG_PORT_JOB:
                sc["static_configs"][0]["targets"][0] = f"127.0.0.1:{free_port()}"
        self.config["rule_files"] = [r for r in self.config["rule_files"] if r != LEFT_OUT]
        self._write("prometheus.yml", self.config)
        target = next(t for t in self.fleet.targets if t.job == UNLABELLED_JOB)
        target.body = _without_status(target.body)  # type: ignore[method-assign]
        self.systemd = False
        urllib.request.urlopen(urllib.request.Request(self.url + "/-/reload", method="POST"), timeout=10).read()
        self.settle(down=1)


# What a GPU server's node_exporter has and this test machine's lacks: it runs no systemd
# (the rules need --collector.systemd) and has no EDAC memory controller (ECC memory).
GPU_SERVER_SERIES = b"""\
node_systemd_unit_state{name="nvidia-fabricmanager.service",state="active",type="simple"} 1
node_edac_correctable_errors_total{controller="0"} 0
node_edac_uncorrectable_errors_total{controller="0"} 0
"""


def _with_gpu_server_series(body, live: Live):
    def serve() -> bytes:
        series = GPU_SERVER_SERIES if live.systemd else GPU_SERVER_SERIES.split(b"\n", 1)[1]
        return body() + series
    return serve


def _without_status(body):
    """An exporter that counts requests without the contract's `status` label."""
    def serve() -> bytes:
        lines = []
        for line in body().decode().splitlines():
            if line.startswith("ml_inference_requests_total{"):
                if 'status="success"' not in line:
                    continue
                line = "ml_inference_requests_total " + line.rsplit(" ", 1)[1]
            lines.append(line)
        return ("\n".join(lines) + "\n").encode()
    return serve


@pytest.fixture(scope="module")
def live():
    for name in ("prometheus", "alertmanager", "node_exporter"):
        tool(name)
    with Stack() as stack:
        yield Live(stack)


@pytest.mark.e2e
def test_audit_of_a_healthy_prometheus_is_clean(live):
    proc = audit(live.url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == f"audit of {live.url}: no problems (targets, series, labels, rules, series counts)\n"


@pytest.mark.e2e
def test_audit_reports_each_broken_part(live):
    live.break_things()
    proc = audit(live.url, "--json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["ok"] is False and doc["prometheus"] == live.url
    problems = doc["problems"]
    assert all(set(p) == {"check", "job", "subject", "problem", "fix"} and p["fix"] for p in problems)
    found = {(p["check"], p["job"], p["subject"]) for p in problems}
    down = [p for p in problems if p["check"] == "targets"]
    assert [(p["job"], p["problem"].split(":")[0]) for p in down] == [(WRONG_PORT_JOB, "target down")], problems
    assert "connection refused" in down[0]["problem"]
    assert ("series", "node_exporter", "node_systemd_unit_state") in found, problems
    assert ("labels", UNLABELLED_JOB, "status") in found, problems
    slo_groups = {g["name"] for g in live.docs[LEFT_OUT]["groups"]}
    assert {s for c, _, s in found if c == "rules"} == slo_groups, problems
    # Nothing else: the other vllm target is up, so that job's series are judged and found.
    assert len(problems) == 3 + len(slo_groups), problems


@pytest.mark.e2e
def test_audit_exit_2_on_an_http_error(live):
    proc = audit(live.url + "/no-such-prefix")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "HTTP 404" in proc.stderr and "Traceback" not in proc.stderr and not proc.stdout


@pytest.mark.e2e  # two runs of the command: over 2 s
def test_audit_exit_2_when_nothing_listens_or_the_token_file_is_missing(tmp_path):
    proc = audit(f"http://127.0.0.1:{free_port()}", "--timeout", "2")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "cannot reach Prometheus" in proc.stderr and "Traceback" not in proc.stderr
    missing = audit("http://127.0.0.1:1", "--bearer-token-file", str(tmp_path / "none"))
    assert missing.returncode == 2 and "--bearer-token-file" in missing.stderr


# --- the pure parts, on answers captured from the e2e's Prometheus (tests/audit_capture.py) ---

DATA = Path(__file__).resolve().parent / "data" / "audit"


def _captured(name: str):
    return json.loads((DATA / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def exp() -> Expected:
    bundle, loaded = compile_spec(EXAMPLE)
    return expected(bundle, loaded.spec)


def _only(exp: Expected, loaded: list[dict]) -> Expected:
    names = {g["name"] for g in loaded}
    return Expected(exp.jobs, exp.target_labels, exp.needs, [(p, g) for p, g in exp.groups if g.name in names],
                    exp.series, exp.kind_of_job, exp.made_by_rules)


def test_rules_as_prometheus_lists_them_match_the_generated_ones(exp):
    loaded = _captured("rules.json")
    # Two groups named vllm (alerts, recordings) in two files, and the SLO group's same-named records.
    assert sorted(g["name"] for g in loaded) == ["slo-llama-70b-chat-availability", "vllm", "vllm"]
    assert checks.rules(_only(exp, loaded), loaded) == []


def test_rules_report_a_missing_group_another_expression_for_and_an_error(exp):
    loaded = _captured("rules.json")
    sub = _only(exp, loaded)
    alerts = next(g for g in loaded if g["name"] == "vllm" and g["file"].endswith("alert.rules.yml"))
    changed, slower, failing = alerts["rules"][0], alerts["rules"][1], alerts["rules"][2]
    changed["query"] = changed["query"].replace(" > ", " > 1000 + ")
    slower["duration"] = float(slower["duration"]) + 60
    failing["health"], failing["lastError"] = "err", "vector cannot contain metrics with the same labelset"
    slo = "slo-llama-70b-chat-availability"
    problems = checks.rules(sub, [g for g in loaded if g["name"] != slo])
    got = {(p.subject, p.problem.split(":")[0]) for p in problems}
    assert got == {(slo, f"rule group not loaded ({len(next(g for _, g in sub.groups if g.name == slo).rules)} "
                         "rules of slo.rules.yml)"),
                   (f"vllm: {changed['name']}", "loaded with another expression"),
                   (f"vllm: {slower['name']}", "loaded with for"),
                   (f"vllm: {failing['name']}", "evaluation error")}, problems
    assert all(p.check == "rules" and "reload Prometheus" in p.fix for p in problems if "error" not in p.problem)


def test_normalise_compares_expressions_by_meaning():
    assert normalise('rate(a{job="x",  b=~"y|z"}[5m])>1') == normalise('rate(a{b=~"y|z", job="x"}[5m]) > 1')
    assert normalise('a{job="x"} > 1') != normalise('a{job="x"} > 2')
    assert normalise("sum by (a) (x)") == normalise("sum(x) by (a)")


def test_needed_labels_are_matched_grouped_or_joined_on_not_ignored():
    expr = ('100 * rate(f{job="am", state!="x"}[5m]) / ignoring (reason) group_left (team) '
            'sum by (integration) (t) > 1 and on (host) sum without (cpu) (u)')
    assert needed_labels(expr) == {"job", "team", "integration", "host"}


def test_targets_report_a_target_down_with_its_error_and_a_job_without_targets(exp):
    active = _captured("broken_targets.json")
    problems, live = checks.targets(exp, active)
    assert [(p.job, p.problem.split(":")[0]) for p in problems] == [("vllm", "target down")]
    assert "connection refused" in problems[0].problem and live == set(exp.jobs)
    problems, live = checks.targets(exp, [t for t in active if t["labels"]["job"] != "sglang"])
    assert ("sglang", "no targets: Prometheus does not scrape this job") in {(p.job, p.problem) for p in problems}
    assert "sglang" not in live


def test_contract_labels_come_from_the_catalog(exp):
    # status: the ml_inference contract (catalog/custom.yaml) and vLLM's HTTP metrics; both rules match on it.
    query = checks.label_queries(exp, set(exp.jobs))["status"]
    assert 'job="ml_inference", __name__="ml_inference_requests_total", status=""' in query
    assert 'job="vllm", __name__="http_requests_total", status=""' in query
    assert exp.target_labels["dcgm_exporter"] == ("gpu_model", "host", "node_group", "pool", "team")
    problems = checks.labels(exp, {"status": _captured("broken_status_label.json")})
    assert [(p.check, p.job, p.subject) for p in problems] == [("labels", "ml_inference", "status")]
    assert "aimon_gen/catalog/custom.yaml" in problems[0].fix


def test_recorded_series_keep_job_but_are_not_judged_by_labels(exp):
    row = _captured("broken_status_label.json")[0]
    recorded = {**row, "metric": {"__name__": "job:up:ratio", "job": "node_exporter"}}
    assert "job:up:ratio" in exp.made_by_rules
    assert checks.labels(exp, {"host": [recorded]}) == []


def test_series_check_skips_jobs_without_a_target_up(exp):
    problems = checks.series(exp, {"ml_inference"}, [])
    assert {p.subject for p in problems} == {n.metric for n in exp.needs.values() if n.job == "ml_inference"}
    assert problems and all(p.job == "ml_inference" for p in problems)
    # XID counters exist only once an XID happened: never required.
    assert not any(m.startswith("DCGM_EXP_XID") for _, m in exp.needs)


def test_series_per_job_against_the_plan(exp):
    counts = _captured("series_per_job.json")
    live = {r["metric"]["job"] for r in counts}
    assert checks.cardinality(exp, live, counts) == []
    n = next(float(r["value"][1]) for r in counts if r["metric"]["job"] == "dcgm_exporter")
    small = Expected(**{**exp.__dict__, "series": {**exp.series, "dcgm_exporter": int(n / (checks.SERIES_FACTOR + 1))}})
    problems = checks.cardinality(small, live, counts)
    assert [(p.check, p.job) for p in problems] == [("cardinality", "dcgm_exporter")]


def test_report_as_table_and_json():
    problems = [Problem("rules", "", "g", "rule group not loaded", "reload"),
                Problem("targets", "vllm", "infer-1", "target down: refused", "start it")]
    text = table("http://p:9090", problems)
    assert text.splitlines()[0] == "audit of http://p:9090: 2 problems"
    assert text.splitlines()[1:] == ["targets  vllm  infer-1", "    target down: refused", "    fix: start it",
                                     "rules    -     g", "    rule group not loaded", "    fix: reload"]
    doc = json.loads(to_json("http://p:9090", problems))
    assert [p["check"] for p in doc["problems"]] == ["targets", "rules"] and doc["ok"] is False
