"""The spec's `alerting` section: receivers, routes, inhibition, maintenance windows.

Short to write: a receiver lists its channels by kind (`slack: {...}` or a list of them),
a route matches with `match: {team: genai}`, and routing tests sit next to the routes.
Secrets are file paths only: an inline secret is an error naming the `*_file` field.
"""

from __future__ import annotations

from typing import Annotated, Literal, NoReturn

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from ..errors import did_you_mean
from .types import Duration, HostPort, LabelName, LabelValue, Name, Text, Url, clock_range, regex_problem

VERSIONS = ("0.25", "0.26", "0.27", "0.28")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


def _version(value: object) -> object:
    # YAML reads 0.25 as a float; versions are compared as strings.
    if isinstance(value, float):
        return f"{value:.2f}"
    return value


def _fail(kind: str, message: str) -> NoReturn:
    # No context: the loader then shows the message as is and never echoes the input (a secret).
    raise PydanticCustomError(kind, message)


def _inline_secret(field: str):
    """A field that must never hold a value: its secret belongs in `<field>_file`."""
    def reject(value: object) -> None:
        _fail("inline_secret", f"'{field}' would write a secret into alertmanager.yml; put the secret in a file "
              f"and give its path as '{field}_file' (e.g. {field}_file: /etc/alertmanager/secrets/"
              f"{field.replace('_', '-')})")
    return Annotated[None, BeforeValidator(reject),
                     Field(None, description=f"Not allowed: use {field}_file.", json_schema_extra={"not": {}})]


def _one_or_many(value: object) -> object:
    return [value] if isinstance(value, dict) else value


class Channel(_Strict):
    send_resolved: bool | None = Field(None,
                                       description="Also notify when the alert resolves (default: the receiver's).")


class Email(Channel):
    to: Text = Field(description="Recipient address(es), comma-separated.")
    from_: Text | None = Field(None, alias="from", description="Sender; defaults to alerting.smtp.from.")
    smarthost: HostPort | None = Field(None,
                                       description="host:port of the SMTP server; defaults to alerting.smtp.smarthost.")
    auth_username: Text | None = None
    auth_password_file: str | None = None
    auth_password: _inline_secret("auth_password")
    require_tls: bool | None = None


class Slack(Channel):
    channel: Text = Field(description="e.g. '#genai-alerts'.")
    api_url_file: str | None = Field(None, description="File holding the Slack incoming-webhook URL (required).")
    api_url: _inline_secret("api_url")


class PagerDuty(Channel):
    routing_key_file: str | None = Field(None, description="File holding the Events API v2 integration key.")
    service_key_file: str | None = Field(None, description="File holding a legacy (v1) service key.")
    routing_key: _inline_secret("routing_key")
    service_key: _inline_secret("service_key")


class MSTeams(Channel):
    webhook_url_file: str | None = Field(None, description="File holding the Teams incoming-webhook URL (required; "
                                                           "Alertmanager >= 0.27).")
    webhook_url: _inline_secret("webhook_url")


class Opsgenie(Channel):
    api_key_file: str | None = Field(None, description="File holding the Opsgenie API key (required).")
    api_url: Url | None = Field(None, description="e.g. https://api.eu.opsgenie.com/ for the EU instance.")
    priority: Text | None = Field(None, description="P1..P5, or a template.")
    api_key: _inline_secret("api_key")


class Webhook(Channel):
    url: Url | None = Field(None, description="Endpoint; put it in url_file if it holds a token.")
    url_file: str | None = Field(None, description="File holding the URL (Alertmanager >= 0.26).")
    max_alerts: int | None = Field(None, ge=0)


def _channels(model):
    return Annotated[list[model], BeforeValidator(_one_or_many), Field(description="One channel, or a list of them.")]


class Receiver(_Strict):
    name: Name
    send_resolved: bool = Field(True, description="Default for this receiver's channels.")
    email: _channels(Email) = []
    slack: _channels(Slack) = []
    pagerduty: _channels(PagerDuty) = []
    msteams: _channels(MSTeams) = []
    opsgenie: _channels(Opsgenie) = []
    webhook: _channels(Webhook) = []


CHANNEL_KINDS = ("email", "slack", "pagerduty", "msteams", "opsgenie", "webhook")


class Smtp(_Strict):
    smarthost: HostPort = Field(description="host:port of the SMTP server, e.g. smtp.example.com:587.")
    from_: Text = Field(alias="from")
    auth_username: Text | None = None
    auth_password_file: str | None = None
    auth_password: _inline_secret("auth_password")
    require_tls: bool = True


MatchValue = Annotated[LabelValue | list[LabelValue], Field(description="A value, or a list of values (any of).")]


class Route(_Strict):
    receiver: Name | None = Field(None, description="Defaults to the parent route's receiver.")
    match: dict[LabelName, MatchValue] = Field({}, description="Labels the alert must carry, e.g. {team: genai}.")
    match_re: dict[LabelName, str] = Field({}, description="Labels whose value must match a regex (anchored).")
    continue_: bool = Field(False, alias="continue", description="Keep looking at the following sibling routes.")
    group_by: list[LabelName | Literal["..."]] | None = None
    group_wait: Duration | None = None
    group_interval: Duration | None = None
    repeat_interval: Duration | None = None
    mute_time_intervals: list[Name] = Field([], description="Maintenance windows during which this route stays quiet.")
    active_time_intervals: list[Name] = Field([], description="Windows outside which this route stays quiet.")
    routes: list[Route] = []

    @field_validator("match_re")
    @classmethod
    def _regex(cls, value: dict) -> dict:
        for label, pattern in value.items():
            problem = regex_problem(pattern)
            if problem:
                _fail("regex", f"match_re.{label}: {pattern!r} is not a valid regex ({problem})")
        return value


_DAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")


def _weekday(value: object) -> object:
    if not isinstance(value, str):
        return value
    parts = value.lower().split(":")
    if len(parts) > 2 or any(p not in _DAYS for p in parts):
        _fail("weekday", f"{value!r} is not a weekday or range; write e.g. saturday or monday:friday")
    if len(parts) == 2 and _DAYS.index(parts[0]) > _DAYS.index(parts[1]):
        _fail("weekday", f"{value!r} runs backwards (weeks start on sunday); split it, e.g. [friday:saturday, sunday]")
    return value.lower()


def _time_range(value: object) -> object:
    clock = clock_range(value)
    if clock is None:
        _fail("time_range", f"{value!r} is not a time range; write HH:MM-HH:MM, e.g. 22:00-24:00")
    h1, m1, h2, m2 = clock
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if m1 > 59 or m2 > 59 or start > 24 * 60 or end > 24 * 60:
        _fail("time_range", f"{value!r}: times run from 00:00 to 24:00")
    if start >= end:
        _fail("time_range", f"{value!r} ends before it starts; a range cannot cross midnight, "
              "split it into two (e.g. 22:00-24:00 and 00:00-02:00)")
    return value


def _time_zone(value: object) -> object:
    import zoneinfo

    if not isinstance(value, str):
        return value
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        hint = did_you_mean(value, zoneinfo.available_timezones()) or "use an IANA name such as Europe/Berlin or UTC"
        _fail("time_zone", f"unknown time zone {value!r}: {hint}")
    return value


class MaintenanceWindow(_Strict):
    name: Name
    weekdays: list[Annotated[str, BeforeValidator(_weekday)]] = Field(
        [], description="Days or ranges, e.g. [saturday, sunday] or [monday:friday]; empty means every day.")
    times: list[Annotated[str, BeforeValidator(_time_range)]] = Field(
        [], description="HH:MM-HH:MM ranges within a day; empty means all day.")
    time_zone: Annotated[str, BeforeValidator(_time_zone)] = Field("UTC", description="IANA time zone of the times.")


class RoutingTest(_Strict):
    labels: dict[LabelName, LabelValue] = Field(description="Labels of an alert.")
    receivers: list[Name] = Field(min_length=1, description="Receivers it must reach, in routing-tree order.")


# The receiver the generated alertmanager.yml gives Watchdog when no heartbeat is configured:
# no channels, so the always-firing alert never reaches the default receiver (an e-mail a day).
NULL_RECEIVER = "watchdog-null"
# The always-firing alert of rules/prometheus.yaml that gets the heartbeat route.
WATCHDOG_ALERT = "Watchdog"


class Heartbeat(_Strict):
    receiver: Name = Field(description="Receiver of the always-firing Watchdog alert: a dead man's switch "
                                       "(e.g. a Healthchecks.io or Dead Man's Snitch webhook, an Opsgenie/PagerDuty "
                                       "heartbeat) that raises the alarm when the notifications stop.")
    repeat_interval: Duration = Field("1m", description="How often Watchdog is sent again; the heartbeat "
                                                        "service's timeout must be longer (e.g. 3x).")


class Alerting(_Strict):
    alertmanager_version: Annotated[Literal[VERSIONS], BeforeValidator(_version)] = Field(
        "0.25", description="The Alertmanager you run; fields newer versions added are refused below it.")
    resolve_timeout: Duration = Field("5m", description="An alert that stops being sent resolves after this.")
    group_by: list[LabelName | Literal["..."]] = Field(
        ["alertname", "cluster", "node_group", "model", "pipeline", "storage", "slo"],
        description="Alerts with these labels equal share a notification: by default one per alert and "
                    "node group, model, pipeline, storage or SLO, so a pool-wide failure is one message, not one per "
                    "host.")
    group_wait: Duration = Field("30s", description="Wait before the first notification of a new group.")
    group_interval: Duration = Field("5m", description="Wait before notifying about changes in a group.")
    repeat_interval: Duration = Field("4h", description="Repeat an unchanged, still firing group this often.")
    default_receiver: Name | None = Field(None,
                                          description="Receives every alert no route takes; required with receivers.")
    smtp: Smtp | None = Field(None, description="Defaults for email channels.")
    receivers: list[Receiver] = Field([], description="Without receivers no alertmanager.yml is generated.")
    routes: list[Route] = Field([], description="Tried in order; the first match without continue wins.")
    inhibit: bool = Field(True, description="Node down silences its GPU/exporter/model alerts; critical silences "
                                            "the same alert's warning; an SLO page silences its ticket.")
    maintenance_windows: list[MaintenanceWindow] = []
    heartbeat: Heartbeat | None = Field(None, description="Where the always-firing Watchdog alert goes (a dead "
                                        "man's switch that proves Prometheus -> Alertmanager -> receiver works). "
                                        f"Without it Watchdog goes to '{NULL_RECEIVER}', a receiver that notifies "
                                        f"nobody.")
    tests: list[RoutingTest] = Field([], description="Routing expectations checked with amtool at build time.")
