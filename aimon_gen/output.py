"""Staging, atomic install, manifest, and the --check diff.

The output folder may hold files of the user's own: the build touches only the files
it writes and the stale ones its manifest says it wrote before.
"""

from __future__ import annotations

import difflib
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

MANIFEST = ".aimon-gen-manifest"


def with_manifest(files: dict[str, bytes]) -> dict[str, bytes]:
    listing = "".join(f"{p}\n" for p in sorted(files))
    header = "# Files written by aimon-gen; it removes these when a build no longer writes them.\n"
    return {**files, MANIFEST: (header + listing).encode()}


def previous(out_dir: Path) -> set[str]:
    try:
        text = (out_dir / MANIFEST).read_text(encoding="utf-8")
    except OSError:
        return set()
    return {line for line in text.splitlines() if line and not line.startswith("#")}


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


def install(stage: Path, out_dir: Path, files: dict[str, bytes]) -> tuple[list[str], list[str]]:
    """Move staged files into out_dir, one atomic rename each; drop stale ones. Returns (changed, removed)."""
    stale = sorted(previous(out_dir) - set(files))
    out_dir.mkdir(parents=True, exist_ok=True)
    changed = []
    for rel in sorted(files, key=lambda r: r == MANIFEST):  # the manifest last
        target = out_dir / rel
        try:
            if target.read_bytes() == files[rel]:
                continue  # unchanged: keep its mtime, so reloaders see no change
        except OSError:
            pass
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage / rel, target)
        changed.append(rel)
    removed = []
    for rel in stale:
        path = out_dir / rel
        if path.is_file():
            path.unlink()
            removed.append(rel)
            _prune_empty(path.parent, out_dir)
    return changed, removed


def _prune_empty(folder: Path, root: Path) -> None:
    while folder != root and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def diff(out_dir: Path, files: dict[str, bytes]) -> str:
    """Unified diff from out_dir as it is to what the build would write ('' when current)."""
    chunks = []
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
