"""Checks beyond promtool: user packs and their errors at file:line, metric names, escaping."""

from __future__ import annotations

import textwrap

import pytest
import yaml

from aimon_gen.build import generate
from aimon_gen.compile.templating import go_annotation as expand
from aimon_gen.compile.templating import go_float
from aimon_gen.errors import SpecInvalid
from aimon_gen.promql import has_comparison, metric_names, quote, regex_alternatives
from conftest import USER_PACK
from test_rules_promtool import ALL_KINDS, assert_rules_and_tests_pass

promql_parser = pytest.importorskip("promql_parser")

SPEC = """
version: 1
name: t
node_groups:
  - {name: gpu, hosts: [g1.internal], gpu: {model: H100, count: 8}}
rules:
  packs: [packs]
"""

GOOD_PACK = USER_PACK


def with_pack(tmp_path, pack: str):
    (tmp_path / "packs").mkdir()
    (tmp_path / "packs" / "mine.yaml").write_text(textwrap.dedent(pack).lstrip("\n"))
    spec = tmp_path / "spec.yaml"
    spec.write_text(textwrap.dedent(SPEC).lstrip("\n"))
    return spec


def problems(tmp_path, pack: str) -> list:
    with pytest.raises(SpecInvalid) as exc:
        generate(with_pack(tmp_path, pack))
    return exc.value.problems


@pytest.mark.e2e  # a checked build
def test_user_pack_adds_alerts_with_tests_that_pass_promtool(tmp_path):
    files, _, _ = generate(with_pack(tmp_path, GOOD_PACK))
    groups = {g["name"]: g["rules"] for g in yaml.safe_load(files["alert.rules.yml"])["groups"]}
    assert groups["my-gpu"][0]["expr"] == 'DCGM_FI_DEV_SM_CLOCK{job="dcgm_exporter"} < 500'
    assert "tests/user-mine.test.yml" in files
    out = tmp_path / "out"
    out.mkdir()
    assert_rules_and_tests_pass(files, out)


@pytest.mark.parametrize("edit, line, words", [
    (("        severity: info\n", "        severity: info\n        sevrity: page\n"), 9, "did you mean 'severity'"),
    (("scope: node_groups", "scope: node_group"), 4, "did you mean 'node_groups'"),
    (("expr: DCGM_FI_DEV_SM_CLOCK{<%= sel %>} < 500", "expr: DCGM_FI_DEV_SM_CLCK{<%= sel %>} < 500"), 9,
     "no configured exporter emits"),
    (("expr: DCGM_FI_DEV_SM_CLOCK{<%= sel %>} < 500", "expr: DCGM_FI_DEV_SM_CLOCK{<%= sell %>} < 500"), 9,
     "'sell' is undefined"),
    (("expr: DCGM_FI_DEV_SM_CLOCK{<%= sel %>} < 500", "expr: DCGM_FI_DEV_SM_CLOCK{<%= sel %>}"), 9,
     "has no comparison"),
    (("expr: DCGM_FI_DEV_SM_CLOCK{<%= sel %>} < 500", "expr: DCGM_FI_DEV_RETIRED_SBE{<%= sel %>} < 500"), 9,
     "off by default"),
    (("alert: MyGPUFrequencyLow", "alert: HighGPUUtilization"), 6, "also defined at rules/gpu.yaml"),
    (("        summary:", "      - summary:"), 10, "'expr' is required"),
    (('fire: "300"', 'fire: "300'), 14, "YAML syntax error"),
    (("severity: info", "severity: inf"), 8, "did you mean 'info'"),
    (('labels: {gpu: "3"}', "labels: {gpu: 3}"), 14, "expected a valid string, got 3"),
    (("scope: node_groups", "scope: node_groups\n    when: remote_writes"), 5, "did you mean 'remote_write'"),
])
def test_broken_user_pack_is_reported_at_its_file_and_line(tmp_path, edit, line, words):
    found = problems(tmp_path, GOOD_PACK.replace(*edit))
    text = [str(p) for p in found]
    assert any(words in t for t in text), text
    mine = [p for p in found if words in str(p)][0]
    assert mine.file.endswith("mine.yaml")
    if line:
        assert mine.line == line, text


def test_every_mistake_in_a_user_pack_is_reported_at_its_line(tmp_path):
    pack = (GOOD_PACK.replace("scope: node_groups", "scope: node_group")
            .replace("        severity: info\n", "        severity: info\n        sevrity: page\n")
            .replace("value: 300", "value: [300]"))
    found = {(p.line, p.col, p.path): str(p) for p in problems(tmp_path, pack)}
    assert list(found) == [(4, 12, "groups[0].scope"), (9, 9, "groups[0].alerts[0].sevrity"),
                           (16, 18, "groups[0].alerts[0].test.value")], found
    assert all(text.startswith(str(tmp_path / "packs" / "mine.yaml")) for text in found.values())
    assert "choose one of: node_groups, models, pipelines, storage, none (did you mean 'node_groups'?)" in found[
        (4, 12, "groups[0].scope")]
    assert "unknown field 'sevrity' (did you mean 'severity'?)" in found[(9, 9, "groups[0].alerts[0].sevrity")]


def test_missing_pack_folder_is_reported(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(textwrap.dedent(SPEC).lstrip("\n"))
    with pytest.raises(SpecInvalid) as exc:
        generate(spec)
    problem = exc.value.problems[0]
    assert "rule pack folder 'packs' does not exist" in str(problem)
    assert problem.line == 6 and problem.path == "rules.packs[0]"


def _parser_names(node) -> set[str]:
    """Metric names from promql-parser's syntax tree."""
    names = set()
    if isinstance(node, promql_parser.VectorSelector):
        names.add(node.name)
        return names
    for attr in ("lhs", "rhs", "expr", "vector_selector", "param"):
        child = getattr(node, attr, None)
        if child is not None and not isinstance(child, (int, float, str)):
            names |= _parser_names(child)
    for arg in getattr(node, "args", None) or []:
        names |= _parser_names(arg)
    return names


def test_metric_reader_agrees_with_promql_parser_on_every_shipped_rule(write_spec):
    files, _, _ = generate(write_spec(ALL_KINDS))
    rules = [r for name in ("alert.rules.yml", "recording.rules.yml")
             for g in yaml.safe_load(files[name])["groups"] for r in g["rules"]]
    assert len(rules) > 80
    for rule in rules:
        tree = promql_parser.parse(rule["expr"])
        assert metric_names(rule["expr"]) == _parser_names(tree), rule["expr"]
        if "alert" in rule:
            assert has_comparison(rule["expr"])
            assert isinstance(tree, promql_parser.BinaryExpr)


def test_metric_reader_on_tricky_expressions():
    assert metric_names('rate(a_total{x="b{c}"}[5m] offset 1h) / on (instance) group_left () sum by (le) (b)') == {
        "a_total", "b"}
    assert metric_names('vllm:x{model_name="y"} > 1e3') == {"vllm:x"}
    assert not has_comparison('sum by (job) (up{x=~"a>b"})')
    assert has_comparison("up == 0")


@pytest.mark.parametrize("value", ['plain', 'we "quote"', "back\\slash", "new\nline", 'all "\\\n of it\t'])
def test_quoted_values_parse_back_exactly(value):
    tree = promql_parser.parse(f"up{{team={quote(value)}}}")
    matcher = [m for m in tree.matchers.matchers if m.name == "team"][0]
    assert matcher.value == value


def test_regex_alternatives_escape_metacharacters():
    tree = promql_parser.parse(f"up{{node_group=~{regex_alternatives(['gpu.a', 'b|c'])}}}")
    matcher = [m for m in tree.matchers.matchers if m.name == "node_group"][0]
    assert matcher.value == "gpu\\.a|b\\|c"


def test_go_template_expansion_matches_go_formatting():
    assert go_float(95.0) == "95" and go_float(0.5) == "0.5" and go_float(1e21) == "1e+21"
    text = expand('{{ $labels.gpu }} at {{ printf "%.4g" $value }} ({{ $labels.nope }})', {"gpu": "0"}, 0.9975,
                  ("x", 1))
    assert text == "0 at 0.9975 (<no value>)"
    with pytest.raises(SpecInvalid):
        expand("{{ $value | humanize }}", {}, 1.0, ("x", 1))


def test_duplicate_key_and_duplicate_recording_rule_in_a_pack(tmp_path):
    found = problems(tmp_path, GOOD_PACK.replace("        for: 10m\n", "        for: 10m\n        for: 5m\n"))
    assert any("duplicate key 'for'" in str(p) and p.line == 8 for p in found), [str(p) for p in found]


def test_recording_rule_clashing_with_a_shipped_one(tmp_path):
    pack = GOOD_PACK.replace("    alerts:\n", "    recording:\n"
                             "      - {record: 'node_group:gpu_utilization:avg', expr: 'avg(DCGM_FI_DEV_GPU_UTIL)'}\n"
                             "    alerts:\n")
    found = problems(tmp_path, pack)
    assert any("also defined at rules/gpu.yaml" in str(p) and p.line == 6 for p in found), [str(p) for p in found]


def test_cases_share_a_test_group_only_when_they_cannot_see_each_other():
    from aimon_gen.compile.rules.unittests import _pack

    def case(name, fed):
        return {"name": name, "interval": "1m", "input_series": [{"series": f"{fed}{{a=\"1\"}}", "values": "1x5"}],
                "alert_rule_test": [{"eval_time": "5m", "alertname": name, "exp_alerts": []}]}

    groups = _pack([(case("A", "m1"), {"m1"}), (case("B", "m2"), {"m2"}), (case("C", "m1"), {"m1", "m3"}),
                    (case("D", "m3"), {"m3"})])
    names = [[c["alertname"] for c in g["alert_rule_test"]] for g in groups]
    assert names == [["A", "B", "D"], ["C"]]


def test_group_when_leaves_a_group_out_unless_the_spec_uses_that_feature(tmp_path):
    pack = GOOD_PACK.replace("scope: node_groups", "scope: node_groups\n    when: remote_write")
    files, _, _ = generate(with_pack(tmp_path, pack))   # no prometheus.remote_write in SPEC
    assert "MyGPUFrequencyLow" not in files["alert.rules.yml"].decode()
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec.read_text() + "prometheus: {remote_write: [{name: t, url: 'http://t:19291/api/v1/receive'}]}\n")
    files, _, _ = generate(spec)
    assert "MyGPUFrequencyLow" in files["alert.rules.yml"].decode()
    assert "PrometheusRemoteWriteBehind" in files["alert.rules.yml"].decode()
