"""Property: any spec gives a checked build or problems at file:line, never a crash.

Specs are made by mutating the shipped ones (specs/*.yaml): keys deleted or duplicated, values
swapped for other types, nulls, huge, negative and non-finite numbers, unicode (NUL, RTL,
zero-width), long strings, template syntax, YAML tags, anchors, aliases and merge keys, deep
nesting and tabs. For each:
- the build either succeeds, and its files pass promtool and amtool (the build checks them), or
- it fails with SpecInvalid, every problem at file:line (line > 0), and the output folder is
  left exactly as it was;
- nothing else: no other exception (the CLI's exit 3), no CheckFailed on a spec that validated.

`./dev test` runs a fast profile (AIMON_GEN_FUZZ_EXAMPLES, default 120); `./dev fuzz` the long one.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aimon_gen.build import build
from aimon_gen.errors import CheckFailed, SpecInvalid
from conftest import ROOT, tool

pytestmark = pytest.mark.e2e  # builds and checks over a hundred mutated specs

SPECS = {p.name: yaml.safe_load(p.read_text()) for p in sorted((ROOT / "specs").glob("*.yaml"))}
EXAMPLES = int(os.environ.get("AIMON_GEN_FUZZ_EXAMPLES", "120"))

NASTY = [
    None, "", 0, -1, 1.5, -3.7, 10 ** 30, 1e308, float("nan"), float("inf"), True, False,
    "\x00", "a\x00b", "\u202eevil", "zero\u200bwidth", "x" * 100_000, "{{ $labels.instance }}", "{{", "}}",
    "<%= 1 %>", "<% for x in y %>", '"', "'", "a\"b", "a\\", "line\nbreak", "\t", "yes", "no", "on", "0x1F",
    "0o17", "1_000", "~", ".inf", ".nan", "1000y", "5m", "-5m", "99.99", "100", "gpu-[1:3].x", "h[1:1000]x[1:1000]",
    "http://user:pass@h/x", "http://h\x1b/x", [], {}, [None], {"a": None}, [[[[[[]]]]]], {"": 1}, {"__x": 1},
    "é", "ümlaut-ü", "日本", "emoji-🔥",
]
TEXT_EDITS = ["tag", "anchor", "merge", "tab", "deep", "dup", "raw", "raw"]
# Plain YAML 1.1 scalars as a user types them (yaml.safe_dump would quote them).
RAW = ["yes", "no", "on", "off", "y", "0x1F", "0o17", "017", "1_000", ".inf", "-.inf", ".nan", "~", "null",
       "1e400", "-0", "2024-01-01", "2024-01-01T00:00:00Z", "12:30", "1:30:00", "[]", "{}", "'{{'", '"a\\0b"',
       "!!str 5", "*nope", "&x 5", "|\n  block", ">-\n  folded", "[a, [b, {c: d}]]", "3.", "+5", "0b101"]


def _paths(node, path=()):
    yield path
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, path + (i,))


def _set(doc, path, value):
    node = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def _delete(doc, path):
    node = doc
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]


@st.composite
def specs(draw) -> str:
    import copy

    name = draw(st.sampled_from(sorted(SPECS)))
    doc = copy.deepcopy(SPECS[name])
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        how = draw(st.sampled_from(["value", "value", "delete", "duplicate", "swap"]))
        try:
            if how == "value":
                _set(doc, path, draw(st.sampled_from(NASTY)))
            elif how == "delete":
                _delete(doc, path)
            elif how == "duplicate":
                node = doc
                for part in path[:-1]:
                    node = node[part]
                if isinstance(node, list):
                    node.append(copy.deepcopy(node[path[-1]]))
                else:
                    node[f"{path[-1]}"] = copy.deepcopy(node[path[-1]])
            else:
                node = doc
                for part in path:
                    node = node[part]
                swapped = {str: 7, int: "7", float: [1.0], list: {"k": "v"}, dict: ["v"], bool: "true"}
                _set(doc, path, swapped.get(type(node), "x"))
        except (KeyError, IndexError, TypeError):
            continue
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=1 << 20)
    return _text_edit(draw, text)


def _text_edit(draw, text: str) -> str:
    lines = text.splitlines()
    edit = draw(st.sampled_from(TEXT_EDITS + [None, None, None]))
    if edit is None or len(lines) < 3:
        return text
    i = draw(st.integers(1, len(lines) - 1))
    line = lines[i]
    head, sep, tail = line.partition(": ")
    if edit == "tag" and sep:
        tag = draw(st.sampled_from(["!foo", "!!binary", "!!set", "!!omap", "!!python/object:os.system",
                                    "!!timestamp", "!!str", "!!int"]))
        lines[i] = f"{head}: {tag} {tail}"
    elif edit == "anchor" and sep:
        lines[i] = f"{head}: &a {tail}"
        lines.append("extra_alias: *a")
    elif edit == "merge":
        indent = len(line) - len(line.lstrip(" -"))
        lines.insert(i, " " * indent + draw(st.sampled_from(["<<: 1", "<<: *nope", "<<: {a: 1}", "<<: [1, 2]"])))
    elif edit == "tab":
        lines[i] = "\t" + line
    elif edit == "deep" and sep:
        depth = draw(st.sampled_from([70, 2000]))
        lines[i] = f"{head}: {'[' * depth}{']' * depth}"
    elif edit == "dup":
        lines.insert(i, line)
    elif edit == "raw" and sep:
        lines[i] = f"{head}: {draw(st.sampled_from(RAW))}"
    return "\n".join(lines) + "\n"


def _tree(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    tool("promtool")
    tool("amtool")
    folder = tmp_path_factory.mktemp("fuzz")
    # An output folder holding a good build: a failed build must leave it byte for byte.
    build(ROOT / "specs" / "example.yaml", folder / "out", validate=False, use_cache=False)
    return folder


@settings(max_examples=EXAMPLES, deadline=None, derandomize=not os.environ.get("AIMON_GEN_FUZZ_SEED"),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(text=specs())
def test_any_spec_builds_or_fails_at_file_line(workdir, text):
    spec = workdir / "spec.yaml"
    spec.write_text(text, encoding="utf-8")
    out = workdir / "out"
    before = _tree(out)
    try:
        build(spec, out, validate=True, use_cache=False)
    except SpecInvalid as exc:
        assert exc.problems, "SpecInvalid without a problem"
        unplaced = [str(p) for p in exc.problems if p.line <= 0 and not p.file.endswith((".yml", ".yaml"))]
        unplaced += [str(p) for p in exc.problems if p.line <= 0 and p.file == str(spec)]
        assert not unplaced, f"problems without file:line: {unplaced}\n--- spec ---\n{text[:3000]}"
        assert _tree(out) == before, "a failed build changed the output folder"
    except CheckFailed as exc:
        pytest.fail(f"the spec validated but {exc.tool} rejected {exc.file}:\n{exc.output[:2000]}\n"
                    f"--- spec ---\n{text[:3000]}")
    else:
        # A good build replaced the folder: restore the baseline for the next example.
        shutil.rmtree(out)
        build(ROOT / "specs" / "example.yaml", out, validate=False, use_cache=False)
