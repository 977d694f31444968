"""Discovered node groups against a real Prometheus: a fake EC2 API on loopback (DescribeInstances
and DescribeAvailabilityZones in EC2's XML) serves instances whose exporters listen on 127.0.0.x;
the targets Prometheus reports at /api/v1/targets carry exactly the labels the same hosts get when
declared statically (those read with promtool's own relabelling), and instances outside the
group's tag are not scraped.

Consul, GCE, Azure and DNS SRV: this machine's Prometheus (Debian 2.42) is built without Consul
discovery, and the others need the cloud or a DNS server; their generated relabelling is proven
with the same real Prometheus by feeding it, through file_sd, targets with the meta labels each
discovery sets (their names from Prometheus's discovery source)."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from conftest import tool
from typer.testing import CliRunner

from aimon_gen.cli import app
from aimon_gen.spec.load import load_spec
from aimon_gen.verify import simulators as sim
from aimon_gen.verify.api import Prometheus
from aimon_gen.verify.stack import Stack, wait_for

pytestmark = pytest.mark.e2e

DISCOVERED = """
version: 1
name: cloud
prometheus: {scrape_interval: 2s}
exporters: {node_exporter: {port: %(node)d}, dcgm_exporter: {port: %(dcgm)d}}
node_groups:
  - name: gpu-a
    discovery:
      ec2: {region: us-east-1, tags: {node-group: gpu-a}, endpoint: "%(ec2)s", refresh_interval: 5s}
    expected_hosts: 2
    gpu: {model: H100-80GB, count: 2}
    labels: {team: ml}
  - name: cpu
    discovery: {consul: {server: "127.0.0.1:8500", services: [cpu-node]}}
    expected_hosts: 1
  - name: gce
    discovery: {gce: {project: p, zone: us-central1-a, labels: {node-group: gce}}}
    expected_hosts: 1
  - name: az
    discovery: {azure: {subscription_id: s, tags: {node-group: az}, host_from: computer_name}}
    expected_hosts: 1
  - name: srv
    discovery: {dns: {names: [_gpu._tcp.l40.example.com]}}
    expected_hosts: 1
    gpu: {model: L40S, count: 2}
"""

# The same fleet, declared host by host.
STATIC = """
version: 1
name: cloud
prometheus: {scrape_interval: 2s}
exporters: {node_exporter: {port: %(node)d}, dcgm_exporter: {port: %(dcgm)d}}
node_groups:
  - name: gpu-a
    hosts: [gpu-a-1.ec2.internal, gpu-a-2.ec2.internal]
    gpu: {model: H100-80GB, count: 2}
    labels: {team: ml}
  - {name: cpu, hosts: [cpu-1]}
  - {name: gce, hosts: [gce-1]}
  - {name: az, hosts: [az-1.corp]}
  - {name: srv, hosts: [l40-1.example.com], gpu: {model: L40S, count: 2}}
"""

# (private IP, private DNS name, node-group tag): the third is outside the group.
INSTANCES = [("127.0.0.2", "gpu-a-1.ec2.internal", "gpu-a"), ("127.0.0.3", "gpu-a-2.ec2.internal", "gpu-a"),
             ("127.0.0.4", "other-1.ec2.internal", "other")]
CONSUL_NODE = "127.0.0.5"


class FakeEC2(BaseHTTPRequestHandler):
    """EC2's query API as the AWS SDK calls it: a form-encoded POST, an XML answer."""
    requests: list[dict] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        form = urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        params = {k: v[0] for k, v in form.items()}
        FakeEC2.requests.append({**params, "authorization": self.headers.get("Authorization", "")})
        ns = 'xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"'
        if params["Action"] == "DescribeAvailabilityZones":
            body = (f'<DescribeAvailabilityZonesResponse {ns}><requestId>r1</requestId><availabilityZoneInfo>'
                    "<item><zoneName>us-east-1a</zoneName><zoneId>use1-az1</zoneId><zoneState>available</zoneState>"
                    "<regionName>us-east-1</regionName></item></availabilityZoneInfo>"
                    "</DescribeAvailabilityZonesResponse>")
        elif params["Action"] == "DescribeInstances":
            body = f"<DescribeInstancesResponse {ns}><requestId>r2</requestId><reservationSet>"
            for i, (ip, dns, group) in enumerate(INSTANCES):
                if _matches(params, {"node-group": group, "Name": dns.split(".")[0]}):
                    body += (f"<item><reservationId>r-{i}</reservationId><ownerId>123456789012</ownerId><instancesSet>"
                             f"<item><instanceId>i-{i:08x}</instanceId><imageId>ami-1</imageId>"
                             "<instanceState><code>16</code><name>running</name></instanceState>"
                             f"<privateDnsName>{dns}</privateDnsName><instanceType>p5.48xlarge</instanceType>"
                             "<placement><availabilityZone>us-east-1a</availabilityZone></placement>"
                             f"<privateIpAddress>{ip}</privateIpAddress><tagSet>"
                             f"<item><key>node-group</key><value>{group}</value></item>"
                             f"<item><key>Name</key><value>{dns.split('.')[0]}</value></item>"
                             "</tagSet></item></instancesSet></item>")
            body += "</reservationSet></DescribeInstancesResponse>"
        else:
            self.send_error(400)
            return
        data = ('<?xml version="1.0" encoding="UTF-8"?>' + body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/xml;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def _matches(params: dict, tags: dict) -> bool:
    """DescribeInstances' filters: Filter.N.Name `tag:<key>` with Filter.N.Value.M values."""
    n = 1
    while f"Filter.{n}.Name" in params:
        name = params[f"Filter.{n}.Name"]
        values = [v for k, v in params.items() if k.startswith(f"Filter.{n}.Value.")]
        if not name.startswith("tag:") or tags.get(name[4:]) not in values:
            return False
        n += 1
    return True


# What each discovery Prometheus lacks here (or cannot reach) would set on a target, by the
# names in Prometheus's discovery/{consul,gcp,azure,dns} sources.
def _meta_targets(node: int) -> dict[str, list[dict]]:
    return {
        "consul": [{"targets": ["10.9.9.9:31000"], "labels": {
            "__meta_consul_node": "cpu-1", "__meta_consul_address": CONSUL_NODE,
            "__meta_consul_service": "cpu-node", "__meta_consul_service_port": "31000"}}],
        "gce": [{"targets": [f"127.0.0.6:{node}"], "labels": {
            "__meta_gce_instance_name": "gce-1", "__meta_gce_private_ip": "127.0.0.6",
            "__meta_gce_label_node_group": "gce"}}],
        "azure": [{"targets": [f"127.0.0.7:{node}"], "labels": {
            "__meta_azure_machine_name": "vm-az-1", "__meta_azure_machine_computer_name": "az-1.corp",
            "__meta_azure_machine_tag_node_group": "az"}},
                  {"targets": [f"127.0.0.8:{node}"], "labels": {  # another group's machine
                      "__meta_azure_machine_name": "vm-b", "__meta_azure_machine_computer_name": "b-1",
                      "__meta_azure_machine_tag_node_group": "batch"}}],
        "dns": [{"targets": ["l40-1.example.com:1234"], "labels": {
            "__meta_dns_name": "_gpu._tcp.l40.example.com", "__meta_dns_srv_record_target": "l40-1.example.com.",
            "__meta_dns_srv_record_port": "1234"}}],
    }


def _free_port_on(addresses: list[str]) -> int:
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            for addr in addresses:
                with socket.socket() as s:
                    s.bind((addr, port))
            return port
        except OSError:
            continue
    raise RuntimeError("no port free on every loopback address")


def _build(tmp_path: Path, name: str, text: str) -> dict:
    spec = tmp_path / f"{name}.yaml"
    spec.write_text(text)
    out = tmp_path / f"out-{name}"
    result = CliRunner().invoke(app, ["build", str(spec), "-o", str(out)])  # checked by promtool
    assert result.exit_code == 0, result.output
    return {"spec": spec, "out": out, "config": yaml.safe_load((out / "prometheus.yml").read_text()),
            "text": (out / "prometheus.yml").read_text()}


def _static_labels(promtool: str, folder: Path, job: str) -> set[frozenset]:
    """Final target labels of a static job, by promtool's own relabelling."""
    done = subprocess.run([promtool, "check", "service-discovery", "--timeout=1s", "prometheus.yml", job],
                          cwd=folder, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return {frozenset((k, v) for k, v in t["labels"].items() if not k.startswith("__"))
            for t in json.loads(done.stdout)}


def test_discovered_targets_carry_the_labels_of_static_hosts(tmp_path, monkeypatch):
    promtool, prometheus, node_exporter = tool("promtool"), tool("prometheus"), tool("node_exporter")
    hosts = [ip for ip, _, _ in INSTANCES] + [CONSUL_NODE]
    node, dcgm = _free_port_on(hosts), _free_port_on(hosts)
    FakeEC2.requests = []
    fake = ThreadingHTTPServer(("127.0.0.1", 0), FakeEC2)
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    ec2_url = f"http://127.0.0.1:{fake.server_address[1]}"

    discovered = _build(tmp_path, "discovered", DISCOVERED % {"node": node, "dcgm": dcgm, "ec2": ec2_url})
    static = _build(tmp_path, "static", STATIC % {"node": node, "dcgm": dcgm})
    assert "fake-secret" not in discovered["text"] and "secret_key" not in discovered["text"]

    # The Prometheus config: as generated, but the discoveries this Prometheus lacks or cannot
    # reach read the meta labels they would set from a file.
    cfg = discovered["config"]
    meta = _meta_targets(node)
    for sc in cfg["scrape_configs"]:
        kind = next((k for k in meta if f"{k}_sd_configs" in sc), None)
        if kind:
            del sc[f"{kind}_sd_configs"]
            sd_file = tmp_path / f"{sc['job_name']}.json"
            sd_file.write_text(json.dumps(meta[kind]))
            sc["file_sd_configs"] = [{"files": [str(sd_file)]}]
    (tmp_path / "run.yml").write_text(yaml.safe_dump(cfg))

    # Credentials reach Prometheus through its environment, never through the generated file.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFAKEFORTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fake-secret")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    spec = load_spec(static["spec"]).spec
    gpu_a = spec.node_groups[0]
    servers = sim.Servers()
    with Stack() as stack:
        stack.on_close(servers.close)
        stack.on_close(fake.shutdown)
        for ip, dns, _ in INSTANCES:
            stack.start(f"node-{ip}", [node_exporter, f"--web.listen-address={ip}:{node}", "--log.level=warn"],
                        f"http://{ip}:{node}", "/metrics")
            labels = {"node_group": "gpu-a", "gpu_model": "H100-80GB", "team": "ml"}
            target = sim.CatalogTarget("dcgm_exporter", "dcgm_exporter", f"{dns}:{dcgm}", dns, labels, entry=gpu_a,
                                       identity=sim.gpu_identity(dns, gpu_a))
            servers.serve(target, (ip, dcgm))
        stack.start("node-consul", [node_exporter, f"--web.listen-address={CONSUL_NODE}:{node}",
                                    "--log.level=warn"], f"http://{CONSUL_NODE}:{node}", "/metrics")
        port = _free_port_on(["127.0.0.1"])
        stack.start("prometheus", [prometheus, f"--config.file={tmp_path / 'run.yml'}",
                                   f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
                                   "--log.level=warn"], f"http://127.0.0.1:{port}", "/-/ready")
        prom = Prometheus(f"http://127.0.0.1:{port}")

        def ec2_up():
            ts = [t for t in prom.targets() if t["scrapePool"].endswith("-ec2-gpu-a")]
            return ts if len(ts) == 4 and all(t["health"] == "up" for t in ts) else None
        wait_for(ec2_up, 60, what="the EC2-discovered targets up")
        targets = prom.targets()
        dropped = prom._get("/api/v1/targets", state="dropped")["droppedTargets"]
        series = prom.query('DCGM_FI_DEV_GPU_UTIL{node_group="gpu-a"}')

    for job, n in (("node_exporter", 6), ("dcgm_exporter", 3)):
        found = {frozenset(t["labels"].items()) for t in targets if t["labels"]["job"] == job}
        assert len(found) == n and found == _static_labels(promtool, static["out"], job), job
    # exactly the group's instances: the one tagged `other` is never scraped
    assert {t["labels"]["host"] for t in targets if "-ec2-" in t["scrapePool"]} == \
        {"gpu-a-1.ec2.internal", "gpu-a-2.ec2.internal"}
    assert all("127.0.0.4" not in t["scrapeUrl"] for t in targets)
    # Consul and DNS: scraped at the node at the exporter's port, not the service's port
    consul = next(t for t in targets if t["scrapePool"] == "node_exporter-consul-cpu")
    assert consul["scrapeUrl"] == f"http://{CONSUL_NODE}:{node}/metrics"
    srv = next(t for t in targets if t["scrapePool"] == "node_exporter-dns-srv")
    assert srv["scrapeUrl"] == f"http://l40-1.example.com:{node}/metrics"
    # Azure selects by tag itself: the other group's machine is dropped
    assert any(t["discoveredLabels"].get("__meta_azure_machine_computer_name") == "b-1" for t in dropped)
    # GPU series join node series on `host`, with the group's labels
    assert {(s["metric"]["host"], s["metric"]["gpu_model"], s["metric"]["team"]) for s in series} == \
        {("gpu-a-1.ec2.internal", "H100-80GB", "ml"), ("gpu-a-2.ec2.internal", "H100-80GB", "ml")}
    # the spec's filter reached the EC2 API, signed with the environment's key
    calls = [r for r in FakeEC2.requests if r["Action"] == "DescribeInstances"]
    assert calls and calls[0]["Filter.1.Name"] == "tag:node-group" and calls[0]["Filter.1.Value.1"] == "gpu-a"
    assert "Credential=AKIAFAKEFORTEST/" in calls[0]["authorization"]
