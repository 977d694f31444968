"""The pipeline, top to bottom: load -> validate -> compile -> render -> check -> write.

A build whose inputs are all unchanged since the last one takes its files from the build
cache (cache.py) and skips the steps in between; the heavy modules are imported only
when the pipeline really runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import cache, output
from .errors import OutputConflict, Problem, SpecInvalid

if TYPE_CHECKING:  # the type only: a build from the cache never imports compile/
    from .compile.result import Bundle


@dataclass
class BuildResult:
    files: dict[str, bytes]
    bundle: Bundle | None = None  # the typed compile result; None when taken from the cache
    warnings: list = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    timings: list = field(default_factory=list)
    diff: str = ""
    seconds: float = 0.0
    cached: bool = False  # taken from the build cache: inputs unchanged since a build that passed
    recovered: str = ""   # what was done about an install an earlier, killed build left pending
    pending_install: bool = False  # --check: an interrupted install waits for the next build


def generate(spec_path: Path, formats: tuple = ()):
    """Spec file -> (rendered files incl. manifest, typed Bundle, loaded spec). Pure but for reading the spec."""
    _, files, bundle, loaded = _generate(spec_path, formats)
    return files, bundle, loaded


def compile_spec(spec_path: Path):
    """Spec file -> (typed Bundle, loaded spec): compiled, not rendered (what audit reads)."""
    _, bundle, loaded = _compiled(spec_path, ())
    return bundle, loaded


def compile_only(spec_path: Path) -> list:
    """Load and compile (no rendering, no checks): every error, and the build's warnings."""
    return _compiled(spec_path, ())[2].warnings


def _compiled(spec_path: Path, formats: tuple):
    """(context, typed Bundle, loaded spec with the compile step's warnings added), or SpecInvalid."""
    from .compile.context import Context  # lazy: a build from the cache never loads the compile steps
    from .compile.pipeline import compile_bundle  # lazy: as above
    from .spec.load import format_path, load_spec  # lazy: ... nor pydantic and the spec model

    loaded = load_spec(spec_path)
    ctx = Context(loaded.spec, str(spec_path), spec_path.resolve().parent, formats=tuple(formats))
    bundle = compile_bundle(ctx)
    if ctx.errors:
        raise SpecInvalid([Problem(loaded.file, *loaded.positions.of(e.path, e.at_key), format_path(e.path),
                                   e.message, e.hint) for e in ctx.errors])
    loaded.warnings = sorted(loaded.warnings + [
        Problem(loaded.file, *loaded.positions.of(w.path, w.at_key), format_path(w.path), w.message, w.hint, True)
        for w in ctx.warnings])
    return ctx, bundle, loaded


def _generate(spec_path: Path, formats: tuple):
    """(every rendered file, the ones the output formats select + manifest, bundle, loaded spec).
    The checks need every file staged, also when only the Kubernetes manifests are written."""
    from .render import render_bundle  # lazy: PyYAML, only when the pipeline runs

    ctx, bundle, loaded = _compiled(spec_path, formats)
    rendered = render_bundle(bundle, spec_path.name, loaded.spec.name)
    return rendered, output.with_manifest(_selected(rendered, ctx.output_formats())), bundle, loaded


def _selected(rendered: dict, formats: tuple) -> dict:
    # Kubernetes manifests live under kubernetes/; the README describes whichever is written.
    if "files" in formats:
        return rendered
    return {p: b for p, b in rendered.items() if p.startswith("kubernetes/") or p == "README.md"}


def build(spec_path: Path, out_dir: Path, validate: bool = True, check_only: bool = False,
          formats: tuple = (), use_cache: bool = True) -> BuildResult:
    t0 = time.perf_counter()
    formats = tuple(formats)
    hit = cache.lookup(spec_path, formats, need_checked=validate and not check_only) if use_cache else None
    if hit:
        result = BuildResult(hit.files, None, hit.warnings, cached=True)
        staged = hit.files
    else:
        spec_bytes = _read(spec_path)
        rendered, files, bundle, loaded = _generate(spec_path, formats)
        result = BuildResult(files, bundle, loaded.warnings)
        staged = {**rendered, **files}
    result.warnings = list(result.warnings) + _manifest_warnings(out_dir)
    if check_only:
        result.pending_install = output.pending_install(out_dir)
        result.diff = output.diff(out_dir, result.files)
    else:
        with output.locked(out_dir):
            result.recovered = output.recover(out_dir)
            clashes = output.conflicts(out_dir, result.files)
            if clashes:
                raise OutputConflict(out_dir, clashes)
            with output.staging(out_dir) as stage:
                output.write_tree(stage, staged)
                if validate and not hit:
                    from . import check  # lazy: imports the compile steps

                    checks = check.plan(bundle, spec_path.name, loaded.spec.name)
                    result.timings = check.run(stage, checks)
                result.changed, result.removed = output.install(stage, out_dir, result.files)
    if use_cache and not hit and spec_bytes is not None and _read(spec_path) == spec_bytes:
        # Only what passed is remembered; a spec edited during the build is not.
        folders = [spec_path.resolve().parent / f for f in loaded.spec.rules.packs]
        cache.store(spec_path, formats, spec_bytes, folders, result.files, result.warnings,
                    checked=validate and not check_only)
    result.seconds = time.perf_counter() - t0
    return result


def _manifest_warnings(out_dir: Path) -> list:
    return [Problem(str(out_dir / output.MANIFEST), 0, 0, "", f"lists '{rel}', which is not inside the output "
                    "folder; it is left alone", "aimon-gen never writes such a line: check who edited the manifest",
                    True) for rel in output.unsafe_manifest_entries(out_dir)]


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None  # the loader reports it
