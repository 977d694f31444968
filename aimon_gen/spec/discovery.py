"""A node group found by a cloud's or a registry's service discovery instead of a host list
(`node_groups[].discovery`): EC2, GCE, Azure, Consul or DNS SRV, each Prometheus's own SD config.

Credentials are never inline: the cloud's own mechanisms (instance role, environment, shared
credentials profile, managed identity) or a file."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from .finding import Finding
from .types import Duration, LabelValue, Target, Text, Url

KINDS = ("ec2", "gce", "azure", "consul", "dns")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _refused(field: str, hint: str):
    """A field that must never hold a value: it would write a secret into prometheus.yml."""
    def reject(value: object) -> None:
        raise PydanticCustomError("inline_secret", f"'{field}' would write a secret into prometheus.yml in clear; "
                                  + hint)
    return Annotated[None, BeforeValidator(reject),
                     Field(None, description=f"Not allowed: {hint}.", json_schema_extra={"not": {}})]


_AWS_HINT = ("give Prometheus an instance role (or IRSA), AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY in its "
             "environment, or a shared credentials `profile`")

# Tag/label keys and values as the clouds allow them (not Prometheus label names).
Tags = dict[Annotated[str, Field(min_length=1, max_length=128)], LabelValue]


class EC2(_Strict):
    """AWS EC2 instances (ec2_sd_configs), selected by tags."""
    region: Text = Field(description="AWS region, e.g. us-east-1.")
    tags: Tags = Field(min_length=1, description="Instances carrying all these tags belong to the group "
                                                 "(DescribeInstances filters `tag:<key>`), e.g. {node-group: h100}.")
    host_from: Literal["private_dns_name", "name_tag"] = Field(
        "private_dns_name", description="Where `host` comes from: the private DNS name, or the `Name` tag "
                                        "(instances without one are not scraped).")
    endpoint: Url | None = Field(None, description="EC2 API endpoint instead of the region's (VPC endpoint, a test).")
    role_arn: str | None = Field(None, pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$",
                                 description="IAM role to assume for DescribeInstances.")
    profile: str | None = Field(None, min_length=1, description="Shared credentials profile (~/.aws/credentials).")
    refresh_interval: Duration | None = None
    access_key: _refused("access_key", _AWS_HINT)
    secret_key: _refused("secret_key", _AWS_HINT)


class GCE(_Strict):
    """GCE instances (gce_sd_configs) selected by labels; credentials: Prometheus's Application Default Credentials.

    That is its service account, or the key file GOOGLE_APPLICATION_CREDENTIALS names."""
    project: Text
    zone: Text = Field(description="One zone per group; Prometheus's GCE discovery lists a single zone.")
    labels: Tags = Field(min_length=1, description="Instances carrying all these labels belong to the group "
                                                   "(the API's `filter`), e.g. {node-group: h100}.")
    refresh_interval: Duration | None = None


class Azure(_Strict):
    """Azure virtual machines (azure_sd_configs), selected by tags; `host` is the VM's name or its OS computer name."""
    subscription_id: Text
    resource_group: Text | None = Field(None, description="Only this resource group's machines.")
    tags: Tags = Field(min_length=1, description="Machines carrying all these tags belong to the group.")
    host_from: Literal["name", "computer_name"] = "name"
    authentication_method: Literal["ManagedIdentity"] = Field(
        "ManagedIdentity", description="ManagedIdentity only: Prometheus 2.42's OAuth method needs the client "
                                       "secret inline in prometheus.yml.")
    client_id: Text | None = Field(None, description="Client ID of a user-assigned managed identity.")
    refresh_interval: Duration | None = None
    client_secret: _refused("client_secret", "use authentication_method ManagedIdentity (client_id picks a "
                            "user-assigned identity); Prometheus 2.52+ also offers the SDK method, which reads "
                            "the environment")


class Consul(_Strict):
    """Nodes registered in Consul's catalog under one of `services`; scraped at the node's address."""
    server: Target = Field("localhost:8500", description="host:port of the Consul agent or server.")
    scheme: Literal["http", "https"] = "http"
    datacenter: Text | None = None
    services: list[Text] = Field(min_length=1, description="Catalog services whose nodes belong to the group.")
    tags: list[Text] = Field([], description="Only service instances carrying all these tags.")
    node_meta: dict[Text, Text] = Field({}, description="Only nodes with this node metadata.")
    token_file: str | None = Field(None, min_length=1, description="File holding the ACL token (sent as a bearer "
                                                                   "token).")
    token: _refused("token", "put the ACL token in a file and give its path as 'token_file'")
    refresh_interval: Duration | None = None


class DNS(_Strict):
    """DNS SRV records naming the group's hosts: each record's target is a host, scraped at each exporter's port."""
    names: list[Text] = Field(min_length=1, description="SRV record names, e.g. _gpu._tcp.h100.example.com.")
    refresh_interval: Duration | None = None


class Discovery(_Strict):
    """Exactly one of the mechanisms."""
    ec2: EC2 | None = None
    gce: GCE | None = None
    azure: Azure | None = None
    consul: Consul | None = None
    dns: DNS | None = None


def kind_of(d: Discovery) -> str | None:
    """The one mechanism a Discovery gives (None when it gives none or several)."""
    given = [k for k in KINDS if getattr(d, k) is not None]
    return given[0] if len(given) == 1 else None


def discovery_problems(spec):
    """Where a node group's hosts come from: exactly one of `hosts`, `kubernetes`, `discovery`;
    a discovered group declares how many hosts it expects (plan and verify count them)."""
    for i, g in enumerate(spec.node_groups):
        sources = [k for k in ("hosts", "kubernetes", "discovery") if getattr(g, k, None)]
        discovered = bool(set(sources) - {"hosts"})
        if len(sources) > 1:
            yield Finding(("node_groups", i, sources[1]), f"node group '{g.name}' gives both {' and '.join(sources)}",
                          "give exactly one: a static host list, or discovery of the hosts", at_key=True)
        elif not sources:
            yield Finding(("node_groups", i), f"node group '{g.name}' has no hosts",
                          "give `hosts: [...]`, `discovery: {ec2|gce|azure|consul|dns: ...}` or `kubernetes: ...`")
        if g.discovery is not None:
            given = [k for k in KINDS if getattr(g.discovery, k) is not None]
            if len(given) != 1:
                yield Finding(("node_groups", i, "discovery"),
                              f"discovery gives {' and '.join(given) if given else 'no mechanism'}",
                              "give exactly one of " + ", ".join(KINDS))
        if len(sources) != 1:
            continue  # expected_hosts follows from the one source the user has yet to choose
        if discovered and g.expected_hosts is None:
            yield Finding(("node_groups", i), f"discovered node group '{g.name}' needs expected_hosts",
                          "declare how many hosts you expect, e.g. `expected_hosts: 16`: `aimon-gen plan` sizes "
                          "Prometheus from it and `aimon-gen verify` simulates that many")
        if not discovered and g.expected_hosts is not None:
            yield Finding(("node_groups", i, "expected_hosts"), "expected_hosts is for discovered groups",
                          f"remove it: a static group has exactly its {len(g.hosts)} listed hosts", at_key=True)
