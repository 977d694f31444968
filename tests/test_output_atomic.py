"""The output folder is the old build or the new one, whatever happens during the install.

A build is killed (SIGKILL) at every file-system step of its install in turn; the next build's
recovery must leave exactly the old tree or exactly the new one, and no staging folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import threading

import pytest

from aimon_gen import output

OLD = """
version: 1
name: atomic
node_groups:
  - {name: gpu, hosts: [g1.internal], gpu: {model: H100, count: 8}}
models:
  - {name: llm, server: vllm, targets: [v1.internal:8000]}
"""
NEW = """
version: 1
name: atomic-two
node_groups:
  - {name: gpu, hosts: [g1.internal, g2.internal], gpu: {model: H100, count: 8}}
"""

# The CLI in a child process (used where the whole command matters), with every rename, link and unlink made by output.install counted; at step
# KILL_AT the process kills itself, as `kill -9` or a dying CI runner would.
KILLER = textwrap.dedent("""
    import os, signal, sys
    from aimon_gen import cli, output
    step = {"n": 0, "on": False}
    kill_at = int(os.environ["KILL_AT"])
    def counted(fn):
        def wrapper(*a, **k):
            if step["on"]:
                step["n"] += 1
                if step["n"] == kill_at:
                    os.kill(os.getpid(), signal.SIGKILL)
            return fn(*a, **k)
        return wrapper
    for name in ("replace", "link", "unlink", "rename"):
        setattr(os, name, counted(getattr(os, name)))
    install = output.install
    def watched(*a, **k):
        step["on"] = True
        return install(*a, **k)
    output.install = watched
    sys.argv = ["aimon-gen", *sys.argv[1:]]
    cli.main()
""")


def _tree(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _build(spec, out, kill_at=0):
    env = {**os.environ, "KILL_AT": str(kill_at), "AIMON_GEN_CACHE_DIR": str(out.parent / "cache")}
    return subprocess.run([sys.executable, "-c", KILLER, "build", str(spec), "-o", str(out), "--no-validate",
                           "--no-cache", "-q"], env=env, capture_output=True, text=True)


def _build_in_child(spec, out, kill_at: int) -> int:
    """The whole build in a forked child (imports already warm), killed at install step kill_at."""
    import signal

    from aimon_gen.build import build

    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        step = [0]

        def counted(fn):
            def wrapper(*a, **k):
                step[0] += 1
                if step[0] == kill_at:
                    os.kill(os.getpid(), signal.SIGKILL)
                return fn(*a, **k)
            return wrapper
        install = output.install

        def watched(*a, **k):
            for name in ("replace", "link", "unlink", "rename"):
                setattr(os, name, counted(getattr(os, name)))
            return install(*a, **k)
        output.install = watched
        code = 1
        try:
            build(spec, out, validate=False, use_cache=False)
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


@pytest.mark.e2e  # kills builds at every install step
def test_a_build_killed_at_any_install_step_leaves_old_or_new(tmp_path, write_spec):
    old_spec, new_spec = write_spec(OLD, "old.yaml"), write_spec(NEW, "new.yaml")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    ref_old, ref_new = scratch / "old", scratch / "new"
    assert _build(old_spec, ref_old).returncode == 0
    assert _build(new_spec, ref_new).returncode == 0
    old_tree, new_tree = _tree(ref_old), _tree(ref_new)
    assert set(old_tree) - set(new_tree), "the new build must also remove files, to test removal"
    outcomes = []
    for kill_at in range(1, 200):
        run = tmp_path / f"k{kill_at}"
        run.mkdir()
        out = run / "out"
        shutil.copytree(ref_old, out)
        status = _build_in_child(new_spec, out, kill_at)
        if status == 0:
            assert _tree(out) == new_tree
            break
        assert status == -9, status
        with output.locked(out):
            output.recover(out)
        after = _tree(out)
        assert after in (old_tree, new_tree), f"killed at step {kill_at}: a mix of old and new files"
        assert not [p for p in run.iterdir() if p.name.startswith(".out.aimon-gen-")], "staging folder left behind"
        outcomes.append("new" if after == new_tree else "old")
    else:
        pytest.fail("the build never finished")
    # Killed before the journal: the old tree; after it: the new one. Both must occur.
    assert "old" in outcomes and "new" in outcomes and len(outcomes) > 10, outcomes


@pytest.mark.e2e  # checked builds in subprocesses (slow)
def test_check_reports_an_interrupted_install_and_build_completes_it(tmp_path, write_spec):
    old_spec, new_spec = write_spec(OLD, "old.yaml"), write_spec(NEW, "new.yaml")
    out = tmp_path / "out"
    assert _build(old_spec, out).returncode == 0
    # Killed just after the journal was written (link steps, then the journal's rename).
    n_links = sum(1 for _ in out.rglob("*") if _.is_file())
    assert _build(new_spec, out, n_links + 2).returncode == -9
    assert output.pending_install(out)
    check = subprocess.run([sys.executable, "-m", "aimon_gen", "build", str(new_spec), "-o", str(out), "--check",
                            "--no-validate"], capture_output=True, text=True)
    assert check.returncode == 1 and "stopped while installing" in check.stderr, check.stderr
    again = subprocess.run([sys.executable, "-m", "aimon_gen", "build", str(new_spec), "-o", str(out),
                            "--no-validate"], capture_output=True, text=True)
    assert again.returncode == 0 and "completed an interrupted install" in again.stderr, again.stderr
    assert not output.pending_install(out)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through read-only folders")
def test_a_file_that_cannot_be_replaced_rolls_back_every_other(tmp_path, write_spec):
    old_spec, new_spec = write_spec(OLD, "old.yaml"), write_spec(NEW, "new.yaml")
    out = tmp_path / "out"
    assert _build(old_spec, out).returncode == 0
    before = _tree(out)
    os.chmod(out / "dashboards", 0o555)
    try:
        r = subprocess.run([sys.executable, "-m", "aimon_gen", "build", str(new_spec), "-o", str(out),
                            "--no-validate"], capture_output=True, text=True)
    finally:
        os.chmod(out / "dashboards", 0o755)
    assert r.returncode == 1
    assert f"{out}/dashboards/" in r.stderr and "cannot be replaced" in r.stderr and "left as it was" in r.stderr
    assert _tree(out) == before


@pytest.mark.e2e  # checked builds in subprocesses (slow)
def test_a_failed_replace_rolls_back_every_other(tmp_path, write_spec, monkeypatch):
    # As root no permission stops a rename, so the failure is injected at the OS call.
    old_spec, new_spec = write_spec(OLD, "old.yaml"), write_spec(NEW, "new.yaml")
    out = tmp_path / "out"
    assert _build(old_spec, out).returncode == 0
    before = _tree(out)
    from aimon_gen.build import build

    real = os.replace

    def refuse(src, dst, *a, **k):
        if str(dst) == str(out / "prometheus.yml"):
            raise PermissionError(1, "Operation not permitted")
        return real(src, dst, *a, **k)
    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(output.InstallFailed, match=r"/out/prometheus.yml: cannot be replaced \(Operation not"):
        build(new_spec, out, validate=False, use_cache=False)
    assert _tree(out) == before
    assert not output.pending_install(out)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.aimon-gen-")]


def test_builds_of_one_folder_wait_for_each_other(tmp_path):
    out = tmp_path / "out"
    order = []
    with output.locked(out):
        t = threading.Thread(target=lambda: (output.locked(out).__enter__(), order.append("second")))
        t.start()
        t.join(0.5)
        order.append("first")
    t.join(5)
    assert order == ["first", "second"]
    with output.locked(out):
        with pytest.raises(output.OutputBusy, match="another aimon-gen build is writing"):
            with output.locked(out, wait=0.2):
                pass


@pytest.mark.e2e  # checked builds in subprocesses (slow)
def test_a_tampered_manifest_never_deletes_outside_the_folder(tmp_path, write_spec):
    spec = write_spec(OLD, "old.yaml")
    out = tmp_path / "out"
    assert _build(spec, out).returncode == 0
    victim = tmp_path / "victim"
    victim.write_text("precious")
    outside = tmp_path / "abs-victim"
    outside.write_text("precious")
    with open(out / output.MANIFEST, "a") as fh:
        fh.write(f"../victim\n{outside}\n./x/../../victim\n")
    r = subprocess.run([sys.executable, "-m", "aimon_gen", "build", str(spec), "-o", str(out), "--no-validate"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert victim.read_text() == "precious" and outside.read_text() == "precious"
    assert "lists '../victim', which is not inside the output folder" in r.stderr


@pytest.mark.e2e  # checked builds in subprocesses (slow)
def test_stale_staging_folders_of_killed_runs_are_removed(tmp_path, write_spec):
    spec = write_spec(OLD, "old.yaml")
    out = tmp_path / "out"
    stale = tmp_path / ".out.aimon-gen-abc123"
    (stale / "dashboards").mkdir(parents=True)
    (stale / "dashboards" / "gpu.json").write_text("{}")
    assert _build(spec, out).returncode == 0
    assert not stale.exists()


@pytest.mark.e2e  # checked builds in subprocesses (slow)
def test_no_lock_file_is_left_and_a_failed_first_build_leaves_no_folder(tmp_path, write_spec):
    spec = write_spec(OLD, "old.yaml")
    out = tmp_path / "out"
    assert _build(spec, out).returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.yaml", "out"]
    never = tmp_path / "never"
    with pytest.raises(RuntimeError):
        with output.locked(never):
            raise RuntimeError("a check failed")
    assert not never.exists()
