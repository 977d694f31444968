"""Node groups discovered through Kubernetes: spec errors, the generated discovery and
relabelling, and (e2e) a real Prometheus giving discovered exporter pods the labels the same
hosts get when listed."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from aimon_gen.cli import app
from aimon_gen.compile.context import Context
from aimon_gen.compile.kubernetes.manifests import scrape_manifests
from aimon_gen.compile.result import Bundle
from aimon_gen.compile.scrape.config import compile_prometheus
from aimon_gen.plan import estimate
from aimon_gen.spec.load import load_spec
from aimon_gen.spec.model import Spec
from aimon_gen.verify.api import Prometheus
from aimon_gen.verify.stack import Stack, free_port, wait_for

from conftest import tool

H100 = "NVIDIA-H100-80GB-HBM3"

DISCOVERED = f"""
version: 1
name: k8s-gpu
node_groups:
  - name: h100
    gpu: {{model: H100-80GB, count: 2}}
    expected_hosts: 2
    kubernetes: {{node_selector: {{nvidia.com/gpu.product: {H100}}}, api_server: "http://127.0.0.1:6443"}}
    labels: {{team: research}}
  - name: cpu
    expected_hosts: 1
    kubernetes: {{node_selector: {{node.kubernetes.io/instance-type: m7i.4xlarge}}}}
outputs: {{formats: [files, kubernetes]}}
"""

# The same fleet with the node names listed: what the discovered targets must look like.
STATIC = """
version: 1
name: k8s-gpu
node_groups:
  - {name: h100, hosts: [gpu-node-1, gpu-node-2], gpu: {model: H100-80GB, count: 2}, labels: {team: research}}
  - {name: cpu, hosts: [cpu-node-1]}
"""


def _problems(tmp_path, text: str) -> list[str]:
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    result = CliRunner().invoke(app, ["validate", str(spec)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    return [line.removeprefix(f"{spec}:") for line in result.stderr.splitlines() if line.startswith(str(spec))]


BASE = """\
version: 1
name: k
node_groups:
  - name: g
"""


@pytest.mark.parametrize("text, expected", [
    (BASE + "    hosts: [n1]\n    kubernetes: {node_selector: {gpu: h100}}\n    expected_hosts: 1\n",
     ["6:5: node_groups[0].kubernetes: node group 'g' gives both hosts and kubernetes"]),
    (BASE + "    kubernetes: {node_selector: {gpu: h100}}\n",
     ["4:5: node_groups[0]: discovered node group 'g' needs expected_hosts"]),
    (BASE + "    hosts: [n1]\n    expected_hosts: 3\n",
     ["6:5: node_groups[0].expected_hosts: expected_hosts is for discovered groups"]),
    (BASE + "    labels: {team: a}\n", ["4:5: node_groups[0]: node group 'g' has no hosts"]),
    (BASE + "    kubernetes: {node_selector: {'gpu type': h100}}\n    expected_hosts: 1\n",
     ["5:34: node_groups[0].kubernetes.node_selector.gpu type: 'gpu type' is not a Kubernetes label key"]),
    (BASE + "    kubernetes: {node_selector: {}}\n    expected_hosts: 1\n",
     ["5:33: node_groups[0].kubernetes.node_selector: Dictionary should have at least 1 item"]),
    (BASE + "    kubernetes:\n      node_selector: {gpu: h100}\n"
            "      dcgm_exporter: {namespace: gpu-operator, selector: {app: dcgm}, port: Metrics_9400}\n"
            "    expected_hosts: 1\n",
     ["7:77: node_groups[0].kubernetes.dcgm_exporter.port: 'Metrics_9400' is not a container port name"]),
    (BASE + "    kubernetes: {node_selector: {gpu: h100}, api_server: 'kube:6443'}\n    expected_hosts: 0\n",
     ["5:58: node_groups[0].kubernetes.api_server: 'kube:6443' is not an http(s) URL",
      "6:21: node_groups[0].expected_hosts: Input should be greater than or equal to 1"]),
], ids=["hosts-and-kubernetes", "no-expected-hosts", "expected-hosts-on-static", "neither", "bad-node-label-key",
        "empty-node-selector", "bad-port-name", "bad-api-server-and-size"])
def test_spec_errors(tmp_path, text, expected):
    lines = _problems(tmp_path, text)
    assert len(lines) == len(expected), lines
    for line, want in zip(lines, expected, strict=True):
        assert line.startswith(want), (line, want)


def _spec(text: str) -> Spec:
    return Spec.model_validate(yaml.safe_load(text))


def _compiled(text: str) -> tuple[Spec, dict]:
    spec, bundle = _spec(text), Bundle()
    compile_prometheus(Context(spec, "", Path(".")), bundle)
    return spec, {sc["job_name"]: sc for sc in bundle.prometheus["scrape_configs"]}


def test_discovery_selects_exporter_pods_on_the_groups_nodes():
    _, jobs = _compiled(DISCOVERED)
    dcgm = jobs["dcgm_exporter-kubernetes-h100"]
    assert dcgm["kubernetes_sd_configs"] == [{"role": "pod", "namespaces": {"names": ["gpu-operator"]},
                                              "attach_metadata": {"node": True}, "api_server": "http://127.0.0.1:6443"}]
    keeps = [(r["source_labels"][0], r["regex"]) for r in dcgm["relabel_configs"] if r.get("action") == "keep"]
    assert keeps == [("__meta_kubernetes_pod_label_app", "nvidia-dcgm-exporter"),
                     ("__meta_kubernetes_pod_container_port_name", "metrics"),
                     ("__meta_kubernetes_node_label_nvidia_com_gpu_product", H100)]
    node = jobs["node_exporter-kubernetes-cpu"]
    assert node["kubernetes_sd_configs"][0]["namespaces"] == {"names": ["monitoring"]}
    assert "api_server" not in node["kubernetes_sd_configs"][0]  # in-cluster config
    keeps = [(r["source_labels"][0], r["regex"]) for r in node["relabel_configs"] if r.get("action") == "keep"]
    assert ("__meta_kubernetes_pod_label_app_kubernetes_io_name", "prometheus-node-exporter") in keeps
    assert ("__meta_kubernetes_node_label_node_kubernetes_io_instance_type", r"m7i\.4xlarge") in keeps
    assert "dcgm_exporter-kubernetes-cpu" not in jobs  # no gpu: no dcgm-exporter
    # pod, namespace and container are dcgm-exporter's (the GPU's workload): never target labels here
    targets = {r.get("target_label") for sc in jobs.values() for r in sc.get("relabel_configs", [])}
    assert not targets & {"pod", "namespace", "container"}


def test_pod_monitors_drop_the_operators_target_labels():
    spec = _spec(DISCOVERED)
    bundle = Bundle()
    compile_prometheus(Context(spec, "", Path(".")), bundle)
    monitors = {name: doc for kind, name, doc in scrape_manifests(spec, bundle.prometheus) if kind == "PodMonitor"}
    assert sorted(monitors) == ["k8s-gpu-dcgm-exporter-h100", "k8s-gpu-node-exporter-cpu", "k8s-gpu-node-exporter-h100"]
    body = monitors["k8s-gpu-dcgm-exporter-h100"]["spec"]
    assert body["selector"] == {"matchLabels": {"app": "nvidia-dcgm-exporter"}}
    assert body["namespaceSelector"] == {"matchNames": ["gpu-operator"]}
    assert body["attachMetadata"] == {"node": True}
    endpoint = body["podMetricsEndpoints"][0]
    assert endpoint["port"] == "metrics" and "honorLabels" not in endpoint
    rules = endpoint["relabelings"]
    assert rules[0] == {"sourceLabels": ["__meta_kubernetes_node_label_nvidia_com_gpu_product"], "regex": H100,
                        "action": "keep"}
    assert {"targetLabel": "host", "sourceLabels": ["__meta_kubernetes_pod_node_name"]} in rules
    assert rules[-1] == {"action": "labeldrop", "regex": "container|endpoint|namespace|pod"}


def test_plan_sizes_a_discovered_group_from_expected_hosts():
    spec = _spec(DISCOVERED.replace("expected_hosts: 2", "expected_hosts: 40"))
    by_job = {j.job: j for j in estimate(spec).jobs}
    assert by_job["dcgm_exporter"].targets == 40
    assert by_job["node_exporter"].targets == 41


# ---- end to end: a real Prometheus -------------------------------------------------------
#
# Debian's Prometheus (this machine's and CI's) is built without Kubernetes discovery, so the
# cluster's pods and nodes reach it through http_sd_configs instead: _pod_targets turns the
# Kubernetes objects into the target groups and __meta_kubernetes_* labels Prometheus 2.42's
# kubernetes_sd (role pod, attach_metadata node: discovery/kubernetes/pod.go) gives. Everything
# after discovery (the generated relabelling, the scrape, the stored labels) is Prometheus's.

NODES = {  # name -> node labels
    "gpu-node-1": {"nvidia.com/gpu.product": H100, "kubernetes.io/hostname": "gpu-node-1"},
    "gpu-node-2": {"nvidia.com/gpu.product": H100},
    "a100-node-1": {"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB"},  # not in any group
    "cpu-node-1": {"node.kubernetes.io/instance-type": "m7i.4xlarge"},
}


def _meta_name(key: str) -> str:
    return "".join(c if c.isascii() and (c.isalnum() or c == "_") else "_" for c in key)


def _pod_targets(pods: list[dict], nodes: dict[str, dict]) -> list[dict]:
    """http_sd target groups, one per pod: what kubernetes_sd role pod with attach_metadata node
    gives (one target per container port, address pod IP:port)."""
    groups = []
    for pod in pods:
        meta, spec = pod["metadata"], pod["spec"]
        labels = {"__meta_kubernetes_namespace": meta["namespace"], "__meta_kubernetes_pod_name": meta["name"],
                  "__meta_kubernetes_pod_ip": pod["status"]["podIP"],
                  "__meta_kubernetes_pod_node_name": spec["nodeName"], "__meta_kubernetes_pod_ready": "true",
                  "__meta_kubernetes_pod_phase": "Running",
                  "__meta_kubernetes_node_name": spec["nodeName"]}
        for key, value in meta["labels"].items():
            labels[f"__meta_kubernetes_pod_label_{_meta_name(key)}"] = value
            labels[f"__meta_kubernetes_pod_labelpresent_{_meta_name(key)}"] = "true"
        for key, value in nodes[spec["nodeName"]].items():
            labels[f"__meta_kubernetes_node_label_{_meta_name(key)}"] = value
            labels[f"__meta_kubernetes_node_labelpresent_{_meta_name(key)}"] = "true"
        targets = []
        for c in spec["containers"]:
            for port in c["ports"]:
                targets.append({"targets": [f"{pod['status']['podIP']}:{port['containerPort']}"], "labels": {
                    **labels, "__meta_kubernetes_pod_container_name": c["name"],
                    "__meta_kubernetes_pod_container_port_name": port["name"],
                    "__meta_kubernetes_pod_container_port_number": str(port["containerPort"]),
                    "__meta_kubernetes_pod_container_port_protocol": "TCP",
                    "__meta_kubernetes_pod_container_init": "false"}})
        groups += targets
    return groups


def _pod(namespace: str, name: str, node: str, labels: dict, ip: str, port: int, port_name: str) -> dict:
    return {"metadata": {"namespace": namespace, "name": name, "labels": labels},
            "spec": {"nodeName": node, "containers": [{"name": "exporter", "ports": [
                {"name": port_name, "containerPort": port}]}]},
            "status": {"podIP": ip}}


class _Text(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server API
        body = self.server.body_for(self.path).encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/json" if self.path.startswith("/sd/") else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _serve(address: str, body_for, stack: Stack) -> int:
    server = ThreadingHTTPServer((address, 0), _Text)
    server.daemon_threads = True
    server.body_for = body_for  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    stack.on_close(lambda: (server.shutdown(), server.server_close()))
    return server.server_address[1]


def _dcgm_body(node: str) -> str:
    # dcgm-exporter --kubernetes: GPU 0 runs a training pod, GPU 1 is idle (no workload labels)
    ident = f'modelName="NVIDIA H100 80GB HBM3",Hostname="{node}"'
    return (f'DCGM_FI_DEV_GPU_UTIL{{gpu="0",UUID="GPU-{node}-0",{ident},pod="trainer-{node}",'
            f'namespace="research",container="pytorch"}} 87\n'
            f'DCGM_FI_DEV_GPU_UTIL{{gpu="1",UUID="GPU-{node}-1",{ident}}} 0\n')


def _operator_scrape_config(monitor: dict, sd_url: str) -> dict:
    """The scrape config prometheus-operator generates for a PodMonitor endpoint: its own keeps
    (selector, port), its pod/namespace/container/endpoint target labels and job, then the
    endpoint's relabelings (pkg/prometheus/promcfg.go, generatePodMonitorConfig)."""
    meta, body = monitor["metadata"], monitor["spec"]
    (endpoint,) = body["podMetricsEndpoints"]
    rules: list[dict] = []
    for key, value in body["selector"]["matchLabels"].items():
        rules.append({"action": "keep", "regex": f"({value});true", "source_labels": [
            f"__meta_kubernetes_pod_label_{_meta_name(key)}", f"__meta_kubernetes_pod_labelpresent_{_meta_name(key)}"]})
    rules.append({"action": "keep", "source_labels": ["__meta_kubernetes_pod_container_port_name"],
                  "regex": endpoint["port"]})
    rules += [{"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
              {"source_labels": ["__meta_kubernetes_pod_container_name"], "target_label": "container"},
              {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
              {"target_label": "job", "replacement": f"{meta['namespace']}/{meta['name']}"},
              {"target_label": "endpoint", "replacement": endpoint["port"]}]
    snake = {"sourceLabels": "source_labels", "targetLabel": "target_label"}
    rules += [{snake.get(k, k): v for k, v in r.items()} for r in endpoint["relabelings"]]
    return {"job_name": f"podMonitor/{meta['namespace']}/{meta['name']}/0",
            "honor_labels": bool(endpoint.get("honorLabels", False)),
            "http_sd_configs": [{"url": sd_url, "refresh_interval": "1s"}], "relabel_configs": rules}


def _build(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / f"{name}.yaml").write_text(text)
    out = tmp_path / name
    r = CliRunner().invoke(app, ["build", str(tmp_path / f"{name}.yaml"), "-o", str(out)])  # runs promtool
    assert r.exit_code == 0, r.output
    return out


def _workload_query(dashboard: Path) -> str:
    """The "GPUs per workload" panel's query, with every dashboard variable as All."""
    panels = {p["title"]: p for p in json.loads(dashboard.read_text())["panels"]}
    expr = panels["GPUs per workload"]["targets"][0]["expr"]
    for var in ("cluster", "node_group", "host", "gpu"):
        expr = expr.replace(f"${var}", ".*")
    return expr


@pytest.mark.e2e  # two checked builds, node_exporters and a Prometheus
def test_discovered_targets_get_the_labels_of_listed_hosts(tmp_path):
    prometheus_bin, node_exporter_bin = tool("prometheus"), tool("node_exporter")
    tool("promtool")
    discovered_out = _build(tmp_path, "discovered", DISCOVERED)
    discovered = yaml.safe_load((discovered_out / "prometheus.yml").read_text())
    static = yaml.safe_load((_build(tmp_path, "static", STATIC) / "prometheus.yml").read_text())

    with Stack() as stack:
        pods: list[dict] = []
        for i, node in enumerate(sorted(NODES), start=2):
            ip = f"127.0.0.{i}"
            port = free_port()
            stack.start(f"node-exporter-{node}", [node_exporter_bin, f"--web.listen-address={ip}:{port}",
                        "--log.level=warn"], f"http://{ip}:{port}", "/metrics")
            pods.append(_pod("monitoring", f"node-exporter-{node}", node,
                             {"app.kubernetes.io/name": "prometheus-node-exporter"}, ip, port, "http-metrics"))
            if "gpu" in node or "a100" in node:
                dport = _serve(ip, lambda path, n=node: _dcgm_body(n), stack)
                pods.append(_pod("gpu-operator", f"nvidia-dcgm-exporter-{node}", node,
                                 {"app": "nvidia-dcgm-exporter"}, ip, dport, "metrics"))
        # not an exporter of the group: same namespace and port name, other pod labels
        pods.append(_pod("gpu-operator", "gpu-feature-discovery-x", "gpu-node-1", {"app": "gpu-feature-discovery"},
                         "127.0.0.2", free_port(), "metrics"))
        sd_port = _serve("127.0.0.1", lambda path: json.dumps(_pod_targets(
            [p for p in pods if p["metadata"]["namespace"] == path.removeprefix("/sd/")], NODES)), stack)

        configs = []
        for sc in discovered["scrape_configs"]:
            if "kubernetes_sd_configs" in sc:
                (sd,) = sc.pop("kubernetes_sd_configs")
                assert sd["role"] == "pod" and sd["attach_metadata"] == {"node": True}
                sc["http_sd_configs"] = [{"url": f"http://127.0.0.1:{sd_port}/sd/{sd['namespaces']['names'][0]}",
                                          "refresh_interval": "1s"}]
                configs.append(sc)
        configs += [sc for sc in static["scrape_configs"] if sc["job_name"] in ("node_exporter", "dcgm_exporter")]
        # --format kubernetes: the PodMonitors, as the operator would turn them into scrape configs
        for path in sorted((discovered_out / "kubernetes").glob("podmonitor-*.yaml")):
            monitor = yaml.safe_load(path.read_text())
            namespace = monitor["spec"]["namespaceSelector"]["matchNames"][0]
            configs.append(_operator_scrape_config(monitor, f"http://127.0.0.1:{sd_port}/sd/{namespace}"))
        config = {"global": {**discovered["global"], "scrape_interval": "1s", "scrape_timeout": "1s"},
                  "scrape_configs": configs}
        (stack.root / "prometheus.yml").write_text(yaml.safe_dump(config))
        prom = Prometheus(stack.prometheus(prometheus_bin, stack.root / "prometheus.yml").url)

        def pools():
            out: dict[str, dict[str, dict]] = {}
            for t in prom.targets():
                out.setdefault(t["scrapePool"], {})[t["labels"]["host"]] = t
            return out

        wait_for(lambda: all(t["health"] == "up" for p, ts in pools().items() if "kubernetes" in p
                             for t in ts.values()) and len(pools()) == 8, 30, what="discovered targets up")
        seen = pools()
        assert set(seen["dcgm_exporter-kubernetes-h100"]) == {"gpu-node-1", "gpu-node-2"}  # a100 node dropped
        assert set(seen["node_exporter-kubernetes-h100"]) == {"gpu-node-1", "gpu-node-2"}
        assert set(seen["node_exporter-kubernetes-cpu"]) == {"cpu-node-1"}
        for job, pool in (("dcgm_exporter", "h100"), ("node_exporter", "h100"), ("node_exporter", "cpu")):
            monitor = f"podMonitor/monitoring/k8s-gpu-{job.replace('_', '-')}-{pool}/0"
            assert set(seen[monitor]) == set(seen[f"{job}-kubernetes-{pool}"])
            for host, target in seen[f"{job}-kubernetes-{pool}"].items():
                assert target["labels"] == seen[job][host]["labels"], (job, host)
                assert target["labels"]["instance"] == host and target["labels"]["job"] == job
                assert seen[monitor][host]["labels"] == target["labels"], (monitor, host)

        # dcgm-exporter's workload labels reach the series unchanged; an idle GPU has none
        deadline = time.monotonic() + 20
        while not (series := prom.query('DCGM_FI_DEV_GPU_UTIL{host="gpu-node-1"}')) and time.monotonic() < deadline:
            time.sleep(0.5)
        # (the files config and the PodMonitor's scrape give the same two series: same labels)
        assert len(series) == 2
        by_gpu = {s["metric"]["gpu"]: s["metric"] for s in series}
        assert by_gpu["0"]["pod"] == "trainer-gpu-node-1" and by_gpu["0"]["namespace"] == "research"
        assert by_gpu["0"]["container"] == "pytorch" and by_gpu["0"]["node_group"] == "h100"
        assert not {"pod", "namespace", "container"} & set(by_gpu["1"])
        # the dashboard's "GPUs by workload" row lists the pods holding GPUs, idle GPUs left out
        rows = prom.query(_workload_query(discovered_out / "dashboards" / "gpu.json"))
        assert sorted((r["metric"]["namespace"], r["metric"]["pod"], r["metric"]["host"]) for r in rows) == [
            ("research", "trainer-gpu-node-1", "gpu-node-1"), ("research", "trainer-gpu-node-2", "gpu-node-2")]


def test_a_discovered_groups_exporter_authentication_applies():
    text = DISCOVERED.replace("    labels: {team: research}", "    labels: {team: research}\n"
                              "    scrape: {dcgm_exporter: {scheme: https, authorization: "
                              "{credentials_file: /etc/prometheus/dcgm-token}, tls_config: {ca_file: /etc/ca.pem}}}")
    _, jobs = _compiled(text)
    dcgm = jobs["dcgm_exporter-kubernetes-h100"]
    assert dcgm["scheme"] == "https"
    assert dcgm["authorization"] == {"credentials_file": "/etc/prometheus/dcgm-token"}
    assert dcgm["tls_config"] == {"ca_file": "/etc/ca.pem"}
    assert "authorization" not in jobs["node_exporter-kubernetes-h100"]


def test_verify_simulates_a_kubernetes_groups_expected_hosts(tmp_path):
    from aimon_gen.verify.fleet import simulated_spec

    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(BASE + "    kubernetes: {node_selector: {gpu: h100}}\n    expected_hosts: 3\n"
                         "    gpu: {model: H100-80GB, count: 8}\n")
    sim = simulated_spec(load_spec(spec_file).spec)
    (g,) = sim.node_groups
    assert g.hosts == ["g-1", "g-2", "g-3"] and g.kubernetes is None and g.expected_hosts is None
    assert g.gpu.count == 8
