"""Small PromQL text helpers: quoting spec values, and reading an expression's metric names.

Quoting: every value taken from the spec goes into PromQL through `quote` (a double-quoted
string with backslash, quote and control characters escaped) or `regex_alternatives`
(RE2 metacharacters escaped as well), so no spec value can end a string early.

Reading: `metric_names` and `has_comparison` work on the text with strings, label
matchers, ranges and grouping clauses removed. This runs at build time on every rule
(user packs included) without a parser dependency; tests/test_rules_checks.py checks it
against promql-parser's syntax tree for every shipped rule.
"""

from __future__ import annotations

import re

_RE2_META = re.compile(r"([\\.+*?()|\[\]{}^$])")


def quote(value: str) -> str:
    """A PromQL double-quoted string holding exactly `value`."""
    out = value.replace("\\", "\\\\").replace('"', '\\"')
    out = out.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{out}"'


def regex_alternatives(values) -> str:
    """A quoted RE2 regex matching exactly one of `values` (Prometheus anchors it)."""
    return quote("|".join(_RE2_META.sub(r"\\\1", v) for v in values))


def matcher(label: str, values, negate: bool = False) -> str:
    """`label="v"`, `label=~"a|b"` or their negations."""
    values = list(values)
    if len(values) == 1:
        return f"{label}{'!=' if negate else '='}{quote(values[0])}"
    return f"{label}{'!~' if negate else '=~'}{regex_alternatives(values)}"


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_BRACES = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\[\]]*\]")
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_OFFSET = re.compile(r"\boffset\s+-?[0-9a-z]+")
_IDENT = re.compile(r"(?<![\w:.])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])")
_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
             "offset", "inf", "nan", "Inf", "NaN", "atan2", "start", "end"}
_COMPARISON = re.compile(r"==|!=|>=|<=|>|<")


def _strip(expr: str) -> str:
    text = _STRING.sub('""', expr)
    text = _BRACES.sub("", text)
    text = _RANGE.sub("", text)
    text = _GROUPING.sub(" ", text)
    return _OFFSET.sub(" ", text)


def metric_names(expr: str) -> set[str]:
    """Names of the series an expression selects (function names and keywords excluded)."""
    text = _strip(expr)
    names = set()
    for m in _IDENT.finditer(text):
        name = m.group(1)
        rest = text[m.end():].lstrip()
        if rest.startswith("(") or name in _KEYWORDS:
            continue
        if re.fullmatch(r"\d+[smhdwy]", name):
            continue
        names.add(name)
    # A selector with only a __name__ matcher: {__name__="x"}.
    names.update(re.findall(r'__name__\s*=\s*"([^"]+)"', expr))
    return names


def has_comparison(expr: str) -> bool:
    """True when the expression compares something (a filter an alert needs)."""
    return bool(_COMPARISON.search(_strip(expr)))
