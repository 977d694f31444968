"""Compile: pure functions from the Spec to plain documents (a Bundle).

A Bundle maps an output path (`prometheus.yml`, `alert.rules.yml`, `dashboards/gpu.json`,
...) to a Python document. Each step adds its documents; prometheus.yml comes last because
it lists the rule files the other steps produced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Context:
    spec: Any            # Spec
    spec_file: str       # as the user named it, for messages
    spec_dir: Path       # user rule packs are relative to it
    # Findings (spec path, message) that do not stop the build; shown at their spec line.
    warnings: list = field(default_factory=list)

    # Problems only the compiled documents reveal (e.g. a route matching a label no alert
    # carries); the build stops with them at their spec line, like load-time findings.
    errors: list = field(default_factory=list)

    # `aimon-gen build --format` (files, kubernetes); empty: the spec's outputs.formats.
    formats: tuple = ()

    # (greater, lesser) alert names a pack declares with `inhibits:`; the rules step fills it,
    # the Alertmanager step turns each pair into an inhibit rule.
    inhibits: list = field(default_factory=list)

    def output_formats(self) -> tuple:
        return tuple(self.formats or self.spec.outputs.formats)

    def warn(self, path: tuple, message: str, hint: str = "") -> None:
        from ..spec.checks import Finding
        self.warnings.append(Finding(path, message, hint, warning=True))

    def error(self, path: tuple, message: str, hint: str = "", at_key: bool = False) -> None:
        from ..spec.checks import Finding
        self.errors.append(Finding(path, message, hint, at_key=at_key))


def compile_bundle(ctx: Context) -> dict[str, object]:
    from . import readme
    from .scrape import config as scrape, sharding

    bundle: dict[str, object] = {}
    for step in _steps():
        # A step sees what earlier steps made (e.g. Alertmanager checks the generated alerts).
        for path, doc in step(ctx, bundle).items():
            if path in bundle:
                raise ValueError(f"two compile steps wrote {path}")
            bundle[path] = doc
    rule_files = sorted(p for p in bundle if p.endswith(".rules.yml"))
    bundle.update(scrape.compile_prometheus(ctx.spec, rule_files))
    bundle.update(sharding.compile_sharding(ctx.spec, bundle))  # shards > 1: per-shard configs, global layer
    if "kubernetes" in ctx.output_formats():
        from .kubernetes.manifests import compile_kubernetes
        bundle.update(compile_kubernetes(ctx, bundle))
    listed = sorted(bundle)
    if "files" not in ctx.output_formats():  # the README lists what the build writes
        listed = [p for p in listed if p.startswith("kubernetes/")]
    bundle.update(readme.compile_readme(ctx.spec, listed))
    return bundle


def _steps():
    """Each step: (Context, bundle so far) -> {path: document}. Order matters."""
    # Imported here so that `aimon-gen --help` never pays for them.
    from .alerting.alertmanager import compile_alertmanager
    from .dashboards.panels import compile_dashboards
    from .dashboards.provisioning import compile_provisioning
    from .rules.groups import compile_rules
    from .slo.rules import compile_slo

    return [
        compile_rules,         # alert/recording rules, their unit tests, dcgm-counters.csv
        compile_slo,           # SLO recording rules, burn-rate alerts and tests
        compile_alertmanager,  # routes the alerts of both steps above
        compile_dashboards,    # reads the recorded names of the rules and SLO steps
        compile_provisioning,  # provisions the dashboards, when there are any
    ]
