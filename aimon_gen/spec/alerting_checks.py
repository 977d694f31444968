"""Cross-field checks of the `alerting` section, each at its spec line with what to change.

Checks that need the generated alerts (labels no alert carries, alerts only the default
receiver gets) run in the compile step, compile/alerting/alertmanager.py.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from ..errors import did_you_mean
from ..loader import format_path
from . import routing
from .alerting import NULL_RECEIVER
from .finding import Finding
from .types import duration_seconds

A = ("alerting",)

# (channel kind, field) -> the Alertmanager version that added it.
NEWER_FIELDS = {("webhook", "url_file"): "0.26", ("msteams", "webhook_url_file"): "0.27"}
# Channels whose secret must come from a file: kind -> the *_file fields (one of them required).
SECRET_FILES = {"slack": ("api_url_file",), "msteams": ("webhook_url_file",), "opsgenie": ("api_key_file",),
                "pagerduty": ("routing_key_file", "service_key_file")}


def _v(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


def alerting_checks(spec) -> Iterable[Finding]:
    al = spec.alerting
    yield from _receivers(al)
    if not al.receivers:
        for key in ("routes", "tests", "default_receiver", "heartbeat"):
            if getattr(al, key):
                yield Finding(A + (key,), f"alerting.{key} is given but there are no alerting.receivers",
                              "add receivers, or remove it")
        return
    names = [r.name for r in al.receivers]
    if al.default_receiver is None:
        yield Finding(A, "alerting.default_receiver is required when receivers are given",
                      f"name the receiver for alerts no route takes, e.g. default_receiver: {names[0]}")
        return
    if al.default_receiver not in names:
        yield _undefined(("alerting", "default_receiver"), al.default_receiver, names)
        return
    yield from _heartbeat(spec, names)
    route_findings = list(_routes(al, names))
    yield from route_findings
    yield from _windows(al)
    if not route_findings:  # a test through a broken tree would only repeat the route's problem
        yield from _tests(al, names, routing.has_heartbeat(spec))


def _heartbeat(spec, names: list[str]) -> Iterable[Finding]:

    al = spec.alerting
    if NULL_RECEIVER in names:
        yield Finding(A + ("receivers", names.index(NULL_RECEIVER), "name"), f"receiver name '{NULL_RECEIVER}' is "
                      "reserved: the generated alertmanager.yml sends Watchdog there when no heartbeat is set",
                      "rename the receiver")
    hb = al.heartbeat
    if hb is None:
        return
    if hb.receiver not in names:
        yield _undefined(A + ("heartbeat", "receiver"), hb.receiver, names)
    if not spec.prometheus.alertmanagers:
        yield Finding(A + ("heartbeat",), "alerting.heartbeat needs prometheus.alertmanagers: without an "
                      "Alertmanager to send to, no Watchdog alert is generated and the heartbeat would never beat",
                      "list the Alertmanager(s) under prometheus.alertmanagers, or remove the heartbeat")
    if duration_seconds(hb.repeat_interval) <= 0:
        yield Finding(A + ("heartbeat", "repeat_interval"), "heartbeat repeat_interval must be longer than 0",
                      "e.g. repeat_interval: 1m")


def _undefined(path: tuple, name: str, names: list[str]) -> Finding:
    return Finding(path, f"no receiver named '{name}'",
                   did_you_mean(name, names) or f"receivers are: {', '.join(names)}")


def _receivers(al) -> Iterable[Finding]:
    seen: dict[str, int] = {}
    for i, r in enumerate(al.receivers):
        path = A + ("receivers", i)
        if r.name in seen:
            yield Finding(path + ("name",), f"duplicate receiver name '{r.name}' (also receivers[{seen[r.name]}])",
                          "receiver names must be unique; merge the two or rename one")
        seen.setdefault(r.name, i)
        for kind in ("email", "slack", "pagerduty", "msteams", "opsgenie", "webhook"):
            for j, ch in enumerate(getattr(r, kind)):
                yield from _channel(al, kind, ch, path + (kind, j))


def _channel(al, kind: str, ch, path: tuple) -> Iterable[Finding]:
    version = al.alertmanager_version
    if kind == "msteams" and _v(version) < (0, 27):
        yield Finding(path, f"Microsoft Teams needs Alertmanager 0.27 or newer (alertmanager_version is {version})",
                      "0.25 has no msteams_configs and 0.26 takes the webhook URL only inline, a secret in the "
                      "output; if you run 0.27+, set alerting.alertmanager_version: '0.27', else use a webhook")
        return
    for (k, field), needed in NEWER_FIELDS.items():
        if k == kind and getattr(ch, field, None) is not None and _v(version) < _v(needed):
            yield Finding(path + (field,), f"{kind} '{field}' needs Alertmanager {needed} or newer "
                          f"(alertmanager_version is {version})",
                          f"if you run {needed}+, set alerting.alertmanager_version: '{needed}'"
                          + ("; else give the URL as 'url'" if field == "url_file" else ""), at_key=True)
    files = SECRET_FILES.get(kind, ())
    given = [f for f in files if getattr(ch, f) is not None]
    if files and len(given) != 1:
        yield Finding(path, f"{kind} needs {' or '.join(files)}" if not given
                      else f"{kind}: give only one of {', '.join(given)}",
                      f"e.g. {files[0]}: /etc/alertmanager/secrets/{kind}-key")
    if kind == "webhook" and (ch.url is None) == (ch.url_file is None):
        yield Finding(path, "webhook needs exactly one of url, url_file", "e.g. url: http://hooks.internal/alerts")
    if kind == "email":
        for field in ("smarthost", "from_"):
            if getattr(ch, field) is None and al.smtp is None:
                name = field.rstrip("_")
                yield Finding(path, f"email needs '{name}' here or in alerting.smtp",
                              "add alerting.smtp: {smarthost: smtp.example.com:587, from: alertmanager@example.com}")


def _routes(al, names: list[str]) -> Iterable[Finding]:
    windows = [w.name for w in al.maintenance_windows]
    used = {al.default_receiver} | ({al.heartbeat.receiver} if al.heartbeat else set())
    typo_for = set()  # receivers an unknown name was most likely meant for: one mistake, one problem
    for path, route, parent_timing in _all_routes(al.routes, A, _timing(al, None)):
        if route.receiver is not None:
            used.add(route.receiver)
            if route.receiver not in names:
                yield _undefined(path + ("receiver",), route.receiver, names)
                typo_for.update(difflib.get_close_matches(route.receiver, names, n=1, cutoff=0.6))
        for key in ("mute_time_intervals", "active_time_intervals"):
            for k, name in enumerate(getattr(route, key)):
                if name not in windows:
                    yield Finding(path + (key, k), f"no maintenance window named '{name}'",
                                  did_you_mean(name, windows) or "define it under alerting.maintenance_windows")
        wait, interval = _timing(al, route, parent_timing)
        if duration_seconds(wait) > duration_seconds(interval) and (route.group_wait or route.group_interval):
            yield Finding(path + ("group_wait" if route.group_wait else "group_interval",),
                          f"group_wait {wait} is longer than group_interval {interval}",
                          "the first notification would come after later updates; make group_wait shorter")
    if duration_seconds(al.group_wait) > duration_seconds(al.group_interval):
        yield Finding(A + ("group_wait",), f"group_wait {al.group_wait} is longer than group_interval "
                      f"{al.group_interval}", "make group_wait shorter than group_interval")
    for i, r in enumerate(al.receivers):
        if r.name not in used and r.name not in typo_for:
            yield Finding(A + ("receivers", i, "name"), f"no route sends to receiver '{r.name}'",
                          f"add a route with receiver: {r.name}, or remove the receiver")
    for later, earlier in routing.shadowed(routing.tree(al)):
        yield Finding(later.path, f"this route can never match: {_fmt(earlier.path)} before it takes every alert "
                      f"it would ({_show(earlier.matchers)}) and has no continue",
                      "move this route above it, add continue: true there, or narrow that route's match")


def _all_routes(routes, parent: tuple, timing: tuple):
    for i, r in enumerate(routes):
        path = parent + ("routes", i)
        yield path, r, timing
        yield from _all_routes(r.routes, path, _timing(None, r, timing))


def _timing(al, route, inherited: tuple = ()) -> tuple[str, str]:
    if route is None:
        return al.group_wait, al.group_interval
    return route.group_wait or inherited[0], route.group_interval or inherited[1]


def _windows(al) -> Iterable[Finding]:
    seen: dict[str, int] = {}
    for i, w in enumerate(al.maintenance_windows):
        if w.name in seen:
            yield Finding(A + ("maintenance_windows", i, "name"), f"duplicate maintenance window '{w.name}'",
                          "window names must be unique")
        seen.setdefault(w.name, i)
    used = {n for _, r, _ in _all_routes(al.routes, A, ("", ""))
            for n in r.mute_time_intervals + r.active_time_intervals}
    for i, w in enumerate(al.maintenance_windows):
        if w.name not in used:
            yield Finding(A + ("maintenance_windows", i, "name"), f"no route uses maintenance window '{w.name}'",
                          "name it in a route's mute_time_intervals, or remove it", warning=True)


def _tests(al, names: list[str], heartbeat: bool) -> Iterable[Finding]:
    root = routing.tree(al, heartbeat)  # as amtool sees it: Watchdog's generated route first
    for i, t in enumerate(al.tests):
        path = A + ("tests", i)
        bad = [n for n in t.receivers if n not in names]
        for name in bad:
            yield _undefined(path + ("receivers", t.receivers.index(name)), name, names)
        if bad:
            continue
        got = routing.receivers(root, dict(t.labels))
        if got != list(t.receivers):
            ends = routing.match(root, dict(t.labels))
            yield Finding(path + ("receivers",), f"routing test fails: these labels reach [{', '.join(got)}], "
                          f"expected [{', '.join(t.receivers)}]",
                          "they end at " + ", ".join(_fmt(n.path) for n in ends)
                          + "; fix the routes or the expectation")


def _fmt(path: tuple) -> str:
    return format_path(path) if len(path) > 1 else "the default route"


def _show(matchers) -> str:
    return ", ".join(m.render() for m in matchers) or "no matchers: it takes everything"
