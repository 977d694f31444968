"""The spec: one declarative description of an AI estate (version 1).

Field docs become the JSON Schema (`aimon-gen schema`) and the spec reference.
Cross-field checks (uniqueness, collisions, threshold names) live in `checks.py`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model
from pydantic_core import PydanticCustomError

from .. import kinds
from .alerting import Alerting
from .client_auth import BasicAuth, ClientAuth, NodeGroupScrape, ScrapeOverride
from .discovery import Discovery
from .grafana import Grafana
from .node_kubernetes import NodeGroupKubernetes
from .outputs import KubernetesTargets, Outputs
from .slo import ModelSLO, PipelineSLO, ServiceSLO, SLOAlerting
from .types import (
    ByteSize,
    Duration,
    HostList,
    LabelName,
    LabelValue,
    Name,
    Port,
    Target,
    Url,
    inline_secret,
    secret_header,
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


Labels = dict[LabelName, LabelValue]


class ThresholdSetting(Strict):
    value: float | None = Field(None, description="The threshold; the unit is the one the threshold catalog names.")
    for_: Duration | None = Field(None, alias="for",
                                  description="How long the condition must hold before the alert fires.")
    severity: Literal["critical", "warning", "info"] | None = None
    enabled: bool = Field(True, description="false turns the alert off for this scope.")

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


def _shorthand(value: object) -> object:
    # `name: 90` is short for `name: {value: 90}`.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"value": float(value)}
    return value


Thresholds = dict[str, Annotated[ThresholdSetting, BeforeValidator(_shorthand)]]


class Retention(Strict):
    time: Duration | None = Field("15d", description="--storage.tsdb.retention.time")
    size: ByteSize | None = Field(None, description="--storage.tsdb.retention.size")


def _headers(value: object) -> object:
    # Prometheus reads no header from a file, so a secret header would sit in prometheus.yml.
    for name in value if isinstance(value, dict) else ():
        if str(name).lower() == "authorization":
            raise PydanticCustomError("header", "Prometheus refuses an Authorization header in remote_write.headers; "
                                      "use bearer_token_file or basic_auth.password_file")
        if secret_header(str(name)):
            raise PydanticCustomError("header", f"header '{name}' looks like a secret, which would be written into "
                                      "prometheus.yml in clear; use bearer_token_file or basic_auth.password_file "
                                      "(Prometheus reads those from files), or a proxy that adds the header")
    return value


class RemoteWrite(Strict):
    name: Name
    url: Url
    tenant: str | None = Field(None, description="Sent as the X-Scope-OrgID header (Mimir, Cortex, Thanos Receive).")
    headers: Annotated[dict[str, str], BeforeValidator(_headers)] = Field(
        {}, description="Extra HTTP headers; not for secrets (use bearer_token_file or basic_auth).")
    basic_auth: BasicAuth | None = None
    bearer_token_file: str | None = None
    bearer_token: inline_secret("bearer_token", "bearer_token_file", "prometheus.yml")


class Prometheus(Strict):
    scrape_interval: Duration = "15s"
    scrape_timeout: Duration | None = Field(None, description="Defaults to the scrape interval, capped at 10s.")
    evaluation_interval: Duration = "15s"
    retention: Retention = Retention()
    external_labels: Labels = {}
    alertmanagers: list[Target] = Field([], description="host:port of each Alertmanager.")
    remote_write: list[RemoteWrite] = []
    service_discovery: Literal["static", "file"] = Field(
        "static", description="static: targets inline; file: file_sd target files under targets/, "
                              "for fleets whose hosts change.")
    shards: int = Field(1, ge=1, le=64, description="Split scrape targets over N Prometheus servers (hashmod).")
    global_layer: Literal["federation", "remote_write"] = Field(
        "federation", description="With shards > 1, where the rules that need all data run: `federation` "
                                  "(a global Prometheus scraping each shard's /federate) or `remote_write` (the shards "
                                  "write to Thanos Receive / Mimir / Cortex, which evaluate them; "
                                  "see the output README).")
    shard_targets: list[Target] = Field(
        [], description="host:port of each shard's Prometheus, in shard order, for the global layer's federation; "
                        "empty means prometheus-shard-<i>:9090.")
    series_budget: int = Field(2_000_000, ge=1000,
                               description="Active series one Prometheus should hold; "
                                           "`aimon-gen plan` warns above it and suggests a shard count.")


class Exporter(ClientAuth):
    """How one kind of exporter is scraped; port and path left out keep the kind's."""
    port: Port = Field(description="Left out: the kind's port (given for you, so not required in a spec).")
    path: str = Field("/metrics", description="Left out: the kind's metrics path.")
    scheme: Literal["http", "https"] = "http"

    # port and path are filled in from the kind before validation (_kind_defaults), so a spec
    # that only adds credentials keeps them: the schema must not ask for them.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True,
                              json_schema_extra=lambda schema: schema.pop("required", None))


def _kind_defaults(port: int, path: dict[str, Any]):
    def fill(value: object) -> object:
        return {"port": port, **path, **value} if isinstance(value, dict) else value
    return BeforeValidator(fill)


def _exporter_field(k: str) -> tuple[Any, Any]:
    kind = kinds.kind(k)
    # The path only where it is not the default, so it stays unset as if the spec left it out.
    path: dict[str, Any] = {"path": kind.path} if kind.path != "/metrics" else {}
    return (Annotated[Exporter, _kind_defaults(kind.port, path)],
            Field(Exporter(port=kind.port, **path),
                  description=(kind.doc or None) if kind.scope == "models" else None))


# One field per exporter kind of the registry (kinds.yaml), with its default port and path.
_EXPORTER_FIELDS: dict[str, Any] = {k: _exporter_field(k) for k in kinds.KINDS if kinds.kind(k).port}
Exporters = create_model(
    "Exporters", __base__=Strict,
    __doc__="Where each kind of exporter listens; a target without a port gets its kind's port.",
    **_EXPORTER_FIELDS)


class GPU(Strict):
    model: LabelValue = Field(description="GPU model, e.g. H100-80GB; becomes the gpu_model label.")
    count: int = Field(ge=1, le=64, description="GPUs per host; fewer reporting fires GPUMissing.")


Workload = Literal["training", "inference", "mixed"]


class NodeGroup(Strict):
    name: Name
    hosts: HostList = Field([], description="The group's hosts; or give `kubernetes` or `discovery` instead.")
    kubernetes: NodeGroupKubernetes | None = Field(
        None, description="Discover the group's hosts as Kubernetes nodes (GPU Operator / kube-prometheus-stack).")
    discovery: Discovery | None = Field(
        None, description="Find the hosts by a cloud's or a registry's service discovery: exactly one of "
                          "ec2, gce, azure, consul, dns.")
    expected_hosts: int | None = Field(
        None, ge=1, description="How many hosts a discovered group should have (required with `discovery` or "
                                "`kubernetes`): `aimon-gen plan` counts series from it, `aimon-gen verify` "
                                "simulates that many.")
    gpu: GPU | None = None
    workload: Workload = Field("mixed", description="What the GPUs are for: training | inference | mixed. GPU alert "
                               "defaults follow it (rules/thresholds.yaml `workloads:`): busy training GPUs never page "
                               "and idle allocated ones warn; inference pools warn on saturation.")
    labels: Labels = {}
    thresholds: Thresholds = {}
    scrape: NodeGroupScrape = Field(
        NodeGroupScrape(), description="This group's own authentication/TLS per exporter, over exporters.<kind>'s.")


ServerKind = Literal[kinds.of_scope("models")]


class Model(Strict):
    name: Name
    server: ServerKind = Field(description=" | ".join(kinds.of_scope("models")) + " (ml_inference_* metrics).")
    targets: list[Target] = Field([], description="host:port of each server; or give `kubernetes` instead.")
    kubernetes: KubernetesTargets | None = Field(None, description="Find the servers by Kubernetes label selector.")
    labels: Labels = {}
    slo: ModelSLO | None = None
    thresholds: Thresholds = {}
    scrape: ScrapeOverride | None = Field(
        None, description="This entry's own scheme/authentication/TLS, over exporters.<kind>'s.")


class Pipeline(Strict):
    name: Name
    targets: list[Target] = Field([], description="host:port of each exporter; or give `kubernetes` instead.")
    kubernetes: KubernetesTargets | None = Field(None, description="Find the exporters by Kubernetes label selector.")
    freshness: Duration = Field(description="Longest time allowed since the last successful run.")
    labels: Labels = {}
    slo: PipelineSLO | None = None
    thresholds: Thresholds = {}
    scrape: ScrapeOverride | None = Field(
        None, description="This entry's own scheme/authentication/TLS, over exporters.<kind>'s.")


StorageKind = Literal[kinds.of_scope("storage")]


class Storage(Strict):
    name: Name
    kind: StorageKind = Field(
        description="; ".join(f"{k}: {kinds.kind(k).doc}" for k in kinds.of_scope("storage")) + ".")
    targets: list[Target] = Field(min_length=1)
    labels: Labels = {}
    thresholds: Thresholds = {}
    scrape: ScrapeOverride | None = Field(
        None, description="This entry's own scheme/authentication/TLS, over exporters.<kind>'s.")


class RuleSettings(Strict):
    runbook_base_url: str = Field("https://runbooks.example.com/aimon-gen",
                                  description="Every alert's runbook_url is this base plus /<AlertName>.")
    packs: list[str] = Field([], description="Folders of your own rule packs, relative to the spec file.")
    disabled: list[str] = Field([], description="Alert or recording rule names to leave out.")


class Spec(Strict):
    version: Literal[1] = Field(description="Spec format version; always 1 for now.")
    name: Name = Field(description="Cluster name: the `cluster` external label and the dashboards' prefix.")
    environment: LabelValue = Field("production", description="The `environment` external label.")
    prometheus: Prometheus = Prometheus()
    exporters: Exporters = Exporters()
    node_groups: list[NodeGroup] = Field(
        [], description="Hosts of one kind: node_exporter everywhere, dcgm-exporter where `gpu` is set.")
    models: list[Model] = Field([], description="Model inference services.")
    pipelines: list[Pipeline] = Field([], description="Data pipelines exporting data_pipeline_* metrics.")
    storage: list[Storage] = Field([], description="Storage back ends.")
    slos: list[ServiceSLO] = Field([], description="SLOs of services that are not models or pipelines.")
    slo_alerting: SLOAlerting = Field(
        SLOAlerting(), description="Which SLO burn-rate windows page, severities, low-traffic guard.")
    thresholds: Thresholds = Field(
        {}, description="Overrides of named thresholds for everything (`aimon-gen thresholds` lists them).")
    rules: RuleSettings = RuleSettings()
    alerting: Alerting = Alerting()
    grafana: Grafana = Grafana()
    outputs: Outputs = Field(
        Outputs(), description="Output formats (plain files, Kubernetes manifests) and their settings.")
