"""The package as users get it: the wheel carries its data, entry points work."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import pytest
import yaml

from conftest import EXAMPLE, ROOT, tool


@pytest.mark.e2e  # builds a wheel in a fresh venv
def test_wheel_installs_and_builds_from_a_fresh_venv(tmp_path):
    tool("promtool")
    tool("amtool")
    dist = tmp_path / "dist"
    r = subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    wheel = next(dist.glob("aimon_gen-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "aimon_gen/_data/rules/thresholds.yaml" in names
    assert "aimon_gen/starter.yaml" in names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    r = subprocess.run([venv / "bin/pip", "install", "-q", "--disable-pip-version-check", str(wheel)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    work = tmp_path / "elsewhere"  # no checkout in sight: data must come from the wheel
    work.mkdir()
    spec = work / "example.yaml"
    spec.write_text(EXAMPLE.read_text())
    r = subprocess.run([venv / "bin/aimon-gen", "build", "example.yaml", "-o", "built"], cwd=work,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (work / "built/prometheus.yml").is_file()
    r = subprocess.run([venv / "bin/python", "-c", "import aimon_gen.resources as r; print(r.data_dir('rules'))"],
                       cwd=work, capture_output=True, text=True)
    assert "site-packages/aimon_gen/_data/rules" in r.stdout


def test_module_entry_point_and_version():
    r = subprocess.run([sys.executable, "-m", "aimon_gen", "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("aimon-gen 0.")


def test_usage_error_exits_2():
    r = subprocess.run([sys.executable, "-m", "aimon_gen", "build"], capture_output=True, text=True)
    assert r.returncode == 2
    r = subprocess.run([sys.executable, "-m", "aimon_gen", "biuld", "x"], capture_output=True, text=True)
    assert r.returncode == 2


@pytest.mark.e2e  # a checked build in a subprocess
def test_init_writes_a_spec_that_builds(tmp_path):
    tool("promtool")
    r = subprocess.run([sys.executable, "-m", "aimon_gen", "init", "my.yaml"], cwd=tmp_path, capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-m", "aimon_gen", "init", "my.yaml"], cwd=tmp_path, capture_output=True,
                       text=True)
    assert r.returncode == 1 and "exists" in r.stderr, "init never overwrites without --force"
    r = subprocess.run([sys.executable, "-m", "aimon_gen", "build", "my.yaml"], cwd=tmp_path, capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr


def test_schema_describes_the_spec():
    r = subprocess.run([sys.executable, "-m", "aimon_gen", "schema"], capture_output=True, text=True)
    schema = json.loads(r.stdout)
    assert schema["additionalProperties"] is False
    assert {"version", "name", "node_groups", "models", "pipelines", "storage", "thresholds", "alerting",
            "grafana"} <= set(schema["properties"])
    ng = schema["$defs"]["NodeGroup"]
    assert set(ng["required"]) == {"name"}  # hosts, kubernetes or discovery (a cross-field check)
    assert {"hosts", "kubernetes", "discovery", "expected_hosts"} <= set(ng["properties"])
    assert schema["$defs"]["ThresholdSetting"]["properties"].keys() >= {"value", "for"}


def test_pre_commit_hook_runs_the_check():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "aimon-gen-check")
    assert hook["entry"].split()[:2] == ["aimon-gen", "build"] and "--check" in hook["entry"]


@pytest.mark.e2e  # a checked build in a subprocess
def test_output_folder_that_is_a_file_is_a_user_error(tmp_path):
    (tmp_path / "out").write_text("not a folder")
    spec = tmp_path / "s.yaml"
    spec.write_text("version: 1\nname: x\n")
    r = subprocess.run([sys.executable, "-m", "aimon_gen", "build", str(spec), "-o", str(tmp_path / "out"),
                        "--no-validate"], capture_output=True, text=True)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert (tmp_path / "out").read_text() == "not a folder"


def test_a_bug_is_one_line_with_how_to_report(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    import aimon_gen.compile.pipeline
    from aimon_gen.cli import app

    def broken(ctx):
        raise RuntimeError("boom")

    monkeypatch.setattr(aimon_gen.compile.pipeline, "compile_bundle", broken)
    spec = tmp_path / "s.yaml"
    spec.write_text("version: 1\nname: x\n")
    r = CliRunner().invoke(app, ["build", str(spec), "-o", str(tmp_path / "out")])
    assert r.exit_code == 3
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "internal error (RuntimeError: boom)" in lines[0] and "report it" in lines[0]
    assert not (tmp_path / "out").exists()
