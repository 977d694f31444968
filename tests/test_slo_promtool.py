"""The generated SLO rules under the real promtool: the generated unit tests pass, and they fail
when the rules carry the bugs peer tools ship (a join across different `window` labels, no NaN
guard, no low-traffic guard, a wrong threshold). A test that cannot fail proves nothing."""

from __future__ import annotations

import copy
import re
import subprocess
import time

import pytest

from aimon_gen.build import generate
from aimon_gen.render import documents
from aimon_gen.render import render
from conftest import tool
from test_slo import ALL_KINDS, BASE

pytestmark = pytest.mark.e2e  # every test runs promtool on a full SLO build


def _write(tmp_path, bundle, rules_doc=None):
    (tmp_path / "tests").mkdir(exist_ok=True)
    rules = rules_doc if rules_doc is not None else bundle["slo.rules.yml"]
    (tmp_path / "slo.rules.yml").write_bytes(render("slo.rules.yml", rules, "spec.yaml", "test"))
    (tmp_path / "tests/slo.test.yml").write_bytes(render("tests/slo.test.yml", bundle["tests/slo.test.yml"],
                                                         "spec.yaml", "test"))


def _promtool(tmp_path, *args) -> subprocess.CompletedProcess:
    return subprocess.run([tool("promtool"), *args], cwd=tmp_path, capture_output=True, text=True, timeout=300)


def _mutate(bundle, pattern: str, repl: str, alerts_only: bool = True) -> dict:
    doc = copy.deepcopy(bundle["slo.rules.yml"])
    hits = 0
    for group in doc["groups"]:
        for rule in group["rules"]:
            if alerts_only and "alert" not in rule:
                continue
            new = re.sub(pattern, repl, rule["expr"])
            hits += new != rule["expr"]
            rule["expr"] = new
    assert hits, f"mutation {pattern!r} changed nothing"
    return doc


@pytest.fixture(scope="module")
def base_bundle(tmp_path_factory):
    path = tmp_path_factory.mktemp("spec") / "spec.yaml"
    path.write_text(BASE.lstrip("\n"))
    return documents(generate(path)[1])


def test_generated_tests_pass_for_every_kind_of_slo(write_spec, tmp_path):
    bundle = documents(generate(write_spec(ALL_KINDS))[1])
    _write(tmp_path, bundle)
    checked = _promtool(tmp_path, "check", "rules", "--lint-fatal", "slo.rules.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    t0 = time.perf_counter()
    result = _promtool(tmp_path, "test", "rules", "tests/slo.test.yml")
    print(f"promtool test rules, 8 SLOs: {time.perf_counter() - t0:.2f}s")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    tests = bundle["tests/slo.test.yml"]["tests"]
    fired = {a["exp_labels"]["slo"] for g in tests for t in g["alert_rule_test"] for a in t["exp_alerts"]
             if a["exp_labels"].get("tier") == "page"}
    # every SLO's page alert is shown to fire (the scenarios are not vacuous)
    assert fired == {"chat-availability", "chat-latency", "scorer-availability", "scorer-latency",
                     "vision-availability", "summarizer-availability", "features-freshness", "api-gateway"}


def test_a_join_across_different_window_labels_is_caught(base_bundle, tmp_path):
    # The peer-tool bug: `ratio{window="1h"} > x and ratio{window="5m"} > x` never matches.
    doc = _mutate(base_bundle, r"max without \(window\) \((slo:[a-z_:]+\{[^}]*\})\)", r"\1")
    _write(tmp_path, base_bundle, doc)
    checked = _promtool(tmp_path, "check", "rules", "--lint-fatal", "slo.rules.yml")
    assert checked.returncode == 0, "promtool check rules alone cannot see this bug"
    result = _promtool(tmp_path, "test", "rules", "tests/slo.test.yml")
    assert result.returncode != 0
    assert "alertname: SLOBurnRatePage" in result.stdout + result.stderr


@pytest.mark.parametrize("what,pattern,repl,alerts_only,expect", [
    ("no NaN guard", r" or slo:sli_total:rate\{[^}]*\} \* 0$", "", False, "slo:sli_error:ratio"),
    ("no low-traffic guard", r"\nand max without \(window\) \(slo:sli_total:rate[^\n]*", "", True, "SLOBurnRatePage"),
    ("14.4x written as 16x", r"> 14\.4\b", "> 16", True, "SLOBurnRatePage"),
    ("absent check on a wrong name", r"count\(vllm:num_requests_running", "count(vllm:num_requests", True,
     "SLOSeriesMissing"),
])
def test_each_safety_claim_is_tested(base_bundle, tmp_path, what, pattern, repl, alerts_only, expect):
    _write(tmp_path, base_bundle, _mutate(base_bundle, pattern, repl, alerts_only))
    result = _promtool(tmp_path, "test", "rules", "tests/slo.test.yml")
    assert result.returncode != 0, f"the generated tests miss: {what}"
    assert expect in result.stdout + result.stderr
