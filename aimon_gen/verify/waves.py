"""One wave of faults: inject, wait for the alerts and notifications, judge, clear.

An alert belongs to a scenario when one of its labels names the scenario's subject
(host, model, pipeline ...) and it became active after the wave began. Per scenario:
the alerts that must fire did, nothing outside the expected set fired; per fired alert:
the receivers that got it are the ones the routes name; per wave: inhibited alerts are
suppressed and not delivered; alerts that fired together for one group arrived in one
notification.
"""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime

from ..catalog import metric_info
from ..promql import metric_names
from ..render import Documents
from ..spec import routing
from .rewrite import notifies
from .scenarios import name_matches

SETTLE = 2.0        # seconds to keep watching after the expected alerts arrived


def classify_rules(files: Documents) -> dict[str, str]:
    """alert name -> 'host' when it reads only node_exporter metrics (this machine's real
    ones, whose alerts verify reports but does not judge), else 'simulated'."""

    records: dict = {}
    alerts: dict = {}
    for path in sorted(p for p in files if p.endswith(".rules.yml")):
        for g in (files[path] or {}).get("groups") or []:
            for r in g.get("rules") or []:
                names = metric_names(str(r["expr"]))
                if "record" in r:
                    records[r["record"]] = names
                else:
                    alerts.setdefault(r["alert"], set()).update(names)

    def exporters(names, seen=()):
        out = set()
        for n in names:
            if n in records and n not in seen:
                out |= exporters(records[n], (*seen, n))
            elif (info := metric_info(n)) is not None and not info.synthetic:
                out.add(info.exporter)
            elif n == "up":
                out.add("up")
        return out
    return {a: ("host" if exporters(n) == {"node_exporter"} else "simulated") for a, n in alerts.items()}


class WaveChecker:
    def __init__(self, prom, am, sink, fleet, am_cfg, kinds, report, timeout, log):
        self.prom, self.am, self.sink, self.fleet, self.cfg = prom, am, sink, fleet, am_cfg
        self.routes = routing.from_config(am_cfg)
        self.kinds, self.report, self.timeout, self.log = kinds, report, timeout, log
        # Label sets of alerts judged in earlier waves: one that flaps back (a window still
        # draining on a busy machine) belongs to its own wave, not to the next one.
        self.seen: set[frozenset] = set()

    def run(self, wave, before_clear=None) -> None:
        start = time.time()
        for s in wave:
            self.fleet.apply(s, True)
        try:
            snap = self._wait(wave, start)
            if before_clear:
                before_clear()
        finally:
            for s in wave:
                self.fleet.apply(s, False)
        self._judge(wave, snap)
        self.seen |= {frozenset(a["labels"].items()) for a in snap["fired"]}

    def _snapshot(self, start: float) -> dict:
        fired = [a for a in self.prom.alerts() if a["state"] == "firing" and _ts(a["activeAt"]) >= start - 1
                 and frozenset(a["labels"].items()) not in self.seen]
        self.am_all = self.am.alerts()   # every active alert may inhibit
        am = [a for a in self.am_all if not any(s <= frozenset(a["labels"].items()) for s in self.seen)]
        # Alertmanager's startsAt is when Prometheus fired it: older alerts belong to earlier waves.
        new = [a for a in am if _ts(a["startsAt"]) >= start - 1]
        return {"fired": fired, "am": new, "am_all": self.am_all, "deliveries": self.sink.since(start)}

    def _done(self, wave, snap) -> bool:
        for s in wave:
            mine = [a["labels"]["alertname"] for a in snap["fired"] if s.owns(a["labels"])]
            if not all(any(name_matches(p, n) for n in mine) for p in s.expect):
                return False
            # A down node's inhibition is judged on the host's other alerts: wait for one to
            # reach Alertmanager (their `for` may be longer than NodeDown's, e.g. a model
            # server's per-replica warning that outlasts a cold start).
            others = [a for a in snap["am"] if s.owns(a["labels"])
                      and not s.expected(a["labels"]["alertname"])]
            if s.fault == "node_down" and not others:
                return False
        return not self._undelivered(wave, snap)

    def _wait(self, wave, start):
        deadline = time.monotonic() + self.timeout
        snap: dict[str, list] = {"fired": [], "am": [], "am_all": [], "deliveries": []}
        while True:
            try:
                snap = self._snapshot(start)
            except OSError as exc:  # a busy machine: an API call timed out; ask again
                self.log(f"  retrying after: {exc}")
                if time.monotonic() > deadline:
                    return snap
                continue
            if self._done(wave, snap):
                time.sleep(SETTLE)   # alerts that come later than the expected ones still count
                try:
                    later = self._snapshot(start)
                except OSError:
                    return snap
                if self._done(wave, later):
                    return later
                continue   # a late alert's notification is still on its way: wait for it too
            if time.monotonic() > deadline:
                self.log("  timed out waiting for the expected alerts")
                return snap
            time.sleep(0.5)

    def _owned_am(self, wave, snap):
        names = {a["labels"]["alertname"] for a in snap["fired"]}
        return [a for a in snap["am"] if a["labels"]["alertname"] in names and any(s.owns(a["labels"]) for s in wave)]

    def _expected_receivers(self, alert) -> set[str]:
        if alert["status"]["state"] == "suppressed":
            return set()
        by_name = {r["name"]: r for r in self.cfg.get("receivers") or []}
        return {r for r in routing.receivers(self.routes, alert["labels"]) if notifies(by_name.get(r, {}))}

    def _got(self, snap, fingerprint) -> set[str]:
        return {d.receiver for d in snap["deliveries"] if any(a.get("fingerprint") == fingerprint for a in d.alerts())}

    def _undelivered(self, wave, snap) -> list:
        return [a for a in self._owned_am(wave, snap)
                if not self._expected_receivers(a) <= self._got(snap, a["fingerprint"])]

    def _judge(self, wave, snap) -> None:
        fired = snap["fired"]
        for s in wave:
            # An alert on a shared host that another fault of the wave explains is that fault's.
            mine = sorted({a["labels"]["alertname"] for a in fired if s.owns(a["labels"])
                           and self.kinds.get(a["labels"]["alertname"]) != "host" and (
                s.allowed(a["labels"]["alertname"]) or not any(
                    o is not s and o.owns(a["labels"]) and o.allowed(a["labels"]["alertname"]) for o in wave))})
            missing = [p for p in s.expect if not any(name_matches(p, n) for n in mine)]
            wrong = [n for n in mine if self.kinds.get(n) != "host"
                     and not any(o.allowed(n) for o in wave if any(o.owns(a["labels"]) for a in fired
                                                                   if a["labels"]["alertname"] == n))]
            detail = f"fired: {', '.join(mine) or 'nothing'}"
            if missing:
                detail += f"; expected and missing: {', '.join(missing)}"
            if wrong:
                detail += f"; not expected: {', '.join(wrong)}"
            self.report.add("fault fires", s.title, not missing and not wrong, detail)
        # Alerts about no one subject (e.g. "targets down" per job) pass when a fault of the wave allows them.
        stray = sorted({a["labels"]["alertname"] for a in fired if not any(s.owns(a["labels"]) for s in wave)
                        and self.kinds.get(a["labels"]["alertname"]) != "host"
                        and not any(s.allowed(a["labels"]["alertname"]) for s in wave)})
        if stray:
            self.report.add("fault fires", "alerts of no fault", False, ", ".join(stray))
        self._judge_receivers(wave, snap)
        self._judge_inhibition(wave, snap)
        self._judge_grouping(wave, snap)

    def _judge_receivers(self, wave, snap) -> None:
        seen = set()
        for a in sorted(self._owned_am(wave, snap), key=lambda a: (a["labels"]["alertname"], a["fingerprint"])):
            want, got = self._expected_receivers(a), self._got(snap, a["fingerprint"])
            key = (a["labels"]["alertname"], frozenset(want), frozenset(got))
            if key in seen:
                continue   # one row per alert name and outcome, not one per GPU
            seen.add(key)
            subject = f"{a['labels']['alertname']} {_where(a['labels'])}"
            ok = want == got
            routed = ", ".join(sorted(want)) or ("none (inhibited)" if a["status"]["state"] == "suppressed" else "none")
            detail = f"routes: {routed}; got: {', '.join(sorted(got)) or 'nothing'}"
            self.report.add("receivers", subject, ok, detail)

    def _judge_inhibition(self, wave, snap) -> None:
        if not self.cfg.get("inhibit_rules"):
            return
        active = [a["labels"] for a in snap["am_all"]]
        for s in wave:
            mine = [a for a in snap["am"] if s.owns(a["labels"])]
            should = [a for a in mine if routing.inhibited(self.cfg, a["labels"], active)]
            if s.fault != "node_down" and not should:
                continue
            delivered = [a for a in should if self._got(snap, a["fingerprint"])]
            not_suppressed = [a for a in should if not a["status"].get("inhibitedBy")]
            names = sorted({a["labels"]["alertname"] for a in should})
            ok = bool(should) and not delivered and not not_suppressed
            detail = f"silenced: {', '.join(names)}" if should else "nothing to silence: no other alert fired on it"
            if not_suppressed:
                unsuppressed = ", ".join(sorted({a["labels"]["alertname"] for a in not_suppressed}))
                detail += f"; not suppressed by Alertmanager: {unsuppressed}"
            if delivered:
                detail += f"; delivered anyway: {', '.join(sorted({a['labels']['alertname'] for a in delivered}))}"
            self.report.add("inhibition", s.title, ok, detail)

    def _judge_grouping(self, wave, snap) -> None:
        """Alerts of one group that fired at the same evaluation must arrive in one notification."""
        by_fp = {a["fingerprint"]: a for a in snap["am"] if a["status"]["state"] == "active"}
        fired_at = {}
        for a in snap["fired"]:
            fired_at[tuple(sorted(a["labels"].items()))] = a["activeAt"]
        groups: dict = {}
        for fp, a in by_fp.items():
            labels = a["labels"]   # Prometheus's labels plus the external ones
            at = next((t for lbl, t in fired_at.items() if set(lbl) <= set(labels.items())), None)
            if at is None or not any(s.owns(labels) for s in wave):
                continue
            for node in routing.match(self.routes, labels):
                groups.setdefault((node.receiver, routing.group_key(node, labels), at), []).append(fp)
        for (receiver, _key, _at), fps in sorted(groups.items()):
            if len(fps) < 2 or receiver not in self._got_any(snap):
                continue
            hits = [d for d in snap["deliveries"] if d.receiver == receiver
                    and any(x.get("fingerprint") in fps for x in d.alerts())]
            first = {x.get("fingerprint") for x in hits[0].alerts()} if hits else set()
            ok = bool(hits) and set(fps) <= first
            name = by_fp[fps[0]]["labels"]["alertname"]
            detail = (f"{len(fps)} alerts in the first of {len(hits)} notification(s)" if ok else
                      f"{len(fps)} alerts that fired together were split: first notification held "
                      f"{len(first & set(fps))}")
            self.report.add("grouping", f"{name} -> {receiver}", ok, detail)

    def _got_any(self, snap) -> set[str]:
        return {d.receiver for d in snap["deliveries"]}


def _where(labels: dict) -> str:
    for k in ("host", "model", "pipeline", "storage", "slo", "instance"):
        if labels.get(k):
            return f"{k}={labels[k]}"
    return ""


def _ts(text: str) -> float:
    """RFC 3339 (Prometheus: nanoseconds, Alertmanager: milliseconds; UTC 'Z') -> unix seconds."""
    base = datetime.fromisoformat(text[:19]).replace(tzinfo=UTC).timestamp()
    digits = "".join(itertools.takewhile(str.isdigit, text[20:])) if text[19:20] == "." else ""
    return base + (float("0." + digits) if digits else 0.0)
