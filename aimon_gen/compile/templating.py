"""Jinja2 for rule packs and dashboard definitions, with delimiters that cannot clash with
PromQL, Go templates or Grafana legends.

`<%= expr %>` prints, `<% stmt %>` controls, `<%# ... %>` comments. Prometheus annotations
keep their own `{{ $labels.x }}` and Grafana legends their `{{host}}` untouched. Each string
is rendered on its own, after its file's YAML has been parsed (rules/packs.py,
dashboards/definitions.py). Numbers print without a trailing `.0` (90.0 -> 90) so
thresholds read as the user wrote them.
"""

from __future__ import annotations

import re
from functools import cache

from ..catalog import histogram_buckets
from ..errors import Problem, SpecInvalid
from ..promql import matcher, quote, regex_alternatives
from ..spec.types import duration_seconds


def template_literal(text: str) -> str:
    """`text` as Prometheus's and Alertmanager's Go templates print it back exactly.

    Alert labels and annotations are templates, so a user's `team: "{{ $labels.x }}"` would be
    expanded (or `{{` would not parse). Only `{{` opens an action; it becomes an action that
    prints the string "{{"."""
    return text.replace("{{", _LITERAL_OPEN)


_LITERAL_OPEN = '{{ "{{" }}'


def printed(template: str) -> str:
    """What Prometheus prints for a template made only of text and template_literal()s."""
    return template.replace(_LITERAL_OPEN, "{{")


def number(value) -> str:
    """A float as PromQL and humans write it: 90, 0.95, 1e+06 (repr keeps it exact)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def _finalize(value):
    return number(value) if isinstance(value, (int, float)) else value


@cache
def env():
    import jinja2

    e = jinja2.Environment(
        block_start_string="<%", block_end_string="%>",
        variable_start_string="<%=", variable_end_string="%>",
        comment_start_string="<%#", comment_end_string="%>",
        undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False,
        finalize=_finalize)
    e.filters.update(seconds=duration_seconds, quote=quote, regex=regex_alternatives, number=number)
    e.globals.update(matcher=matcher, fire_latency=fire_latency, quiet_latency=quiet_latency, quantile=quantile)
    return e


class NeverFires(ValueError):
    """A threshold no input can exceed (histogram_quantile tops out at the largest bucket)."""


def fire_latency(metric: str, threshold: float) -> float:
    """An observed latency whose bucket lies wholly above `threshold`: any quantile of
    requests that all take this long exceeds it. Raises when no bucket can (the alert could
    never fire, since histogram_quantile never returns more than the largest bound)."""

    bounds = histogram_buckets(metric)
    for lower, upper in zip([0.0] + bounds, bounds, strict=False):
        if lower >= threshold:
            return upper
    raise NeverFires(f"threshold {number(threshold)} is not below the largest bucket of {metric} "
                     f"({number(bounds[-1])}): the alert could never fire")


def quiet_latency(metric: str, threshold: float):
    """The largest bucket bound not above `threshold` (requests just inside it), or None."""

    below = [b for b in histogram_buckets(metric) if b <= threshold]
    return below[-1] if below else None


def quantile(metric: str, q: float, latency) -> float:
    """histogram_quantile(q) when every request takes `latency`, computed the way
    Prometheus 2.42 does (bucket start + width * rank/count, with rates of exactly 1/s)."""

    bounds = histogram_buckets(metric)
    for i, upper in enumerate(bounds):
        if latency <= upper:
            start = 0.0 if i == 0 else bounds[i - 1]
            return start + (upper - start) * ((q * 1.0) / 1.0)
    return bounds[-1]


_EXPR = re.compile(r"<%=\s*(.*?)\s*%>", re.S)


@cache
def _expression(text: str):
    # Jinja compiles per call (~1 ms); pack strings repeat the same few expressions.
    names = _arithmetic_names(text)
    if names is None:
        return env().compile_expression(text, undefined_to_none=False)
    return _Arithmetic(text, names)


# Most pack expressions are arithmetic on numbers (`(threshold + 1) * 60`): Jinja compiles
# those to the same Python operators, so Python compiles them itself, in a tenth of Jinja's
# lexer, parser and code generator (74 expressions were a fifth of a cold build's compile).
_ARITH_TOKEN = re.compile(r"\s+|[()+\-*/]|(?<![\w.])(?:[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?(?:e[+-]?\d+)?)(?![\w.])")
_JINJA_WORDS = frozenset({"true", "false", "none", "True", "False", "None", "and", "or", "not", "in", "is", "if",
                          "else"})


def _arithmetic_names(text: str) -> tuple[str, ...] | None:
    """The names of a `+ - * / ( )` expression over names and plain numbers, or None for
    anything else (attributes, filters, calls, `**`, literals Jinja reads its own way)."""
    if "**" in text:
        return None
    tokens, at = [], 0
    for m in _ARITH_TOKEN.finditer(text):
        if m.start() != at:
            return None
        tokens.append(m.group())
        at = m.end()
    if at != len(text):
        return None
    names = tuple(t for t in tokens if t[0].isalpha() or t[0] == "_")
    return None if any(n in _JINJA_WORDS for n in names) else names


class _Arithmetic:
    """An arithmetic expression run by Python when every name it reads is a number; any other
    value (undefined, a string) goes through Jinja, so errors read as they always did."""

    def __init__(self, text: str, names: tuple[str, ...]):
        self.text, self.names = text, names
        self.code = compile(text, "<template>", "eval")

    def __call__(self, **context):
        if all(type(context.get(n)) in (int, float) for n in self.names):
            return eval(self.code, {"__builtins__": {}}, context)  # noqa: S307 - numbers and + - * / only
        return env().compile_expression(self.text, undefined_to_none=False)(**context)


@cache
def _template(text: str):
    return env().from_string(text)


def _render(text: str, context: dict) -> str:
    parts = _EXPR.split(text)
    if any("<%" in p for p in parts[0::2]):
        return _template(text).render(context)  # statements or comments: the whole template
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            out.append(part)
            continue
        if part.isidentifier() and part in context:
            value = context[part]  # a bare name: what Jinja would print, without compiling
        else:
            value = _expression(part)(**context)
            if isinstance(value, jinja2_undefined()):
                value._fail_with_undefined_error()
        out.append(str(_finalize(value)))
    return "".join(out)


@cache
def jinja2_undefined():
    import jinja2
    return jinja2.Undefined


@cache  # the same pack and dashboard strings come back for every entry
def names(text: str) -> frozenset[str]:
    """The names a template reads; ValueError when it does not parse."""
    parts = _EXPR.split(text)
    if not any("<%" in p for p in parts[0::2]) and all(
            p.isascii() and p.isidentifier() and p not in _JINJA_WORDS for p in parts[1::2]):
        return frozenset(parts[1::2])  # only `<%= name %>`s (dashboard filters): no need to parse
    import jinja2.meta

    try:
        return frozenset(jinja2.meta.find_undeclared_variables(env().parse(text)))
    except jinja2.TemplateSyntaxError as exc:
        raise ValueError(f"template error: {exc}") from None


@cache  # as names()
def limits(text: str) -> tuple[str, ...]:
    """The threshold names a template reads through `limit("name")`, in order (none if it does
    not parse: rendering it reports the error)."""
    import jinja2.nodes

    try:
        tree = env().parse(text)
    except jinja2.TemplateSyntaxError:
        return ()
    return tuple(str(c.args[0].value) for c in tree.find_all(jinja2.nodes.Call)
                 if isinstance(c.node, jinja2.nodes.Name) and c.node.name == "limit"
                 and c.args and isinstance(c.args[0], jinja2.nodes.Const))


def render(text, context: dict, shown: str) -> str:
    """Render one pack or dashboard string; a template error is reported at the string's file:line.

    `<%= expr %>` parts are evaluated as Jinja expressions (cached by their text, so a
    build compiles each distinct expression once); a string with `<% %>` statements or
    comments is rendered as a whole Jinja template."""
    if "<%" not in text:
        return str(text)
    import jinja2

    try:
        return _render(str(text), context)
    except NeverFires:
        raise
    except jinja2.TemplateError as exc:
        raise _error(text, shown, exc, context) from None
    except (ValueError, TypeError, ZeroDivisionError, KeyError, AttributeError) as exc:
        raise _error(text, shown, exc, {}) from None


def _error(text, shown: str, exc, context: dict) -> SpecInvalid:
    hint = ("templates use <%= name %>; names: " + ", ".join(sorted(context))) if context else ""
    return SpecInvalid([Problem(shown, getattr(text, "line", 0), getattr(text, "col", 0), "",
                                f"template error: {exc}", hint)])


# Prometheus's own annotation templates (Go text/template): the subset the packs use.
_GO = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}")
_PRINTF = re.compile(r'^printf\s+"%\.(\d+)g"\s+\$value$|^\$value\s*\|\s*printf\s+"%\.(\d+)g"$')


def go_float(v: float) -> str:
    """Go's %v of a float64 (strconv 'g', shortest; exponent from 1e21)."""
    if v == int(v) and abs(v) < 1e21:
        return str(int(v))
    text = repr(v)
    if "e" in text:
        mant, exp = text.split("e")
        sign = "-" if exp.startswith("-") else "+"
        text = f"{mant}e{sign}{abs(int(exp)):02d}"
    return text


def go_annotation(template: str, labels: dict, value: float, where: tuple) -> str:
    """Expand the Go template subset aimon-gen's annotations use, exactly as Prometheus would
    (the generated unit tests state the annotations each alert must carry)."""
    def one(m: re.Match) -> str:
        body = m.group(1)
        if body.startswith("$labels."):
            return str(labels.get(body[len("$labels."):], "<no value>"))
        if body == "$value":
            return go_float(value)
        p = _PRINTF.match(body)
        if p:
            return f"%.{p.group(1) or p.group(2)}g" % value
        raise SpecInvalid([Problem(where[0], where[1], 0, "", f"annotation template '{{{{ {body} }}}}' is not "
                                   "supported by the generated unit tests",
                                   'use {{ $labels.name }}, {{ $value }} or {{ printf "%.4g" $value }}')])
    return _GO.sub(one, template)
