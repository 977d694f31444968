"""End-to-end: `aimon-gen verify` runs the generated stack for real (Prometheus,
Alertmanager, node_exporter, simulators), breaks it on purpose, and must pass on every
shipped spec; a spec whose rules cannot catch a fault must fail, showing the table.
Each run leaves no process and no folder behind."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, tool

pytestmark = pytest.mark.e2e  # runs `aimon-gen verify`: the whole live stack

CLI = str(ROOT / ".venv" / "bin" / "aimon-gen")


def _verify(spec: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    for name in ("prometheus", "alertmanager", "node_exporter", "promtool", "amtool"):
        tool(name)
    env = {**os.environ, "TMPDIR": str(tmp_path)}   # the run's folder lands here, to be checked
    proc = subprocess.run([CLI, "verify", str(spec), "-q", *args], capture_output=True, text=True, env=env,
                          timeout=900)
    assert not list(tmp_path.glob("aimon-gen-verify-*")), "verify left its run folder behind"
    assert not _processes_under(tmp_path), "verify left processes running"
    return proc


def _processes_under(folder: Path) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().split()[2]
        except OSError:
            continue
        if str(folder) in cmd and state != "Z":
            found.append(cmd)
    return found


@pytest.mark.parametrize("spec", ["example.yaml", "inference-fleet.yaml"])
def test_verify_passes_on_shipped_spec(spec, tmp_path):
    proc = _verify(ROOT / "specs" / spec, tmp_path)
    assert proc.returncode == 0, f"verify {spec} failed:\n{proc.stdout}\n{proc.stderr}"
    table = proc.stdout
    assert "FAIL" not in table
    for check in ("target up", "quiet", "fault fires", "receivers", "inhibition"):
        assert f"\n{check} " in table, f"no {check} row:\n{table}"
    if spec != "gpu-training.yaml":
        assert "\ndashboard query " in table


def test_verify_keep_leaves_the_stack_up_until_ctrl_c(tmp_path):
    """The GPU-only training cluster, with --keep: the table, then live URLs, then Ctrl-C cleans up."""
    import signal
    import urllib.request

    for name in ("prometheus", "alertmanager", "node_exporter", "promtool", "amtool"):
        tool(name)
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen([CLI, "verify", str(ROOT / "specs" / "gpu-training.yaml"), "-q", "--keep"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        out = "".join(lines)
        assert "0 failed" in out and "FAIL" not in out, out + proc.stderr.read()
        urls = dict(line.strip().split(": ", 1) for line in lines if line.startswith("  "))
        assert urllib.request.urlopen(urls["prometheus"] + "/api/v1/targets", timeout=10).status == 200
        assert urllib.request.urlopen(urls["alertmanager"] + "/-/ready", timeout=10).status == 200
        assert list(tmp_path.glob("aimon-gen-verify-*")) and _processes_under(tmp_path)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not list(tmp_path.glob("aimon-gen-verify-*")), "verify --keep left its run folder behind"
    assert not _processes_under(tmp_path), "verify --keep left processes running"


BLIND = """\
version: 1
name: blind
node_groups:
  - name: gpu
    hosts: [gpu-1.internal, gpu-2.internal]
    gpu: {model: H100-80GB, count: 2}
rules:
  disabled: [GPUTemperatureHigh, GPUTemperatureCritical]
"""


def test_verify_fails_when_a_fault_fires_nothing(tmp_path):
    spec = tmp_path / "blind.yaml"
    spec.write_text(BLIND)
    run_dir = tmp_path / "tmp"
    run_dir.mkdir()
    proc = _verify(spec, run_dir, "--timeout", "20")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith("fault fires") and "GPU hot" in line]
    assert rows and "FAIL" in rows[0] and "fired: nothing" in rows[0], proc.stdout
    # the other faults on the same spec still pass: the failure is this one
    assert any(line.startswith("fault fires") and "XID error" in line and "PASS" in line
               for line in proc.stdout.splitlines()), proc.stdout


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_ctrl_c_mid_run_stops_everything(tmp_path, sig):
    import signal

    for name in ("prometheus", "alertmanager", "node_exporter"):
        tool(name)
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen([CLI, "verify", str(ROOT / "specs" / "gpu-training.yaml")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        for line in proc.stderr:   # progress lines: interrupt once the stack runs
            if "collecting" in line:
                break
        assert _processes_under(tmp_path), "the stack should be running now"
        proc.send_signal(getattr(signal, sig))
        assert proc.wait(60) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not list(tmp_path.glob("aimon-gen-verify-*")) and not _processes_under(tmp_path)
