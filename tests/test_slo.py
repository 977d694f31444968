"""SLOs: spec errors at their lines, the shape of slo.rules.yml, burn thresholds per period."""

from __future__ import annotations

import re

import pytest

from aimon_gen.build import generate
from aimon_gen.errors import SpecInvalid

BASE = """
version: 1
name: test
rules: {runbook_base_url: "https://rb.example/x/"}
models:
  - name: chat
    server: vllm
    targets: [infer-1.internal:8000]
    labels: {team: genai}
    slo: {availability: 99.9, latency: {threshold: 500ms, objective: 99}}
"""

ALL_KINDS = """
version: 1
name: test
models:
  - {name: chat, server: vllm, targets: [a:8000], labels: {team: genai},
     slo: {availability: 99.9, latency: {threshold: 1s, objective: 99}}}
  - {name: scorer, server: custom, targets: [b:8080], labels: {team: risk},
     slo: {availability: 99.5, latency: {threshold: 250ms, objective: 95}, window: 28d}}
  - {name: vision, server: triton, targets: [c:8002], slo: {availability: 99.95, window: 7d}}
  - {name: summarizer, server: tgi, targets: [d:3000], slo: {availability: 99}}
pipelines:
  - {name: features, targets: [e:9108], freshness: 1h, labels: {team: data}, slo: {freshness: 99}}
slos:
  - name: api-gateway
    objective: 99.9
    good: 'http_requests_total{job="api", code!~"5.."}'
    total: 'http_requests_total{job="api"}'
    labels: {team: platform}
"""


def _rules(write_spec, text):
    files, bundle, loaded = generate(write_spec(text))
    return bundle.rule_files["slo"].doc(), loaded


def _problems(write_spec, text) -> list[str]:
    with pytest.raises(SpecInvalid) as exc:
        generate(write_spec(text))
    return [str(p) for p in exc.value.problems]


def test_latency_threshold_off_the_buckets_names_the_buckets_at_its_line(write_spec):
    # A custom server's buckets are the user's own choice: a threshold between them is an error.
    (problem,) = _problems(write_spec, BASE.replace("500ms", "450ms").replace("server: vllm", "server: custom"))
    assert ":9:52:" in problem and "models[0].slo.latency.threshold" in problem
    assert "450ms is not a bucket of ml_inference_latency_seconds" in problem
    assert "0.1, 0.25, 0.5, 0.75, 1," in problem


def test_threshold_between_fixed_buckets_uses_the_bucket_below_and_warns(write_spec):
    # vLLM chooses its buckets: 450ms is measured at TTFT's 0.25s bucket, and the build says so.
    doc, loaded = _rules(write_spec, BASE.replace("500ms", "450ms"))
    (warning,) = [str(w) for w in loaded.warnings if "latency threshold" in w.message]
    assert "models[0].slo.latency.threshold" in warning
    assert "falls between buckets of vllm:time_to_first_token_seconds" in warning and "faster than 0.25s" in warning
    exprs = " ".join(r["expr"] for g in doc["groups"] for r in g["rules"])
    assert r'vllm:time_to_first_token_seconds_bucket{job="vllm", model="chat", le=~"0\\.25"}' in exprs


def test_tgi_thresholds_can_be_written_and_buckets_print_short(write_spec):
    doc, loaded = _rules(write_spec, BASE.replace("server: vllm", "server: tgi").replace("500ms", "1s"))
    (warning,) = [str(w) for w in loaded.warnings if "latency threshold" in w.message]
    # 0.0001 * 1.5**k by repeated multiplication: printed as the decimals they stand for.
    assert "faster than 0.748182764268s" in warning and "0.00015, 0.000225, 0.0003375," in warning
    assert "0.00015000000000000001" not in warning
    exprs = " ".join(r["expr"] for g in doc["groups"] for r in g["rules"])
    assert r'tgi_request_duration_bucket{job="tgi", model="chat", le=~"0\\.7481827642679213' in exprs
    # Below the smallest bucket nothing measures it: an error.
    text = BASE.replace("500ms", "100ms").replace("objective: 99}", "objective: 99, metric: e2e}")
    (problem,) = _problems(write_spec, text)
    assert "100ms is not a bucket of vllm:e2e_request_latency_seconds" in problem


def test_latency_slo_chooses_its_histogram(write_spec):
    doc, _ = _rules(write_spec, BASE.replace("objective: 99}", "objective: 99, metric: e2e}"))
    exprs = " ".join(r["expr"] for g in doc["groups"] for r in g["rules"])
    assert "vllm:e2e_request_latency_seconds_bucket{" in exprs and "time_to_first_token" not in exprs
    text = BASE.replace("server: vllm", "server: tgi").replace("500ms", "1s").replace(
        "objective: 99}", "objective: 99, metric: ttft}")
    (problem,) = _problems(write_spec, text)
    assert "models[0].slo.latency.metric" in problem and "a tgi model server has no ttft histogram" in problem
    assert "e2e, itl" in problem


def test_triton_has_no_latency_histogram(write_spec):
    text = BASE.replace("server: vllm", "server: triton")
    (problem,) = _problems(write_spec, text)
    assert "triton model server exposes no request latency histogram" in problem


def test_server_without_failure_count_refuses_availability_at_its_line(write_spec, monkeypatch):
    """A server kind whose SLI data has no availability entry: an error, not a crash."""
    from aimon_gen import sli

    data = {**sli._data(), "availability": {k: v for k, v in sli._data()["availability"].items() if k != "tgi"}}
    monkeypatch.setattr(sli, "_data", lambda: data)
    text = BASE.replace("server: vllm", "server: tgi").replace(", latency: {threshold: 500ms, objective: 99}", "")
    (problem,) = _problems(write_spec, text)
    assert "models[0].slo.availability" in problem and "a tgi model server counts no failed requests" in problem
    assert ":9:" in problem   # at its line


def test_sglang_latency_slo_reads_time_to_first_token_and_refuses_availability(write_spec):
    text = BASE.replace("server: vllm", "server: sglang").replace("500ms", "1s")
    (problem,) = _problems(write_spec, text)
    assert "a sglang model server counts no failed requests" in problem
    files, _, _ = generate(write_spec(text.replace("availability: 99.9, ", "")))
    slo = files["slo.rules.yml"].decode()
    assert 'sglang:time_to_first_token_seconds_bucket{job="sglang", model="chat", le=~"1|1\\\\.0"}' in slo


def test_period_shorter_than_a_day_and_non_selector_are_errors(write_spec):
    text = ALL_KINDS.replace("window: 7d", "window: 12h").replace(
        "good: 'http_requests_total{job=\"api\", code!~\"5..\"}'", "good: 'sum(rate(x[5m]))'")
    problems = _problems(write_spec, text)
    assert any("models[2].slo.window: SLO period 12h is shorter than 1d" in p for p in problems)
    assert any("slos[0].good: good must be a plain counter selector" in p for p in problems)


def test_a_pair_in_both_tiers_and_a_clashing_label_are_errors(write_spec):
    text = BASE + "slo_alerting:\n  page: {severity: critical, windows: [1h/5m, 1d/2h], for: 2m}\n"
    assert any("window pair 1d/2h is in both page and ticket" in p for p in _problems(write_spec, text))
    text = BASE.replace("labels: {team: genai}", "labels: {tier: gold}")
    assert any("label 'tier' is set on SLO series" in p for p in _problems(write_spec, text))


def test_objective_that_cannot_page_warns_and_leaves_the_alert_out(write_spec):
    doc, loaded = _rules(write_spec, BASE.replace("availability: 99.9", "availability: 90"))
    (warning,) = [str(w) for w in loaded.warnings if "SLO" in w.message]
    assert "models[0].slo.availability" in warning and "warning:" in warning
    assert "objective 90% can never page" in warning and "page 1h/5m at 14.4x" in warning
    alerts = [r for r in doc["groups"][0]["rules"] if "alert" in r]
    assert {(a["labels"].get("long_window")) for a in alerts} == {"6h", "1d", "3d", None}


@pytest.mark.parametrize("period,burns", [
    ("30d", {"1h": "14.4", "6h": "6", "1d": "3", "3d": "1"}),
    ("28d", {"1h": "13.44", "6h": "5.6", "1d": "2.8", "3d": "0.933333"}),
    ("7d", {"1h": "3.36", "6h": "1.4", "1d": "0.7", "3d": "0.233333"}),
])
def test_burn_thresholds_follow_the_budget_share_for_each_period(write_spec, period, burns):
    doc, _ = _rules(write_spec, BASE.replace("objective: 99}}", f"objective: 99}}, window: {period}}}"))
    got = {}
    for r in doc["groups"][0]["rules"]:
        if "alert" in r and "long_window" in r["labels"]:
            got[r["labels"]["long_window"]] = re.search(r"> ([0-9.]+)\n", r["expr"]).group(1)
    assert got == burns
    windows = [r["labels"]["window"] for r in doc["groups"][0]["rules"] if r.get("record") == "slo:burn_rate:ratio"]
    assert windows == ["5m", "30m", "1h", "2h", "6h", "1d", "3d", period]


def test_only_the_5m_rules_read_raw_series_and_every_series_has_the_label_set(write_spec):
    doc, _ = _rules(write_spec, ALL_KINDS)
    assert len(doc["groups"]) == 8
    for group in doc["groups"]:
        records = [r for r in group["rules"] if "record" in r]
        raw = [r for r in records if "rate(" in r["expr"] or "data_pipeline" in r["expr"]]
        assert [r["record"] for r in raw] == ["slo:sli_bad:rate", "slo:sli_total:rate"]
        for r in raw:
            assert {"slo", "service", "window"} <= set(r["labels"]) and r["labels"]["window"] == "5m"
        for r in records[2:]:
            assert "rate(" not in r["expr"] and ("slo=" in r["expr"] or r["expr"].startswith("vector("))
    labels = doc["groups"][0]["rules"][0]["labels"]
    assert labels == {"slo": "chat-availability", "service": "chat", "model": "chat", "team": "genai", "window": "5m"}
    pipeline = next(g for g in doc["groups"] if g["name"] == "slo-features-freshness")["rules"][0]["labels"]
    assert pipeline["pipeline"] == "features" and pipeline["team"] == "data"


def test_real_metric_names_per_server(write_spec):
    doc, _ = _rules(write_spec, ALL_KINDS)
    first = {g["name"]: g["rules"][0]["expr"] + " " + g["rules"][1]["expr"] for g in doc["groups"]}
    assert 'http_requests_total{job="vllm", model="chat", handler=~"/v1/.*", status=~"5.."}' in first["slo-chat-availability"]
    assert "nv_inference_request_failure{" in first["slo-vision-availability"]
    assert "nv_inference_request_success{" in first["slo-vision-availability"]
    assert "tgi_request_count{" in first["slo-summarizer-availability"]
    assert 'tgi_request_failure{job="tgi", model="summarizer", err!~"validation|dropped"}' in first["slo-summarizer-availability"]
    # PromQL strings escape the regex backslash: le=~"0\\.25" is the regex 0\.25
    assert r'ml_inference_latency_seconds_bucket{job="ml_inference", model="scorer", le=~"0\\.25"}' in first["slo-scorer-latency"]
    assert r'vllm:time_to_first_token_seconds_bucket{job="vllm", model="chat", le=~"1|1\\.0"}' in first["slo-chat-latency"]
    assert "time() - max(data_pipeline_last_successful_run_timestamp{" in first["slo-features-freshness"]
    assert "> bool 3600" in first["slo-features-freshness"]


def test_alerts_one_per_pair_with_for_severity_runbook_and_value(write_spec):
    doc, _ = _rules(write_spec, BASE)
    alerts = [r for g in doc["groups"] for r in g["rules"] if "alert" in r]
    pairs = [(a["alert"], a["labels"].get("long_window"), a["labels"].get("short_window")) for a in alerts[:5]]
    assert pairs == [("SLOBurnRatePage", "1h", "5m"), ("SLOBurnRatePage", "6h", "30m"),
                     ("SLOBurnRateTicket", "1d", "2h"), ("SLOBurnRateTicket", "3d", "6h"),
                     ("SLOSeriesMissing", None, None)]
    for a in alerts:
        assert a["for"] and a["labels"]["severity"] in ("critical", "warning", "info")
        assert a["annotations"]["runbook_url"] == f"https://rb.example/x/{a['alert']}"
        if a["alert"] != "SLOSeriesMissing":
            assert "$value" in a["annotations"]["description"] and "error_budget_remaining" in a["annotations"]["description"]
            # both windows joined only after dropping `window`
            assert a["expr"].count("max without (window) (") == 3


def test_tiers_are_settings(write_spec):
    text = BASE + ("slo_alerting:\n  page: {severity: critical, windows: [1h/5m], for: 1m}\n"
                   "  ticket: {severity: info, windows: [6h/30m, 3d/6h], for: 30m}\n  min_request_rate: 0\n")
    doc, _ = _rules(write_spec, text)
    alerts = [r for r in doc["groups"][0]["rules"] if "alert" in r and "tier" in r["labels"]]
    assert [(a["alert"], a["labels"]["long_window"], a["labels"]["severity"], a["for"]) for a in alerts] == [
        ("SLOBurnRatePage", "1h", "critical", "1m"), ("SLOBurnRateTicket", "6h", "info", "30m"),
        ("SLOBurnRateTicket", "3d", "info", "30m")]
    assert all("sli_total" not in a["expr"] for a in alerts)   # min_request_rate 0: no guard


@pytest.mark.e2e  # builds every spec twice (slow)
def test_output_is_deterministic(write_spec):
    path = write_spec(ALL_KINDS)
    assert generate(path)[0]["slo.rules.yml"] == generate(path)[0]["slo.rules.yml"]
    assert generate(path)[0]["tests/slo.test.yml"] == generate(path)[0]["tests/slo.test.yml"]


def test_no_slos_no_files(write_spec):
    files, bundle, _ = generate(write_spec(BASE.replace(
        "    slo: {availability: 99.9, latency: {threshold: 500ms, objective: 99}}\n", "")))
    assert "slo.rules.yml" not in files and "tests/slo.test.yml" not in files
    assert bundle.slos == [] and "slo" not in bundle.rule_files and "slo" not in bundle.rule_tests


def test_triton_slo_counts_the_model_clients_call(write_spec):
    # Triton counts an ensemble's requests again on each composing model: without naming the
    # model clients call, the build says the SLO adds them all up.
    text = BASE.replace("server: vllm", "server: triton").replace(", latency: {threshold: 500ms, objective: 99}", "")
    doc, loaded = _rules(write_spec, text)
    (warning,) = [str(w) for w in loaded.warnings if "Triton" in w.message]
    assert "models[0].slo.availability" in warning and "slo.triton_model" in warning
    doc, loaded = _rules(write_spec, text.replace("availability: 99.9", "availability: 99.9, triton_model: embed_ensemble"))
    assert not [w for w in loaded.warnings if "Triton" in w.message]
    exprs = " ".join(r["expr"] for g in doc["groups"] for r in g["rules"])
    assert 'nv_inference_request_failure{job="triton", model="chat", exported_model="embed_ensemble"}' in exprs
    (problem,) = _problems(write_spec, BASE.replace("availability: 99.9", "availability: 99.9, triton_model: x"))
    assert "models[0].slo.triton_model" in problem and "applies to Triton servers, not vllm" in problem


def test_compiled_slos_carry_objective_period_windows_and_alerts_as_fields(write_spec):
    """What later steps (dashboards) read: declared by the SLO step, the same as the rule text says."""
    files, bundle, _ = generate(write_spec(ALL_KINDS))
    by_name = {s.name: s for s in bundle.slos}
    vision = by_name["vision-availability"]
    assert (vision.objective, vision.period) == (0.9995, "7d")
    assert vision.windows == ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "7d")
    assert by_name["scorer-latency"].objective == 0.95 and by_name["scorer-latency"].period == "28d"
    chat = by_name["chat-availability"]
    assert [(a.long, a.short, a.burn, a.tier) for a in chat.alerts] == [
        ("1h", "5m", 14.4, "page"), ("6h", "30m", 6.0, "page"), ("1d", "2h", 3.0, "ticket"), ("3d", "6h", 1.0, "ticket")]
    # the rule text agrees with the fields, for every SLO
    rules = {g.name: g.rules for g in bundle.rule_files["slo"].groups}
    for s in bundle.slos:
        objective = next(r for r in rules[f"slo-{s.name}"] if r.get("record") == "slo:objective:ratio")
        assert objective["expr"] == f"vector({s.objective:g})"
        burn = [r["expr"] for r in rules[f"slo-{s.name}"] if r.get("record") == "slo:burn_rate:ratio"]
        assert [re.search(r'window="(\w+)"', e).group(1) for e in burn] == list(s.windows)
        alerts = [r for r in rules[f"slo-{s.name}"] if r.get("alert", "").startswith("SLOBurnRate")]
        assert [(r["labels"]["long_window"], r["labels"]["tier"]) for r in alerts] == [(a.long, a.tier) for a in s.alerts]
