"""prometheus.shards > 1: one config per shard, splitting the targets by hashmod, and the global layer.

Each shard keeps the targets whose `hashmod` of `__address__` equals its number and carries
a unique `shard` external label. Rule groups are split by what they need:

- shard-local: every aggregation keeps `instance` (or `host`), no `absent()` (promql.shard_local
  reads the parsed expression), and no input recorded by a global rule. A shard holds every series of its own targets, so these are
  exact on a shard: `sharding/shard-<file>.rules.yml`, evaluated by every shard.
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

from ...promql import metric_names, shard_local

FOLDER = "sharding/"
GLOBAL_CONFIG = "prometheus-global.yml"
SHARD_LABEL = "shard"


def shard_of(address: str, shards: int) -> int:
    """The shard whose hashmod keeps a target: Prometheus hashes the value with MD5 and takes the
    low 64 bits, big-endian, modulo N (relabel.go)."""
    import hashlib

    return int.from_bytes(hashlib.md5(address.encode()).digest()[8:], "big") % shards  # noqa: S324


def shard_config_path(i: int) -> str:
    return f"{FOLDER}prometheus-shard-{i}.yml"


def shard_addresses(spec) -> list[str]:
    p = spec.prometheus
    return list(p.shard_targets) or [f"prometheus-shard-{i}:9090" for i in range(p.shards)]


def compile_sharding(spec, bundle: dict) -> dict[str, object]:
    p = spec.prometheus
    if p.shards < 2 or "prometheus.yml" not in bundle:
        return {}
    files = {path: list(bundle[path].get("groups") or []) for path in sorted(bundle) if path.endswith(".rules.yml") and "/" not in path}
    local, global_ = split_groups([g for groups in files.values() for g in groups])
    local_ids, global_ids = {id(g) for g in local}, {id(g) for g in global_}
    out: dict[str, object] = {}
    # One file per source file and side: group names stay unique per file as the rule steps made them.
    for path, groups in files.items():
        stem = path[:-len(".rules.yml")]
        for side, ids in (("shard", local_ids), ("global", global_ids)):
            mine = [g for g in groups if id(g) in ids]
            if mine:
                out[f"{FOLDER}{side}-{stem}.rules.yml"] = {"groups": mine}
    shard_files = sorted(path[len(FOLDER):] for path in out if path.startswith(FOLDER + "shard-"))
    global_files = sorted(path[len(FOLDER):] for path in out if path.startswith(FOLDER + "global-"))
    for i in range(p.shards):
        out[shard_config_path(i)] = shard_config(bundle["prometheus.yml"], i, p.shards, shard_files)
    if p.global_layer == "federation":
        out[FOLDER + GLOBAL_CONFIG] = global_config(bundle["prometheus.yml"], shard_addresses(spec),
                                                    federated_names(local, global_), global_files)
    return out


def rule_files(split: dict, side: str) -> list[str]:
    """Paths of the shard-side (`shard`) or global-side (`global`) rule files of compile_sharding's output."""
    return sorted(p for p in split if p.startswith(f"{FOLDER}{side}-") and p.endswith(".rules.yml"))


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


def plan_config_checks(stage, bundle: dict) -> list:
    """promtool check config on every shard and global config (secrets as placeholders)."""
    from ...check import Command, _placeholder_secrets
    from ...check_sd import for_local_promtool
    from ...render import render

    cmds = []
    for path in sorted(p for p in bundle if p.startswith(FOLDER + "prometheus-") and p.endswith(".yml")):
        check_rel = f"{FOLDER}.check-{path[len(FOLDER):]}"
        (stage / check_rel).write_bytes(render(check_rel, for_local_promtool(_placeholder_secrets(bundle[path], stage), stage),
                                                    "spec", "check"))
        cmds.append(Command("promtool", ("check", "config", "--lint-fatal", check_rel), path))
    return cmds


def _register() -> None:
    from ... import check
    if plan_config_checks not in check.EXTRA_PLANS:
        check.EXTRA_PLANS.append(plan_config_checks)


_register()
