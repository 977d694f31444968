"""Kubernetes output: manifests from the Bundle, checked with the real promtool and amtool."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from aimon_gen.build import generate
from aimon_gen.cli import app
from aimon_gen.compile.context import Context
from aimon_gen.compile.kubernetes.manifests import compile_kubernetes
from aimon_gen.compile.result import Bundle, RuleGroup
from aimon_gen.render import render

from conftest import tool

SPEC = """
version: 1
name: ai-k8s
node_groups:
  - {name: h100, hosts: ["gpu-[1:2].internal"], gpu: {model: H100-80GB, count: 8}, labels: {team: research}}
models:
  - name: chat
    server: vllm
    kubernetes: {namespace: inference, selector: {app.kubernetes.io/name: vllm}, port: http-metrics}
    labels: {team: genai}
  - {name: scorer, server: custom, targets: ["scorer-1.internal:8080"]}
pipelines:
  - {name: etl, freshness: 1h, kubernetes: {namespace: data, selector: {app: etl}, role: service}}
alerting:
  default_receiver: oncall
  receivers:
    - {name: oncall, pagerduty: {routing_key_file: /etc/alertmanager/secrets/pd/key}}
outputs:
  formats: [files, kubernetes]
  kubernetes: {namespace: observability, rule_labels: {release: kps}, monitor_labels: {release: kps}}
"""

# A rule file of the shape every rule step writes; multi-line PromQL as the packs use it.
RULES = {"groups": [{"name": "k8s-test", "rules": [
    {"record": "model:requests:rate5m", "expr": "sum by (model) (\n  rate(vllm:request_success_total[5m])\n)"},
    {"alert": "ModelDown", "expr": 'up{job="vllm"} == 0', "for": "5m", "labels": {"severity": "critical"},
     "annotations": {"summary": "{{ $labels.model }} is down", "description": "value {{ $value }}, threshold 0",
                     "runbook_url": "https://runbooks.example.com/ModelDown"}}]}]}


def _manifests(folder: Path) -> dict[str, dict]:
    return {p.name: yaml.safe_load(p.read_text()) for p in sorted((folder / "kubernetes").glob("*.yaml"))}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One checked build for the tests that only read its output (a build runs promtool and amtool)."""
    tool("promtool")
    tool("amtool")
    folder = tmp_path_factory.mktemp("k8s")
    (folder / "spec.yaml").write_text(SPEC)
    out = folder / "out"
    r = CliRunner().invoke(app, ["build", str(folder / "spec.yaml"), "-o", str(out)])
    assert r.exit_code == 0, r.output
    return out


@pytest.mark.e2e  # the module's checked kubernetes build (slow)
def test_every_manifest_is_named_namespaced_and_listed(built):
    docs = _manifests(built)
    kustomization = docs.pop("kustomization.yaml")
    assert kustomization["kind"] == "Kustomization"
    assert sorted(kustomization["resources"]) == sorted(docs)
    for name, doc in docs.items():
        assert doc["apiVersion"] and doc["kind"], name
        assert doc["metadata"]["name"] and doc["metadata"]["namespace"] == "observability", name
        assert name == f"{doc['kind'].lower()}-{doc['metadata']['name']}.yaml"
    kinds = sorted(d["kind"] for d in docs.values())
    assert kinds.count("ScrapeConfig") == 3        # node_exporter, dcgm_exporter, ml_inference
    assert kinds.count("PodMonitor") == 1 and kinds.count("ServiceMonitor") == 1
    assert "Secret" in kinds


@pytest.mark.e2e  # the module's checked kubernetes build (slow)
def test_dashboards_are_configmaps_the_sidecar_loads(built):
    docs = _manifests(built)
    dashboards = sorted(p.name for p in (built / "dashboards").glob("*.json"))
    maps = {d["metadata"]["name"]: d for d in docs.values() if d["kind"] == "ConfigMap"}
    assert len(maps) == len(dashboards) > 0
    for d in maps.values():
        assert d["metadata"]["labels"]["grafana_dashboard"] == "1"
        (key, text), = d["data"].items()
        assert key in dashboards
        assert json.loads(text) == json.loads((built / "dashboards" / key).read_text())
        assert len(text.encode()) < 1024 * 1024


@pytest.mark.e2e  # the module's checked kubernetes build (slow)
def test_alertmanager_secret_keeps_secrets_as_files(built, tmp_path):
    secret = next(d for d in _manifests(built).values() if d["kind"] == "Secret")
    assert secret["metadata"]["name"] == "alertmanager-main"
    text = secret["stringData"]["alertmanager.yaml"]
    assert yaml.safe_load(text) == yaml.safe_load((built / "alertmanager.yml").read_text())
    assert "/etc/alertmanager/secrets/pd/key" in text and "routing_key:" not in text.replace("routing_key_file", "")
    (tmp_path / "am.yml").write_text(text)
    r = subprocess.run([tool("amtool"), "check-config", str(tmp_path / "am.yml")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.e2e  # the module's checked kubernetes build (slow)
def test_scrape_manifests_keep_the_job_names_rules_select_on(built):
    docs = _manifests(built)
    sc = docs["scrapeconfig-ai-k8s-node-exporter.yaml"]
    assert sc["apiVersion"] == "monitoring.coreos.com/v1alpha1"
    assert sc["metadata"]["labels"]["release"] == "kps"
    assert sc["spec"]["relabelings"][0] == {"targetLabel": "job", "replacement": "node_exporter"}
    assert sc["spec"]["staticConfigs"][0]["targets"] == ["gpu-1.internal:9100", "gpu-2.internal:9100"]
    assert sc["spec"]["staticConfigs"][0]["labels"]["node_group"] == "h100"
    pm = docs["podmonitor-ai-k8s-vllm-chat.yaml"]
    assert pm["spec"]["selector"] == {"matchLabels": {"app.kubernetes.io/name": "vllm"}}
    assert pm["spec"]["namespaceSelector"] == {"matchNames": ["inference"]}
    endpoint = pm["spec"]["podMetricsEndpoints"][0]
    assert endpoint["port"] == "http-metrics"
    assert {"targetLabel": "job", "replacement": "vllm"} in endpoint["relabelings"]
    assert {"targetLabel": "model", "replacement": "chat"} in endpoint["relabelings"]
    assert docs["servicemonitor-ai-k8s-pipelines-etl.yaml"]["spec"]["endpoints"][0]["port"] == "metrics"


@pytest.mark.e2e  # the module's checked kubernetes build (slow)
def test_selectors_become_kubernetes_sd_in_prometheus_yml(built):
    prom = yaml.safe_load((built / "prometheus.yml").read_text())
    jobs = {sc["job_name"]: sc for sc in prom["scrape_configs"]}
    assert "vllm" not in jobs  # the model has no host targets
    sd = jobs["vllm-kubernetes-chat"]
    assert sd["kubernetes_sd_configs"] == [{"role": "pod", "namespaces": {"names": ["inference"]}}]
    keep = [r for r in sd["relabel_configs"] if r.get("action") == "keep"]
    assert keep[0] == {"source_labels": ["__meta_kubernetes_pod_label_app_kubernetes_io_name"], "regex": "vllm",
                       "action": "keep"}
    assert {"target_label": "job", "replacement": "vllm"} in sd["relabel_configs"]
    assert jobs["pipelines-kubernetes-etl"]["kubernetes_sd_configs"][0]["role"] == "endpoints"


def test_rule_groups_inside_prometheusrule_pass_promtool(tmp_path, write_spec):
    """Generic over the Bundle: any rule file (the shipped packs' and this test's) becomes a PrometheusRule
    whose groups, extracted back to a file, pass `promtool check rules`."""
    promtool = tool("promtool")
    _, bundle, loaded = generate(write_spec(SPEC))
    bundle.add_rules("extra", [RuleGroup(g["name"], g["rules"]) for g in RULES["groups"]])
    bundle.kubernetes = {}
    ctx = Context(loaded.spec, "spec.yaml", tmp_path)
    compile_kubernetes(ctx, bundle)
    rule_files = bundle.rule_files
    rules = {f"kubernetes/{n}": d for n, d in bundle.kubernetes.items() if d.get("kind") == "PrometheusRule"}
    assert len(rules) == len(rule_files)
    extracted = []
    for path, doc in rules.items():
        assert doc["metadata"]["labels"]["release"] == "kps"
        file = tmp_path / (Path(path).stem + ".rules.yml")
        # through the real renderer and back, as kubectl would read the manifest
        manifest = yaml.safe_load(render(path, doc, "spec.yaml", "ai-k8s"))
        file.write_text(yaml.safe_dump({"groups": manifest["spec"]["groups"]}))
        extracted.append(str(file))
    r = subprocess.run([promtool, "check", "rules", "--lint-fatal", *extracted], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert rules["kubernetes/prometheusrule-ai-k8s-extra.yaml"]["spec"]["groups"] == RULES["groups"]


def test_a_broken_group_in_a_prometheusrule_fails_the_build_check(tmp_path, write_spec):
    """The build's own promtool run on PrometheusRule groups catches what a manifest would carry."""
    from aimon_gen import check

    tool("promtool")
    bad = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
           "spec": {"groups": [{"name": "x", "rules": [{"record": "a:b", "expr": "sum(rate(x[5m])"}]}]}}
    checks = check.plan(Bundle(kubernetes={"prometheusrule-x.yaml": bad}), "spec.yaml", "x")
    assert len(checks.commands) == 1 and not list(tmp_path.iterdir())  # planning writes nothing
    with pytest.raises(Exception) as exc:
        check.run(tmp_path, checks)
    assert "kubernetes/prometheusrule-x.yaml" in str(exc.value.file)


def test_oversized_dashboard_is_an_error_at_the_spec(tmp_path, write_spec):
    _, bundle, loaded = generate(write_spec(SPEC))
    ctx = Context(loaded.spec, "spec.yaml", tmp_path)
    huge = {"title": "huge", "panels": [{"description": "x" * 1000} for _ in range(1100)]}
    bundle.dashboards["huge"] = huge
    bundle.kubernetes = {}
    compile_kubernetes(ctx, bundle)
    assert [e.path for e in ctx.errors] == [("outputs", "kubernetes")]
    assert "1 MiB" in ctx.errors[0].message


@pytest.mark.e2e  # a checked build per format (slow)
def test_format_flag_chooses_what_is_written(tmp_path, write_spec):
    tool("promtool")
    tool("amtool")
    runner = CliRunner()
    only = tmp_path / "k8s"
    spec = write_spec(SPEC)
    r = runner.invoke(app, ["build", str(spec), "-o", str(only), "--format", "kubernetes"])
    assert r.exit_code == 0, r.output
    written = {str(p.relative_to(only)) for p in only.rglob("*") if p.is_file()}
    assert written and all(p.startswith("kubernetes/") or p in ("README.md", ".aimon-gen-manifest")
                           for p in written), written
    assert "kubernetes/kustomization.yaml" in written
    readme = (only / "README.md").read_text()
    assert "`kubernetes/kustomization.yaml`" in readme and "prometheus.yml" not in readme
    plain = tmp_path / "plain"
    r = runner.invoke(app, ["build", str(spec), "-o", str(plain), "--format", "files"])
    assert r.exit_code == 0, r.output
    assert not (plain / "kubernetes").exists() and (plain / "prometheus.yml").exists()
    r = runner.invoke(app, ["build", str(spec), "-o", str(plain), "--format", "helm"])
    assert r.exit_code == 2 and "choose files, kubernetes or both" in r.output


def test_kubernetes_output_is_deterministic(write_spec):
    path = write_spec(SPEC)
    first, _, _ = generate(path, ("kubernetes",))
    second, _, _ = generate(path, ("kubernetes",))
    assert first == second and any(p.startswith("kubernetes/") for p in first)


@pytest.mark.parametrize("text, where, message", [
    ("models:\n  - {name: m, server: vllm}\n", "4:5: models[0]", "model 'm' has no targets"),
    ("models:\n  - {name: m, server: vllm, kubernetes: {namespace: x, selector: {}}}\n",
     "4:66: models[0].kubernetes.selector", "at least 1 item"),
    ("outputs: {formats: [helm]}\n", "3:21: outputs.formats[0]", "choose one of: files, kubernetes"),
    ("prometheus: {shards: 2, shard_targets: [a:9090]}\n", "3:40: prometheus.shard_targets", "1 shard targets for 2"),
])
def test_bad_kubernetes_and_sharding_settings_are_reported_at_the_spec(write_spec, text, where, message):
    spec = write_spec("version: 1\nname: t\n" + text)
    r = CliRunner().invoke(app, ["validate", str(spec)])
    assert r.exit_code == 1
    assert f"spec.yaml:{where}: " in r.output and message in r.output, r.output
