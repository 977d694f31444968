"""How Prometheus authenticates to an HTTP endpoint: Prometheus's own `authorization`,
`basic_auth` and `tls_config` fields, with every secret given as a file path only (the file
stays on the Prometheus host; `--format kubernetes` names keys of a Secret instead).

Used per exporter kind (`exporters.<kind>`), per spec entry (`scrape:`) and by remote_write.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .finding import Finding
from .types import Name, inline_secret


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Authorization(_Strict):
    type: str = Field("Bearer", pattern=r"^[A-Za-z][A-Za-z0-9._-]*$",
                      description="Scheme of the Authorization header.")
    credentials_file: str = Field(min_length=1,
                                  description="Path of a file holding the token (never the token itself).")
    credentials: inline_secret("credentials", "credentials_file", "prometheus.yml")


class BasicAuth(_Strict):
    username: str
    password_file: str = Field(description="Path to a file holding the password (never the password).")
    password: inline_secret("password", "password_file", "prometheus.yml")


class TLSConfig(_Strict):
    ca_file: str | None = Field(None, description="CA certificate (PEM) the exporter's certificate is checked "
                                                  "against; default: the system's CAs.")
    cert_file: str | None = Field(None, description="Client certificate (PEM) for exporters that ask for one "
                                                    "(mutual TLS); with key_file.")
    key_file: str | None = Field(None, description="Client key (PEM) of cert_file.")
    key: inline_secret("key", "key_file", "prometheus.yml")
    server_name: str | None = Field(None, min_length=1,
                                    description="Name the exporter's certificate must carry, when not the "
                                                "target's host name.")
    insecure_skip_verify: bool = Field(False, description="Accept any certificate (testing only).")


class ClientAuth(_Strict):
    """Credentials and TLS Prometheus uses to scrape; secrets only as `*_file` paths."""
    authorization: Authorization | None = Field(
        None, description="Authorization header, e.g. {credentials_file: /etc/prometheus/secrets/minio-token} "
                          "for a bearer token (MinIO's metrics need one by default).")
    basic_auth: BasicAuth | None = Field(None, description="HTTP basic auth (exporter web-config `basic_auth_users`).")
    tls_config: TLSConfig | None = Field(None, description="TLS settings; used with scheme: https.")
    kubernetes_secret: Name | None = Field(
        None, description="--format kubernetes: the Secret (in outputs.kubernetes.namespace) whose keys hold these "
                          "files' contents, each under its file's base name (`kubectl create secret generic NAME "
                          "--from-file=PATH`), plus `username` for basic_auth; default <manifest name>-auth, "
                          "e.g. ai-prod-storage-s3-auth.")
    bearer_token: inline_secret("bearer_token", "authorization.credentials_file", "prometheus.yml")


class ScrapeOverride(ClientAuth):
    """One entry's own scrape settings: each field given replaces its kind's (authorization and basic_auth as one)."""
    scheme: Literal["http", "https"] | None = Field(None, description="http | https; default: the kind's.")


class NodeGroupScrape(_Strict):
    """A node group's own scrape settings, per exporter it runs."""
    node_exporter: ScrapeOverride | None = None
    dcgm_exporter: ScrapeOverride | None = None


def effective(kind, entry: ScrapeOverride | None) -> ScrapeOverride:
    """The settings a target is scraped with: its kind's (an `Exporter`), overridden by its entry's."""
    given = entry.model_fields_set if entry is not None else set()

    def pick(field: str):
        return getattr(entry if field in given else kind, field)

    # authorization and basic_auth are one choice: an entry's replaces both of its kind's
    source = entry if entry is not None and given & {"authorization", "basic_auth"} else kind
    # built from already validated parts
    return ScrapeOverride.model_construct(
        scheme=pick("scheme"), authorization=source.authorization, basic_auth=source.basic_auth,
        tls_config=pick("tls_config"), kubernetes_secret=pick("kubernetes_secret"), bearer_token=None)


def client_problems(spec) -> Iterable[Finding]:
    """Settings Prometheus would refuse, or silently not use."""
    for name in type(spec.exporters).model_fields:
        kind = getattr(spec.exporters, name)
        yield from _one(("exporters", name), kind, kind.scheme)
    for i, group in enumerate(spec.node_groups):
        for name in ("node_exporter", "dcgm_exporter"):
            entry = getattr(group.scrape, name)
            if entry is not None:
                scheme = effective(getattr(spec.exporters, name), entry).scheme
                yield from _one(("node_groups", i, "scrape", name), entry, scheme)
    for section in ("models", "pipelines", "storage"):
        for i, item in enumerate(getattr(spec, section)):
            if item.scrape is not None:
                kind = getattr(spec.exporters, _kind_of(section, item))
                yield from _one((section, i, "scrape"), item.scrape, effective(kind, item.scrape).scheme)


def _kind_of(section: str, item) -> str:
    return {"models": lambda: item.server, "pipelines": lambda: "pipeline", "storage": lambda: item.kind}[section]()


def _one(path: tuple, settings: ClientAuth, scheme: str | None) -> Iterable[Finding]:
    if settings.authorization is not None and settings.basic_auth is not None:
        yield Finding(path + ("basic_auth",), "both authorization and basic_auth are given",
                      "Prometheus sends one Authorization header: keep one of them")
    if settings.authorization is not None and settings.authorization.type.lower() == "basic":
        yield Finding(path + ("authorization", "type"), "Prometheus refuses authorization type Basic",
                      "use basic_auth: {username, password_file}")
    tls = settings.tls_config
    if tls is None:
        return
    if scheme != "https":
        yield Finding(path + ("tls_config",), "tls_config is only used over https, but the scheme is http",
                      "set scheme: https here or on the exporter kind")
    if (tls.cert_file is None) != (tls.key_file is None):
        yield Finding(path + ("tls_config",), "a client certificate needs both cert_file and key_file",
                      "give both, or neither for server-only TLS")
