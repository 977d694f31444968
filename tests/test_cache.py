"""The build cache: a hit gives exactly the files of a fresh build, and any changed input
(the spec, a user rule pack, aimon-gen's own files, promtool/amtool) makes a fresh build."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from aimon_gen import cache
from aimon_gen.build import build
from aimon_gen.errors import SpecInvalid
from aimon_gen.resources import data_dir

from conftest import EXAMPLE, MINIMAL, ROOT, USER_PACK, tool

# A spec with a user rule pack folder (relative to the spec): its build warns while the folder is empty.
PACKED = MINIMAL + "rules:\n  packs: [my-rules]\n"

PACK = USER_PACK.lstrip("\n")


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.e2e  # checked builds (slow)
def test_a_hit_writes_exactly_what_a_fresh_build_writes(tmp_path):
    cold = build(EXAMPLE, tmp_path / "a", validate=False)
    warm = build(EXAMPLE, tmp_path / "b", validate=False)
    fresh = build(EXAMPLE, tmp_path / "c", validate=False, use_cache=False)
    assert not cold.cached and warm.cached and not fresh.cached
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b") == _tree(tmp_path / "c")
    assert warm.changed == sorted(warm.files, key=lambda r: r == ".aimon-gen-manifest")
    # --check from the cache: up to date, then a diff once the output is edited
    assert build(EXAMPLE, tmp_path / "b", check_only=True).diff == ""
    (tmp_path / "b" / "prometheus.yml").write_text("edited\n")
    again = build(EXAMPLE, tmp_path / "b", check_only=True)
    assert again.cached and "+edited" not in again.diff and "-edited" in again.diff


@pytest.mark.e2e  # checked builds (slow)
def test_a_hit_does_not_load_the_compiler(tmp_path):
    """The point of the cache: an unchanged spec costs the CLI's start-up, not pydantic,
    Jinja2, PyYAML and the Grafana SDK."""
    code = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from aimon_gen.build import build
        r = build(Path({str(EXAMPLE)!r}), Path({str(tmp_path / 'out')!r}), validate=False)
        heavy = [m for m in ("pydantic", "jinja2", "yaml", "grafana_foundation_sdk") if m in sys.modules]
        print(r.cached, *heavy)
    """)
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert first.stdout.split() == ["False", "pydantic", "jinja2", "yaml", "grafana_foundation_sdk"]
    second = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert second.stdout.split() == ["True"]


def test_an_edited_spec_is_built_afresh(tmp_path, write_spec):
    spec = write_spec(MINIMAL)
    build(spec, tmp_path / "out", validate=False)
    spec.write_text(MINIMAL.replace("gpu-1.internal", "gpu-2.internal"))
    r = build(spec, tmp_path / "out", validate=False)
    assert not r.cached and "prometheus.yml" in r.changed
    assert b"gpu-2.internal" in (tmp_path / "out" / "prometheus.yml").read_bytes()


def test_user_rule_packs_are_inputs(tmp_path, write_spec):
    spec = write_spec(PACKED)
    packs = tmp_path / "my-rules"
    packs.mkdir()
    empty = build(spec, tmp_path / "out", validate=False)
    assert any("holds no *.yaml files" in w.message for w in empty.warnings)
    again = build(spec, tmp_path / "out", validate=False)
    assert again.cached and again.warnings == empty.warnings  # warnings are replayed, at their line

    (packs / "gpu.yaml").write_text(PACK)  # a new file in the folder
    added = build(spec, tmp_path / "out", validate=False)
    assert not added.cached and not added.warnings
    assert b"MyGPUFrequencyLow" in (tmp_path / "out" / "alert.rules.yml").read_bytes()
    assert build(spec, tmp_path / "out", validate=False).cached

    (packs / "gpu.yaml").write_text(PACK.replace("< 500", "< 450"))  # an edited file
    edited = build(spec, tmp_path / "out", validate=False)
    assert not edited.cached and b"< 450" in (tmp_path / "out" / "alert.rules.yml").read_bytes()


def test_aimon_gens_own_files_are_inputs(tmp_path):
    """A changed rule pack, catalog or module of aimon-gen (an upgrade, or a developer's edit)
    invalidates every entry, by size and mtime as Python's bytecode cache does."""
    build(EXAMPLE, tmp_path / "out", validate=False)
    shipped = data_dir("rules") / "thresholds.yaml"
    st = shipped.stat()
    try:
        os.utime(shipped, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
        cache._code.cache_clear()
        assert cache.lookup(EXAMPLE, (), need_checked=False) is None
    finally:
        os.utime(shipped, ns=(st.st_atime_ns, st.st_mtime_ns))
        cache._code.cache_clear()
    assert cache.lookup(EXAMPLE, (), need_checked=False) is not None


@pytest.mark.e2e  # checked builds (slow)
def test_a_checked_hit_needs_the_same_promtool_and_amtool(tmp_path, monkeypatch):
    promtool, amtool = tool("promtool"), tool("amtool")
    unchecked = build(EXAMPLE, tmp_path / "out", validate=False)
    checked = build(EXAMPLE, tmp_path / "out")  # an unchecked entry does not skip the checks
    assert not unchecked.cached and not checked.cached and checked.timings
    hit = build(EXAMPLE, tmp_path / "out")
    assert hit.cached and not hit.timings

    # Another promtool on PATH (an upgrade): the bytes are checked again by it.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "promtool").write_text(f"#!/bin/sh\nexec {promtool} \"$@\"\n")
    (bin_dir / "promtool").chmod(0o755)
    (bin_dir / "amtool").symlink_to(amtool)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    rechecked = build(EXAMPLE, tmp_path / "out")
    assert not rechecked.cached and {t.command.tool for t in rechecked.timings} == {"promtool", "amtool"}


def test_errors_are_never_cached(tmp_path, write_spec):
    spec = write_spec(MINIMAL + "bogus: 1\n")
    for _ in range(2):
        with pytest.raises(SpecInvalid):
            build(spec, tmp_path / "out", validate=False)
    assert not any(cache.folder().iterdir())


@pytest.mark.e2e  # checked builds (slow)
def test_a_broken_or_unwritable_cache_is_ignored(tmp_path, monkeypatch, write_spec):
    spec = write_spec(MINIMAL)
    build(spec, tmp_path / "a", validate=False)
    (entry,) = cache.folder().iterdir()
    entry.write_bytes(b"\x00garbage")
    r = build(spec, tmp_path / "b", validate=False)
    assert not r.cached and _tree(tmp_path / "a") == _tree(tmp_path / "b")
    assert build(spec, tmp_path / "c", validate=False).cached  # the entry was rewritten

    monkeypatch.setenv("AIMON_GEN_CACHE_DIR", str(spec))  # a file, not a folder
    assert not build(spec, tmp_path / "d", validate=False).cached
    assert _tree(tmp_path / "d") == _tree(tmp_path / "a")


@pytest.mark.e2e  # checked builds (slow)
def test_cli_no_cache_and_the_cached_note(tmp_path, write_spec):
    spec = write_spec(MINIMAL)
    cmd = [sys.executable, "-m", "aimon_gen", "build", str(spec), "-o", str(tmp_path / "out"), "--no-validate"]
    first = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert first.returncode == 0 and "(cached)" not in first.stdout
    second = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert second.returncode == 0 and "(cached)" in second.stdout
    forced = subprocess.run([*cmd, "--no-cache"], capture_output=True, text=True, cwd=ROOT)
    assert forced.returncode == 0 and "(cached)" not in forced.stdout


def test_the_cache_keeps_the_most_recent_entries(tmp_path, monkeypatch, write_spec):
    monkeypatch.setattr(cache, "MAX_ENTRIES", 2)
    specs = [write_spec(MINIMAL, name=f"spec{i}.yaml") for i in range(3)]
    for i, spec in enumerate(specs):
        build(spec, tmp_path / f"out{i}", validate=False)
    assert len(list(cache.folder().iterdir())) == 2
    assert cache.lookup(specs[0], (), need_checked=False) is None  # the oldest went
    assert all(cache.lookup(s, (), need_checked=False) for s in specs[1:])
