"""The routing tree as Alertmanager evaluates it, in pure Python: the one routing simulation.

Built from the spec (`tree`) at build time to evaluate routing tests at their spec line,
find routes that can never match, and find generated alerts that only the default receiver
would get; built from a generated alertmanager.yml (`from_config`) by `verify` to judge
where each fired alert went, how it was grouped and whether it was inhibited.
Mirrors Alertmanager's dispatch.Route.Match: a route matches when all its matchers do
(a missing label is ""); children are tried in order, stopping after the first match
that has no `continue`; a route none of whose children match is itself the result;
receiver and group_by are inherited.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..promql import label_matches, re2_escape
from .alerting import NULL_RECEIVER, WATCHDOG_ALERT

# The heartbeat route compile/alerting/alertmanager.py puts first: Watchdog's own grouping.
HEARTBEAT_GROUP_BY = ("alertname", "cluster")


@dataclass(frozen=True)
class Matcher:
    label: str
    values: frozenset | None   # equality with any of these
    regex: str | None = None   # or an anchored regex
    negate: bool = False       # != / !~ (from an alertmanager.yml; the spec has none)

    def matches(self, labels: dict) -> bool:
        value = labels.get(self.label, "")
        if self.values is not None:
            return (value in self.values) != self.negate
        return label_matches("!~" if self.negate else "=~", self.regex or "", value)

    def render(self) -> str:
        """Alertmanager 0.25 matcher syntax: team="genai", severity=~"critical|warning"."""
        if self.values is not None and len(self.values) == 1:
            return f'{self.label}{"!=" if self.negate else "="}{_quote(next(iter(self.values)))}'
        pattern = self.regex if self.values is None else "|".join(re2_escape(v) for v in sorted(self.values))
        return f'{self.label}{"!~" if self.negate else "=~"}{_quote(pattern or "")}'


# Alertmanager's matcher strings know three escapes (pkg/labels/parse.go), not PromQL's set:
# a tab stays a tab, and any other backslash is literal.
def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _unquote(text: str) -> str:
    out, escaped = [], False
    for c in text[1:-1]:
        if escaped:
            out.append({"n": "\n", '"': '"', "\\": "\\"}.get(c, "\\" + c))
            escaped = False
        elif c == "\\":
            escaped = True
        else:
            out.append(c)
    return "".join(out)


def parse_matcher(text: str) -> Matcher:
    """An Alertmanager matcher string: `name="value"`, `name=~"re"`, `{name!=value}` ..."""
    body = text.strip().removeprefix("{").removesuffix("}").strip()
    at = next((i for i, c in enumerate(body) if c in "=!"), -1)
    name, rest = body[:at].strip(), body[at:]
    op = next((o for o in ("=~", "!~", "!=", "=") if rest.startswith(o)), None)
    if at <= 0 or op is None or not name.isidentifier():
        raise ValueError(f"bad matcher {text!r}")
    value = rest[len(op):].strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = _unquote(value)
    if op in ("=", "!="):
        return Matcher(name, frozenset([value]), negate=op == "!=")
    return Matcher(name, None, value, negate=op == "!~")


def _config_matchers(route: dict, prefix: str = "") -> list[Matcher]:
    """Matchers of an alertmanager.yml route (or an inhibit rule's source_/target_ side)."""
    out = [Matcher(k, frozenset([str(v)])) for k, v in (route.get(prefix + "match") or {}).items()]
    out += [Matcher(k, None, str(v)) for k, v in (route.get(prefix + "match_re") or {}).items()]
    return out + [parse_matcher(t) for t in route.get(prefix + "matchers") or []]


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
    group_by: tuple[str, ...] | None = field(default=(), compare=False)  # None: every label ('...')


def tree(alerting, heartbeat: bool = False) -> Node:
    """The spec's routing tree; with `heartbeat` (see has_heartbeat) led by the generated
    Watchdog route, as in alertmanager.yml."""
    group_by = _group_by(alerting.group_by)
    root = Node(("alerting",), alerting.default_receiver or "", [], False, [], group_by)
    root.children = _children(alerting.routes, ("alerting",), root.receiver, group_by)
    if heartbeat:
        hb = alerting.heartbeat
        root.children.insert(0, Node(("alerting", "heartbeat"), hb.receiver if hb else NULL_RECEIVER,
                                     [Matcher("alertname", frozenset([WATCHDOG_ALERT]))], False, [],
                                     HEARTBEAT_GROUP_BY))
    return root


def has_heartbeat(spec) -> bool:
    """Whether the build has Watchdog, and so its route: the prometheus pack's group for
    prometheus.alertmanagers, unless rules.disabled leaves it out."""
    return bool(spec.prometheus.alertmanagers) and WATCHDOG_ALERT not in spec.rules.disabled


def _group_by(labels) -> tuple[str, ...] | None:
    labels = list(labels or ())
    return None if "..." in labels else tuple(labels)


def _children(routes, parent: tuple, receiver: str, group_by) -> list[Node]:
    out = []
    for i, r in enumerate(routes):
        path = parent + ("routes", i)
        rcv = r.receiver or receiver
        gb = group_by if r.group_by is None else _group_by(r.group_by)
        out.append(Node(path, rcv, matchers_of(r), r.continue_, _children(r.routes, path, rcv, gb), gb))
    return out


def from_config(config: dict) -> Node:
    """The routing tree of a generated alertmanager.yml (a dict)."""
    return _config_node(config["route"], ("route",), "", ())


def _config_node(route: dict, path: tuple, receiver: str, group_by) -> Node:
    receiver = route.get("receiver", receiver)
    group_by = _group_by(route["group_by"]) if "group_by" in route else group_by
    children = [_config_node(c, path + ("routes", i), receiver, group_by)
                for i, c in enumerate(route.get("routes") or [])]
    return Node(path, receiver, _config_matchers(route), bool(route.get("continue", False)), children, group_by)


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


def group_key(node: Node, labels: dict) -> tuple:
    """The notification group an alert joins at the route it ended at."""
    if node.group_by is None:
        return tuple(sorted(labels.items()))
    return tuple((k, labels.get(k, "")) for k in sorted(node.group_by))


def inhibited(config: dict, target: dict, firing: list[dict]) -> bool:
    """Whether an alert with labels `target` is inhibited by one of the `firing` alerts
    (the inhibit_rules of an alertmanager.yml)."""
    for rule in config.get("inhibit_rules") or []:
        if not all(m.matches(target) for m in _config_matchers(rule, "target_")):
            continue
        source_matchers = _config_matchers(rule, "source_")
        equal = rule.get("equal") or []
        for source in firing:
            if source is target or source == target:
                continue
            if all(m.matches(source) for m in source_matchers) and all(
                    source.get(k, "") == target.get(k, "") for k in equal):
                return True
    return False
