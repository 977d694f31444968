"""The pipeline, top to bottom: load -> validate -> compile -> render -> check -> write."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from . import check, output
from .compile import Context, compile_bundle
from .errors import OutputConflict, Problem, SpecInvalid
from .render import render_bundle
from .spec.load import format_path, load_spec


@dataclass
class BuildResult:
    files: dict[str, bytes]
    warnings: list = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    timings: list = field(default_factory=list)
    diff: str = ""
    seconds: float = 0.0


def generate(spec_path: Path, formats: tuple = ()):
    """Spec file -> (rendered files incl. manifest, bundle, loaded spec). Pure but for reading the spec."""
    _, files, bundle, loaded = _generate(spec_path, formats)
    return files, bundle, loaded


def _generate(spec_path: Path, formats: tuple):
    """(every rendered file, the ones the output formats select + manifest, bundle, loaded spec).
    The checks need every file staged, also when only the Kubernetes manifests are written."""
    loaded = load_spec(spec_path)
    ctx = Context(loaded.spec, str(spec_path), spec_path.resolve().parent, formats=tuple(formats))
    bundle = compile_bundle(ctx)
    if ctx.errors:
        raise SpecInvalid([Problem(loaded.file, *loaded.positions.of(e.path, e.at_key), format_path(e.path),
                                   e.message, e.hint) for e in ctx.errors])
    loaded.warnings = sorted(loaded.warnings + [
        Problem(loaded.file, *loaded.positions.of(w.path, w.at_key), format_path(w.path), w.message, w.hint, True)
        for w in ctx.warnings])
    rendered = render_bundle(bundle, spec_path.name, loaded.spec.name)
    return rendered, output.with_manifest(_selected(rendered, ctx.output_formats())), bundle, loaded


def _selected(rendered: dict, formats: tuple) -> dict:
    # Kubernetes manifests live under kubernetes/; the README describes whichever is written.
    if "files" in formats:
        return rendered
    return {p: b for p, b in rendered.items() if p.startswith("kubernetes/") or p == "README.md"}


def build(spec_path: Path, out_dir: Path, validate: bool = True, check_only: bool = False,
          formats: tuple = ()) -> BuildResult:
    t0 = time.perf_counter()
    rendered, files, bundle, loaded = _generate(spec_path, formats)
    result = BuildResult(files, loaded.warnings)
    if check_only:
        result.diff = output.diff(out_dir, files)
        result.seconds = time.perf_counter() - t0
        return result
    clashes = output.conflicts(out_dir, files)
    if clashes:
        raise OutputConflict(out_dir, clashes)
    with output.staging(out_dir) as stage:
        output.write_tree(stage, {**rendered, **files})
        if validate:
            cmds = check.plan(stage, bundle, spec_path.name, loaded.spec.name)
            result.timings = check.run(stage, cmds)
        result.changed, result.removed = output.install(stage, out_dir, files)
    result.seconds = time.perf_counter() - t0
    return result
