"""Shared test helpers. Real tools only: a test that needs promtool, amtool, Prometheus,
Alertmanager or node_exporter and cannot find it fails under CI (CI=true), never passes."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "specs" / "example.yaml"

# Debian names first, upstream names second.
BINARIES = {
    "promtool": ("promtool",),
    "amtool": ("amtool",),
    "prometheus": ("prometheus",),
    "alertmanager": ("prometheus-alertmanager", "alertmanager"),
    "node_exporter": ("prometheus-node-exporter", "node_exporter"),
}


def tool(name: str) -> str:
    """Path of a real binary; skip locally when missing, fail under CI."""
    for candidate in BINARIES.get(name, (name,)):
        path = shutil.which(candidate)
        if path:
            return path
    msg = f"{name} is not installed (./dev test installs it)"
    if os.environ.get("CI"):
        pytest.fail(msg)
    pytest.skip(msg)


def stop(*procs: subprocess.Popen) -> None:
    """End processes a test started: terminate, and kill what has not exited after 10 s."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


@pytest.fixture(scope="session", autouse=True)
def _no_build_cache_in_home(tmp_path_factory):
    """Module fixtures build too: their cache goes to the session's temporary folder, not ~/.cache."""
    mp = pytest.MonkeyPatch()
    mp.setenv("AIMON_GEN_CACHE_DIR", str(tmp_path_factory.mktemp("session-build-cache")))
    yield
    mp.undo()


@pytest.fixture(autouse=True)
def _own_build_cache(tmp_path_factory, monkeypatch):
    """Every test starts with an empty build cache of its own, also in the processes it starts,
    so each build really compiles (and the golden test compares a fresh build)."""
    monkeypatch.setenv("AIMON_GEN_CACHE_DIR", str(tmp_path_factory.mktemp("build-cache")))


@pytest.fixture
def write_spec(tmp_path):
    """write_spec(text) -> path of a spec file holding the dedented text."""
    def _write(text: str, name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path
    return _write


# A user rule pack (rules.packs) that passes every check, with its own test.
USER_PACK = """
groups:
  - name: my-gpu
    requires: dcgm_exporter
    scope: node_groups
    alerts:
      - alert: MyGPUFrequencyLow
        for: 10m
        severity: info
        expr: DCGM_FI_DEV_SM_CLOCK{<%= sel %>} < 500
        summary: 'SM clock of GPU {{ $labels.gpu }} is low'
        description: 'GPU {{ $labels.gpu }} runs at {{ printf "%.4g" $value }} MHz (threshold 500 MHz).'
        test:
          input:
            - {metric: DCGM_FI_DEV_SM_CLOCK, labels: {gpu: "3"}, fire: "300", quiet: "500"}
          value: 300
"""

MINIMAL = """
version: 1
name: test
node_groups:
  - name: gpu
    hosts: [gpu-1.internal]
    gpu: {model: H100-80GB, count: 8}
"""
