"""Node groups found by EC2/GCE/Azure/Consul/DNS SRV discovery: spec errors, the generated scrape
configs (checked by the build's promtool), plan and verify sizes. The end-to-end proof against
a real Prometheus is tests/test_discovery_cloud.py."""

from __future__ import annotations

import yaml
from typer.testing import CliRunner

from aimon_gen.cli import app
from aimon_gen.plan import estimate
from aimon_gen.spec.load import load_spec
from aimon_gen.verify.fleet import simulated_spec

HEAD = """\
version: 1
name: cloud
node_groups:
"""

EC2 = """\
  - name: h100
    discovery:
      ec2: {region: us-east-1, tags: {node-group: h100, env: prod}, role_arn: "arn:aws:iam::123456789012:role/p"}
    expected_hosts: 16
    gpu: {model: H100-80GB, count: 8}
    labels: {team: ml}
"""


def _problems(tmp_path, text: str) -> list[str]:
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    result = CliRunner().invoke(app, ["validate", str(spec)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    return [line.removeprefix(f"{spec}:") for line in result.stderr.splitlines() if line.startswith(str(spec))]


def _one(tmp_path, text: str) -> str:
    lines = _problems(tmp_path, text)
    assert len(lines) == 1, lines
    return lines[0]


def test_hosts_together_with_discovery_is_refused(tmp_path):
    line = _one(tmp_path, HEAD + EC2.replace("    expected_hosts: 16\n", "    hosts: [a, b]\n"))
    assert line.startswith("5:5: node_groups[0].discovery: node group 'h100' gives both hosts and discovery")
    assert "give exactly one" in line


def test_discovered_group_needs_expected_hosts(tmp_path):
    line = _one(tmp_path, HEAD + EC2.replace("    expected_hosts: 16\n", ""))
    assert line.startswith("4:5: node_groups[0]: discovered node group 'h100' needs expected_hosts")
    assert "expected_hosts: 16" in line  # the hint shows how


def test_static_group_refuses_expected_hosts(tmp_path):
    line = _one(tmp_path, HEAD + "  - {name: cpu, hosts: [a, b], expected_hosts: 3}\n")
    assert line.startswith("4:32: node_groups[0].expected_hosts: expected_hosts is for discovered groups")
    assert "its 2 listed hosts" in line


def test_unknown_discovery_kind_gets_a_typo_hint(tmp_path):
    line = _one(tmp_path, HEAD + EC2.replace("ec2:", "ec3:"))
    assert line.startswith("6:7: node_groups[0].discovery.ec3: unknown field 'ec3' (did you mean 'ec2'?)")


def test_two_mechanisms_in_one_discovery_are_refused(tmp_path):
    text = HEAD + EC2.replace("    expected_hosts", "      dns: {names: [_n._tcp.example.com]}\n    expected_hosts")
    line = _one(tmp_path, text)
    assert "node_groups[0].discovery: discovery gives ec2 and dns" in line
    assert "exactly one of ec2, gce, azure, consul, dns" in line


def test_group_without_any_hosts_is_refused(tmp_path):
    line = _one(tmp_path, HEAD + "  - {name: cpu}\n")
    assert "node_groups[0]: node group 'cpu' has no hosts" in line


def test_inline_cloud_secrets_are_refused_with_a_hint(tmp_path):
    lines = _problems(tmp_path, HEAD + EC2.replace("region: us-east-1", "region: us-east-1, secret_key: abc") + """\
  - name: az
    discovery: {azure: {subscription_id: s, tags: {pool: a}, client_secret: xyz}}
    expected_hosts: 2
  - name: c
    discovery: {consul: {services: [gpu], token: t0k}}
    expected_hosts: 2
""")
    assert len(lines) == 3, lines
    assert "discovery.ec2.secret_key: 'secret_key' would write a secret into prometheus.yml" in lines[0]
    assert "instance role" in lines[0] and "profile" in lines[0]
    assert "discovery.azure.client_secret" in lines[1] and "ManagedIdentity" in lines[1]
    assert "discovery.consul.token" in lines[2] and "token_file" in lines[2]
    assert not any(secret in line for line in lines for secret in ("abc", "xyz", "t0k"))


ALL = HEAD + EC2 + """\
  - name: gce
    discovery: {gce: {project: ml-prod, zone: us-central1-a, labels: {node-group: a100}}}
    expected_hosts: 4
    gpu: {model: A100-40GB, count: 4}
  - name: az
    discovery: {azure: {subscription_id: sub-1, resource_group: rg, tags: {node-group: az}, host_from: computer_name}}
    expected_hosts: 3
  - name: cpu
    discovery:
      consul: {server: "consul.internal:8500", services: [cpu-node], tags: [prod],
               token_file: /etc/prometheus/consul.token}
    expected_hosts: 10
  - name: srv
    discovery: {dns: {names: [_gpu._tcp.l40.example.com]}}
    expected_hosts: 2
    gpu: {model: L40S, count: 4}
  - name: static
    hosts: [cpu-1.dc1]
exporters: {node_exporter: {port: 9101}}
"""


def _configs(tmp_path, text: str = ALL) -> dict:
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    result = CliRunner().invoke(app, ["build", str(spec), "-o", str(tmp_path / "out")])  # promtool checks it
    assert result.exit_code == 0, result.output
    doc = yaml.safe_load((tmp_path / "out" / "prometheus.yml").read_text())
    return {sc["job_name"]: sc for sc in doc["scrape_configs"]}


def _set_labels(sc: dict) -> dict:
    return {r["target_label"]: r["replacement"] for r in sc["relabel_configs"]
            if "source_labels" not in r and "replacement" in r}


def test_each_mechanism_becomes_its_sd_config_with_the_static_groups_labels(tmp_path):
    configs = _configs(tmp_path)
    ec2 = configs["dcgm_exporter-ec2-h100"]
    assert ec2["ec2_sd_configs"] == [{"region": "us-east-1", "role_arn": "arn:aws:iam::123456789012:role/p",
                                      "port": 9400, "filters": [{"name": "tag:env", "values": ["prod"]},
                                                                {"name": "tag:node-group", "values": ["h100"]}]}]
    assert _set_labels(ec2) == {"job": "dcgm_exporter", "node_group": "h100", "gpu_model": "H100-80GB", "team": "ml"}
    assert configs["node_exporter-ec2-h100"]["ec2_sd_configs"][0]["port"] == 9101  # exporters: ports
    gce = configs["node_exporter-gce-gce"]["gce_sd_configs"][0]
    assert gce["filter"] == '(labels.node-group = "a100")' and gce["port"] == 9101
    az = configs["node_exporter-azure-az"]
    assert az["azure_sd_configs"][0]["authentication_method"] == "ManagedIdentity"
    assert {"source_labels": ["__meta_azure_machine_tag_node_group"], "regex": "az", "action": "keep"} \
        in az["relabel_configs"]
    consul = configs["node_exporter-consul-cpu"]
    assert consul["consul_sd_configs"][0]["authorization"] == {"credentials_file": "/etc/prometheus/consul.token"}
    assert configs["dcgm_exporter-dns-srv"]["dns_sd_configs"] == [{"names": ["_gpu._tcp.l40.example.com"],
                                                                   "type": "SRV"}]
    # host comes from the machine's name, and is the instance too, as for a static group
    hosts = {name: next(r["source_labels"][0] for r in sc["relabel_configs"] if r.get("target_label") == "host")
             for name, sc in configs.items() if "-" in name}
    assert hosts == {"node_exporter-ec2-h100": "__meta_ec2_private_dns_name",
                     "dcgm_exporter-ec2-h100": "__meta_ec2_private_dns_name",
                     "node_exporter-gce-gce": "__meta_gce_instance_name",
                     "dcgm_exporter-gce-gce": "__meta_gce_instance_name",
                     "node_exporter-azure-az": "__meta_azure_machine_computer_name",
                     "node_exporter-consul-cpu": "__meta_consul_node",
                     "node_exporter-dns-srv": "__meta_dns_srv_record_target",
                     "dcgm_exporter-dns-srv": "__meta_dns_srv_record_target"}
    # the static group keeps its own job; no discovered group lands in it
    assert configs["node_exporter"]["static_configs"] == [
        {"targets": ["cpu-1.dc1:9101"], "labels": {"node_group": "static"}}]


def test_name_tag_host_and_endpoint_override(tmp_path):
    text = HEAD + EC2.replace("role_arn:", "host_from: name_tag, endpoint: 'http://127.0.0.1:4566', profile: ops, "
                                           "role_arn:")
    sc = _configs(tmp_path, text)["node_exporter-ec2-h100"]
    assert sc["ec2_sd_configs"][0]["endpoint"] == "http://127.0.0.1:4566"
    assert sc["ec2_sd_configs"][0]["profile"] == "ops"
    assert sc["relabel_configs"][0]["source_labels"] == ["__meta_ec2_tag_Name"]


def test_same_spec_same_bytes(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    _configs(a)
    _configs(b)
    assert (a / "out" / "prometheus.yml").read_bytes() == (b / "out" / "prometheus.yml").read_bytes()


def test_kubernetes_format_says_it_has_no_manifest_for_a_discovered_group(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(HEAD + EC2)
    result = CliRunner().invoke(app, ["build", str(spec), "-o", str(tmp_path / "out"), "--format", "kubernetes"])
    assert result.exit_code == 1
    assert "node_groups[0].discovery: --format kubernetes writes no scrape manifest for node group 'h100'" \
        in result.stderr


def test_plan_counts_expected_hosts(write_spec):
    def plan(n: int):
        spec = load_spec(write_spec(HEAD + EC2.replace("expected_hosts: 16", f"expected_hosts: {n}"))).spec
        return {j.job: j for j in estimate(spec).jobs}
    small, big = plan(4), plan(12)
    assert small["node_exporter"].targets == 4 and small["dcgm_exporter"].targets == 4
    assert big["dcgm_exporter"].targets == 12
    assert big["dcgm_exporter"].series == 3 * small["dcgm_exporter"].series
    # the same hosts declared statically cost the same
    static = load_spec(write_spec(HEAD + EC2.replace("    discovery:\n", "    hosts: ['h100-[1:4]']\n")
                                  .replace("      ec2: {region: us-east-1, tags: {node-group: h100, env: prod}, "
                                           "role_arn: \"arn:aws:iam::123456789012:role/p\"}\n", "")
                                  .replace("    expected_hosts: 16\n", ""), "static.yaml")).spec
    assert {j.job: j.series for j in estimate(static).jobs} == {j: p.series for j, p in plan(4).items()}


def test_verify_simulates_expected_hosts_with_the_labels_of_static_hosts(write_spec):
    spec = load_spec(write_spec(ALL)).spec
    sim = simulated_spec(spec)
    groups = {g.name: g for g in sim.node_groups}
    assert groups["h100"].hosts == [f"h100-{i}" for i in range(1, 17)]
    assert groups["cpu"].hosts == [f"cpu-{i}" for i in range(1, 11)]
    assert all(g.discovery is None and g.expected_hosts is None for g in sim.node_groups)
    assert groups["static"] == {g.name: g for g in spec.node_groups}["static"]
    assert groups["h100"].labels == {"team": "ml"} and groups["h100"].gpu.count == 8
