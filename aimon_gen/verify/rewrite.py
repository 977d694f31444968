"""Rewrite the built configuration for a live run on loopback, in seconds not hours.

- prometheus.yml: every target -> the loopback simulator standing in for it. The original
  address travels as `__tmp_aimon_address`; the job's relabel rules read it instead of
  `__address__`, so `host`, `instance` and every spec label come out exactly as in
  production. Intervals become 1s; alerts go to the local Alertmanager; remote_write goes.
- rules: time is compressed by TIME_SCALE (on the parsed expression, aimon_gen/promql.py).
  Range windows `[5m]` -> `[5s]` (kept between
  WINDOW_MIN and WINDOW_MAX so rates have samples and faults show within seconds),
  subquery steps (at most a quarter of their range) and `offset`s likewise, `for:` -> for/TIME_SCALE capped at FOR_MAX.
  Thresholds are untouched: faults push values past them.
- alertmanager.yml: every receiver that notifies anyone -> one webhook to the local sink
  at /<receiver> (send_resolved as the receiver had it); group_wait/group_interval shortened, repeat_interval long (one
  notification per group during a run); maintenance windows dropped (verify checks
  routing, not the calendar); routes, matchers, grouping and inhibition unchanged.
"""

from __future__ import annotations

import copy
import fnmatch

from ..promql import rescale_times
from ..render import Documents
from ..spec.types import duration_seconds, format_duration

TIME_SCALE = 60.0
WINDOW_MIN = 4.0
WINDOW_MAX = 20.0
FOR_MAX = 10.0
SCRAPE_INTERVAL = "1s"
GROUP_WAIT = "3s"
GROUP_INTERVAL = "4s"
REPEAT_INTERVAL = "1h"
ADDRESS_LABEL = "__tmp_aimon_address"


def fmt(seconds: float) -> str:
    """Seconds as a PromQL duration (at least 1ms)."""
    return format_duration(max(0.001, seconds))


def _window(seconds: float) -> float:
    return min(WINDOW_MAX, max(WINDOW_MIN, seconds / TIME_SCALE))


def scale_window(text: str) -> str:
    return fmt(_window(duration_seconds(text)))


def scale_expr(expr: str) -> str:
    """An expression with its time compressed (strings untouched), re-printed from its tree."""
    def scale(kind: str, seconds: float, range_: float) -> float:
        if kind == "range":
            return _window(seconds)
        if kind == "step":
            # A step longer than the (capped) range would leave the subquery empty.
            return max(1.0, min(seconds / TIME_SCALE, range_ / 4))
        return max(1.0, seconds / TIME_SCALE)
    return rescale_times(expr, scale)


def scale_for(text: str | None) -> str | None:
    if not text:
        return text
    seconds = duration_seconds(text)
    return fmt(min(FOR_MAX, seconds / TIME_SCALE)) if seconds else text


def rules(doc: dict) -> dict:
    """A rule file with compressed time."""
    out = copy.deepcopy(doc)
    for group in out.get("groups") or []:
        group.pop("interval", None)   # the global 1s
        for rule in group.get("rules") or []:
            rule["expr"] = scale_expr(str(rule["expr"]))
            if "for" in rule:
                rule["for"] = scale_for(rule["for"])
    return out


def prometheus(doc: dict, targets_of, place, alertmanager: str) -> dict:
    """prometheus.yml for the run. targets_of(scrape_config) -> [(address, labels)];
    place(job, address, labels) -> loopback host:port serving that target."""
    out = copy.deepcopy(doc)
    g = out.setdefault("global", {})
    g.update(scrape_interval=SCRAPE_INTERVAL, scrape_timeout=SCRAPE_INTERVAL, evaluation_interval=SCRAPE_INTERVAL)
    out.pop("remote_write", None)
    out.pop("remote_read", None)
    alerting = out.get("alerting") or {}
    out["alerting"] = {**{k: v for k, v in alerting.items() if k != "alertmanagers"},
                       "alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]}
    out["scrape_configs"] = [_scrape(sc, targets_of(sc), place) for sc in out.get("scrape_configs") or []]
    return out


def job_label(sc: dict) -> str:
    """The `job` label a scrape config's series get: its name, unless relabelled (a job split by
    client settings, Kubernetes discovery)."""
    return next((r["replacement"] for r in sc.get("relabel_configs") or []
                 if r.get("target_label") == "job" and "replacement" in r), sc["job_name"])


def _scrape(sc: dict, targets: list, place) -> dict:
    job = job_label(sc)
    # Discovery (file, Kubernetes ...) is replaced by the simulators' static targets.
    new = {k: v for k, v in sc.items() if not k.endswith("_sd_configs") and k not in (
        "static_configs", "scrape_interval", "scrape_timeout", "scheme", "tls_config",
        "basic_auth", "authorization", "bearer_token_file", "oauth2")}
    new["static_configs"] = [
        {"targets": [place(job, address, labels)],
         "labels": {**labels, "instance": labels.get("instance", address), ADDRESS_LABEL: address}}
        for address, labels in targets]
    relabel = []
    for r in sc.get("relabel_configs") or []:
        r = dict(r)
        if "source_labels" in r:
            r["source_labels"] = [ADDRESS_LABEL if s == "__address__" else s for s in r["source_labels"]]
        relabel.append(r)
    new["relabel_configs"] = relabel
    return new


def static_targets(sc: dict, files: Documents) -> list[tuple[str, dict]]:
    """(address, labels) of every target of a scrape config, from static_configs or the
    built file_sd target files (`files`: render.documents of the build)."""

    out = []
    for group in sc.get("static_configs") or []:
        out += [(t, dict(group.get("labels") or {})) for t in group.get("targets") or []]
    for fsd in sc.get("file_sd_configs") or []:
        for pattern in fsd.get("files") or []:
            for path in sorted(p for p in files if fnmatch.fnmatch(p, pattern)):
                for group in files[path]:
                    out += [(t, dict(group.get("labels") or {})) for t in group.get("targets") or []]
    return out


def alertmanager(doc: dict | None, sink_url: str) -> dict:
    """alertmanager.yml for the run (a one-receiver default when the build has none)."""
    if not doc:
        doc = {"route": {"receiver": "default", "group_by": ["alertname"]}, "receivers": [{"name": "default",
               "webhook_configs": [{"url": "http://unused"}]}]}
    out = copy.deepcopy(doc)
    g = {k: v for k, v in (out.get("global") or {}).items() if k == "resolve_timeout"}
    out["global"] = g
    out.pop("templates", None)
    out.pop("time_intervals", None)
    out.pop("mute_time_intervals", None)
    out["receivers"] = [_receiver(r, sink_url) for r in out.get("receivers") or []]
    _route_timers(out["route"], root=True)
    return out


def notifies(receiver: dict) -> bool:
    return any(k.endswith("_configs") and v for k, v in receiver.items())


def _receiver(r: dict, sink_url: str) -> dict:
    if not notifies(r):
        return {"name": r["name"]}
    # Resolved notifications as in production (they also let Alertmanager notify a re-fired alert);
    # the checks count firing alerts only.
    resolved = any(c.get("send_resolved", True) for k, v in r.items() if k.endswith("_configs") for c in v or [])
    return {"name": r["name"], "webhook_configs": [{"url": f"{sink_url}/{r['name']}", "send_resolved": resolved}]}


def _route_timers(route: dict, root: bool = False) -> None:
    for key in ("mute_time_intervals", "active_time_intervals"):
        route.pop(key, None)
    if root or "group_wait" in route:
        route["group_wait"] = GROUP_WAIT
    if root or "group_interval" in route:
        route["group_interval"] = GROUP_INTERVAL
    if root or "repeat_interval" in route:
        route["repeat_interval"] = REPEAT_INTERVAL
    for child in route.get("routes") or []:
        _route_timers(child)
