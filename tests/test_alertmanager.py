"""The `alerting` section: spec errors at their lines, the compiled alertmanager.yml, and the
build-time routing analysis (pure Python; the amtool runs are in test_alertmanager_tools.py)."""

from __future__ import annotations

import pytest

from aimon_gen.compile.context import Context
from aimon_gen.compile.alerting.routing import analyse
from aimon_gen.compile.alerting.alertmanager import compile_alertmanager
from aimon_gen.compile.result import Alert, Bundle
from aimon_gen.errors import SpecInvalid
from aimon_gen.spec import routing
from aimon_gen.spec.load import load_spec

BASE = """\
version: 1
name: ai-prod
node_groups:
  - {name: h100-train, hosts: [gpu-a1.internal], gpu: {model: H100-80GB, count: 8}, labels: {team: research, pool: training}}
models:
  - {name: llama, server: vllm, targets: ["infer-1.internal:8000"], labels: {team: genai}}
alerting:
  default_receiver: ops
  receivers:
    - name: ops
      webhook: {url: "http://hooks.internal/ops"}
    - name: oncall
      pagerduty: {routing_key_file: /etc/alertmanager/secrets/pagerduty-key}
    - name: genai-slack
      slack: {channel: "#genai-alerts", api_url_file: /etc/alertmanager/secrets/slack-genai}
  routes:
    - {receiver: oncall, match: {severity: critical}, continue: true}
    - {receiver: genai-slack, match: {team: genai}}
"""


def problems(write_spec, text: str) -> list[str]:
    with pytest.raises(SpecInvalid) as exc:
        load_spec(write_spec(text))
    return [str(p).split(":", 1)[1] for p in exc.value.problems]


def load(write_spec, text: str):
    return load_spec(write_spec(text))


def test_base_is_valid(write_spec):
    assert load(write_spec, BASE).spec.alerting.default_receiver == "ops"


def test_inline_secret_names_the_file_field_at_its_line_and_hides_the_value(write_spec):
    text = BASE.replace("{routing_key_file: /etc/alertmanager/secrets/pagerduty-key}",
                        "{routing_key: 0123456789abcdef}")
    got = problems(write_spec, text)
    assert len(got) == 1, got
    assert got[0].startswith("13:32: alerting.receivers[1].pagerduty.routing_key: 'routing_key' would write a secret")
    assert "routing_key_file" in got[0]
    assert "0123456789abcdef" not in got[0]


@pytest.mark.parametrize("field", ["api_url", "auth_password"])
def test_every_inline_secret_field_is_refused(write_spec, field):
    channel = ('slack: {channel: "#x", api_url: https://hooks.slack.com/services/T/B/SECRET}' if field == "api_url"
               else 'email: {to: a@example.com, from: b@example.com, smarthost: "smtp:25", auth_password: hunter2}')
    text = BASE.replace('      webhook: {url: "http://hooks.internal/ops"}', f"      {channel}")
    got = problems(write_spec, text)
    assert any(f".{field}: '{field}' would write a secret" in p and f"'{field}_file'" in p for p in got), got
    assert not any("SECRET" in p or "hunter2" in p for p in got)


def test_webhook_url_file_needs_0_26(write_spec):
    text = BASE.replace('webhook: {url: "http://hooks.internal/ops"}', "webhook: {url_file: /etc/am/hook}")
    got = problems(write_spec, text)
    assert got == ["11:16: alerting.receivers[0].webhook[0].url_file: webhook 'url_file' needs Alertmanager 0.26 "
                   "or newer (alertmanager_version is 0.25) (if you run 0.26+, set alerting.alertmanager_version: "
                   "'0.26'; else give the URL as 'url')"]
    assert load(write_spec, text.replace("alerting:\n", "alerting:\n  alertmanager_version: 0.26\n"))


def test_msteams_needs_0_27(write_spec):
    text = BASE.replace('webhook: {url: "http://hooks.internal/ops"}', "msteams: {webhook_url_file: /etc/am/teams}")
    for version in ("0.25", "0.26"):
        got = problems(write_spec, text.replace("alerting:\n", f"alerting:\n  alertmanager_version: '{version}'\n"))
        assert len(got) == 1 and "Microsoft Teams needs Alertmanager 0.27" in got[0], got
    spec = load(write_spec, text.replace("alerting:\n", "alerting:\n  alertmanager_version: '0.27'\n")).spec
    doc = _compiled(Context(spec, "spec.yaml", None)).alertmanager
    assert doc["receivers"][0]["msteams_configs"] == [{"send_resolved": True, "webhook_url_file": "/etc/am/teams"}]


def test_shadowed_route(write_spec):
    text = BASE + "    - {receiver: oncall, match: {team: genai, severity: warning}}\n"
    got = problems(write_spec, text)
    assert got == ["19:7: alerting.routes[2]: this route can never match: alerting.routes[1] before it takes every "
                   "alert it would (team=\"genai\") and has no continue (move this route above it, add continue: "
                   "true there, or narrow that route's match)"]
    # With continue on the earlier route, the later one is reachable.
    assert load(write_spec, text.replace("match: {team: genai}}", "match: {team: genai}, continue: true}"))


def test_catch_all_shadows_everything_after_it(write_spec):
    text = BASE.replace("    - {receiver: oncall, match: {severity: critical}, continue: true}\n",
                        "    - {receiver: oncall}\n")
    got = problems(write_spec, text)
    assert len(got) == 1 and got[0].startswith("18:7: alerting.routes[1]: this route can never match"), got
    assert "no matchers: it takes everything" in got[0]


def test_unused_receiver(write_spec):
    text = BASE.replace("  routes:\n", "    - {name: spare, webhook: {url: 'http://x.internal/'}}\n  routes:\n")
    got = problems(write_spec, text)
    assert got == ["16:14: alerting.receivers[3].name: no route sends to receiver 'spare' "
                   "(add a route with receiver: spare, or remove the receiver)"]


def test_undefined_and_duplicate_receivers(write_spec):
    text = BASE.replace("receiver: genai-slack,", "receiver: genai-slak,").replace("name: oncall", "name: ops")
    got = problems(write_spec, text)
    assert "12:13: alerting.receivers[1].name: duplicate receiver name 'ops' (also receivers[0]) " \
           "(receiver names must be unique; merge the two or rename one)" in got
    assert "18:18: alerting.routes[1].receiver: no receiver named 'genai-slak' (did you mean 'genai-slack'?)" in got


def test_group_wait_longer_than_group_interval(write_spec):
    text = BASE.replace("match: {team: genai}}", "match: {team: genai}, group_wait: 10m}")
    got = problems(write_spec, text)
    assert got == ["18:65: alerting.routes[1].group_wait: group_wait 10m is longer than group_interval 5m "
                   "(the first notification would come after later updates; make group_wait shorter)"]


@pytest.mark.parametrize("window, expected", [
    ('times: ["22:00-02:00"]', "times[0]: '22:00-02:00' ends before it starts"),
    ('times: ["25:00-26:00"]', "times[0]: '25:00-26:00': times run from 00:00 to 24:00"),
    ('time_zone: Europe/Berln', "time_zone: unknown time zone 'Europe/Berln': did you mean 'Europe/Berlin'?"),
    ("weekdays: [funday]", "weekdays[0]: 'funday' is not a weekday or range"),
])
def test_bad_maintenance_windows(write_spec, window, expected):
    text = BASE.replace("match: {team: genai}}", "match: {team: genai}, mute_time_intervals: [night]}")
    text += f"  maintenance_windows:\n    - {{name: night, {window}}}\n"
    got = problems(write_spec, text)
    assert len(got) == 1 and got[0].startswith("20:") and f"alerting.maintenance_windows[0].{expected}" in got[0], got


def test_unknown_window_and_failing_routing_test(write_spec):
    text = BASE.replace("match: {team: genai}}", "match: {team: genai}, mute_time_intervals: [nigth]}")
    text += "  maintenance_windows:\n    - {name: night, weekdays: [saturday]}\n"
    assert "18:75: alerting.routes[1].mute_time_intervals[0]: no maintenance window named 'nigth' " \
           "(did you mean 'night'?)" in problems(write_spec, text)
    text = BASE + "  tests:\n    - {labels: {team: genai, severity: warning}, receivers: [oncall]}\n"
    got = problems(write_spec, text)
    assert got == ["20:61: alerting.tests[0].receivers: routing test fails: these labels reach [genai-slack], "
                   "expected [oncall] (they end at alerting.routes[1]; fix the routes or the expectation)"]


def test_compiled_config(write_spec):
    text = BASE.replace("match: {team: genai}}", "match: {team: genai}, mute_time_intervals: [night]}")
    text += ('  maintenance_windows:\n    - {name: night, weekdays: ["monday:friday"], times: ["22:00-24:00"], '
             'time_zone: Europe/Berlin}\n')
    spec = load(write_spec, text).spec
    doc = _compiled(Context(spec, "spec.yaml", None)).alertmanager
    assert doc["route"]["receiver"] == "ops"
    assert doc["route"]["routes"] == [
        {"receiver": "oncall", "matchers": ['severity="critical"'], "continue": True},
        {"receiver": "genai-slack", "matchers": ['team="genai"'], "mute_time_intervals": ["night"]}]
    assert doc["time_intervals"] == [{"name": "night", "time_intervals": [
        {"weekdays": ["monday:friday"], "times": [{"start_time": "22:00", "end_time": "24:00"}],
         "location": "Europe/Berlin"}]}]
    assert [r["name"] for r in doc["receivers"]] == ["ops", "oncall", "genai-slack"]
    assert doc["receivers"][2]["slack_configs"][0]["api_url_file"] == "/etc/alertmanager/secrets/slack-genai"
    sources = [r["source_matchers"] for r in doc["inhibit_rules"]]
    assert ['alertname="NodeDown"'] in sources and ['severity="critical"'] in sources


def test_inhibition_can_be_switched_off(write_spec):
    spec = load(write_spec, BASE.replace("alerting:\n", "alerting:\n  inhibit: false\n")).spec
    assert "inhibit_rules" not in _compiled(Context(spec, "spec.yaml", None)).alertmanager


def test_no_receivers_no_config_but_a_warning_when_prometheus_sends_alerts(write_spec):
    spec = load(write_spec, BASE.split("alerting:")[0] + "prometheus: {alertmanagers: ['am.internal:9093']}\n").spec
    ctx = Context(spec, "spec.yaml", None)
    assert _compiled(ctx) == Bundle()
    assert [w.path for w in ctx.warnings] == [("prometheus", "alertmanagers")]


def _compiled(ctx) -> Bundle:
    """The Alertmanager step alone, on a build result without rules."""
    bundle = Bundle()
    compile_alertmanager(ctx, bundle)
    return bundle


def _bundle(*rules):
    """The rules the routing analysis reads."""
    return list(rules)


GPU_HOT = {"alert": "GPUTemperatureHigh", "expr": 'DCGM_FI_DEV_GPU_TEMP{job="dcgm_exporter"} > 85',
           "labels": {"severity": "warning"}}
VLLM_QUEUE = {"alert": "VLLMQueueLong", "expr": 'sum by (model, team) (vllm:num_requests_waiting) > 10',
              "labels": {"severity": "warning"}}


def test_default_only_alerts_are_warned_about_once_each(write_spec):
    ctx = Context(load(write_spec, BASE).spec, "spec.yaml", None)
    analyse(ctx, _bundle(GPU_HOT, VLLM_QUEUE))
    # The GPU pool's team (research) has no route; genai's queue alert goes to genai-slack.
    assert [(w.path, w.message) for w in ctx.warnings] == [
        (("alerting", "default_receiver"),
         "alert GPUTemperatureHigh (node_group=h100-train) reaches only the default receiver 'ops'")]
    assert not ctx.errors


def test_one_warning_per_owner_without_a_route(write_spec):
    """A node group with no route is one problem, however many of its alerts it affects."""
    ctx = Context(load(write_spec, BASE).spec, "spec.yaml", None)
    gpu_alerts = [dict(GPU_HOT, alert=f"GPUAlert{i}") for i in range(5)]
    analyse(ctx, _bundle(*gpu_alerts, {"alert": "RuleFailures", "expr": "prometheus_rule_evaluation_failures_total > 0",
                                        "labels": {"severity": "warning"}}))
    assert [w.message for w in ctx.warnings] == [
        "5 alerts of node_group=h100-train (GPUAlert0, GPUAlert1, GPUAlert2 and 2 more) reach only the default "
        "receiver 'ops'",
        "alert RuleFailures reaches only the default receiver 'ops'"]
    assert "match: {team: ...}" in ctx.warnings[0].hint and "on job or severity" in ctx.warnings[1].hint


def test_aggregation_that_drops_the_owner_label_is_caught(write_spec):
    ctx = Context(load(write_spec, BASE).spec, "spec.yaml", None)
    analyse(ctx, _bundle(dict(VLLM_QUEUE, expr="sum by (model) (vllm:num_requests_waiting) > 10")))
    assert [(w.message, w.hint) for w in ctx.warnings] == [
        ("alert VLLMQueueLong (model=llama) reaches only the default receiver 'ops': its rule's `by (...)` drops "
         "team, which the routes match on",
         "keep team in that rule's by (...) clause, or also route on labels it keeps")]


def test_matcher_on_a_label_no_alert_carries_is_an_error(write_spec):
    text = BASE.replace("match: {team: genai}}", "match: {teem: genai}}")
    ctx = Context(load(write_spec, text).spec, "spec.yaml", None)
    analyse(ctx, _bundle(GPU_HOT))
    assert [(e.path, e.message, e.hint) for e in ctx.errors] == [
        (("alerting", "routes", 1, "match", "teem"),
         "no generated alert carries label 'teem', so this route can never match", "did you mean 'team'?")]
    # Labels the exporters put on the series an alert reads are known (dcgm: gpu, UUID, ...).
    ctx = Context(load(write_spec, text.replace("teem", "gpu")).spec, "spec.yaml", None)
    analyse(ctx, _bundle(GPU_HOT))
    assert not ctx.errors


def test_python_router_follows_alertmanager_semantics(write_spec):
    spec = load(write_spec, BASE).spec
    root = routing.tree(spec.alerting)
    assert routing.receivers(root, {"severity": "critical", "team": "genai"}) == ["oncall", "genai-slack"]
    assert routing.receivers(root, {"severity": "critical"}) == ["oncall"]
    assert routing.receivers(root, {"severity": "warning"}) == ["ops"]


def test_inhibitions_name_alerts_and_labels_the_build_generates():
    """NodeDown, `slo` and `tier` are names other steps own: a rename there must break this."""
    from aimon_gen.build import generate
    from aimon_gen.compile.alerting.routing import alert_instances
    from aimon_gen.compile.alerting.alertmanager import NODE_DOWN_ALERT, PAGE, SLO_LABEL, TICKET, TIER_LABEL, WATCHDOG_ALERT

    from conftest import EXAMPLE

    _, bundle, loaded = generate(EXAMPLE)
    alerts = [r for r in bundle.rules() if "alert" in r]
    if not alerts:
        pytest.skip("no rule step yet")
    assert NODE_DOWN_ALERT in {r["alert"] for r in alerts}
    assert WATCHDOG_ALERT in {r["alert"] for r in alerts}   # its route matches it by name
    assert all(r["labels"]["severity"] in ("critical", "warning", "info") for r in alerts
               if r["alert"] != WATCHDOG_ALERT)
    if "slo" in bundle.rule_files:
        slo_alerts = [i for i in alert_instances(loaded.spec, [r for g in bundle.rule_files["slo"].groups for r in g.rules])
                      if TIER_LABEL in i.labels]
        assert {i.labels[TIER_LABEL] for i in slo_alerts} == {PAGE, TICKET}
        assert all(i.labels.get(SLO_LABEL) for i in slo_alerts), "burn-rate alerts must carry the slo label"


def test_levels_pair_only_as_the_packs_declare():
    """Pairs come from `inhibits:` alone, not from alerts whose expressions look alike."""
    from aimon_gen.compile.alerting.alertmanager import level_rules

    alerts = [Alert("GPUTempHigh", "warning", "node_groups", 85.0),
              Alert("GPUTempCritical", "critical", "node_groups", 90.0, ("GPUTempHigh",)),
              # an override variant of the same alert for one node group: still the same pair
              Alert("GPUTempCritical", "critical", "node_groups", 88.0, ("GPUTempHigh",)),
              # critical, same metric, but no declared pair: no inhibit rule
              Alert("GPUPowerCritical", "critical", "node_groups", 700.0)]
    rules = level_rules(alerts)
    assert [(r["source_matchers"], r["target_matchers"]) for r in rules] == [
        (['alertname="GPUTempCritical"'], ['alertname="GPUTempHigh"'])]
    assert "alertname" not in rules[0]["equal"] and "host" in rules[0]["equal"] and "gpu" in rules[0]["equal"]


def test_the_build_declares_each_alerts_level_scope_threshold_and_pair():
    from aimon_gen.build import generate
    from conftest import EXAMPLE

    _, bundle, _ = generate(EXAMPLE)
    alerts = {a.name: a for a in bundle.alerts()}
    hot, critical = alerts["GPUTemperatureHigh"], alerts["GPUTemperatureCritical"]
    assert (hot.level, hot.scope, critical.level) == ("warning", "node_groups", "critical")
    assert critical.threshold is not None and hot.threshold is not None and critical.threshold > hot.threshold
    assert critical.inhibits == ("GPUTemperatureHigh",) and hot.inhibits == ()
    assert alerts["SLOBurnRatePage"].scope == "slo"
    # the config's level inhibitions are exactly the declared pairs
    levels = {(r["source_matchers"][0], r["target_matchers"][0]) for r in bundle.alertmanager["inhibit_rules"]
              if r["source_matchers"][0].startswith("alertname=") and r["source_matchers"][0] != 'alertname="NodeDown"'}
    assert levels == {(f'alertname="{a.name}"', f'alertname="{lesser}"') for a in alerts.values() for lesser in a.inhibits}


def test_alert_label_sets_follow_the_expression(write_spec):
    from aimon_gen.compile.alerting.routing import alert_instances

    spec = load(write_spec, BASE).spec
    rules = [
        {"alert": "Reload", "expr": 'prometheus_config_last_reload_successful{job="prometheus"} <= 0',
         "labels": {"severity": "warning"}},
        # group_left: the result keeps the left side's labels (team included)
        {"alert": "Load", "expr": 'DCGM_FI_DEV_GPU_TEMP{job="dcgm_exporter"} / on (instance) group_left () '
                                  'count by (instance) (DCGM_FI_DEV_GPU_UTIL{job="dcgm_exporter"}) > 1',
         "labels": {"severity": "warning"}},
        # a recording rule read through its selector: only the rule it picks, with its labels
        {"record": "slo:x", "expr": 'sum(rate(vllm:request_success_total{job="vllm", model="llama"}[5m]))',
         "labels": {"slo": "llama-availability"}},
        {"record": "slo:x", "expr": 'sum(rate(vllm:request_success_total{job="vllm", model="other"}[5m]))',
         "labels": {"slo": "other-availability"}},
        {"alert": "Burn", "expr": 'slo:x{slo="llama-availability"} > 1', "labels": {"severity": "critical"}},
    ]
    got = {i.alert: i.labels for i in alert_instances(spec, rules)}
    assert got["Reload"]["job"] == "prometheus" and got["Reload"]["instance"] == "localhost:9090"
    assert got["Load"]["team"] == "research" and got["Load"]["node_group"] == "h100-train"
    assert got["Burn"]["slo"] == "llama-availability" and got["Burn"]["team"] == "genai"


def test_recording_rules_picked_by_a_selector_keep_rule_order():
    from aimon_gen.compile.alerting.routing import _Records

    rules = [{"record": "slo:x", "expr": "sum(a)", "labels": {"slo": "a"}},
             {"record": "slo:x", "expr": 'sum(b{model="m"})'},  # no slo label: any slo="..." may pick it
             {"record": "slo:x", "expr": "sum(c)", "labels": {"slo": "c"}},
             {"record": "slo:x", "expr": "sum(a2)", "labels": {"slo": "a"}}]
    records = _Records(rules)
    assert [r["expr"] for r, _, _ in records.picked("slo:x", {"slo": "a"})] == ["sum(a)", 'sum(b{model="m"})',
                                                                              "sum(a2)"]
    assert [r["expr"] for r, _, _ in records.picked("slo:x", {"slo": "z"})] == ['sum(b{model="m"})']
    assert len(records.picked("slo:x", {})) == 4 and records.picked("other", {"slo": "a"}) == []


@pytest.mark.parametrize("edit, expected", [
    (("  default_receiver: ops\n", ""),
     "8:3: alerting: alerting.default_receiver is required when receivers are given (name the receiver for alerts "
     "no route takes, e.g. default_receiver: ops)"),
    (('webhook: {url: "http://hooks.internal/ops"}', "email: {to: ops@example.com}"),
     "11:14: alerting.receivers[0].email[0]: email needs 'smarthost' here or in alerting.smtp"),
    (('slack: {channel: "#genai-alerts", api_url_file: /etc/alertmanager/secrets/slack-genai}',
      'slack: {channel: "#genai-alerts"}'),
     "15:14: alerting.receivers[2].slack[0]: slack needs api_url_file"),
    (("{routing_key_file: /etc/alertmanager/secrets/pagerduty-key}", "{routing_key_file: /a, service_key_file: /b}"),
     "13:18: alerting.receivers[1].pagerduty[0]: pagerduty: give only one of routing_key_file, service_key_file"),
    (('webhook: {url: "http://hooks.internal/ops"}', "webhook: {max_alerts: 5}"),
     "11:16: alerting.receivers[0].webhook[0]: webhook needs exactly one of url, url_file"),
])
def test_receiver_and_default_problems(write_spec, edit, expected):
    got = problems(write_spec, BASE.replace(*edit))
    assert any(p.startswith(expected) for p in got), got


def test_routes_without_receivers(write_spec):
    text = BASE.split("  default_receiver")[0] + "  routes: [{receiver: ops, match: {team: genai}}]\n"
    assert problems(write_spec, text) == ["8:11: alerting.routes: alerting.routes is given but there are no "
                                          "alerting.receivers (add receivers, or remove it)"]


def test_unknown_matcher_label_stops_the_build_at_its_line(tmp_path):
    from typer.testing import CliRunner

    from aimon_gen.cli import app
    from conftest import EXAMPLE

    text = EXAMPLE.read_text()
    assert "match: {team: data}}" in text
    spec = tmp_path / "example.yaml"
    spec.write_text(text.replace("match: {team: data}}", "match: {teams: data}}").split("\n  tests:\n")[0] + "\n")
    line = next(i for i, s in enumerate(spec.read_text().splitlines(), 1) if "teams: data" in s)
    r = CliRunner().invoke(app, ["build", str(spec), "-o", str(tmp_path / "out"), "--no-validate"])
    assert r.exit_code == 1
    assert (f"example.yaml:{line}:38: alerting.routes[3].match.teams: no generated alert carries label 'teams', "
            "so this route can never match (did you mean 'team'?)") in r.stderr
    assert not (tmp_path / "out").exists()


# Watchdog and the heartbeat receiver (alerting.heartbeat).

WITH_AM = BASE.replace("version: 1\nname: ai-prod\n", "version: 1\nname: ai-prod\n"
                       "prometheus: {alertmanagers: [alertmanager.monitoring:9093]}\n")


def _built_am(spec_path):
    from aimon_gen.build import generate
    files, _, _ = generate(spec_path)
    import yaml
    return yaml.safe_load(files["alertmanager.yml"])


def test_watchdog_goes_to_the_heartbeat_receiver_first_and_nowhere_else(write_spec):
    import yaml

    from aimon_gen.build import generate
    text = WITH_AM.replace("  routes:\n", "  heartbeat: {receiver: ops, repeat_interval: 2m}\n  routes:\n", 1)
    files, _, _ = generate(write_spec(text))
    doc = yaml.safe_load(files["alertmanager.yml"])
    first = doc["route"]["routes"][0]
    assert first["receiver"] == "ops" and first["matchers"] == ['alertname="Watchdog"'] and not first.get("continue")
    assert first["repeat_interval"] == first["group_interval"] == "2m"
    assert "watchdog-null" not in {r["name"] for r in doc["receivers"]}
    # Watchdog fires in alert.rules.yml, severity none: pages nobody through the severity routes.
    rules = [r for g in yaml.safe_load(files["alert.rules.yml"])["groups"] for r in g["rules"]]
    assert [r["labels"] for r in rules if r.get("alert") == "Watchdog"] == [{"severity": "none"}]


def test_without_heartbeat_watchdog_goes_to_a_receiver_that_notifies_nobody(write_spec):
    doc = _built_am(write_spec(WITH_AM))
    first = doc["route"]["routes"][0]
    assert first["receiver"] == "watchdog-null" and first["matchers"] == ['alertname="Watchdog"']
    assert {"name": "watchdog-null"} in doc["receivers"]
    spec = load(write_spec, WITH_AM).spec
    assert routing.receivers(routing.tree(spec.alerting), {"alertname": "Watchdog"}) == ["ops"]
    # The simulation that judges routing tests knows the generated heartbeat route, as amtool does.
    assert routing.has_heartbeat(spec)
    assert routing.receivers(routing.tree(spec.alerting, heartbeat=True), {"alertname": "Watchdog"}) == ["watchdog-null"]


def test_a_routing_test_of_watchdog_is_judged_with_its_generated_route(write_spec):
    # amtool sees Watchdog's route first; the spec-line check must agree rather than pass it to ops.
    text = WITH_AM + "  tests:\n    - {labels: {alertname: Watchdog}, receivers: [ops]}\n"
    (got,) = problems(write_spec, text)
    assert "routing test fails: these labels reach [watchdog-null], expected [ops]" in got
    assert "they end at alerting.heartbeat" in got
    # Without an Alertmanager there is no Watchdog and no heartbeat route: the test holds.
    assert load(write_spec, BASE + "  tests:\n    - {labels: {alertname: Watchdog}, receivers: [ops]}\n")


def test_no_alertmanagers_no_watchdog_and_no_watchdog_route(write_spec):
    doc = _built_am(write_spec(BASE))
    assert all("Watchdog" not in str(r.get("matchers")) for r in doc["route"]["routes"])
    assert "watchdog-null" not in {r["name"] for r in doc["receivers"]}


def test_heartbeat_errors_at_their_lines(write_spec):
    text = WITH_AM.replace("  routes:\n", "  heartbeat: {receiver: deadman}\n  routes:\n", 1)
    got = problems(write_spec, text)
    assert got == ["17:25: alerting.heartbeat.receiver: no receiver named 'deadman' (receivers are: ops, oncall, "
                   "genai-slack)"], got
    no_am = BASE.replace("  routes:\n", "  heartbeat: {receiver: ops}\n  routes:\n", 1)
    got = problems(write_spec, no_am)
    assert len(got) == 1 and "alerting.heartbeat: alerting.heartbeat needs prometheus.alertmanagers" in got[0], got
    reserved = WITH_AM.replace("    - name: ops\n", "    - name: watchdog-null\n").replace("default_receiver: ops",
                                                                                       "default_receiver: watchdog-null")
    got = problems(write_spec, reserved)
    assert any("receiver name 'watchdog-null' is reserved" in p for p in got), got


def test_declared_levels_inhibit_on_the_same_mount_only(tmp_path):
    from aimon_gen.build import generate
    from conftest import EXAMPLE

    _, bundle, _ = generate(EXAMPLE)
    rules = bundle.alertmanager["inhibit_rules"]
    pair = next(r for r in rules if r["source_matchers"] == ['alertname="NodeFilesystemFillingUpFast"'])
    assert pair["target_matchers"] == ['alertname="NodeFilesystemFillingUp"']
    assert {"host", "mountpoint", "device"} <= set(pair["equal"])
    assert any(r["source_matchers"] == ['alertname="GPUFatalXidError"'] for r in rules)
