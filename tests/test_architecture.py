"""The shape docs/architecture.md promises, checked on the source text with ast (the code is
never imported, so a broken module cannot hide a rule it breaks):
- no import cycles between aimon_gen modules (function-level imports count too);
- regular expressions live in the PromQL module: at most MAX_RE other modules import `re`;
- no registration at import time (a module-level registry another module fills, like EXTRA_PLANS);
- imports at module top, except in cli.py (start-up time), of the heavy libraries, and where
  the line says why with a `# lazy: ...` comment.
Each failure lists every offender as path:line."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "aimon_gen"
PROMQL = "aimon_gen.promql"
MAX_RE = 5
# Measured with `python -X importtime`: each costs tens of ms or more, so a command that does
# not need one may import it inside the function that does.
HEAVY = {"yaml", "jinja2", "pydantic", "typer", "prometheus_client", "grafana_foundation_sdk", "promql_parser",
         "hypothesis", "http", "urllib", "concurrent", "zoneinfo"}
LAZY_OK_MODULES = {"aimon_gen.cli"}  # the command line: every command imports only what it runs
# Mutating calls that fill a registry.
FILLERS = {"append", "extend", "update", "add", "setdefault", "insert", "register"}


@dataclass(frozen=True)
class Import:
    target: str        # an aimon_gen module, or a top-level library name
    line: int
    in_function: bool
    commented: bool    # the import line (or the line above) carries a `# lazy` comment


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def _walk(node: ast.AST, in_function: bool = False) -> Iterator[tuple[ast.AST, bool]]:
    """Every node with whether it sits inside a function; TYPE_CHECKING blocks are skipped."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child):
            for sub in child.orelse:
                yield sub, in_function
                yield from _walk(sub, in_function)
            continue
        yield child, in_function
        yield from _walk(child, in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef))


def _imports(module: str, text: str, is_package: bool = False) -> list[Import]:
    lines = text.splitlines()
    tree = ast.parse(text)
    package = module.split(".") if is_package else module.split(".")[:-1]
    out = []
    for node, in_function in _walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        span = lines[node.lineno - 1:(node.end_lineno or node.lineno)]
        above = lines[node.lineno - 2].strip() if node.lineno > 1 else ""
        commented = any("# lazy" in s for s in span) or above.startswith("# lazy")
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            base = package[:len(package) - node.level + 1] if node.level else []
            stem = ".".join([*base, *([node.module] if node.module else [])])
            names = []
            for a in node.names:
                sub = f"{stem}.{a.name}"
                names.append(sub if sub in MODULES else stem)
        for name in names:
            target = name if name in MODULES else name.split(".")[0]
            out.append(Import(target, node.lineno, in_function, commented))
    return out


IMPORTS = {m: _imports(m, p.read_text(encoding="utf-8"), p.name == "__init__.py") for m, p in MODULES.items()}
GRAPH = {m: sorted({i.target for i in imps if i.target in MODULES}) for m, imps in IMPORTS.items()}


def _cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), or a module importing itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph[v]:
                found.append(sorted(comp))

    for m in sorted(graph):
        if m not in index:
            visit(m)
    return found


def test_no_import_cycles():
    report = []
    for comp in _cycles(GRAPH):
        members = set(comp)
        edges = [f"  {_rel(MODULES[m])}:{i.line} imports {i.target}" + (" (in a function)" if i.in_function else "")
                 for m in comp for i in IMPORTS[m] if i.target in members]
        report.append(f"cycle between {', '.join(comp)}:\n" + "\n".join(sorted(set(edges))))
    assert not report, f"{len(report)} import cycle(s); break each edge listed:\n" + "\n".join(report)


def test_regular_expressions_live_in_the_promql_module():
    first = {m: next((i.line for i in imps if i.target == "re"), 0) for m, imps in IMPORTS.items() if m != PROMQL}
    users = [f"{_rel(MODULES[m])}:{line}" for m, line in first.items() if line]
    assert len(users) <= MAX_RE, (f"{len(users)} modules outside {PROMQL} import re (at most {MAX_RE}); "
                                  "parse PromQL with aimon_gen.promql instead:\n  " + "\n  ".join(users))


def _filled_at_import(text: str, shown: str) -> list[str]:
    """Module-level statements that fill another module's attribute, or call a register function."""
    tree = ast.parse(text)
    imported = {a.asname or a.name.split(".")[0] for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)
                for a in n.names}
    out = []
    for stmt in tree.body:  # module level only: code inside functions runs when called
        for node in ast.walk(stmt):
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                break
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and "register" in node.func.id:
                out.append(f"{shown}:{node.lineno} calls {node.func.id}() at import time")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in FILLERS:
                owner = node.func.value
                root = owner.value if isinstance(owner, ast.Attribute) else None
                if isinstance(root, ast.Name) and root.id in imported:
                    out.append(f"{shown}:{node.lineno} fills {ast.unparse(owner)} at import time")
            elif isinstance(node, ast.Assign | ast.AugAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    inner = t.value if isinstance(t, ast.Subscript) else t
                    if (isinstance(inner, ast.Attribute) and isinstance(inner.value, ast.Name)
                            and inner.value.id in imported):
                        out.append(f"{shown}:{node.lineno} sets {ast.unparse(t)} at import time")
    return out


def test_no_registration_at_import_time():
    offenders = []
    for path in MODULES.values():
        text = path.read_text(encoding="utf-8")
        offenders += [f"{_rel(path)}:{n} names {word}" for n, line in enumerate(text.splitlines(), 1)
                      for word in ("EXTRA_PLANS", "_register") if word in line]
        offenders += _filled_at_import(text, _rel(path))
    assert not offenders, ("registries are filled at import time; plan from the build result instead:\n  "
                           + "\n  ".join(sorted(set(offenders))))


def test_imports_are_at_module_top():
    offenders = list(dict.fromkeys(f"{_rel(MODULES[m])}:{i.line} imports {i.target}"
                                   for m, imps in IMPORTS.items() if m not in LAZY_OK_MODULES
                                   for i in imps if i.in_function and not i.commented and i.target not in HEAVY))
    assert not offenders, (f"{len(offenders)} function-level imports of aimon_gen modules or light libraries; "
                           "move each to the module top, or say why it must be lazy with a `# lazy: ...` "
                           "comment on its line:\n  " + "\n  ".join(offenders))


def test_the_checks_see_the_code():
    """Guards the checks themselves: they find the modules and the imports they judge."""
    assert "aimon_gen.cli" in MODULES and PROMQL in MODULES and "aimon_gen.compile" in MODULES
    assert any(i.target == "aimon_gen.errors" for imps in IMPORTS.values() for i in imps)
    assert any(i.in_function for i in IMPORTS["aimon_gen.cli"])


def test_the_checks_catch_what_they_look_for():
    """Each check on a small made-up case, so a check that silently finds nothing fails here."""
    assert _cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c"]]
    assert _cycles({"a": ["a"]}) == [["a"]] and _cycles({"a": ["b"], "b": []}) == []

    registry = ("from .. import check\n\ndef plan():\n    check.PLANS.append(1)\n\n"
                "check.PLANS.append(plan)\ncheck.HOOKS['x'] = plan\n_register()\n")
    assert _filled_at_import(registry, "m.py") == ["m.py:6 fills check.PLANS at import time",
                                                   "m.py:7 sets check.HOOKS['x'] at import time",
                                                   "m.py:8 calls _register() at import time"]

    source = ("import re\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .errors import Problem\n"
              "def f():\n    from . import scheme\n    import yaml\n    # lazy: only verify needs it\n"
              "    from .verify import run\n")
    found = {(i.target, i.in_function, i.commented) for i in _imports("aimon_gen.x", source)}
    assert found == {("re", False, False), ("typing", False, False), ("aimon_gen.scheme", True, False),
                     ("yaml", True, False), ("aimon_gen.verify.run", True, True)}
