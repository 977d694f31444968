"""The one place that reads and writes PromQL, backed by promql-parser's syntax tree.

Writing: every value taken from the spec goes into PromQL through `quote` (a double-quoted
string with backslash, quote and control characters escaped) or `regex_alternatives`
(RE2 metacharacters escaped with `re2_escape` as well), so no spec value can end a string
early. `re2_escape` is also the one RE2 escape for relabel regexes and Alertmanager matchers.

Durations: `duration_seconds`/`format_duration` are Prometheus's duration grammar, the one
the spec's durations (spec/types.py) and verify's time compression use.

Reading: metric names, selectors with their matchers, comparisons, the labels a result
keeps, shard-locality, and time rewriting all walk the parsed tree (`parse`, cached).
An expression the parser refuses (a user pack's typo, or a function newer than the parser)
gets each reader's documented fallback: promtool, which the build runs on every rule file,
reports the real error at its line.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

# A small native extension (~2 ms to import), used by every build: imported at the top.
import promql_parser as pp

# Prometheus 2.x names the parser (following 3.x) no longer knows; promtool 2.x accepts them.
try:
    pp.register_extra_functions([pp.Function("holt_winters", [pp.ValueType.Matrix, pp.ValueType.Scalar,
                                                              pp.ValueType.Scalar], pp.ValueType.Vector)])
except ValueError:  # already registered (a module reload) or built in
    pass

Expr = pp.Expr

_RE2_META = frozenset("\\.+*?()|[]{}^$")
# By name: the parser's enum values are not hashable.
_OPS = {"MatchOp.Equal": "=", "MatchOp.NotEqual": "!=", "MatchOp.Re": "=~", "MatchOp.NotRe": "!~"}
_COMPARISONS = {"==", "!=", ">", "<", ">=", "<="}
_PER_TARGET = {"instance", "host"}  # labels one scrape target's series carry alone


# --- durations: Prometheus's grammar, used for the spec's durations too ---------------------

DURATION_RE = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")
_DURATION_UNITS = (365 * 86400, 7 * 86400, 86400, 3600, 60, 1, 0.001)


def duration_seconds(text: str) -> float:
    """Seconds in a Prometheus duration such as `1h30m`."""
    m = DURATION_RE.match(text)
    if not m or not text:
        raise ValueError(f"not a duration: {text!r}")
    return sum(int(g) * u for g, u in zip(m.groups(), _DURATION_UNITS, strict=True) if g)


def format_duration(seconds: float) -> str:
    """The shortest Prometheus duration for a whole number of seconds (or ms)."""
    if seconds == 0:
        return "0s"
    ms = round(seconds * 1000)
    if ms % 1000:
        return f"{ms}ms"
    s, out = ms // 1000, []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if s >= size:
            out.append(f"{s // size}{unit}")
            s %= size
    return "".join(out)


class PromQLError(ValueError):
    """An expression promql-parser refuses."""


# --- writing ---------------------------------------------------------------------------------

def quote(value: str) -> str:
    """A PromQL double-quoted string holding exactly `value`."""
    out = value.replace("\\", "\\\\").replace('"', '\\"')
    out = out.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{out}"'


def re2_escape(value: str, backslash: str = "\\") -> str:
    """`value` as an RE2 regex matching exactly it. Go's RE2 refuses Python's re.escape of
    e.g. a space, so only the metacharacters are escaped; `backslash` is what precedes each
    (Grafana writes two, since its result goes into a PromQL string unquoted)."""
    return "".join(backslash + c if c in _RE2_META else c for c in value)


def regex_alternatives(values) -> str:
    """A quoted RE2 regex matching exactly one of `values` (Prometheus anchors it)."""
    return quote("|".join(re2_escape(v) for v in values))


def matcher(label: str, values, negate: bool = False) -> str:
    """`label="v"`, `label=~"a|b"` or their negations."""
    values = list(values)
    if len(values) == 1:
        return f"{label}{'!=' if negate else '='}{quote(values[0])}"
    return f"{label}{'!~' if negate else '=~'}{regex_alternatives(values)}"


# --- reading ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Selector:
    """A vector selector: its metric name (None for `{job="x"}`) and (label, op, value) matchers,
    op one of = != =~ !~ and value unescaped; `__name__` stays among the matchers."""
    name: str | None
    matchers: tuple[tuple[str, str, str], ...]

    def equal(self) -> dict[str, str]:
        """label -> value of its `label="value"` matchers."""
        return {label: value for label, op, value in self.matchers if op == "="}


@lru_cache(maxsize=8192)
def parse(expr: str) -> Expr:
    """The syntax tree of `expr` (cached: the same rule text is read by several steps)."""
    try:
        return pp.parse(expr)
    except (ValueError, TypeError) as e:
        raise PromQLError(f"{e} in {expr!r}") from None


def _tree(expr: str) -> Expr | None:
    try:
        return parse(expr)
    except PromQLError:
        return None


def _children(node) -> list:
    if isinstance(node, pp.BinaryExpr):
        return [node.lhs, node.rhs]
    if isinstance(node, pp.AggregateExpr):
        return [node.param, node.expr] if isinstance(node.param, pp.Expr) else [node.expr]
    if isinstance(node, pp.Call):
        return list(node.args)
    if isinstance(node, pp.MatrixSelector):
        return [node.vector_selector]
    if isinstance(node, (pp.ParenExpr, pp.UnaryExpr, pp.SubqueryExpr)):
        return [node.expr]
    return []


def nodes(tree: Expr) -> Iterator:
    """Every node of a tree, parents before children, left to right."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(_children(node)))


def _selector(vs) -> Selector:
    matchers = tuple((m.name, _OPS[str(m.op)], m.value) for m in vs.matchers.matchers)
    name = vs.name or next((v for label, op, v in matchers if label == "__name__" and op == "="), None)
    return Selector(name, matchers)


def selectors(expr: str) -> list[Selector]:
    """Every vector selector of the expression, in order ([] when it does not parse)."""
    return list(_selectors(expr))


@lru_cache(maxsize=8192)
def _selectors(expr: str) -> tuple[Selector, ...]:
    # Routing analysis asks the same rule texts once per alert and entry (92,000 times for
    # 300 hosts with routes): walk each tree once.
    tree = _tree(expr)
    return () if tree is None else tuple(_selector(n) for n in nodes(tree) if isinstance(n, pp.VectorSelector))


def metric_names(expr: str) -> set[str]:
    """Names of the series an expression selects (function names and keywords excluded)."""
    return {s.name for s in selectors(expr) if s.name}


def functions(expr: str) -> set[str]:
    """Names of the functions an expression calls."""
    tree = _tree(expr)
    return set() if tree is None else {n.func.name for n in nodes(tree) if isinstance(n, pp.Call)}


def has_comparison(expr: str) -> bool:
    """True when the expression compares something (a filter an alert needs); True when it
    does not parse, so no warning repeats what promtool will report."""
    tree = _tree(expr)
    return tree is None or any(isinstance(n, pp.BinaryExpr) and str(n.op) in _COMPARISONS for n in nodes(tree))


def label_matches(op: str, pattern: str, value: str) -> bool:
    """Whether a label value passes a matcher (=, !=, =~, !~); regexes are anchored as in
    Prometheus and Alertmanager (Python's re reads the RE2 subset specs use alike)."""
    if op in ("=", "!="):
        return (value == pattern) == (op == "=")
    return (re.fullmatch(pattern, value) is not None) == (op == "=~")


def simple_selector(text: str) -> Selector | None:
    """`name{a="b", c=~"d"}` -> Selector; None for anything more (a function, a range, an offset)."""
    tree = _tree(text)
    if not isinstance(tree, pp.VectorSelector) or tree.offset is not None or tree.at is not None or not tree.name:
        return None
    return _selector(tree)


def _labels(modifier) -> set[str]:
    return set(modifier.labels) if modifier is not None else set()


def grouping_labels(expr: str) -> set[str]:
    """Label names in the expression's by/without/on/ignoring/group_left/group_right clauses."""
    out: set[str] = set()
    tree = _tree(expr)
    for n in nodes(tree) if tree is not None else ():
        if isinstance(n, pp.AggregateExpr):
            out |= _labels(n.modifier)
        elif isinstance(n, pp.BinaryExpr) and n.modifier is not None:
            out |= _labels(n.modifier.matching) | set(n.modifier.group_labels or ())
    return out


def needed_labels(expr: str) -> set[str]:
    """Labels the expression needs its series to carry: those its selectors match positively
    (`=`, `=~`) and those it groups or joins on (by, on, group_left/right), not without/ignoring."""
    tree = _tree(expr)
    out: set[str] = set()
    for n in nodes(tree) if tree is not None else ():
        if isinstance(n, pp.VectorSelector):
            out |= {label for label, op, _ in _selector(n).matchers if op in ("=", "=~") and label != "__name__"}
        elif isinstance(n, pp.AggregateExpr) and n.modifier is not None and n.modifier.type == pp.AggModifierType.By:
            out |= set(n.modifier.labels)
        elif isinstance(n, pp.BinaryExpr) and n.modifier is not None:
            m = n.modifier
            if m.matching is not None and m.matching.type == pp.LabelModifierType.Include:
                out |= set(m.matching.labels)
            out |= set(m.group_labels or ())
    return out


def kept_labels(expr: str) -> set[str] | None:
    """Labels an alert's result can carry when an aggregation limits them: the union of its
    `by (...)` labels. None when it may keep them all: no `by`, a `without`, or a
    group_left/right (the many side keeps its labels, e.g. x / on (instance) group_left
    count by (instance) (y) keeps all of x's), or when it does not parse."""
    tree = _tree(expr)
    if tree is None:
        return None
    by: set[str] | None = None
    for n in nodes(tree):
        if isinstance(n, pp.AggregateExpr) and n.modifier is not None:
            if n.modifier.type == pp.AggModifierType.Without:
                return None
            by = (by or set()) | set(n.modifier.labels)
        elif isinstance(n, pp.BinaryExpr) and n.modifier is not None and n.modifier.card in (
                pp.VectorMatchCardinality.ManyToOne, pp.VectorMatchCardinality.OneToMany):
            return None
    return by


def shard_local(expr: str) -> bool:
    """True when the expression gives the same answer on the shard holding a target as on all
    data: no absent(), and every aggregation keeps `instance` or `host` (a `by` naming one, or a
    `without` dropping at most one of them). False when it does not parse."""
    tree = _tree(expr)
    if tree is None:
        return False
    for n in nodes(tree):
        if isinstance(n, pp.Call) and n.func.name in ("absent", "absent_over_time"):
            return False  # true on every shard without the target
        if isinstance(n, pp.AggregateExpr):
            m = n.modifier
            if m is None:
                return False  # an aggregation over everything
            if m.type == pp.AggModifierType.By and not set(m.labels) & _PER_TARGET:
                return False
            if m.type == pp.AggModifierType.Without and _PER_TARGET <= set(m.labels):
                return False
    return True


# --- rewriting -------------------------------------------------------------------------------

# (kind: "range" | "step" | "offset", seconds, the subquery's new range for a step else 0) -> seconds
Scale = Callable[[str, float, float], float]


def normalise(expr: str) -> str:
    """One spelling of an expression (Prometheus's /api/v1/rules prints its own, matchers sorted),
    for comparing two texts by meaning; the text unchanged when it does not parse."""
    tree = _tree(expr)
    return expr.strip() if tree is None else _Printer(canonical=True).expr(tree)


def rescale_times(expr: str, scale: Scale) -> str:
    """The expression with every range, subquery step and offset passed through `scale` and
    printed again (strings and numbers kept exactly). Unchanged when it does not parse."""
    tree = _tree(expr)
    return expr if tree is None else _Printer(scale).expr(tree)


class _Printer:
    """PromQL text of a tree. The tree keeps the source's parentheses (ParenExpr), so printing
    operands as they are keeps the meaning; strings go through `quote` (the parser's own
    printer does not escape them)."""

    def __init__(self, scale: Scale | None = None, canonical: bool = False):
        self.scale = scale
        self.canonical = canonical  # matchers in sorted order: their order has no meaning

    def seconds(self, kind: str, delta: timedelta, range_: float = 0.0) -> float:
        seconds = delta.total_seconds()
        return seconds if self.scale is None else math.copysign(self.scale(kind, abs(seconds), range_), seconds)

    def time(self, kind: str, delta: timedelta, range_: float = 0.0) -> str:
        seconds = self.seconds(kind, delta, range_)
        return ("-" if seconds < 0 else "") + format_duration(max(0.001, abs(seconds)))

    def modifiers(self, node) -> str:
        out = ""
        if node.at is not None:
            t = node.at.type
            out += (" @ start()" if t == pp.AtModifierType.Start else " @ end()" if t == pp.AtModifierType.End
                    else f" @ {node.at.at.timestamp():.3f}")
        if node.offset is not None:
            out += " offset " + self.time("offset", node.offset)
        return out

    def selector(self, vs) -> str:
        matchers = [(m.name, _OPS[str(m.op)], m.value) for m in vs.matchers.matchers]
        if vs.name:
            matchers = [m for m in matchers if not (m[0] == "__name__" and m[1] == "=" and m[2] == vs.name)]
        if self.canonical:
            matchers.sort()
        body = ",".join(f"{label}{op}{quote(value)}" for label, op, value in matchers)
        groups = [body] + [",".join(f"{m.name}{_OPS[str(m.op)]}{quote(m.value)}" for m in g)
                           for g in vs.matchers.or_matchers]
        inner = " or ".join(g for g in groups if g)
        return (vs.name or "") + (f"{{{inner}}}" if inner or not vs.name else "")

    def expr(self, n) -> str:  # noqa: C901 - one branch per node type
        if isinstance(n, pp.NumberLiteral):
            v = n.val
            if math.isnan(v) or math.isinf(v):
                return "NaN" if math.isnan(v) else "-Inf" if v < 0 else "Inf"
            return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
        if isinstance(n, pp.StringLiteral):
            return quote(n.val)
        if isinstance(n, pp.VectorSelector):
            return self.selector(n) + self.modifiers(n)
        if isinstance(n, pp.MatrixSelector):
            vs = n.vector_selector
            return f"{self.selector(vs)}[{self.time('range', n.range)}]{self.modifiers(vs)}"
        if isinstance(n, pp.SubqueryExpr):
            inner, range_ = self.expr(n.expr), self.seconds("range", n.range or timedelta(0))
            step = self.time("step", n.step, range_) if n.step is not None else ""
            return f"{inner}[{format_duration(max(0.001, range_))}:{step}]{self.modifiers(n)}"
        if isinstance(n, pp.ParenExpr):
            return f"({self.expr(n.expr)})"
        if isinstance(n, pp.UnaryExpr):
            return f"-{self.expr(n.expr)}"
        if isinstance(n, pp.Call):
            return f"{n.func.name}({', '.join(self.expr(a) for a in n.args)})"
        if isinstance(n, pp.AggregateExpr):
            m = n.modifier
            clause = f" {'by' if m.type == pp.AggModifierType.By else 'without'} ({', '.join(m.labels)}) " if m else ""
            args = ([self.expr(n.param)] if n.param is not None else []) + [self.expr(n.expr)]
            return f"{n.op}{clause}({', '.join(args)})"
        if isinstance(n, pp.BinaryExpr):
            return f"{self.expr(n.lhs)} {n.op}{self.bin_modifier(n)} {self.expr(n.rhs)}"
        raise PromQLError(f"cannot print {type(n).__name__}")

    def bin_modifier(self, n) -> str:
        m = n.modifier
        if m is None:
            return ""
        out = " bool" if m.return_bool else ""
        if m.matching is not None:
            kind = "on" if m.matching.type == pp.LabelModifierType.Include else "ignoring"
            out += f" {kind} ({', '.join(m.matching.labels)})"
        if m.card == pp.VectorMatchCardinality.ManyToOne:
            out += f" group_left ({', '.join(m.group_labels or ())})"
        elif m.card == pp.VectorMatchCardinality.OneToMany:
            out += f" group_right ({', '.join(m.group_labels or ())})"
        return out
