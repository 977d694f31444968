"""Alertmanager's routing tree, walked in Python: which receivers and which grouping an
alert gets. Mirrors dispatch/route.go: children in order, the first match wins unless
it says `continue`, a route with no matching child takes the alert itself, settings
inherit. A test holds it against `amtool config routes test`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MATCHER = re.compile(r'^\s*\{?\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*\}?\s*$')


@dataclass(frozen=True)
class Match:
    receiver: str
    group_by: tuple[str, ...] | None   # None: all labels ('...')


def parse_matcher(text: str) -> tuple[str, str, str]:
    m = _MATCHER.match(text)
    if not m:
        raise ValueError(f"bad matcher {text!r}")
    name, op, value = m.groups()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = bytes(value[1:-1], "utf-8").decode("unicode_escape")
    return name, op, value


def _matches(route: dict, labels: dict) -> bool:
    for name, value in (route.get("match") or {}).items():
        if labels.get(name, "") != str(value):
            return False
    for name, value in (route.get("match_re") or {}).items():
        if not re.fullmatch(str(value), labels.get(name, "")):
            return False
    for text in route.get("matchers") or []:
        name, op, value = parse_matcher(text)
        have = labels.get(name, "")
        ok = {"=": have == value, "!=": have != value,
              "=~": re.fullmatch(value, have) is not None, "!~": re.fullmatch(value, have) is None}[op]
        if not ok:
            return False
    return True


def walk(route: dict, labels: dict, inherited: dict | None = None) -> list[Match]:
    """Matches for an alert's labels, in tree order (what amtool prints)."""
    settings = dict(inherited or {})
    for key in ("receiver", "group_by"):
        if key in route:
            settings[key] = route[key]
    found: list[Match] = []
    for child in route.get("routes") or []:
        if not _matches(child, labels):
            continue
        found += walk(child, labels, settings)
        if not child.get("continue", False):
            break
    if not found:
        group_by = settings.get("group_by") or []
        found = [Match(settings["receiver"], None if "..." in group_by else tuple(group_by))]
    return found


def receivers(config: dict, labels: dict) -> list[str]:
    return [m.receiver for m in walk(config["route"], labels)]


def group_key(match: Match, labels: dict) -> tuple:
    if match.group_by is None:
        return tuple(sorted(labels.items()))
    return tuple((k, labels.get(k, "")) for k in sorted(match.group_by))


def inhibited(config: dict, target: dict, firing: list[dict]) -> bool:
    """Whether an alert with labels `target` is inhibited by one of the `firing` alerts."""
    for rule in config.get("inhibit_rules") or []:
        src = {"matchers": rule.get("source_matchers") or [], "match": rule.get("source_match"),
               "match_re": rule.get("source_match_re")}
        tgt = {"matchers": rule.get("target_matchers") or [], "match": rule.get("target_match"),
               "match_re": rule.get("target_match_re")}
        if not _matches(tgt, target):
            continue
        equal = rule.get("equal") or []
        for source in firing:
            if source is target or source == target:
                continue
            if _matches(src, source) and all(source.get(k, "") == target.get(k, "") for k in equal):
                return True
    return False
