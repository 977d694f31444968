"""Exporter authentication end to end: a real Prometheus, run with the prometheus.yml aimon-gen
builds, scrapes loopback exporters that demand a bearer token, basic auth, or TLS with a client
certificate (CA and certificates made here with the openssl CLI). The right credentials give
`up`; a wrong token file or a missing client certificate gives `down`, which proves Prometheus
reads the files the spec names."""

from __future__ import annotations

import base64
import json
import ssl
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from aimon_gen.cli import app
from aimon_gen.verify.stack import free_port

from conftest import stop, tool

pytestmark = pytest.mark.e2e  # starts Prometheus and loopback exporters

TOKEN = "tok-7f3a9c1e5b"
METRICS = b"# TYPE demo_up gauge\ndemo_up 1\n"


def _server(check, context: ssl.SSLContext | None = None) -> ThreadingHTTPServer:
    """A loopback exporter serving METRICS to requests `check(headers)` accepts, 401 to others."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            ok = check(self.headers)
            body = METRICS if ok else b"unauthorized\n"
            self.send_response(200 if ok else 401)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _certificates(folder: Path) -> None:
    """ca.crt, and server/client certificates signed by it (the server's for 127.0.0.1 and localhost)."""
    openssl = tool("openssl")

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], cwd=folder, check=True, capture_output=True, stdin=subprocess.DEVNULL)

    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=aimon-gen test CA")
    (folder / "server.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    (folder / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    for name in ("server", "client"):
        run("req", "-new", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", f"{name}.crt", "-days", "2", "-extfile", f"{name}.ext")


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310 - loopback only
        return json.loads(r.read())


@pytest.fixture
def exporters(tmp_path):
    _certificates(tmp_path)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(tmp_path / "server.crt", tmp_path / "server.key")
    tls.verify_mode = ssl.CERT_REQUIRED  # mutual TLS: no client certificate, no handshake
    tls.load_verify_locations(tmp_path / "ca.crt")
    basic = "Basic " + base64.b64encode(b"prom:pw-a1b2c3").decode()
    servers = {
        "bearer": _server(lambda h: h.get("Authorization") == f"Bearer {TOKEN}"),
        "bearer-wrong": _server(lambda h: h.get("Authorization") == f"Bearer {TOKEN}"),
        "basic": _server(lambda h: h.get("Authorization") == basic),
        "tls": _server(lambda h: True, tls),
        "tls-nocert": _server(lambda h: True, tls),
    }
    yield {name: s.server_address[1] for name, s in servers.items()}
    for s in servers.values():
        s.shutdown()
        s.server_close()


def test_prometheus_scrapes_exporters_behind_token_basic_auth_and_tls(tmp_path, exporters):
    prometheus = tool("prometheus")
    tool("promtool")
    (tmp_path / "token").write_text(TOKEN + "\n")  # Prometheus trims the newline
    (tmp_path / "wrong-token").write_text("not-the-token\n")
    (tmp_path / "password").write_text("pw-a1b2c3")
    p = exporters
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"""
version: 1
name: auth-e2e
prometheus: {{scrape_interval: 1s, evaluation_interval: 1s}}
exporters:
  s3: {{authorization: {{credentials_file: {tmp_path / 'token'}}}}}
  pipeline: {{basic_auth: {{username: prom, password_file: {tmp_path / 'password'}}}}}
  custom:
    scheme: https
    tls_config: {{ca_file: {tmp_path / 'ca.crt'}, cert_file: {tmp_path / 'client.crt'},
                 key_file: {tmp_path / 'client.key'}}}
storage:
  - {{name: lake, kind: s3, targets: ["127.0.0.1:{p['bearer']}"]}}
  - name: wrong
    kind: s3
    targets: ["127.0.0.1:{p['bearer-wrong']}"]
    scrape: {{authorization: {{credentials_file: {tmp_path / 'wrong-token'}}}}}
pipelines:
  - {{name: etl, freshness: 1h, targets: ["127.0.0.1:{p['basic']}"]}}
models:
  - {{name: scorer, server: custom, targets: ["127.0.0.1:{p['tls']}"]}}
  - name: nocert
    server: custom
    targets: ["127.0.0.1:{p['tls-nocert']}"]
    scrape: {{tls_config: {{ca_file: {tmp_path / 'ca.crt'}, server_name: localhost}}}}
""")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["build", str(spec), "-o", str(out)])  # checked by promtool
    assert result.exit_code == 0, result.output
    text = (out / "prometheus.yml").read_text()
    assert TOKEN not in text and "pw-a1b2c3" not in text
    config = yaml.safe_load(text)
    assert {sc["job_name"] for sc in config["scrape_configs"]} >= {"storage_s3", "storage_s3-wrong",
                                                                   "ml_inference", "ml_inference-nocert"}

    port = free_port()
    log = open(tmp_path / "prometheus.log", "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen([prometheus, f"--config.file={out / 'prometheus.yml'}",
                             f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
                             "--log.level=warn"], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        expected = {"lake": "up", "wrong": "down", "etl": "up", "scorer": "up", "nocert": "down"}
        got: dict = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                active = _get(f"http://127.0.0.1:{port}/api/v1/targets?state=active")["data"]["activeTargets"]
            except OSError:
                active = []
            got = {}
            for t in active:
                labels = t["labels"]
                owner = labels.get("storage") or labels.get("pipeline") or labels.get("model")
                if owner:
                    got[owner] = (t["health"], labels["job"], t.get("lastError", ""))
            if set(got) == set(expected) and all(h != "unknown" for h, _, _ in got.values()):
                break
            time.sleep(0.3)
        assert {k: v[0] for k, v in got.items()} == expected, (got, (tmp_path / "prometheus.log").read_text())
        # a job split by its entries' credentials keeps one `job` label for rules and dashboards
        assert got["lake"][1] == got["wrong"][1] == "storage_s3"
        assert got["scorer"][1] == got["nocert"][1] == "ml_inference"
        assert "401" in got["wrong"][2]
        assert got["nocert"][2], "the TLS handshake fails without the client certificate"
    finally:
        stop(proc)
        log.close()
