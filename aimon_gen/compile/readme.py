"""Spec -> out/README.md: what was generated and how to run it."""

from __future__ import annotations

from ..scheme import jobs
from .alerting.alertmanager import readme_section
from .scrape.sharding import shard_addresses


def compile_readme(spec, paths: list[str]) -> str:
    """The README's text; `paths`: the files the build writes besides it."""
    p = spec.prometheus
    flags = ["--config.file=prometheus.yml"]
    if p.retention.time:
        flags.append(f"--storage.tsdb.retention.time={p.retention.time}")
    if p.retention.size:
        flags.append(f"--storage.tsdb.retention.size={p.retention.size}")
    lines = [f"# Monitoring for `{spec.name}` ({spec.environment})", "",
             "## Files", ""]
    lines += [f"- `{path}`" for path in sorted(set(paths) | {"README.md"})]
    lines.append("")
    if "prometheus.yml" in paths:  # not with --format kubernetes: the operator runs Prometheus
        lines += ["## Run Prometheus", "", "Retention is a command-line setting, not part of prometheus.yml:", "",
                  "```sh", "prometheus \\", *[f"  {f} \\" for f in flags[:-1]], f"  {flags[-1]}", "```", ""]
        lines += _prometheus_files(spec)
    if "alertmanager.yml" in paths:
        lines += readme_section(spec)
    if p.shards > 1 and any(path.startswith("sharding/") for path in paths):
        lines += _sharding(spec, flags[1:], paths)
    if any(path.startswith("kubernetes/") for path in paths):
        lines += _kubernetes(spec)
    return "\n".join(lines)


def _sharding(spec, retention: list[str], paths: list[str]) -> list[str]:
    p = spec.prometheus
    lines = ["## Sharded Prometheus", "",
             f"`prometheus.shards: {p.shards}`: run one Prometheus per `sharding/prometheus-shard-<i>.yml`. Each keeps "
             "the targets whose `hashmod` of `__address__` (modulus "
             f"{p.shards}) is its number and adds the external label `shard=\"<i>\"`. Changing the shard count "
             "moves most targets to another shard: their history stays on the old one until retention drops it.", "",
             "```sh"]
    lines += [f"prometheus --config.file=sharding/prometheus-shard-{i}.yml {' '.join(retention)}".rstrip()
              for i in range(p.shards)]
    lines += ["```", "",
              "Rule groups whose every aggregation keeps `instance` or `host` (and that use no `absent()`) are exact "
              "on one shard: `sharding/shard-<file>.rules.yml`, loaded by every shard. The others need all targets' "
              "data: `sharding/global-<file>.rules.yml`, evaluated by the global layer. The top-level "
              "`prometheus.yml` and rule files are the single-server view (the promtool unit tests run against "
              "them).", ""]
    if p.global_layer == "federation":
        lines += ["### Global layer: federation", "",
                  "`sharding/prometheus-global.yml` scrapes each shard's `/federate` with `honor_labels: true` "
                  "(series keep their `shard`, `job` and `instance`) for every series the shards record and the "
                  "raw series the global rules read (`match[]`), evaluates the `global-*.rules.yml` and sends its "
                  "alerts. "
                  f"It expects the shards at {', '.join(f'`{a}`' for a in shard_addresses(spec))} "
                  "(`prometheus.shard_targets`).", "",
                  "```sh", "prometheus --config.file=sharding/prometheus-global.yml", "```", ""]
    else:
        lines += ["### Global layer: remote_write", "",
                  "Every shard writes all its samples to "
                  + ", ".join(f"`{rw.url}`" + (f" (tenant `{rw.tenant}`, header `X-Scope-OrgID`)" if rw.tenant else "")
                              for rw in p.remote_write)
                  + ". Load the `sharding/global-*.rules.yml` into the receiving side's ruler: Thanos Ruler "
                  "(`--rule-file`, querying Thanos Query), Mimir or Cortex (`mimirtool rules load "
                  "sharding/global-*.rules.yml` with the same tenant).", ""]
    lines += ["### Thanos sidecar instead of remote_write", "",
              "For a Thanos sidecar next to each shard, the shard's local blocks must not be compacted, and "
              "should be cut at the 2h block length the sidecar uploads:", "",
              "```sh", "prometheus --config.file=sharding/prometheus-shard-<i>.yml \\",
              "  --storage.tsdb.min-block-duration=2h --storage.tsdb.max-block-duration=2h",
              "thanos sidecar --tsdb.path=<data dir> --prometheus.url=http://localhost:9090 \\",
              "  --objstore.config-file=bucket.yml", "```", "",
              "Thanos Query then deduplicates nothing between shards (each `shard` label is unique); set "
              "`--query.replica-label` only for HA pairs of the same shard.", ""]
    return lines


def _kubernetes(spec) -> list[str]:
    k = spec.outputs.kubernetes
    return ["## Kubernetes (prometheus-operator, Grafana sidecar)", "",
            f"`kubectl apply -k kubernetes/` (namespace `{k.namespace}`). PrometheusRules carry "
            f"{_labels(k.rule_labels)} for the Prometheus `ruleSelector`; ScrapeConfigs and Pod/ServiceMonitors "
            f"carry {_labels(k.monitor_labels)} for its `scrapeConfigSelector` / `podMonitorSelector` / "
            "`serviceMonitorSelector`, and set `job` to aimon-gen's job names, which rules and dashboards select on.",
            "",
            f"Dashboards are ConfigMaps labelled {_labels(k.dashboard_labels)} (the Grafana sidecar's label) with "
            "the `grafana_folder` annotation; apply large ones with `kubectl apply --server-side` (client-side "
            "apply keeps a copy in an annotation limited to 256 KiB).", "",
            f"Alertmanager's configuration is Secret `alertmanager-{k.alertmanager}` (key `alertmanager.yaml`). "
            "Its receiver secrets are file paths, never values: create a Secret holding those files and list it in "
            "the Alertmanager resource's `spec.secrets`, which mounts it at `/etc/alertmanager/secrets/<name>/`, "
            "and point the spec's `*_file` paths there.", "",
            "For sharding on Kubernetes set `shards:` on the Prometheus resource: the operator adds the same "
            "hashmod relabelling itself.", ""] + _scrape_secrets(spec)


def _prometheus_files(spec) -> list[str]:
    """The credential and TLS files prometheus.yml names: they must exist on the Prometheus host."""
    paths: set[str] = set()
    for client in (g.client for job in jobs(spec) for g in job.groups if g.client is not None):
        if client.authorization:
            paths.add(client.authorization.credentials_file)
        if client.basic_auth:
            paths.add(client.basic_auth.password_file)
        if client.tls_config:
            paths |= {f for f in (client.tls_config.ca_file, client.tls_config.cert_file, client.tls_config.key_file)
                      if f}
    for rw in spec.prometheus.remote_write:
        paths |= {f for f in (rw.bearer_token_file, rw.basic_auth.password_file if rw.basic_auth else None) if f}
    if not paths:
        return []
    return ["prometheus.yml reads these credential and TLS files; create them on the Prometheus host, readable "
            "by its user only (the build never sees their contents):", "", *[f"- `{p}`" for p in sorted(paths)], ""]


def _scrape_secrets(spec) -> list[str]:
    clients = [g.client for job in jobs(spec) for g in job.groups if g.client is not None]
    if not any(c.authorization or c.basic_auth or c.tls_config for c in clients):
        return []
    return [f"Scrape credentials and TLS files are keys of Secrets in namespace `{spec.outputs.kubernetes.namespace}` "
            "that the manifests name (`authorization`, `basicAuth`, `tlsConfig`; the spec's `kubernetes_secret`, "
            "default `<manifest name>-auth`), never their values: create each from the files the spec names, "
            "`kubectl create secret generic NAME --from-file=PATH ...` (each key is the file's base name; "
            "for basic_auth add `--from-literal=username=USER`).", ""]


def _labels(labels: dict) -> str:
    return ", ".join(f"`{k}: \"{v}\"`" for k, v in labels.items()) or "no labels (set outputs.kubernetes)"
