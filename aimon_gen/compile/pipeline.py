"""The compile steps in order: each adds its part to one Bundle (compile/result.py).

prometheus.yml comes after the rule steps because it lists their rule files, the README last
because it lists every file. Nothing here writes files.
"""

from __future__ import annotations

from ..render import documents
from . import readme
from .alerting.alertmanager import compile_alertmanager
from .context import Context
from .dashboards.panels import compile_dashboards
from .dashboards.provisioning import compile_provisioning
from .kubernetes.manifests import compile_kubernetes
from .result import Bundle
from .rules.groups import compile_rules
from .scrape.config import compile_prometheus
from .scrape.sharding import compile_sharding
from .slo.rules import compile_slo
from .slo.unittests import compile_slo_tests


def compile_bundle(ctx: Context) -> Bundle:
    """Run every step in order; each adds its part to one Bundle."""
    bundle = Bundle()
    for step in STEPS:
        step(ctx, bundle)
    listed = list(documents(bundle, readme=False))
    if "files" not in ctx.output_formats():  # the README lists what the build writes
        listed = [p for p in listed if p.startswith("kubernetes/")]
    bundle.readme = readme.compile_readme(ctx.spec, listed)
    return bundle


def _kubernetes(ctx: Context, bundle: Bundle) -> None:
    if "kubernetes" in ctx.output_formats():
        compile_kubernetes(ctx, bundle)


# Each step: (Context, Bundle) -> None, adding its part. Order matters: a step reads what the
# steps before it declared (Alertmanager the alerts' levels and pairs, dashboards the SLOs).
STEPS = [
    compile_rules,         # alert/recording rules, their unit tests, dcgm-counters.csv
    compile_slo,           # SLO recording rules, burn-rate alerts
    compile_slo_tests,     # their promtool unit tests
    compile_alertmanager,  # routes the alerts of both steps above
    compile_dashboards,    # reads the recorded names of the rules and SLO steps
    compile_provisioning,  # provisions the dashboards, when there are any
    compile_prometheus,    # lists the rule files of the steps above
    compile_sharding,      # shards > 1: per-shard configs, global layer
    _kubernetes,           # --format kubernetes: manifests of everything above
]
