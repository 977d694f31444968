"""The routing tree as Alertmanager evaluates it, in pure Python.

Used at build time to evaluate routing tests at their spec line, find routes that can
never match, and find generated alerts that only the default receiver would get.
Mirrors Alertmanager's dispatch.Route.Match: a route matches when all its matchers do
(a missing label is ""); children are tried in order, stopping after the first match
that has no `continue`; a route none of whose children match is itself the result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Matcher:
    label: str
    values: frozenset | None   # equality with any of these
    regex: str | None = None   # or an anchored regex

    def matches(self, labels: dict) -> bool:
        value = labels.get(self.label, "")
        if self.values is not None:
            return value in self.values
        return re.fullmatch(self.regex or "", value) is not None  # regex is set whenever values is None

    def render(self) -> str:
        """Alertmanager 0.25 matcher syntax: team="genai", severity=~"critical|warning"."""
        if self.values is not None and len(self.values) == 1:
            return f'{self.label}={_quote(next(iter(self.values)))}'
        pattern = ((self.regex or "") if self.values is None
                   else "|".join(_RE2_META.sub(r"\\\1", v) for v in sorted(self.values)))
        return f'{self.label}=~{_quote(pattern)}'


# Escaped with a backslash in RE2 (Go), which refuses Python's re.escape of e.g. a space.
_RE2_META = re.compile(r"([\\.+*?()|\[\]{}^$])")


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def matchers_of(route) -> list[Matcher]:
    out = []
    for label, value in route.match.items():
        values = [value] if isinstance(value, str) else value
        out.append(Matcher(label, frozenset(values)))
    out += [Matcher(label, None, pattern) for label, pattern in route.match_re.items()]
    return out


@dataclass
class Node:
    """A route with its receiver resolved (inherited from the parent when unset)."""
    path: tuple                # spec path of the route, e.g. ("alerting", "routes", 0)
    receiver: str
    matchers: list[Matcher]
    continue_: bool
    children: list[Node]


def tree(alerting) -> Node:
    root = Node(("alerting",), alerting.default_receiver or "", [], False, [])
    root.children = _children(alerting.routes, ("alerting",), root.receiver)
    return root


def _children(routes, parent: tuple, receiver: str) -> list[Node]:
    out = []
    for i, r in enumerate(routes):
        path = parent + ("routes", i)
        rcv = r.receiver or receiver
        out.append(Node(path, rcv, matchers_of(r), r.continue_, _children(r.routes, path, rcv)))
    return out


def match(node: Node, labels: dict) -> list[Node]:
    """The routes an alert with these labels ends at, in tree order (as amtool prints them)."""
    if not all(m.matches(labels) for m in node.matchers):
        return []
    found: list[Node] = []
    for child in node.children:
        got = match(child, labels)
        found += got
        if got and not child.continue_:
            break
    return found or [node]


def receivers(root: Node, labels: dict) -> list[str]:
    return [n.receiver for n in match(root, labels)]


def covers(a: list[Matcher], b: list[Matcher]) -> bool:
    """True when every alert that b's matchers accept is accepted by a's too."""
    by_label = {m.label: m for m in b}
    for m in a:
        other = by_label.get(m.label)
        if other is None:
            if m.values is None and m.regex in (".*",):
                continue
            return False
        if other.values is not None:
            if not all(m.matches({m.label: v}) for v in other.values):
                return False
        elif not (m.values is None and m.regex == other.regex):
            return False
    return True


def shadowed(node: Node):
    """(route, earlier sibling) pairs where the route can never match: the sibling, without
    `continue`, takes every alert the route would."""
    for j, later in enumerate(node.children):
        for earlier in node.children[:j]:
            if not earlier.continue_ and covers(earlier.matchers, later.matchers):
                yield later, earlier
                break
        yield from shadowed(later)


def walk(node: Node):
    yield node
    for child in node.children:
        yield from walk(child)
