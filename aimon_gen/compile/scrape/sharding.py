"""prometheus.shards > 1: one config per shard, splitting the targets by hashmod, and the global layer.

Each shard keeps the targets whose `hashmod` of `__address__` equals its number and carries
a unique `shard` external label. Rule groups are split by what they need:

- shard-local: every aggregation keeps `instance` (or `host`), no `absent()` (promql.shard_local
  reads the parsed expression), and no input recorded by a global rule. A shard holds every
  series of its own targets, so these are exact on a shard: `sharding/shard-<file>.rules.yml`,
  evaluated by every shard.
- global: everything else (`sum by (model)` over targets on different shards, `absent()`,
  which is true on every shard without the target): `sharding/global-<file>.rules.yml`,
  evaluated by the global layer.

Global layer, `prometheus.global_layer`:
- `federation`: `sharding/prometheus-global.yml`, a Prometheus scraping each shard's
  /federate (honor_labels) for the shard-recorded series and the raw series global rules read;
- `remote_write`: the shards write everything to Thanos Receive / Mimir / Cortex (tenant
  header from the spec); load the global-*.rules.yml into their ruler (see the output README).

The top-level prometheus.yml and rule files stay: the single-server view, which the promtool
unit tests run against.
"""

from __future__ import annotations

import copy
import hashlib

from ...promql import metric_names, shard_local
from ..result import Bundle, Sharding

SHARD_LABEL = "shard"


def shard_of(address: str, shards: int) -> int:
    """The shard whose hashmod keeps a target: Prometheus hashes the value with MD5 and takes the
    low 64 bits, big-endian, modulo N (relabel.go)."""
    return int.from_bytes(hashlib.md5(address.encode()).digest()[8:], "big") % shards  # noqa: S324


def shard_addresses(spec) -> list[str]:
    p = spec.prometheus
    return list(p.shard_targets) or [f"prometheus-shard-{i}:9090" for i in range(p.shards)]


def compile_sharding(ctx, bundle: Bundle) -> None:
    """The step: shards > 1 split the rule files and prometheus.yml (see the module docstring)."""
    spec, p = ctx.spec, ctx.spec.prometheus
    if p.shards < 2 or bundle.prometheus is None:
        return
    rule_files = {stem: f.doc() for stem, f in sorted(bundle.rule_files.items())}
    bundle.sharding = split(spec, bundle.prometheus, rule_files)


def split(spec, prometheus: dict, rule_files: dict[str, dict]) -> Sharding:
    """`rule_files`: rule-file stem -> rule file, as in prometheus.yml."""
    p = spec.prometheus
    files = {stem: list(doc.get("groups") or []) for stem, doc in rule_files.items()}
    local, global_ = split_groups([g for groups in files.values() for g in groups])
    local_ids, global_ids = {id(g) for g in local}, {id(g) for g in global_}
    out = Sharding()
    # One file per source file and side: group names stay unique per file as the rule steps made them.
    for stem, groups in files.items():
        for side, ids in ((out.shard_rules, local_ids), (out.global_rules, global_ids)):
            mine = [g for g in groups if id(g) in ids]
            if mine:
                side[stem] = {"groups": mine}
    shard_files = sorted(f"shard-{stem}.rules.yml" for stem in out.shard_rules)
    global_files = sorted(f"global-{stem}.rules.yml" for stem in out.global_rules)
    out.shard_configs = [shard_config(prometheus, i, p.shards, shard_files) for i in range(p.shards)]
    if p.global_layer == "federation":
        out.global_config = global_config(prometheus, shard_addresses(spec), federated_names(local, global_),
                                          global_files)
    return out




def split_groups(groups: list[dict]) -> tuple[list[dict], list[dict]]:
    """(shard-local groups, global groups), each in the given order; a group moves whole (its rules
    run in order), and a group reading a series a global group records is global too."""
    needs_all = {id(g) for g in groups
                 if any(not shard_local(str(r["expr"])) for r in g.get("rules") or [])}
    changed = True
    while changed:  # until no group reads what a global group records
        recorded = {r["record"] for g in groups if id(g) in needs_all for r in g.get("rules") or [] if "record" in r}
        changed = False
        for g in groups:
            if id(g) not in needs_all and any(metric_names(str(r["expr"])) & recorded for r in g.get("rules") or []):
                needs_all.add(id(g))
                changed = True
    return [g for g in groups if id(g) not in needs_all], [g for g in groups if id(g) in needs_all]


def federated_names(local: list[dict], global_: list[dict]) -> list[str]:
    """What the global layer pulls from the shards: every shard-recorded series, and the series
    global rules read that no global rule records."""
    recorded_local = {r["record"] for g in local for r in g.get("rules") or [] if "record" in r}
    recorded_global = {r["record"] for g in global_ for r in g.get("rules") or [] if "record" in r}
    reads = {n for g in global_ for r in g.get("rules") or [] for n in metric_names(str(r["expr"]))}
    return sorted(recorded_local | {"up"} | (reads - recorded_global))


def _hashmod(i: int, n: int) -> list[dict]:
    return [{"source_labels": ["__address__"], "modulus": n, "target_label": "__tmp_hash", "action": "hashmod"},
            {"source_labels": ["__tmp_hash"], "regex": str(i), "action": "keep"}]


def shard_config(base: dict, i: int, n: int, rules: list[str]) -> dict:
    cfg = copy.deepcopy(base)
    cfg["global"]["external_labels"] = {**cfg["global"].get("external_labels", {}), SHARD_LABEL: str(i)}
    cfg.pop("rule_files", None)
    if rules:
        cfg = _put_after(cfg, "global", "rule_files", list(rules))
    for sc in cfg["scrape_configs"]:
        if sc["job_name"] == "prometheus":
            continue  # each shard scrapes itself
        sc["relabel_configs"] = _hashmod(i, n) + list(sc.get("relabel_configs") or [])
        for fsd in sc.get("file_sd_configs") or []:
            fsd["files"] = [f"../{f}" for f in fsd["files"]]  # paths are relative to this config
    return cfg


def global_config(base: dict, shards: list[str], names: list[str], rules: list[str]) -> dict:
    cfg: dict = {"global": copy.deepcopy(base["global"])}
    if rules:
        cfg["rule_files"] = list(rules)
    if "alerting" in base:
        cfg["alerting"] = copy.deepcopy(base["alerting"])
    self_job = next(sc for sc in base["scrape_configs"] if sc["job_name"] == "prometheus")
    cfg["scrape_configs"] = [copy.deepcopy(self_job), {
        "job_name": "federate", "honor_labels": True, "metrics_path": "/federate",
        "params": {"match[]": [f'{{__name__="{name}"}}' for name in names]},
        "static_configs": [{"targets": list(shards)}]}]
    return cfg


def _put_after(doc: dict, after: str, key: str, value) -> dict:
    out = {}
    for k, v in doc.items():
        out[k] = v
        if k == after:
            out[key] = value
    return out
