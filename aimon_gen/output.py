"""Staging, atomic install, manifest, and the --check diff.

The output folder may hold files of the user's own: the build touches only the files
it writes and the stale ones its manifest says it wrote before.
"""

from __future__ import annotations

import difflib
import fcntl
import json
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

MANIFEST = ".aimon-gen-manifest"


def with_manifest(files: dict[str, bytes]) -> dict[str, bytes]:
    listing = "".join(f"{p}\n" for p in sorted(files))
    header = "# Files written by aimon-gen; it removes these when a build no longer writes them.\n"
    return {**files, MANIFEST: (header + listing).encode()}


def previous(out_dir: Path) -> set[str]:
    """What the last build wrote, as far as it is safe to act on: paths inside out_dir only."""
    return set(_manifest(out_dir)[0])


def unsafe_manifest_entries(out_dir: Path) -> list[str]:
    """Manifest lines that point outside the output folder (a tampered or hand-edited manifest)."""
    return _manifest(out_dir)[1]


def _manifest(out_dir: Path) -> tuple[list[str], list[str]]:
    try:
        text = (out_dir / MANIFEST).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return [], []
    safe: list[str] = []
    unsafe: list[str] = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        (safe if _inside(line) else unsafe).append(line)
    return safe, unsafe


def _inside(rel: str) -> bool:
    # Generated paths are plain relative paths; anything else was not written by a build.
    parts = rel.split("/")
    return (not rel.startswith("/") and "\\" not in rel and "\0" not in rel
            and all(p not in ("", ".", "..") for p in parts))


@contextmanager
def staging(out_dir: Path):
    """A temporary folder beside out_dir (same filesystem, so renames are atomic)."""
    parent = out_dir.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.aimon-gen-", dir=parent))
    try:
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def write_tree(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def conflicts(out_dir: Path, files: dict[str, bytes]) -> list[str]:
    """Files the build would overwrite that it did not write before (the user's own)."""
    if not out_dir.exists():
        return []
    mine = previous(out_dir) | {MANIFEST}
    return sorted(rel for rel in files if rel not in mine and (out_dir / rel).exists()
                  and (out_dir / rel).read_bytes() != files[rel])


# --- Locking, staging and the install journal ------------------------------------------------
#
# A build holds an exclusive lock on the output folder, so two builds of one folder run
# one after the other. The new files are staged beside the folder (same filesystem, so a
# rename is atomic). The install then:
#   1. hard-links every file it will replace or remove into the staging folder (the backup);
#   2. writes the journal (one atomic rename): from here on the install is decided;
#   3. renames each staged file into place and removes stale files;
#   4. deletes the journal, then the staging folder.
# A run killed anywhere leaves either no journal (the folder untouched; the staging folder
# is removed by the next build) or a journal, which the next build completes before doing
# anything else, or rolls back when a file cannot be replaced. So the folder is always the
# old build or the new one once any build has run.

LOCK_WAIT_SECONDS = 120.0


def _beside(out_dir: Path, suffix: str) -> Path:
    return out_dir.resolve().parent / f".{out_dir.name}.aimon-gen.{suffix}"


@contextmanager
def locked(out_dir: Path, wait: float = LOCK_WAIT_SECONDS):
    """Exclusive use of out_dir for one build; waits for another build to finish.
    The lock is flock(2) on the folder itself, so no lock file is left anywhere; a folder
    this call created is removed again when the build fails before writing into it."""

    created = not out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(out_dir, os.O_RDONLY)
    ok = False
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OutputBusy(out_dir) from None
                time.sleep(0.05)
        yield
        ok = True
    finally:
        os.close(fd)
        if created and not ok:
            try:
                out_dir.rmdir()  # only when still empty
            except OSError:
                pass


class OutputBusy(Exception):
    def __init__(self, out_dir: Path):
        super().__init__(f"another aimon-gen build is writing {out_dir} and did not finish within "
                         f"{LOCK_WAIT_SECONDS:.0f}s; wait for it (or stop it) and build again")


class InstallFailed(Exception):
    """A file of the output folder could not be replaced; the folder was rolled back."""

    def __init__(self, out_dir: Path, rel: str, reason: str):
        super().__init__(f"{out_dir}/{rel}: cannot be replaced ({reason}); the output folder was left as it "
                         "was. Make that file and its folder writable by this user (check `chmod`, "
                         "`chattr -i`, a read-only mount), then build again")
        self.rel = rel


def pending_install(out_dir: Path) -> bool:
    """A build was interrupted after deciding its install; the next build completes it."""
    return _beside(out_dir, "journal").exists()


def recover(out_dir: Path) -> str:
    """Finish or undo an interrupted install and remove stale staging folders (call under the lock).
    Returns what was done ('' when nothing was pending)."""
    journal = _beside(out_dir, "journal")
    done = ""
    if journal.exists():
        entries = json.loads(journal.read_text(encoding="utf-8"))
        stage = Path(entries["stage"])
        try:
            _forward(stage, out_dir, entries)
            done = "completed an interrupted install"
        except OSError:
            _back(stage, out_dir, entries)
            done = "rolled back an interrupted install"
        journal.unlink()
    for stale in out_dir.resolve().parent.glob(f".{out_dir.name}.aimon-gen-*"):
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
    return done


def install(stage: Path, out_dir: Path, files: dict[str, bytes]) -> tuple[list[str], list[str]]:
    """Move staged files into out_dir as one decided change (see above). Returns (changed, removed)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stale = sorted(previous(out_dir) - set(files))
    changed, existed = [], []
    for rel in sorted(files, key=lambda r: r == MANIFEST):  # the manifest last
        target = out_dir / rel
        try:
            if target.read_bytes() == files[rel]:
                continue  # unchanged: keep its mtime, so reloaders see no change
            existed.append(rel)
        except OSError:
            pass
        changed.append(rel)
    root = out_dir.resolve()
    # Only files that really live inside the folder: never through a link to elsewhere.
    removed = [rel for rel in stale if (out_dir / rel).is_file() and not (out_dir / rel).is_symlink()
               and (out_dir / rel).resolve().is_relative_to(root)]
    if not changed and not removed:
        return [], []
    backup = stage / BACKUP
    for rel in existed + removed:
        _link(out_dir / rel, backup / rel)
    entries = {"stage": str(stage), "replace": existed, "add": [r for r in changed if r not in existed],
               "remove": removed}
    journal = _beside(out_dir, "journal")
    tmp = journal.with_name(journal.name + ".tmp")
    tmp.write_text(json.dumps(entries), encoding="utf-8")
    os.replace(tmp, journal)
    try:
        _forward(stage, out_dir, entries)
    except OSError as exc:
        rel = getattr(exc, "aimon_rel", "")
        _back(stage, out_dir, entries)
        journal.unlink()
        raise InstallFailed(out_dir, rel, exc.strerror or str(exc)) from None
    journal.unlink()
    return changed, removed


BACKUP = ".aimon-gen-backup"


def _link(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _forward(stage: Path, out_dir: Path, e: dict) -> None:
    """Idempotent: a staged file that is gone was already moved in."""
    for rel in e["replace"] + e["add"]:
        src = stage / rel
        if not src.exists():
            continue
        target = out_dir / rel
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, target)
        except OSError as exc:
            exc.aimon_rel = rel  # type: ignore[attr-defined]
            raise
    for rel in e["remove"]:
        path = out_dir / rel
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            exc.aimon_rel = rel  # type: ignore[attr-defined]
            raise
        _prune_empty(path.parent, out_dir)


def _back(stage: Path, out_dir: Path, e: dict) -> None:
    """Idempotent undo: put back every old file from the backup, drop every added one."""
    backup = stage / BACKUP
    moved = [r for r in e["replace"] if not (stage / r).exists()]
    gone = [r for r in e["remove"] if not (out_dir / r).exists()]
    for rel in moved + gone:
        saved = backup / rel
        if saved.exists():
            (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(saved, out_dir / rel)
    for rel in e["add"]:
        if not (stage / rel).exists():
            try:
                (out_dir / rel).unlink()
            except FileNotFoundError:
                pass
            _prune_empty((out_dir / rel).parent, out_dir)


def _prune_empty(folder: Path, root: Path) -> None:
    while folder != root and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def diff(out_dir: Path, files: dict[str, bytes]) -> str:
    """Unified diff from out_dir as it is to what the build would write ('' when current)."""
    chunks: list[str] = []
    for rel in sorted(set(files) | previous(out_dir)):
        path = out_dir / rel
        old = path.read_bytes() if path.is_file() else None
        new = files.get(rel)
        if old == new:
            continue
        chunks.extend(difflib.unified_diff(
            _lines(old), _lines(new), fromfile=f"{out_dir}/{rel}" if old is not None else "/dev/null",
            tofile=f"{out_dir}/{rel} (build)" if new is not None else "/dev/null"))
    return "".join(chunks)


def _lines(data: bytes | None) -> list[str]:
    if data is None:
        return []
    text = data.decode("utf-8", errors="replace")
    return [line if line.endswith("\n") else line + "\n" for line in text.splitlines(keepends=True)]
