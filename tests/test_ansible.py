"""examples/ansible: the playbook builds with the real CLI, deploys, and reloads a real Prometheus and
Alertmanager through /-/reload. Runs ansible-playbook (ansible-core, a test dependency) on localhost."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from aimon_gen.verify.stack import free_port
from conftest import MINIMAL, ROOT, stop, tool

pytestmark = pytest.mark.e2e  # runs ansible-playbook against real Prometheus and Alertmanager

PLAYBOOK = ROOT / "examples" / "ansible" / "playbook.yml"
INVENTORY = ROOT / "examples" / "ansible" / "inventory.ini"
SPEC = MINIMAL + """
alerting:
  default_receiver: oncall
  receivers:
    - {name: oncall, email: {to: oncall@example.com}}
  smtp: {smarthost: "smtp.example.com:587", from: "am@example.com"}
"""


def _ansible_playbook() -> str:
    path = Path(sys.executable).parent / "ansible-playbook"
    if path.exists():
        return str(path)
    if os.environ.get("CI"):
        pytest.fail("ansible-playbook missing: ansible-core is in the test extras (./dev test installs it)")
    pytest.skip("ansible-core not installed")


def _play(tmp_path: Path, spec: Path, *extra: str, prom_port: int = 9, am_port: int = 9):
    dirs = {name: tmp_path / name for name in ("prometheus", "alertmanager", "grafana")}
    for d in dirs.values():
        d.mkdir(exist_ok=True)
    aimon_gen = Path(sys.executable).parent / "aimon-gen"
    env = {**os.environ, "LC_ALL": "C.UTF-8", "ANSIBLE_NOCOLOR": "1", "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
           "ANSIBLE_LOCAL_TEMP": str(tmp_path / ".ansible"), "ANSIBLE_REMOTE_TEMP": str(tmp_path / ".ansible")}
    cmd = [_ansible_playbook(), "-i", str(INVENTORY), str(PLAYBOOK), *extra,
           "-e", f"aimon_gen_bin={aimon_gen}", "-e", f"aimon_gen_spec={spec}", "-e", f"aimon_gen_out={tmp_path / 'out'}",
           "-e", f"prometheus_config_dir={dirs['prometheus']}", "-e", f"alertmanager_config_dir={dirs['alertmanager']}",
           "-e", f"grafana_dashboards_dir={dirs['grafana']}",
           "-e", f"prometheus_url=http://127.0.0.1:{prom_port}", "-e", f"alertmanager_url=http://127.0.0.1:{am_port}"]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=180), dirs


def _recap(stdout: str) -> dict:
    line = next(ln for ln in stdout.splitlines() if ln.startswith("localhost") and "ok=" in ln)
    return {k: int(v) for k, v in (part.split("=") for part in line.split()[2:])}


def test_check_mode_builds_locally_and_changes_nothing_remote(tmp_path, write_spec):
    tool("promtool")
    tool("amtool")
    r, dirs = _play(tmp_path, write_spec(SPEC), "--check", "--diff")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert (tmp_path / "out" / "prometheus.yml").is_file()  # the build ran for real, locally
    assert (tmp_path / "out" / "alertmanager.yml").is_file()
    assert all(not any(d.iterdir()) for d in dirs.values()), "check mode wrote to the monitoring host"
    recap = _recap(r.stdout)
    assert recap["failed"] == 0 and recap["changed"] >= 3  # build, prometheus.yml, alertmanager.yml (at least)
    assert "Build the monitoring from the spec" in r.stdout


def test_a_bad_spec_stops_the_play_before_anything_is_copied(tmp_path, write_spec):
    r, dirs = _play(tmp_path, write_spec("version: 1\nname: t\nnode_groups: [{name: g, hostz: [a]}]\n"))
    assert r.returncode != 0
    assert "hostz" in r.stdout  # aimon-gen's message at the spec line reaches the play's output
    assert all(not any(d.iterdir()) for d in dirs.values())


def _start(argv: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(argv, stdout=log.open("wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def _json(url: str):
    with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - loopback only
        return json.loads(resp.read())


def _wait(check, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_deploy_and_reload_a_running_prometheus_and_alertmanager(tmp_path, write_spec):
    prometheus, alertmanager = tool("prometheus"), tool("alertmanager")
    tool("promtool")
    tool("amtool")
    prom_dir, am_dir = tmp_path / "prometheus", tmp_path / "alertmanager"
    prom_dir.mkdir()
    am_dir.mkdir()
    (prom_dir / "prometheus.yml").write_text("global: {scrape_interval: 1m}\n")
    (am_dir / "alertmanager.yml").write_text("route: {receiver: start}\nreceivers: [{name: start}]\n")
    pp, ap = free_port(), free_port()
    procs = [
        _start([prometheus, f"--config.file={prom_dir / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'pdata'}",
                f"--web.listen-address=127.0.0.1:{pp}", "--web.enable-lifecycle"], tmp_path / "prom.log"),
        _start([alertmanager, f"--config.file={am_dir / 'alertmanager.yml'}", f"--storage.path={tmp_path / 'adata'}",
                f"--web.listen-address=127.0.0.1:{ap}", "--cluster.listen-address="], tmp_path / "am.log")]
    try:
        _wait(lambda: urllib.request.urlopen(f"http://127.0.0.1:{pp}/-/ready", timeout=2).status == 200, "prometheus")
        _wait(lambda: urllib.request.urlopen(f"http://127.0.0.1:{ap}/-/ready", timeout=2).status == 200, "alertmanager")
        r, _ = _play(tmp_path, write_spec(SPEC), prom_port=pp, am_port=ap)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
        assert "RUNNING HANDLER [aimon_gen : Reload Prometheus]" in r.stdout
        assert "RUNNING HANDLER [aimon_gen : Reload Alertmanager]" in r.stdout
        assert (prom_dir / "prometheus.yml").read_bytes() == (tmp_path / "out" / "prometheus.yml").read_bytes()
        # the running servers took the new configuration
        config = _json(f"http://127.0.0.1:{pp}/api/v1/status/config")["data"]["yaml"]
        assert "job_name: node_exporter" in config and "gpu-1.internal:9100" in config
        am = _json(f"http://127.0.0.1:{ap}/api/v2/status")["config"]["original"]
        assert "oncall@example.com" in am
        # a second run changes nothing and reloads nothing
        again, _ = _play(tmp_path, write_spec(SPEC), prom_port=pp, am_port=ap)
        assert again.returncode == 0 and _recap(again.stdout)["changed"] == 0, again.stdout[-2000:]
        assert "RUNNING HANDLER" not in again.stdout
    finally:
        stop(*procs)
        shutil.rmtree(tmp_path / "pdata", ignore_errors=True)
