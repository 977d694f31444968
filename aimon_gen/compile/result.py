"""The typed build result: what each compile step adds to, and what render, check, verify read.

Steps run in order and add their part (the way Sloth's processor chain fills one result);
a later step reads what earlier ones declared as fields (an SLO's objective, an alert's
level and the lesser alerts it silences), never the generated text. File paths and bytes
are render's business (render.py): here parts are named by what they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..scheme import Job


@dataclass(frozen=True)
class Alert:
    """What the rule pack (or the SLO step) declares about one emitted alert rule."""
    name: str
    level: str                          # severity: critical | warning | info | none
    scope: str                          # node_groups, models, pipelines, storage, none; slo for SLO alerts
    threshold: float | None = None      # the value it compares with, when the pack names a threshold
    inhibits: tuple[str, ...] = ()      # lesser alerts this one silences on the same target (`inhibits:`)


@dataclass
class RuleGroup:
    name: str
    rules: list[dict]                   # rule-file entries, as promtool reads them
    alerts: list[Alert] = field(default_factory=list)  # one per alert rule, in rule order

    def doc(self) -> dict:
        return {"name": self.name, "rules": self.rules}


@dataclass
class RuleFile:
    groups: list[RuleGroup]

    def doc(self) -> dict:
        return {"groups": [g.doc() for g in self.groups]}


@dataclass(frozen=True)
class BurnLine:
    """One burn-rate alert of an SLO: it fires when both windows burn faster than `burn`."""
    long: str
    short: str
    burn: float
    tier: str                           # page | ticket
    severity: str


@dataclass(frozen=True)
class CompiledSLO:
    name: str
    objective: float                    # as recorded in slo:objective:ratio
    period: str
    windows: tuple[str, ...]            # recorded burn-rate windows, shortest first, the period last
    alerts: tuple[BurnLine, ...] = ()   # the burn-rate alerts that can fire, in rule order


@dataclass
class Sharding:
    """prometheus.shards > 1: the split rule files, one config per shard, the federation config."""
    shard_rules: dict[str, dict] = field(default_factory=dict)   # rule-file stem -> shard-local groups
    global_rules: dict[str, dict] = field(default_factory=dict)  # rule-file stem -> global groups
    shard_configs: list[dict] = field(default_factory=list)      # prometheus.yml of shard i
    global_config: dict | None = None                            # the federating Prometheus


@dataclass
class Bundle:
    scrape_jobs: list[Job] = field(default_factory=list)        # what prometheus.yml scrapes, in its order
    prometheus: dict | None = None                              # prometheus.yml
    targets: dict[tuple[str, str], list] = field(default_factory=dict)  # (job, entry) -> file_sd targets
    rule_files: dict[str, RuleFile] = field(default_factory=dict)  # stem (alert, recording, slo) -> rules
    rule_tests: dict[str, dict] = field(default_factory=dict)   # test-file stem -> promtool test file
    test_rules: dict[str, RuleFile] = field(default_factory=dict)  # stem -> rules only a test file loads
    dcgm_counters: str | None = None                            # dcgm-exporter counters CSV
    slos: list[CompiledSLO] = field(default_factory=list)
    alertmanager: dict | None = None                            # alertmanager.yml
    alertmanager_tests: list[tuple[dict, list]] = field(default_factory=list)  # (labels, receivers)
    dashboards: dict[str, dict] = field(default_factory=dict)   # name -> Grafana dashboard JSON
    provisioning: dict[str, dict] = field(default_factory=dict)  # datasources | dashboards -> provisioning file
    sharding: Sharding | None = None
    kubernetes: dict[str, dict] = field(default_factory=dict)   # manifest file name -> manifest
    readme: str = ""

    def add_rules(self, stem: str, groups: list[RuleGroup]) -> None:
        if stem in self.rule_files:
            raise ValueError(f"two compile steps made the {stem} rules")
        self.rule_files[stem] = RuleFile(groups)

    def groups(self) -> list[RuleGroup]:
        """Every rule group, rule files in name order (as Prometheus lists them)."""
        return [g for stem in sorted(self.rule_files) for g in self.rule_files[stem].groups]

    def rules(self) -> list[dict]:
        return [r for g in self.groups() for r in g.rules]

    def alerts(self) -> list[Alert]:
        return [a for g in self.groups() for a in g.alerts]

    def alert_names(self) -> set[str]:
        return {a.name for a in self.alerts()}

    def recorded_names(self) -> list[str]:
        return [r["record"] for r in self.rules() if "record" in r]
