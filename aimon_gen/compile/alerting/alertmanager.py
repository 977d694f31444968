"""Spec `alerting` -> alertmanager.yml (Alertmanager 0.25 syntax) and the routing tests.

No `alerting.receivers`, no alertmanager.yml: a config whose only receiver drops every
alert would look like alerting while paging nobody, and many teams run an Alertmanager
configured elsewhere. Prometheus still sends to `prometheus.alertmanagers`.

The routing tests go to `alertmanager-tests.yml`: reviewable next to the config, and
each one is run at build time as `amtool config routes test --verify.receivers` (planned
by check.py with `routing_test_args`).

Watchdog (rules/prometheus.yaml, always firing) gets the first route, without continue:
to `alerting.heartbeat.receiver` (a dead man's switch), re-sent every heartbeat
repeat_interval; without a heartbeat, to a receiver with no channels (spec.alerting.
NULL_RECEIVER), so it never reaches the default receiver or any team's route.
"""

from __future__ import annotations

import shlex

from ...spec import routing
from ...spec.alerting import NULL_RECEIVER, WATCHDOG_ALERT
from ..result import Alert, Bundle
from .routing import analyse

CONFIG = "alertmanager.yml"
TESTS = "alertmanager-tests.yml"

# Alert names and labels the inhibition rules rely on (rules/*.yaml and compile/slo/rules.py:
# burn-rate alerts carry `slo` from their series and `tier` page|ticket as a rule label).
NODE_DOWN_ALERT = "NodeDown"
SLO_LABEL = "slo"
TIER_LABEL, PAGE, TICKET = "tier", "page", "ticket"
# Labels that together name one alerting target; a label missing on both sides counts as equal.
TARGET_LABELS = ["alertname", "cluster", "host", "instance", "gpu", "model", "pipeline", "storage", "slo"]

_KIND_KEY = {"email": "email_configs", "slack": "slack_configs", "pagerduty": "pagerduty_configs",
             "msteams": "msteams_configs", "opsgenie": "opsgenie_configs", "webhook": "webhook_configs"}


def compile_alertmanager(ctx, bundle: Bundle) -> None:
    al = ctx.spec.alerting
    if not al.receivers:
        if ctx.spec.prometheus.alertmanagers:
            ctx.warn(("prometheus", "alertmanagers"), "alerts go to an Alertmanager but the spec has no "
                     "alerting.receivers, so no alertmanager.yml is generated",
                     "add an alerting section if aimon-gen should configure that Alertmanager")
        return
    analyse(ctx, bundle.rules())
    doc: dict = {"global": _global(al), "route": _root(al)}
    watchdog = WATCHDOG_ALERT in bundle.alert_names()
    if watchdog:
        doc["route"].setdefault("routes", []).insert(0, watchdog_route(al))
    if al.inhibit:
        doc["inhibit_rules"] = inhibit_rules() + level_rules(bundle.alerts())
    doc["receivers"] = [_receiver(r) for r in al.receivers]
    if watchdog and al.heartbeat is None:
        doc["receivers"].append({"name": NULL_RECEIVER})
    if al.maintenance_windows:
        doc["time_intervals"] = [_window(w) for w in al.maintenance_windows]
    bundle.alertmanager = doc
    bundle.alertmanager_tests = [(dict(t.labels), list(t.receivers)) for t in al.tests]


def watchdog_route(al) -> dict:
    """Watchdog's own route: the heartbeat receiver, notified again every repeat_interval
    (group_interval as short, since Alertmanager only re-sends on a group_interval tick)."""
    hb = al.heartbeat
    route: dict = {"receiver": hb.receiver if hb else NULL_RECEIVER, "matchers": [f'alertname="{WATCHDOG_ALERT}"'],
                   "group_by": list(routing.HEARTBEAT_GROUP_BY), "group_wait": "0s"}
    if hb:
        route.update(group_interval=hb.repeat_interval, repeat_interval=hb.repeat_interval)
    return route


def _global(al) -> dict:
    g: dict = {"resolve_timeout": al.resolve_timeout}
    if al.smtp:
        s = al.smtp
        g["smtp_smarthost"] = s.smarthost
        g["smtp_from"] = s.from_
        if s.auth_username:
            g["smtp_auth_username"] = s.auth_username
        if s.auth_password_file:
            g["smtp_auth_password_file"] = s.auth_password_file
        g["smtp_require_tls"] = s.require_tls
    return g


def _root(al) -> dict:
    root = {"receiver": al.default_receiver, "group_by": list(al.group_by), "group_wait": al.group_wait,
            "group_interval": al.group_interval, "repeat_interval": al.repeat_interval}
    if al.routes:
        root["routes"] = [_route(r) for r in al.routes]
    return root


def _route(r) -> dict:
    out: dict = {}
    if r.receiver:
        out["receiver"] = r.receiver
    matchers = [m.render() for m in routing.matchers_of(r)]
    if matchers:
        out["matchers"] = matchers
    if r.continue_:
        out["continue"] = True
    for key in ("group_by", "group_wait", "group_interval", "repeat_interval"):
        value = getattr(r, key)
        if value is not None:
            out[key] = list(value) if key == "group_by" else value
    for key in ("mute_time_intervals", "active_time_intervals"):
        if getattr(r, key):
            out[key] = list(getattr(r, key))
    if r.routes:
        out["routes"] = [_route(c) for c in r.routes]
    return out


def inhibit_rules() -> list[dict]:
    """The default inhibitions: consequences stay quiet while their cause is firing."""
    rules = [
        # A down node explains every other alert of that host (GPU, exporters, models on it).
        {"source_matchers": [f'alertname="{NODE_DOWN_ALERT}"'],
         "target_matchers": [f'alertname!="{NODE_DOWN_ALERT}"'],
         "equal": ["cluster", "host"]},
        # The critical level of an alert makes its warning level noise.
        {"source_matchers": ['severity="critical"'], "target_matchers": ['severity="warning"'],
         "equal": list(TARGET_LABELS)},
    ]
    # An SLO's fast-burn page makes its slow-burn ticket noise. By tier, not severity: the
    # spec may give both tiers the same severity (slo_alerting.page/ticket.severity).
    rules.append({"source_matchers": [f'{SLO_LABEL}=~".+"', f'{TIER_LABEL}="{PAGE}"'],
                  "target_matchers": [f'{SLO_LABEL}=~".+"', f'{TIER_LABEL}="{TICKET}"'],
                  "equal": ["cluster", SLO_LABEL]})
    return rules


# Two levels of one condition are about the same thing when these labels agree too (absent
# on both sides counts as equal in Alertmanager): a full / on one mount is not /data's.
LEVEL_EQUAL = [label for label in TARGET_LABELS if label != "alertname"] + ["mountpoint", "device"]


def level_rules(alerts: list[Alert]) -> list[dict]:
    """Alerts that are two levels of one condition under different names (GPUTemperatureCritical
    and GPUTemperatureHigh): the greater one silences the lesser on the same target. The packs
    declare the pairs (`inhibits:`)."""
    pairs = sorted({(a.name, lesser) for a in alerts for lesser in a.inhibits if lesser != a.name})
    return [{"source_matchers": [f'alertname="{c}"'], "target_matchers": [f'alertname="{w}"'],
             "equal": list(LEVEL_EQUAL)} for c, w in pairs]


def _receiver(r) -> dict:
    out: dict = {"name": r.name}
    for kind, key in _KIND_KEY.items():
        channels = getattr(r, kind)
        if channels:
            out[key] = [_channel(kind, ch, r.send_resolved) for ch in channels]
    return out


# Spec field -> Alertmanager field, per channel kind, in output order.
_FIELDS = {
    "email": ("to", ("from_", "from"), "smarthost", "auth_username", "auth_password_file", "require_tls"),
    "slack": ("api_url_file", "channel"),
    "pagerduty": ("routing_key_file", "service_key_file"),
    "msteams": ("webhook_url_file",),
    "opsgenie": ("api_key_file", "api_url", "priority"),
    "webhook": ("url", "url_file", "max_alerts"),
}


# Alertmanager's default Slack text is empty: say what broke, how badly, and where the runbook is.
SLACK_TEXT = ("{{ range .Alerts }}*{{ .Annotations.summary }}* ({{ .Labels.severity }})\n"
              "{{ .Annotations.description }}\n"
              "{{ if .Annotations.runbook_url }}Runbook: {{ .Annotations.runbook_url }}\n{{ end }}{{ end }}")


def _channel(kind: str, ch, send_resolved: bool) -> dict:
    out: dict = {"send_resolved": ch.send_resolved if ch.send_resolved is not None else send_resolved}
    for field in _FIELDS[kind]:
        name, key = field if isinstance(field, tuple) else (field, field)
        value = getattr(ch, name)
        if value is not None:
            out[key] = value
    if kind == "slack":
        out["text"] = SLACK_TEXT
    if kind == "pagerduty":
        # Our severities (critical, warning, info) are PagerDuty's own; the default would be "error".
        out["severity"] = '{{ if .CommonLabels.severity }}{{ .CommonLabels.severity }}{{ else }}critical{{ end }}'
    return out


def _window(w) -> dict:
    spec: dict = {}
    if w.weekdays:
        spec["weekdays"] = list(w.weekdays)
    if w.times:
        spec["times"] = [{"start_time": t[:5], "end_time": t[6:]} for t in w.times]
    spec["location"] = w.time_zone
    return {"name": w.name, "time_intervals": [spec]}


def readme_section(spec) -> list[str]:
    """Lines for the output README: how to run Alertmanager and which secret files it needs."""
    al = spec.alerting
    files = sorted({v for _, v in _file_fields(al) if v})
    lines = ["## Run Alertmanager", "", f"`{CONFIG}` is for Alertmanager {al.alertmanager_version} or newer:", "",
             "```sh", f"alertmanager --config.file={CONFIG}", f"amtool check-config {CONFIG}"]
    for t in al.tests[:3]:
        labels = " ".join(shlex.quote(f"{k}={v}") for k, v in t.labels.items())
        lines.append(f"amtool config routes test --config.file={CONFIG} --verify.receivers={','.join(t.receivers)} "
                     f"{labels}".rstrip())
    lines += ["```", ""]
    if al.tests:
        lines += [f"`{TESTS}` holds the spec's routing tests; the build ran each with `amtool config routes test`.", ""]
    if files:
        lines += ["Secrets are read from these files on the Alertmanager host (one line each, never in this folder):",
                  "", *[f"- `{f}`" for f in files], ""]
    return lines


def _file_fields(al):
    if al.smtp:
        yield "auth_password_file", al.smtp.auth_password_file
    for r in al.receivers:
        for kind in _KIND_KEY:
            for ch in getattr(r, kind):
                for name in type(ch).model_fields:
                    if name.endswith("_file"):
                        yield name, getattr(ch, name)


def routing_test_args(labels: dict, receivers: list) -> tuple[str, ...]:
    """The arguments of `amtool config routes test --verify.receivers` for one routing test."""
    return ("config", "routes", "test", f"--config.file={CONFIG}", f"--verify.receivers={','.join(receivers)}",
            *[f"{k}={routing._quote(v)}" for k, v in labels.items()])
