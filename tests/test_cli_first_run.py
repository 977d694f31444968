"""What a new user sees first: help, usage lines, messages about paths they typed."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from aimon_gen.cli import app

COMMANDS = ("build", "validate", "init", "schema", "thresholds", "alerts", "scenarios", "verify", "plan")


def test_help_lists_every_command_without_cutting_its_description():
    out = CliRunner().invoke(app, ["--help"], terminal_width=80).output
    for command in COMMANDS:
        line = next(line for line in out.splitlines() if line.strip().startswith(command + " "))
        assert not line.rstrip().endswith("..."), line


def test_usage_lines_read_like_unix_tools():
    for command in ("build", "validate", "verify", "plan", "scenarios"):
        usage = CliRunner().invoke(app, [command, "--help"]).output.splitlines()[0]
        assert usage == f"Usage: aimon-gen {command} [OPTIONS] SPEC", usage


def test_a_binary_path_that_does_not_exist_is_named_as_given(tmp_path):
    from aimon_gen.verify.stack import MissingBinary, find_binary

    try:
        find_binary("prometheus", str(tmp_path / "nope"))
    except MissingBinary as exc:
        text = str(exc)
    assert f"--prometheus {tmp_path / 'nope'}: does not exist" in text and "on PATH)" not in text


def test_the_starter_spec_points_to_a_reference_a_pip_user_has(tmp_path):
    r = CliRunner().invoke(app, ["init", str(tmp_path / "s.yaml")])
    assert r.exit_code == 0
    text = (tmp_path / "s.yaml").read_text()
    assert "aimon-gen schema --markdown" in text and "README" not in text


@pytest.mark.e2e  # a checked build (slow)
def test_validate_prints_the_warnings_build_prints(tmp_path):
    import shutil
    import subprocess
    import sys

    from conftest import ROOT

    spec = tmp_path / "gpu-training.yaml"
    shutil.copy(ROOT / "specs" / "gpu-training.yaml", spec)
    env = {"AIMON_GEN_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "aimon_gen", *args], capture_output=True, text=True,
                              env={**__import__("os").environ, **env})
    validated = run("validate", str(spec))
    built = run("build", str(spec), "-o", str(tmp_path / "out"), "--no-validate")
    cached = run("validate", str(spec))  # now from the build cache
    warnings = [line for line in built.stderr.splitlines() if ": warning: " in line]
    assert warnings and validated.returncode == 0
    assert [line for line in validated.stderr.splitlines() if ": warning: " in line] == warnings
    assert [line for line in cached.stderr.splitlines() if ": warning: " in line] == warnings
