"""Every YAML input (the spec, rule packs, dashboard definitions, shipped data files) ->
a pydantic model, or every problem at its file:line:col with the field path, what is
allowed and a did-you-mean suggestion.

PyYAML drops positions and silently accepts duplicate keys, so a document is composed into
nodes and walked here, keeping the position of every key and value. The walk also refuses
what no input needs and an attacker would use: YAML tags, deep nesting, alias bombs, huge
numbers, binary files.
"""

from __future__ import annotations

import math
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from .errors import Problem, SpecInvalid, did_you_mean

MAX_BYTES = 5 * 1024 * 1024
MAX_NODES = 300_000  # values after aliases expand: 3x the largest host list (spec.types.MAX_HOSTS)
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR = "tag:yaml.org,2002:str"


class _Loader(_BaseLoader):  # type: ignore[valid-type,misc]
    def resolve(self, kind, value, implicit):
        # The parser asks each scalar's implicit tag (a scan of the resolvers' regexes); the
        # answer depends only on the text, and the shipped packs repeat the same strings.
        if kind is not yaml.ScalarNode:
            return super().resolve(kind, value, implicit)
        key = (value, implicit)
        tag = _TAGS.get(key)
        if tag is None:
            if len(_TAGS) > 100_000:  # a long-lived process (tests, verify) reading many inputs
                _TAGS.clear()
            tag = _TAGS[key] = super().resolve(kind, value, implicit)
        return tag


_TAGS: dict = {}

PathT = tuple  # of str (mapping keys) and int (list indexes)
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class FileKind:
    """What a file is, for messages: `a spec may be at most 5 MiB`, `the rule pack is empty`."""
    name: str
    shape: str = "a mapping"        # what the top level must be
    empty_hint: str = ""
    size_hint: str = ""


SPEC = FileKind("spec", "a mapping of fields (version, name, node_groups, ...)", "start from `aimon-gen init`",
            "describe fleets with host ranges such as gpu-[001:512].internal")
RULE_PACK = FileKind("rule pack", "a mapping with a `groups:` list")
DASHBOARD = FileKind("dashboard definition", "a mapping of fields (title, uid, rows, ...)")
DATA = FileKind("data file")


@dataclass
class Positions:
    """1-based (line, col) of each value and each mapping key, by data path."""
    value: dict[PathT, tuple[int, int]] = field(default_factory=dict)
    key: dict[PathT, tuple[int, int]] = field(default_factory=dict)

    def of(self, path: PathT, at_key: bool = False) -> tuple[int, int]:
        if at_key and path in self.key:
            return self.key[path]
        for n in range(len(path), -1, -1):
            p = path[:n]
            if p in self.value:
                return self.value[p]
        return (0, 0)


def format_path(path: PathT) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load(path: Path, model: type[M], shown: str, kind: FileKind = DATA) -> tuple[M, Any, Positions]:
    """Read and validate one file: the model, the plain data and the positions of its values.
    Raises SpecInvalid with every problem (YAML and schema ones together)."""
    data, positions, problems = parse_yaml(path, shown, kind)
    try:
        result = model.model_validate(data)
    except ValidationError as exc:
        raise SpecInvalid(problems + schema_problems(exc, data, positions, shown, model, problems)) from None
    if problems:
        raise SpecInvalid(problems)
    return result, data, positions


def schema_problems(exc: ValidationError, data: Any, positions: Positions, file: str,
                    root: type[BaseModel], said: list[Problem]) -> list[Problem]:
    """pydantic_problems, less those about a value the YAML walker already refused (a tag,
    a huge number): each is reported once."""
    paths = [p.path for p in said if p.path]
    return [p for p in pydantic_problems(exc, data, positions, file, root)
            if not any(p.path == q or p.path.startswith((q + ".", q + "[")) for q in paths)]


def parse_yaml(path: Path, file: str, kind: FileKind = SPEC) -> tuple[dict, Positions, list[Problem]]:
    """Data, positions, and problems (duplicate keys) that do not stop validation."""
    def fail(msg: str, line: int = 0, col: int = 0, hint: str = "") -> SpecInvalid:
        return SpecInvalid([Problem(file, line, col, "", msg, hint)])

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise fail("no such file") from None
    except IsADirectoryError:
        raise fail(f"is a folder, not a {kind.name} file") from None
    except OSError as exc:
        raise fail(f"cannot read: {exc.strerror}") from None
    if len(raw) > MAX_BYTES:
        raise fail(f"the file is {len(raw) / 2**20:.1f} MiB; a {kind.name} may be at most {MAX_BYTES // 2**20} MiB",
                   hint=kind.size_hint)
    if b"\0" in raw:
        at = raw.index(b"\0")
        line = raw[:at].count(b"\n") + 1
        raise fail(f"this is a binary file, not a YAML {kind.name} (a NUL byte)", line,
                   at - (raw.rfind(b"\n", 0, at) + 1) + 1)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise fail(f"not UTF-8 text (byte 0x{raw[exc.start]:02x})", line, 1) from None

    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        msg = (exc.problem or "YAML syntax error").strip()
        if exc.context:
            msg = f"{exc.context}: {msg}" if "found" in msg else msg
        line = mark.line + 1 if mark else 0
        raise fail(f"YAML syntax error: {msg}", line, mark.column + 1 if mark else 0,
                   _syntax_hint(text, mark, msg)) from None
    except RecursionError:
        raise fail(f"the document is nested too deeply (a {kind.name} needs at most {MAX_DEPTH} levels)") from None
    except yaml.YAMLError as exc:
        raise fail(f"YAML error: {exc}") from None
    finally:
        loader.dispose()
    if node is None:
        raise fail(f"the {kind.name} is empty", hint=kind.empty_hint)
    if not isinstance(node, yaml.MappingNode):
        raise fail(f"the {kind.name} must be {kind.shape}",
                   node.start_mark.line + 1, node.start_mark.column + 1)

    positions, problems = Positions(), list[Problem]()
    walker = _Walker(_Loader(""), file, positions, problems, kind)
    data = walker.walk(node, ())
    return data, positions, problems


def _syntax_hint(text: str, mark, msg: str) -> str:
    """The usual cause of a parser message, and its fix."""
    if mark is None:
        return ""
    lines = text.splitlines()
    line = lines[mark.line] if mark.line < len(lines) else ""
    if "\t" in line[:mark.column + 1] or (mark.column < len(line) and line[mark.column] == "\t"):
        return "YAML indents with spaces only: replace the tab with spaces"
    if re.search(r"\[[^\]\"']*\[[^\]]*:[^\]]*\]", line) and ("','" in msg or "']'" in msg or "flow" in msg):
        return 'quote a host range inside [ ]: hosts: ["gpu-[01:16].internal"]'
    if re.search(r":\s*\{\{", line):
        return 'quote a value that starts with {{: team: "{{ ... }}"'
    return ""


# YAML tags an input may use: the plain scalar, sequence and mapping kinds (what an
# untagged value resolves to). Anything else (`!foo`, `!!binary`, `!!set`, `!!python/...`)
# is refused at its line rather than constructed.
_SCALAR_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null")}
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
MAX_DEPTH = 64
MAX_INT = 2 ** 63


class _Walker:
    def __init__(self, loader, file: str, positions: Positions, problems: list[Problem], kind: FileKind):
        self.loader, self.file, self.pos, self.problems, self.kind = loader, file, positions, problems, kind
        self.count = 0

    def _problem(self, node: yaml.Node, path: PathT, message: str, hint: str = "") -> None:
        mark = node.start_mark
        self.problems.append(Problem(self.file, mark.line + 1, mark.column + 1, format_path(path), message, hint))

    def walk(self, node: yaml.Node, path: PathT) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            # Stop at once: walking further is the attack's whole point.
            raise SpecInvalid([Problem(self.file, node.start_mark.line + 1, node.start_mark.column + 1, "",
                                       f"the document expands to more than {MAX_NODES} values",
                                       "an alias (*name) repeated inside aliases multiplies; write it out")])
        if len(path) > MAX_DEPTH:
            if len(path) == MAX_DEPTH + 1:
                self._problem(node, path, f"nested more than {MAX_DEPTH} levels deep; no {self.kind.name} field is")
            return None
        mark = node.start_mark
        self.pos.value[path] = (mark.line + 1, mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            if node.tag != "tag:yaml.org,2002:map":
                self._problem(node, path, f"YAML tag '{node.tag}' is not supported", "remove the tag")
                return None
            explicit = sum(1 for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge")
            try:
                self.loader.flatten_mapping(node)
            except yaml.MarkedYAMLError as exc:
                m = exc.problem_mark or mark
                self.problems.append(Problem(self.file, m.line + 1, m.column + 1, format_path(path),
                                             "a merge key (<<) takes an alias of a mapping, or a list of them",
                                             "e.g. <<: *defaults"))
                return None
            # flatten_mapping puts merged pairs first; a key given explicitly wins over them.
            merged = len(node.value) - explicit
            own = {self._key(k) for k, _ in node.value[merged:]}
            out: dict = {}
            for i, (knode, vnode) in enumerate(node.value):
                key = self._key(knode)
                kmark = (knode.start_mark.line + 1, knode.start_mark.column + 1)
                if i < merged and (key in own or key in out):
                    continue
                if not isinstance(key, (str, int, float, bool)) or key is None:
                    self.problems.append(Problem(self.file, *kmark, format_path(path), "a key must be a plain name"))
                    continue
                if key in out:
                    first = self.pos.key[path + (key,)][0]
                    self.problems.append(Problem(self.file, *kmark, format_path(path + (key,)),
                                                 f"duplicate key '{key}' (first given on line {first})",
                                                 "remove one of them; YAML would silently keep the last"))
                    continue
                self.pos.key[path + (key,)] = kmark
                out[key] = self.walk(vnode, path + (key,))
            return out
        if isinstance(node, yaml.SequenceNode):
            if node.tag != "tag:yaml.org,2002:seq":
                self._problem(node, path, f"YAML tag '{node.tag}' is not supported", "remove the tag")
                return None
            return [self.walk(item, path + (i,)) for i, item in enumerate(node.value)]
        return self._scalar(node, path)

    def _key(self, knode: yaml.Node) -> Any:
        if knode.tag == _STR:
            return knode.value  # what the constructor would return, without its dispatch
        if isinstance(knode, yaml.ScalarNode) and (knode.tag in _SCALAR_TAGS or knode.tag == _TIMESTAMP):
            return knode.value if knode.tag == _TIMESTAMP else self.loader.construct_object(knode)
        return None  # reported as "a key must be a plain name"

    def _scalar(self, node: yaml.Node, path: PathT) -> Any:
        if node.tag == _STR:
            return node.value  # most values: what the constructor would return, without its dispatch
        if node.tag == _TIMESTAMP:
            return node.value  # a date is text to a spec (e.g. a label value)
        if node.tag not in _SCALAR_TAGS:
            self._problem(node, path, f"YAML tag '{node.tag}' is not supported",
                          "remove the tag; write the value plainly")
            return None
        try:
            value = self.loader.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError) as exc:
            self._problem(node, path, f"not a valid value: {exc}")
            return None
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= MAX_INT:
            self._problem(node, path, f"the number {node.value[:30]} is too large",
                          f"no {self.kind.name} field takes it")
            return None
        if isinstance(value, float) and not math.isfinite(value):
            self._problem(node, path, f"'{node.value}' is not a finite number", "give a number such as 90 or 0.5")
            return None
        return value


# --- pydantic errors -> problems ---------------------------------------------------------

# Error kinds raised by spec/types.py, whose messages already show the value.
_OWN_ERRORS = {"duration", "percent", "byte_size", "label_name", "name", "label_value", "host", "target",
               "host_range", "hosts", "empty", "url", "header", "inline_secret", "text"}
_EXPECTED_RE = re.compile(r"'([^']*)'")


def pydantic_problems(exc: ValidationError, data: Any, positions: Positions, file: str,
                      root: type[BaseModel]) -> list[Problem]:
    problems: dict[tuple, Problem] = {}
    for err in exc.errors(include_url=False):
        path = data_path(err["loc"], data)
        kind, value = err["type"], err.get("input")
        at_key = kind == "extra_forbidden" or "[key]" in err["loc"]
        hint = ""
        if kind == "missing":
            if str(path[-1]).endswith("_file") and _has_inline(data, path):
                continue  # `password: x` is reported once, by the message naming password_file
            msg = f"'{path[-1]}' is required"
            line, col = positions.of(path[:-1])
        else:
            line, col = positions.of(path, at_key=at_key)
            if kind == "extra_forbidden":
                allowed = _fields_at(root, path[:-1])
                msg = f"unknown field '{path[-1]}'"
                hint = did_you_mean(path[-1], allowed) or (f"allowed: {', '.join(allowed)}" if allowed else "")
            elif kind == "literal_error":
                choices = _EXPECTED_RE.findall(err["ctx"]["expected"]) or [err["ctx"]["expected"]]
                msg = f"{value!r} is not allowed; choose one of: {', '.join(choices)}"
                hint = did_you_mean(value, choices)
            elif kind in _OWN_ERRORS:
                msg = err["msg"]
            elif kind in ("model_type", "dict_type"):
                msg = f"expected a mapping of fields, got {_show(value)}"
            elif kind.endswith(("_type", "_parsing")):
                msg = f"{err['msg'].replace('Input should be', 'expected')}, got {_show(value)}"
            elif err.get("ctx") and "error" not in err["ctx"] and kind not in ("value_error",):
                msg = f"{err['msg']}, got {_show(value)}"
            else:
                msg = err["msg"].removeprefix("Value error, ")
        problems.setdefault((path, msg), Problem(file, line, col, format_path(path), msg, hint))
    return list(problems.values())


def _has_inline(data: Any, path: PathT) -> bool:
    node = data
    for part in path[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return False
    return isinstance(node, dict) and str(path[-1]).removesuffix("_file") in node


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def data_path(loc: tuple, data: Any) -> PathT:
    """Drop pydantic's union/validator tags from a loc, keeping the path into the data."""
    out, cur = [], data
    for part in loc:
        if ((isinstance(cur, dict) and part in cur)
                or (isinstance(cur, list) and isinstance(part, int) and part < len(cur))):
            out.append(part)
            cur = cur[part]
        elif isinstance(cur, dict) and isinstance(part, str) and not _is_tag(part):
            out.append(part)  # a missing or extra key
            cur = None
    return tuple(out)


def _is_tag(part: str) -> bool:
    return "[" in part or part in {"str", "int", "float", "bool", "list", "dict"} or part[:1].isupper()


def _fields_at(root: type[BaseModel], path: PathT) -> list[str]:
    """Field names (aliases where set) of the model that sits at a data path."""
    tp: Any = root
    for part in path:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str):
            f = next((f for n, f in tp.model_fields.items() if (f.alias or n) == part), None)
            if f is None:
                return []
            tp = f.annotation
        elif typing.get_origin(tp) is list and isinstance(part, int):
            tp = typing.get_args(tp)[0]
        elif typing.get_origin(tp) is dict:
            tp = typing.get_args(tp)[1]
        else:
            return []
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [f.alias or n for n, f in tp.model_fields.items()]
    return []


def _unwrap(tp: Any) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            tp = models[0] if models else args[0]
        else:
            return tp
