"""Build cache: a build is a pure function of its inputs, so unchanged inputs give the files
of the last build without loading the spec model, compiling or rendering again.

Pre-commit hooks and CI run `aimon-gen build --check` on specs that rarely change; a hit
costs the start-up of the CLI instead of pydantic, Jinja2 and the Grafana SDK (about
300 ms of imports alone on a 2-core VM; bench/bench.py measures it). The inputs, all compared
exactly before a hit is used:
- the spec's bytes, its path as named and as resolved, and the output formats;
- aimon-gen itself: every file of the package and of the shipped `rules/` and
  `dashboards/` (path, size, mtime, as Python's own bytecode cache does);
- the Python version and the libraries whose output lands in files (PyYAML, Jinja2,
  pydantic, the Grafana SDK), by the path, size and mtime of each one's __init__ file
  (installing another version rewrites it);
- the user rule packs the spec names: each folder's *.yaml/*.yml names and contents;
- for a checked build: the promtool and amtool binaries that passed these exact bytes.

One entry per spec and output format (a changed spec replaces its entry), at most
MAX_ENTRIES, in $AIMON_GEN_CACHE_DIR, else $XDG_CACHE_HOME/aimon-gen, else
~/.cache/aimon-gen. Errors are never cached; a cache that cannot be read or written is
skipped without a word.
"""

from __future__ import annotations

import marshal
import os
import shutil
import sys
import zlib
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from pathlib import Path

from . import __version__
from .errors import Problem
from .resources import data_dir

# Bump when the entry layout changes.
FORMAT = 1
_LIBRARIES = ("yaml", "jinja2", "pydantic", "pydantic_core", "grafana_foundation_sdk")
_TOOLS = ("promtool", "amtool")
# Entries kept; the least recently written go first (specs built once from temporary folders,
# e.g. by Terraform or Ansible, would otherwise pile up).
MAX_ENTRIES = 64
_PACKAGE = Path(__file__).resolve().parent


@dataclass
class Entry:
    files: dict[str, bytes]      # what the build writes, manifest included
    warnings: list[Problem]
    checked: bool                # promtool/amtool passed these bytes (the same binaries as now)


def folder() -> Path:
    explicit = os.environ.get("AIMON_GEN_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "aimon-gen"


def lookup(spec_path: Path, formats: tuple, need_checked: bool) -> Entry | None:
    """The last build's result when every input is unchanged, else None."""
    try:
        doc = marshal.loads(_slot(spec_path, formats).read_bytes())
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            return None
        if doc.get("inputs") != _inputs(spec_path, spec_path.read_bytes(), formats):
            return None
        if doc.get("packs") != _packs([Path(p) for p in doc.get("pack_folders", ())]):
            return None
        checked = doc.get("checked") == _tools()
        if need_checked and not checked:
            return None
        return Entry(doc["files"], [Problem(*w) for w in doc["warnings"]], checked)
    except (OSError, EOFError, ValueError, TypeError, KeyError):
        return None  # no entry, or one this version cannot read: build


def store(spec_path: Path, formats: tuple, spec_bytes: bytes, pack_folders: list[Path],
          files: dict[str, bytes], warnings: list[Problem], checked: bool) -> None:
    """Remember a successful build. `spec_bytes` are the bytes the build read."""
    target = _slot(spec_path, formats)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        doc = {
            "format": FORMAT,
            "inputs": _inputs(spec_path, spec_bytes, formats),
            "pack_folders": [str(p) for p in pack_folders],
            "packs": _packs(pack_folders),
            "checked": _tools() if checked else None,
            "files": dict(files),
            "warnings": [(w.file, w.line, w.col, w.path, w.message, w.hint, w.warning) for w in warnings],
        }
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(marshal.dumps(doc))
        os.replace(tmp, target)  # readers see the old entry or the new one, never half
        _trim(target.parent)
    except OSError:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass


def _trim(where: Path) -> None:
    entries = sorted(where.glob("*.build"), key=lambda p: p.stat().st_mtime_ns)
    for old in entries[:-MAX_ENTRIES]:
        old.unlink(missing_ok=True)


def _slot(spec_path: Path, formats: tuple) -> Path:
    # Only names the slot; what is in it is compared exactly (no hashlib: it loads OpenSSL).
    where = f"{spec_path.resolve()}\0{formats}".encode()
    return folder() / f"{zlib.crc32(where):08x}{zlib.adler32(where):08x}.build"


def _inputs(spec_path: Path, spec_bytes: bytes, formats: tuple) -> tuple:
    return (__version__, sys.version, str(spec_path), str(spec_path.resolve()), tuple(formats),
            spec_bytes, _code(), _libraries())


@cache
def _code() -> str:
    """aimon-gen's own files and shipped data, by path, size and mtime."""

    lines = []
    roots = [_PACKAGE]
    for name in ("rules", "dashboards"):
        found = data_dir(name)
        if not found.is_relative_to(_PACKAGE):  # a checkout: top-level rules/ and dashboards/
            roots.append(found)
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(filenames):
                st = os.stat(os.path.join(dirpath, name))
                lines.append(f"{dirpath}/{name}\0{st.st_size}\0{st.st_mtime_ns}")
    return "\n".join(lines)


def _libraries() -> tuple:
    out = []
    for name in _LIBRARIES:
        spec = find_spec(name)
        origin = spec.origin if spec else None
        st = os.stat(origin) if origin else None
        out.append((name, origin, st.st_size if st else 0, st.st_mtime_ns if st else 0))
    return tuple(out)


def _packs(folders: list[Path]) -> list:
    out = []
    for folder_path in folders:
        files = sorted(list(folder_path.glob("*.yaml")) + list(folder_path.glob("*.yml")))
        out.append([(p.name, p.read_bytes()) for p in files])
    return out


def _tools() -> tuple:
    out = []
    for name in _TOOLS:
        path = shutil.which(name)
        st = os.stat(path) if path else None
        out.append((name, os.path.realpath(path) if path else None, st.st_size if st else 0,
                    st.st_mtime_ns if st else 0))
    return tuple(out)
