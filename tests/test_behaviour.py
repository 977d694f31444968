"""Behaviour scenarios (rules/scenarios/*.yaml) against every example spec, through promtool.

The scenarios are the oracle: real exporter behaviour over time, written from its sources.
Every alert of the shipped packs must be made to fire by some scenario and be seen quiet
by another that feeds what it reads.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aimon_gen import behaviour
from aimon_gen.build import generate
from aimon_gen.render import documents
from aimon_gen.promql import metric_names
from conftest import ROOT, tool

SPECS = sorted((ROOT / "specs").glob("*.yaml"))
SCENARIOS = ROOT / "rules" / "scenarios"


@pytest.fixture(scope="module")
def outcomes() -> dict[str, list[behaviour.Outcome]]:
    scenarios = behaviour.load_folder(SCENARIOS)
    return {spec.name: behaviour.run(spec, scenarios, tool("promtool")) for spec in SPECS}


@pytest.mark.e2e  # runs the behaviour scenarios through promtool
@pytest.mark.parametrize("spec", [s.name for s in SPECS])
def test_scenarios_hold_on_example_specs(outcomes, spec):
    failed = [o for o in outcomes[spec] if not o.ok]
    assert outcomes[spec], f"no scenario applies to {spec}"
    assert not failed, "\n" + behaviour.report(failed)


@pytest.mark.e2e  # runs the behaviour scenarios through promtool
def test_every_scenario_runs_on_some_spec(outcomes):
    ran = {o.scenario.name for runs in outcomes.values() for o in runs}
    never = [s.name for s in behaviour.load_folder(SCENARIOS) if s.name not in ran]
    assert not never, f"scenarios no example spec has a subject for: {never}"


def _reads(bundle: dict) -> dict[str, set[str]]:
    """Alert name -> raw metrics it reads, through the recording rules it reads."""
    records: dict[str, set[str]] = {}
    alerts: dict[str, set[str]] = {}
    for path, doc in bundle.items():
        if not (path.endswith(".rules.yml") and "/" not in path):
            continue
        for group in doc["groups"]:
            for rule in group["rules"]:
                names = metric_names(rule["expr"])
                if "record" in rule:
                    records.setdefault(rule["record"], set()).update(names)
                else:
                    alerts.setdefault(rule["alert"], set()).update(names)

    def raw(names: set[str], seen: frozenset = frozenset()) -> set[str]:
        out = set()
        for n in names:
            out |= raw(records[n], seen | {n}) if n in records and n not in seen else {n}
        return out
    return {a: raw(n) for a, n in alerts.items()}


@pytest.mark.e2e  # runs the behaviour scenarios through promtool
def test_every_alert_fires_in_a_scenario_and_stays_quiet_in_another(outcomes):
    reads: dict[str, set[str]] = {}
    for spec in SPECS:
        _, bundle, _ = generate(spec)
        for alert, names in _reads(documents(bundle)).items():
            reads.setdefault(alert, set()).update(names)
    fired, quiet = set(), set()
    for runs in outcomes.values():
        for o in runs:
            fed = {str(s["metric"]) for s in o.scenario.series}
            for expectation, alerts in o.checked:
                if expectation.fires is not None:
                    fired |= {a["alertname"] for a in alerts}
                else:
                    # Quiet for the scenario's subject: another entry's alert may fire meanwhile
                    # (its series are simply not in this scenario, e.g. another model's SLO).
                    at = behaviour.duration_seconds(expectation.at)
                    firing = {a["alertname"] for a in o.about.get(at, [])}
                    quiet |= {name for name, r in reads.items() if r & fed and name not in firing}
    assert not sorted(set(reads) - fired), f"alerts no scenario makes fire: {sorted(set(reads) - fired)}"
    # An alert that reads no series (Watchdog's vector(1)) is a heartbeat: it fires always by design.
    heartbeats = {name for name, r in reads.items() if not r}
    assert not sorted(set(reads) - quiet - heartbeats), \
        f"alerts no healthy scenario sees quiet: {sorted(set(reads) - quiet - heartbeats)}"


def test_scenarios_name_their_source():
    for s in behaviour.load_folder(SCENARIOS):
        assert len(s.why) > 20 and len(s.source) > 10, s.name


# The runner itself: it must be able to say no.

_HOT = """
scenarios:
  - name: hot GPU said to be quiet
    why: a deliberately wrong expectation, to prove the runner reports what fired
    source: this test
    subject: {exporter: dcgm_exporter}
    series:
      - {metric: DCGM_FI_DEV_GPU_TEMP, labels: {gpu: "3"}, values: "99x60"}
    expect:
      - {at: 30m, quiet: true}
      - {at: 30m, fires: critical, labels: {gpu: "3"}}
      - {at: 30m, fires: critical, labels: {gpu: "4"}}
"""


@pytest.mark.e2e  # runs the behaviour scenarios through promtool
def test_runner_reports_what_fired_and_what_did_not(tmp_path):
    path = tmp_path / "hot.yaml"
    path.write_text(_HOT)
    [outcome] = behaviour.run(ROOT / "specs" / "example.yaml", behaviour.load_file(path), tool("promtool"))
    assert not outcome.ok
    quiet, fires_ok, fires_bad = outcome.failures[0], outcome.checked[1], outcome.failures[1]
    assert "expected no critical/warning alert" in quiet and "GPUTemperatureCritical[critical]" in quiet
    assert fires_ok[1] and all(a["gpu"] == "3" and a["host"] == "gpu-a1.internal" for a in fires_ok[1])
    assert "expected a critical alert" in fires_bad and "'gpu': '4'" in fires_bad.replace("gpu='4'", "'gpu': '4'")
    assert len(outcome.failures) == 2


def test_subject_not_in_spec_skips_scenario(tmp_path, write_spec):
    spec = write_spec("version: 1\nname: cpu-only\nnode_groups: [{name: cpu, hosts: [c1.internal]}]\n")
    path = tmp_path / "hot.yaml"
    path.write_text(_HOT)
    assert behaviour.run(spec, behaviour.load_file(path), tool("promtool")) == []


@pytest.mark.parametrize("bad, message", [
    ("scenarios: [{name: a, why: w, source: s, subject: {exporter: x}, series: [], expect: [{at: 1m}]}]",
     "either `fires"),
    ("scenarios: [{name: a, why: '', source: s, subject: {exporter: x}, series: [], expect: []}]", "`why`"),
    ("scenarios: [{name: a, why: w, source: s, subject: {exporter: x}, series: [], expect: [{at: 1m, fires: page}]}]",
     "not one of"),
    ("scenarios: [{name: a, why: w, source: s, subject: {}, series: [], expect: []}]", "subject needs"),
])
def test_bad_scenario_files_are_refused(tmp_path, bad, message):
    path = tmp_path / "bad.yaml"
    path.write_text(bad)
    with pytest.raises(behaviour.ScenarioError, match=message):
        behaviour.load_file(path)


def test_promtool_failure_text_is_read_back():
    text = '''  FAILED:
    name: s3,
    alertname: A, time: 1h30m,
        exp:[],
        got:[
            0:
              Labels:{alertname="A", host="h\\"1", severity="warning", team="équipe\\\\ops"}
              Annotations:{summary="x"}
            ]
'''
    assert behaviour.parse_promtool(text) == {("s3", 5400.0): [{"alertname": "A", "host": 'h"1', "severity": "warning",
                                                                   "team": "équipe\\ops"}]}


def test_scenario_files_are_found():
    assert isinstance(SCENARIOS, Path) and len(behaviour.load_folder(SCENARIOS)) >= 40


_COOLS = """
scenarios:
  - name: GPU overheats for half an hour, then cools
    why: a failed fan drives the core past its slowdown temperature until it is replaced
    source: DCGM field DCGM_FI_DEV_GPU_TEMP (dcgm_fields.h)
    subject: {exporter: dcgm_exporter}
    series:
      - {metric: DCGM_FI_DEV_GPU_TEMP, labels: {gpu: "1"}, values: "70x10 99x30 70x40"}
    expect:
      - {at: 30m, fires: critical, labels: {gpu: "1"}}
      - {at: 70m, quiet: true, labels: {gpu: "1"}}   # (only one of the host's 8 GPUs is fed)
"""


@pytest.mark.e2e  # runs the behaviour scenarios through promtool
@pytest.mark.parametrize("text, code, said", [(_COOLS, 0, "1 passed, 0 failed"), (_HOT, 1, "0 passed, 1 failed")])
def test_cli_runs_a_users_scenarios(tmp_path, text, code, said):
    from typer.testing import CliRunner

    from aimon_gen.cli import app

    tool("promtool")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "s.yaml").write_text(text)
    r = CliRunner().invoke(app, ["scenarios", str(ROOT / "specs" / "example.yaml"), "--only-mine",
                                 "--scenarios", str(tmp_path / "mine")])
    assert r.exit_code == code, r.output
    assert said in r.output


@pytest.mark.e2e  # runs the behaviour scenarios through promtool
def test_cli_scenarios_reports_a_bad_file(tmp_path):
    from typer.testing import CliRunner

    from aimon_gen.cli import app

    (tmp_path / "s.yaml").write_text("scenarios: 3\n")
    r = CliRunner().invoke(app, ["scenarios", str(ROOT / "specs" / "example.yaml"), "--scenarios", str(tmp_path)])
    assert r.exit_code == 1 and "a scenario file is a mapping" in r.output and "Traceback" not in r.output


def test_a_series_promtool_cannot_read_is_an_error_not_silence(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(_HOT.replace('values: "99x60"', 'values: "99x60 oops"'))
    with pytest.raises(behaviour.ScenarioError, match="promtool could not run the scenarios"):
        behaviour.run(ROOT / "specs" / "example.yaml", behaviour.load_file(path), tool("promtool"))
