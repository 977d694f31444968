"""aimon_gen/promql.py: the one PromQL reader/writer, and the routing simulation's matchers."""

from __future__ import annotations

import promql_parser
import pytest

from aimon_gen.promql import Selector, grouping_labels, has_comparison, kept_labels, label_matches, metric_names, quote, re2_escape, regex_alternatives, rescale_times, selectors, shard_local, simple_selector
from aimon_gen.spec import routing


def test_metric_names_of_set_operators_and_name_matchers_not_functions_or_strings():
    expr = ('up{job="a"} == 0 or on (instance) absent(node_load1) unless '
            'label_replace(rate(x_total[5m]), "dst", "y_total", "src", "(.*)") and {__name__="raw"}')
    assert metric_names(expr) == {"up", "node_load1", "x_total", "raw"}


def test_selectors_carry_unescaped_matchers_with_their_operators():
    (sel,) = selectors(r'x{a=~"b|c\\.d", e!="q\"r", f!~"g.*", h="i"}')
    assert sel == Selector("x", (("a", "=~", r"b|c\.d"), ("e", "!=", 'q"r'), ("f", "!~", "g.*"), ("h", "=", "i")))
    assert sel.equal() == {"h": "i"}


@pytest.mark.parametrize("expr, compares", [
    ("a > bool 0", True), ("rate(x[5m])", False), ('x{a="b>c"}', False), ("sum(x) != 1", True)])
def test_has_comparison_reads_operators_not_strings(expr, compares):
    assert has_comparison(expr) is compares


@pytest.mark.parametrize("expr, local", [
    ("sum(x)", False),
    ("sum by (instance) (x)", True),
    ("sum(x) by (host)", True),
    ("avg without (gpu) (x) > 90", True),
    ("avg without (instance, host) (x)", False),
    ("max by (instance) (sum by (job) (x))", False),   # the inner aggregation spans shards
    ("sum by (instance) (x) / sum by (model) (y)", False),
    ("absent_over_time(x[5m])", False),
    ('x{a="sum(y)"} > 0', True),                         # a string is not an aggregation
])
def test_shard_locality_of_aggregations(expr, local):
    assert shard_local(expr) is local


@pytest.mark.parametrize("expr, kept", [
    ("sum by (team) (x) > 0", {"team"}),
    ("max by (a) (x) / on (a) max by (a, b) (y)", {"a", "b"}),
    ("x / on (instance) group_left count by (instance) (y)", None),   # the many side keeps its labels
    ("sum without (a) (x)", None),
    ("x > 0", None),
])
def test_labels_an_alert_result_keeps(expr, kept):
    assert kept_labels(expr) == kept


def test_grouping_labels_of_every_clause():
    expr = "sum by (a) (x) * on (b) group_left (c) y + ignoring (d) z"
    assert grouping_labels(expr) == {"a", "b", "c", "d"}


def test_simple_selector_only_for_a_plain_selector():
    assert simple_selector('x{a="b"}') == Selector("x", (("a", "=", "b"),))
    assert simple_selector("rate(x[5m])") is None
    assert simple_selector("x offset 5m") is None
    assert simple_selector('{__name__="x"}') is None


def test_rescaling_keeps_offsets_strings_and_bounds_subquery_steps():
    expr = 'max_over_time(rate(x{a="[5m] offset 1h"}[10m])[1h:10m] offset -2h) > 0'
    out = rescale_times(expr, lambda kind, s, range_: min(s / 60, range_ / 4) if kind == "step" else s / 60)
    assert out == 'max_over_time(rate(x{a="[5m] offset 1h"}[10s])[1m:10s] offset -2m) > 0'
    assert isinstance(promql_parser.parse(out), promql_parser.BinaryExpr)


@pytest.mark.parametrize("expr", [
    'sum by (model) (rate(x_total{a=~"b|c"}[5m])) / on (model) group_left (team) max by (model, team) (y) > 0.9',
    'histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m]))) > bool 2',
    'time() - z{job="j"} @ end() > 3600 unless ignoring (x) -w',
    'count_values("v", x) or topk(3, x) or quantile(0.5, x) or vector(0.999) or absent(q{a="\\"\\n"})',
    'x[30m:] offset 1d',
])
def test_reprinting_keeps_the_meaning(expr):
    same = rescale_times(expr, lambda kind, s, r: s)
    assert promql_parser.parse(same).prettify() == promql_parser.parse(expr).prettify()


def test_unparseable_expressions_get_each_readers_fallback():
    bad = "sum(rate(x[5m]"
    assert metric_names(bad) == set() and selectors(bad) == []
    assert has_comparison(bad)             # no warning that repeats promtool's error
    assert not shard_local(bad)            # global is always exact
    assert kept_labels(bad) is None
    assert rescale_times(bad, lambda *a: 1.0) == bad


@pytest.mark.parametrize("value", ['a"b', "back\\slash", "new\nline\ttab", "über", "{x}", "ends\\"])
def test_quote_round_trips_through_the_parser(value):
    (sel,) = selectors(f"up{{v={quote(value)}}}")
    assert sel.matchers == (("v", "=", value),)


def test_regex_alternatives_match_exactly_the_values():
    values = ["gpu.a", "b|c", "x+y", "(p)"]
    (sel,) = selectors(f"up{{v=~{regex_alternatives(values)}}}")
    pattern = sel.matchers[0][2]
    assert all(label_matches("=~", pattern, v) for v in values)
    assert not any(label_matches("=~", pattern, v) for v in ["gpuXa", "b", "c", "xxy", "p", "gpu.a|b|c"])


def test_re2_escape_for_grafana_doubles_the_backslash():
    assert re2_escape("a.b") == r"a\.b"
    assert re2_escape("a.b", backslash="\\\\") == r"a\\.b"
    assert re2_escape("space ok-") == "space ok-"   # RE2 refuses escaping a space, as re.escape does


def test_label_matches_operators_are_anchored():
    assert label_matches("=~", "crit.*", "critical") and not label_matches("=~", "crit", "critical")
    assert label_matches("!~", "crit", "critical") and label_matches("!=", "a", "b") and not label_matches("=", "a", "")


def test_routing_reads_a_generated_config_with_negative_matchers_and_inherits():
    cfg = {"route": {"receiver": "default", "group_by": ["alertname"], "routes": [
        {"receiver": "quiet", "matchers": ['alertname="Watchdog"'], "group_by": ["..."]},
        {"matchers": ['team!="ml"', 'severity=~"crit.*"'], "routes": [{"receiver": "pager", "match": {"x": "1"}}]},
        {"receiver": "ml", "match_re": {"team": "ml|ai"}, "continue": True},
        {"receiver": "audit", "matchers": ["{team=ml}"]},
    ]}}
    root = routing.from_config(cfg)
    assert routing.receivers(root, {"alertname": "Watchdog"}) == ["quiet"]
    assert routing.receivers(root, {"severity": "critical", "x": "1"}) == ["pager"]
    assert routing.receivers(root, {"severity": "critical"}) == ["default"]    # its parent's receiver
    assert routing.receivers(root, {"severity": "critical", "team": "ml"}) == ["ml", "audit"]
    (node,) = routing.match(root, {"alertname": "Watchdog", "a": "1"})
    assert routing.group_key(node, {"alertname": "Watchdog", "a": "1"}) == (("a", "1"), ("alertname", "Watchdog"))
    (node,) = routing.match(root, {"alertname": "A", "b": "2"})
    assert routing.group_key(node, {"alertname": "A", "b": "2"}) == (("alertname", "A"),)


def test_alertmanager_matcher_strings_round_trip():
    for text in ['team="ml"', 'a=~"x|y\\\\.z"', 'b!="q\\"r"', 'c!~".+"', 'd="line\\nbreak"']:
        assert routing.parse_matcher(text).render() == text
    with pytest.raises(ValueError):
        routing.parse_matcher("=x")
