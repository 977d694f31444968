"""Value types of the spec: each carries its meaning and its own error message."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, WithJsonSchema
from pydantic_core import PydanticCustomError

# The duration grammar is PromQL's: one definition, in the PromQL module.
from ..promql import DURATION_RE as _DURATION_RE, duration_seconds, format_duration  # noqa: F401 - the spec's duration helpers


def _duration(value: object) -> str:
    if not isinstance(value, str) or not value or not _DURATION_RE.match(value):
        raise PydanticCustomError(
            "duration", "{value} is not a Prometheus duration; write e.g. 30s, 5m, 1h30m, 30d",
            {"value": repr(value)})
    if duration_seconds(value) <= 0:
        raise PydanticCustomError("duration", "a duration must be longer than 0s", {})
    if duration_seconds(value) >= MAX_DURATION_SECONDS:
        raise PydanticCustomError("duration", "{value} is out of range: Prometheus durations are below 292 years",
                                  {"value": repr(value)})
    return value


MAX_DURATION_SECONDS = (2 ** 63 - 1) // 10 ** 9  # Go's time.Duration, nanoseconds in an int64


Duration = Annotated[str, BeforeValidator(_duration),
                     WithJsonSchema({"type": "string", "pattern": _DURATION_RE.pattern,
                                     "examples": ["15s", "5m", "1h30m"]})]


def _percent(value: object) -> float:
    if isinstance(value, str) and value.endswith("%"):
        value = value[:-1]
        try:
            value = float(value)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PydanticCustomError("percent", "{value} is not a percentage; write e.g. 99.9",
                                  {"value": repr(value)})
    if not 0 < value < 100:
        raise PydanticCustomError("percent", "a percentage must be between 0 and 100 (exclusive), got {value}",
                                  {"value": repr(value)})
    return float(value)


Percent = Annotated[float, BeforeValidator(_percent),
                    WithJsonSchema({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 100})]

_BYTES_RE = re.compile(r"^(\d+)(B|KB|MB|GB|TB|PB|EB)$")


def _byte_size(value: object) -> str:
    if not isinstance(value, str) or not _BYTES_RE.match(value):
        raise PydanticCustomError(
            "byte_size", "{value} is not a byte size; write a whole number and a unit: B, KB, MB, GB, TB, PB or EB "
                         "(e.g. 500GB)",
            {"value": repr(value)})
    return value


ByteSize = Annotated[str, BeforeValidator(_byte_size),
                     WithJsonSchema({"type": "string", "pattern": _BYTES_RE.pattern})]

Port = Annotated[int, Field(ge=1, le=65535)]

_LABEL_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def _label_name(value: object) -> str:
    if not isinstance(value, str) or not _LABEL_RE.match(value):
        raise PydanticCustomError(
            "label_name", "{value} is not a valid label name: use letters, digits and _, not starting with a digit",
            {"value": repr(value)})
    if value.startswith("__"):
        raise PydanticCustomError("label_name", "label names starting with __ are reserved by Prometheus", {})
    return value


LabelName = Annotated[str, BeforeValidator(_label_name),
                      WithJsonSchema({"type": "string", "pattern": _LABEL_RE.pattern})]

_NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$")


def _name(value: object) -> str:
    if not isinstance(value, str) or not _NAME_RE.match(value):
        raise PydanticCustomError(
            "name", "{value} is not a valid name: use 1-63 lower-case letters, digits, '.', '-' or '_', "
            "starting and ending with a letter or digit", {"value": repr(value)})
    return value


Name = Annotated[str, BeforeValidator(_name), WithJsonSchema({"type": "string", "pattern": _NAME_RE.pattern})]


def _label_value(value: object) -> str:
    # YAML turns `true`, `1` into non-strings; label values are always strings.
    if isinstance(value, bool):
        raise PydanticCustomError("label_value", "label values are strings: quote {value}", {"value": repr(value)})
    if isinstance(value, (int, float)):
        return str(value)
    if not isinstance(value, str):
        raise PydanticCustomError("label_value", "a label value must be a string", {})
    if not value:
        raise PydanticCustomError("label_value", "an empty label value: Prometheus drops such a label, so nothing "
                                  "could select or route on it; remove the label or give it a value", {})
    if any(ord(c) < 32 and c not in "\t" for c in value) or "\x7f" in value:
        raise PydanticCustomError("label_value", "{value} holds a control character (NUL, newline, ESC ...); "
                                  "label values are one line of text", {"value": repr(value)[:60]})
    return value


LabelValue = Annotated[str, BeforeValidator(_label_value)]

_HOST_RE = re.compile(r"^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?)$")


def _check_host(host: str) -> None:
    if not _HOST_RE.match(host):
        raise PydanticCustomError("host", "{value} is not a host name or address", {"value": repr(host)})


def split_target(target: str) -> tuple[str, int | None]:
    """`host[:port]` -> (host, port or None); IPv6 addresses go in brackets."""
    if target.startswith("["):
        host, _, rest = target.partition("]")
        host += "]"
        port = rest[1:] if rest.startswith(":") else None
    elif target.count(":") == 1:
        host, port = target.split(":")
    else:
        host, port = target, None
    return host, (int(port) if port is not None and port.isdigit() else port)  # type: ignore[return-value]


def _target(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise PydanticCustomError("target", "a target is a string 'host' or 'host:port'", {})
    host, port = split_target(value)
    _check_host(host)
    if port is not None and (not isinstance(port, int) or not 1 <= port <= 65535):
        raise PydanticCustomError("target", "{value}: the port must be a number from 1 to 65535",
                                  {"value": repr(value)})
    return value


Target = Annotated[str, BeforeValidator(_target),
                   WithJsonSchema({"type": "string", "description": "host or host:port"})]

_RANGE_RE = re.compile(r"\[(\d+):(\d+)\]")
MAX_RANGE = 100_000


MAX_HOSTS = 100_000  # across the whole spec; larger fleets are discovered (service_discovery: file)


def count_hosts(pattern: str) -> int:
    """How many hosts a pattern expands to, without expanding it."""
    n = 1
    for lo, hi in _RANGE_RE.findall(pattern):
        n *= max(int(hi) - int(lo) + 1, 1)
    return n


def expand_hosts(pattern: str) -> list[str]:
    """`gpu-[001:128].internal` -> 128 hosts; zero padding of the start is kept."""
    m = _RANGE_RE.search(pattern)
    if not m:
        return [pattern]
    lo_text, hi_text = m.groups()
    lo, hi = int(lo_text), int(hi_text)
    if lo > hi:
        raise PydanticCustomError("host_range", "range [{lo}:{hi}] runs backwards; write [{hi}:{lo}]",
                                  {"lo": lo_text, "hi": hi_text})
    if hi - lo + 1 > MAX_RANGE:
        raise PydanticCustomError("host_range", "range [{lo}:{hi}] expands to more than {max} hosts",
                                  {"lo": lo_text, "hi": hi_text, "max": MAX_RANGE})
    width = len(lo_text) if lo_text.startswith("0") else 0
    head, tail = pattern[:m.start()], pattern[m.end():]
    return [h for i in range(lo, hi + 1) for h in expand_hosts(f"{head}{i:0{width}d}{tail}")]


def _hosts(value: object, info: ValidationInfo) -> list[str]:
    if not isinstance(value, list):
        raise PydanticCustomError("hosts", "hosts is a list of host names (ranges like gpu-[001:128].internal allowed)",
                                  {})
    if not value:
        raise PydanticCustomError("hosts", "give at least one host (ranges like gpu-[001:128].internal allowed)", {})
    # Counted before anything expands: `h[1:1000]x[1:1000]` is a million hosts. The loader
    # passes a spec-wide count in the validation context.
    seen = info.context.setdefault("hosts_expanded", [0]) if isinstance(info.context, dict) else [0]
    for item in value:
        if not isinstance(item, str):
            raise PydanticCustomError("hosts", "{value} is not a host name", {"value": repr(item)})
        seen[0] += count_hosts(item)
        if seen[0] > MAX_HOSTS:
            raise PydanticCustomError(
                "host_range", "the spec's host lists expand to more than {max} hosts (at {value}); for fleets "
                "that large use `prometheus.service_discovery: file` or discovery instead of static host lists",
                {"max": MAX_HOSTS, "value": repr(item)[:60]})
    out: list[str] = []
    for item in value:
        for host in expand_hosts(item):
            _target(host)
            out.append(host)
    return out


HostList = Annotated[list[str], BeforeValidator(_hosts),
                     WithJsonSchema({"type": "array", "items": {"type": "string"},
                                     "description": "host names; `name-[001:128].domain` ranges expand"})]


def _nonempty(value: list) -> list:
    if not value:
        raise PydanticCustomError("empty", "give at least one entry", {})
    return value


NonEmpty = AfterValidator(_nonempty)


_URL_RE = re.compile(r"^https?://[^\s\x00-\x1f\x7f]+$")


def _url(value: object) -> str:
    from urllib.parse import urlsplit

    if not isinstance(value, str) or not _URL_RE.match(value):
        raise PydanticCustomError("url", "{value} is not an http(s) URL; write e.g. http://host:9090/path",
                                  {"value": repr(value)[:80]})
    if urlsplit(value).username is not None or urlsplit(value).password is not None:
        # No context: the loader shows the message as is and never echoes the URL (it holds a secret).
        raise PydanticCustomError("url", "credentials in a URL (user:password@) would be written into the "
                                  "generated files in clear; give them as a file instead (basic_auth.password_file, "
                                  "authorization.credentials_file or the section's *_file field)")
    return value


Url = Annotated[str, BeforeValidator(_url), WithJsonSchema({"type": "string", "pattern": _URL_RE.pattern})]


def inline_secret(field: str, file_field: str, where: str):
    """A field that must never hold a value: the secret belongs in a file named by `file_field`."""
    def reject(value: object) -> None:
        raise PydanticCustomError("inline_secret", f"'{field}' would write a secret into {where} in clear; put it "
                                  f"in a file and give the file's path as '{file_field}'")
    return Annotated[None, BeforeValidator(reject),
                     Field(None, description=f"Not allowed: use {file_field}.", json_schema_extra={"not": {}})]


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise PydanticCustomError("text", "expected text, got {value}", {"value": repr(value)[:60]})
    if not value.strip():
        raise PydanticCustomError("text", "an empty value: give one, or leave the field out", {})
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise PydanticCustomError("text", "{value} holds a control character (NUL, newline, ESC ...); "
                                  "give one line of text", {"value": repr(value)[:60]})
    return value


# One line of non-empty text: addresses, channel names, sender names.
Text = Annotated[str, BeforeValidator(_text), WithJsonSchema({"type": "string", "minLength": 1})]


def _host_port(value: object) -> str:
    value = _target(value)
    if split_target(value)[1] is None:
        raise PydanticCustomError("target", "{value} needs a port: write host:port, e.g. smtp.example.com:587",
                                  {"value": repr(value)})
    return value


# host:port with the port required (an SMTP smarthost).
HostPort = Annotated[str, BeforeValidator(_host_port),
                     WithJsonSchema({"type": "string", "description": "host:port"})]


def matching(pattern: str, what: str, code: str):
    """A str type whose error says what to write rather than showing the regex."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.match(value):
            # No context: the loader shows the message as it is.
            raise PydanticCustomError(code, f"{value!r} is not {what}")
        return value
    return Annotated[str, AfterValidator(check), WithJsonSchema({"type": "string", "pattern": pattern})]


def regex_problem(pattern: str) -> str | None:
    """Why `pattern` does not compile as a regex, or None when it does."""
    try:
        re.compile(pattern)
    except re.error as exc:
        return str(exc)
    return None


_CLOCK_RANGE_RE = re.compile(r"^(\d\d):(\d\d)-(\d\d):(\d\d)$")


def clock_range(value: object) -> tuple[int, ...] | None:
    """(h1, m1, h2, m2) of an `HH:MM-HH:MM` text, else None (ranges are checked by the caller)."""
    m = _CLOCK_RANGE_RE.match(value) if isinstance(value, str) else None
    return tuple(map(int, m.groups())) if m else None


_SECRET_HEADER = re.compile(r"(?i)key|token|secret|passw|auth|cookie|credential|signature")


def secret_header(name: str) -> bool:
    """An HTTP header whose value is a credential by its name: its value belongs in a file."""
    return _SECRET_HEADER.search(name) is not None
