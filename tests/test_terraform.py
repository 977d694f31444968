"""examples/terraform: the module's command line matches the CLI's real flags, and, where the
terraform binary is installed, `terraform apply` builds for real and exposes the files."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main

from aimon_gen.cli import BUILD_FORMATS, app

from conftest import MINIMAL, ROOT, tool

pytestmark = pytest.mark.e2e  # runs terraform on the example module

MODULE = ROOT / "examples" / "terraform" / "main.tf"


def _hcl_list(text: str, name: str) -> list[str]:
    m = re.search(rf"^\s*{name}\s*=\s*\[(.*?)\]\s*$", text, re.M | re.S)
    assert m, f"{name} not found in main.tf"
    return [item.strip() for item in m.group(1).split(",") if item.strip()]


def _hcl_string(text: str, name: str) -> str:
    m = re.search(rf'^\s*{name}\s*=\s*"([^"]*)"\s*$', text, re.M)
    assert m, f"{name} not found in main.tf"
    return m.group(1)


def test_the_module_calls_the_cli_with_its_real_flags():
    text = MODULE.read_text()
    argv = _hcl_list(text, "interpreter") + [f'"{_hcl_string(text, "command")}"']
    assert argv[:3] == ["var.aimon_gen", '"build"', "var.spec"]
    build = typer.main.get_command(app).commands["build"]
    options = {opt for p in build.params for opt in getattr(p, "opts", [])}
    flags = [a.strip('"') for a in argv if a.startswith('"-')]
    assert flags and all(f in options for f in flags), (flags, sorted(options))
    # each flag that takes a value is followed by one of the module's variables
    for flag in ("-o", "--format"):
        assert argv[argv.index(f'"{flag}"') + 1].startswith("var."), flag
    # every variable used is declared, and the format validation names exactly the CLI's choices
    declared = set(re.findall(r'^variable "(\w+)"', text, re.M))
    assert {a[len("var."):] for a in argv if a.startswith("var.")} <= declared
    choices = re.search(r"contains\(\[([^\]]*)\], var\.format\)", text).group(1)
    assert sorted(c.strip().strip('"') for c in choices.split(",")) == sorted(BUILD_FORMATS)


def _terraform() -> str:
    path = shutil.which("terraform")
    if not path:
        pytest.skip("terraform is not installed (no Debian or PyPI package; the structural test above still runs)")
    return path


def _tf(terraform: str, folder: Path, *args: str) -> subprocess.CompletedProcess:
    rc = folder / "terraformrc"
    rc.touch()
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1", "TF_CLI_CONFIG_FILE": str(rc)}
    return subprocess.run([terraform, *args, "-no-color"], cwd=folder, env=env, capture_output=True, text=True,
                          timeout=300)


def test_terraform_apply_builds_and_exposes_the_files(tmp_path, write_spec):
    terraform = _terraform()
    tool("promtool")
    tool("amtool")
    work = tmp_path / "tf"
    work.mkdir()
    shutil.copy(MODULE, work / "main.tf")
    spec = write_spec(MINIMAL)
    out = tmp_path / "out"
    aimon_gen = Path(sys.executable).parent / "aimon-gen"
    tfvars = ["-var", f"spec={spec}", "-var", f"out_dir={out}", "-var", f"aimon_gen={aimon_gen}"]
    r = _tf(terraform, work, "init", "-input=false")
    assert r.returncode == 0, r.stdout + r.stderr
    r = _tf(terraform, work, "apply", "-auto-approve", "-input=false", *tfvars)
    assert r.returncode == 0, r.stdout + r.stderr
    outputs = json.loads(_tf(terraform, work, "output", "-json").stdout)
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and p.name != ".aimon-gen-manifest")
    assert sorted(outputs["files"]["value"]) == written and "prometheus.yml" in written
    assert outputs["out_dir"]["value"] == str(out)
    # nothing to do while the spec is unchanged; a spec change rebuilds
    r = _tf(terraform, work, "plan", "-detailed-exitcode", "-input=false", *tfvars)
    assert r.returncode == 0, r.stdout + r.stderr
    spec.write_text(MINIMAL.replace("gpu-1.internal", "gpu-9.internal"))
    r = _tf(terraform, work, "apply", "-auto-approve", "-input=false", *tfvars)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "gpu-9.internal" in (out / "prometheus.yml").read_text()
    # a bad spec fails the apply with aimon-gen's message, and the last good output stays
    spec.write_text("version: 1\nname: t\nnode_groups: [{name: g, hostz: [a]}]\n")
    r = _tf(terraform, work, "apply", "-auto-approve", "-input=false", *tfvars)
    assert r.returncode != 0 and "hostz" in r.stdout + r.stderr
    assert "gpu-9.internal" in (out / "prometheus.yml").read_text()
