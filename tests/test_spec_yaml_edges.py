"""YAML the loader does not accept becomes a positioned problem, never an internal error."""

from __future__ import annotations

import pytest

from aimon_gen.errors import SpecInvalid
from aimon_gen.spec.load import load_spec

BASE = "version: 1\nname: edge\nnode_groups:\n  - name: g\n    hosts: [h1.internal]\n"


def _problems(write_spec, text):
    with pytest.raises(SpecInvalid) as exc:
        load_spec(write_spec(text))
    return [str(p) for p in exc.value.problems]


@pytest.mark.parametrize("extra, line, said", [
    ("    labels: !foo {team: a}\n", 6, "YAML tag '!foo' is not supported"),
    ("    labels: {team: !!binary aGVsbG8=}\n", 6, "YAML tag 'tag:yaml.org,2002:binary' is not supported"),
    ("    labels: !!set {a, b}\n", 6, "tag:yaml.org,2002:set' is not supported"),
    ("    labels: !!python/object:os.system {}\n", 6, "is not supported"),
    ("    labels: {<<: 1}\n", 6, "a merge key (<<) takes an alias of a mapping"),
    ("    thresholds: {gpu_temperature_warning: .nan}\n", 6, "'.nan' is not a finite number"),
    ("    thresholds: {gpu_temperature_warning: .inf}\n", 6, "'.inf' is not a finite number"),
    ("    thresholds: {gpu_temperature_warning: 99999999999999999999999999}\n", 6, "is too large"),
])
def test_refused_yaml_is_one_positioned_problem(write_spec, extra, line, said):
    problems = _problems(write_spec, BASE + extra)
    assert len(problems) == 1, problems
    assert f"spec.yaml:{line}:" in problems[0] and said in problems[0]


def test_an_explicit_key_wins_over_a_merged_one(write_spec):
    text = """
    version: 1
    name: merge
    node_groups:
      - &base {name: a, hosts: [h1.internal], labels: {team: x}}
      - <<: *base
        name: b
        hosts: [h2.internal]
    """
    spec = load_spec(write_spec(text)).spec
    assert [g.name for g in spec.node_groups] == ["a", "b"]
    assert spec.node_groups[1].labels == {"team": "x"}


def test_deep_nesting_is_a_problem_not_a_crash(write_spec):
    deep = "[" * 100 + "]" * 100
    problems = _problems(write_spec, BASE + f"    labels: {deep}\n")
    assert any("nested" in p for p in problems), problems


def test_a_date_is_text(write_spec):
    spec = load_spec(write_spec(BASE + "    labels: {since: 2024-01-01}\n")).spec
    assert spec.node_groups[0].labels == {"since": "2024-01-01"}


@pytest.mark.parametrize("text, hint", [
    (BASE + "    labels:\n\t  team: a\n", "replace the tab with spaces"),
    ("version: 1\nname: x\nnode_groups:\n  - {name: g, hosts: [gpu-[01:16].x]}\n", "quote a host range inside [ ]"),
])
def test_common_syntax_errors_say_the_fix(write_spec, text, hint):
    problems = _problems(write_spec, text)
    assert hint in problems[0], problems


@pytest.mark.parametrize("command", [["schema"], ["schema", "--markdown"], ["thresholds"], ["alerts"]])
def test_listings_piped_into_head_exit_0(command):
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "aimon_gen", *command], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader has left before the first write: every write gets EPIPE
    assert proc.wait(timeout=60) == 0
    assert b"Traceback" not in proc.stderr.read()


def test_an_alias_bomb_stops_early(write_spec):
    lines = ["version: 1", "name: lol", 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    problems = _problems(write_spec, "\n".join(lines + ["labels: *a8", ""]))
    assert len(problems) == 1 and "expands to more than" in problems[0], problems


@pytest.mark.parametrize("hosts", [['"h[1:1000]x[1:1000]"'], [f'"h{i}-[1:60000]"' for i in range(3)]])
def test_host_ranges_are_counted_before_they_expand(write_spec, hosts):
    groups = "".join(f"  - {{name: g{i}, hosts: [{h}]}}\n" for i, h in enumerate(hosts))
    problems = _problems(write_spec, f"version: 1\nname: big\nnode_groups:\n{groups}")
    assert any("expand to more than 100000 hosts" in p and "service_discovery" in p for p in problems), problems


@pytest.mark.parametrize("value, said", [('""', "an empty label value"), ('"a\\0b"', "control character"),
                                          ('"a\\nb"', "control character"), ('"\\e[31m"', "control character")])
def test_label_values_are_one_line_of_text(write_spec, value, said):
    problems = _problems(write_spec, BASE + f"    labels: {{team: {value}}}\n")
    assert len(problems) == 1 and "spec.yaml:6:" in problems[0] and said in problems[0], problems


SECRETS = """
version: 1
name: sec
prometheus:
  remote_write:
    - {name: a, url: "https://user:pass@mimir.example.com/api/v1/push"}
    - {name: b, url: "https://m.example.com/push", headers: {X-Api-Key: s3cr3t-header}}
    - {name: c, url: "https://m.example.com/push", headers: {Authorization: Bearer s3cr3t-bearer}}
    - name: d
      url: https://m.example.com/push
      bearer_token: s3cr3t-token
      basic_auth: {username: u, password: s3cr3t-pass}
grafana:
  datasource: {url: "http://admin:s3cr3t-graf@grafana:3000"}
node_groups:
  - {name: g, hosts: [h1]}
"""


def test_secrets_in_urls_and_headers_are_refused_without_echoing_them(write_spec):
    problems = _problems(write_spec, SECRETS)
    assert not [p for p in problems if "s3cr3t" in p or "pass@" in p], problems
    said = "\n".join(problems)
    assert said.count("credentials in a URL") == 2
    assert "header 'X-Api-Key' looks like a secret" in said and "refuses an Authorization header" in said
    assert "as 'bearer_token_file'" in said and "as 'password_file'" in said
    assert len(problems) == 6, problems  # one per mistake: no extra "password_file is required"


def test_a_duration_past_prometheus_range_is_refused(write_spec):
    problems = _problems(write_spec, BASE + "prometheus: {scrape_interval: 1000y}\n")
    assert len(problems) == 1 and "out of range" in problems[0] and "spec.yaml:6:" in problems[0]


def test_a_node_group_without_hosts_is_refused_at_validate(write_spec):
    problems = _problems(write_spec, "version: 1\nname: x\nnode_groups: [{name: a, hosts: []}]\n")
    assert len(problems) == 1 and "spec.yaml:3:" in problems[0] and "at least one host" in problems[0]


def test_a_binary_file_is_named_at_its_first_nul(write_spec):
    problems = _problems(write_spec, "version: 1\nname: x\0\n")
    assert len(problems) == 1 and problems[0].endswith("spec.yaml:2:8: this is a binary file, not a YAML spec (a NUL byte)")


def test_one_typo_in_a_routes_receiver_is_one_problem(write_spec):
    text = """
    version: 1
    name: x
    node_groups: [{name: a, hosts: [h1]}]
    alerting:
      default_receiver: mail
      smtp: {smarthost: "smtp.example.com:25", from: a@example.com}
      receivers:
        - {name: mail, email: {to: a@example.com}}
        - {name: ml-slack, slack: {channel: "#x", api_url_file: /etc/am/slack}}
        - {name: unused-pager, slack: {channel: "#y", api_url_file: /etc/am/slack2}}
      routes:
        - {receiver: ml-slak, match: {team: ml}}
    """
    problems = _problems(write_spec, text)
    assert len(problems) == 2, problems
    assert "no receiver named 'ml-slak' (did you mean 'ml-slack'?)" in problems[1]
    assert "no route sends to receiver 'unused-pager'" in problems[0]


def test_empty_and_control_character_values_of_receivers_are_refused(write_spec):
    text = """
    version: 1
    name: x
    node_groups: [{name: a, hosts: [h1], gpu: {model: "", count: 8}}]
    alerting:
      default_receiver: mail
      smtp: {smarthost: "smtp.example.com:25", from: ""}
      receivers:
        - {name: mail, email: {to: ""}}
        - {name: hook, webhook: {url: "http://h/x\\u001b[31m"}}
        - {name: og, opsgenie: {api_key_file: /f, api_url: "https://u:s3cr3t@api.opsgenie.com/"}}
      routes:
        - {receiver: hook, match: {team: a}}
        - {receiver: og, match: {team: c}}
      tests:
        - {labels: {team: "a\\u0000"}, receivers: [hook]}
    """
    problems = _problems(write_spec, text)
    said = "\\n".join(problems)
    assert len(problems) == 6, problems
    for where in ("node_groups[0].gpu.model: an empty label value", "alerting.smtp.from: an empty value",
                  "email.to: an empty value", "webhook.url: 'http://h/x\\x1b[31m' is not an http(s) URL",
                  "opsgenie.api_url: credentials in a URL", "tests[0].labels.team"):
        assert where in said, (where, said)
    assert "s3cr3t" not in said


def test_a_smarthost_is_host_and_port(write_spec):
    # Found by the fuzz test: amtool refused an RTL-marked smarthost the spec had accepted.
    text = """
    version: 1
    name: x
    node_groups: [{name: a, hosts: [h1]}]
    alerting:
      default_receiver: mail
      smtp: {smarthost: "\\u202eevil", from: a@example.com}
      receivers:
        - {name: mail, email: {to: a@example.com, smarthost: smtp.example.com}}
    """
    problems = _problems(write_spec, text)
    assert len(problems) == 2, problems
    assert "smtp.smarthost: '\\u202eevil' is not a host name" in problems[0]
    assert "email.smarthost: 'smtp.example.com' needs a port" in problems[1]
