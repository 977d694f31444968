"""Spec -> out/README.md: what was generated and how to run it."""

from __future__ import annotations


def compile_readme(spec, paths: list[str]) -> dict[str, str]:
    p = spec.prometheus
    flags = ["--config.file=prometheus.yml"]
    if p.retention.time:
        flags.append(f"--storage.tsdb.retention.time={p.retention.time}")
    if p.retention.size:
        flags.append(f"--storage.tsdb.retention.size={p.retention.size}")
    lines = [f"# Monitoring for `{spec.name}` ({spec.environment})", "",
             "## Files", ""]
    lines += [f"- `{path}`" for path in sorted(set(paths) | {"README.md"})]
    lines += ["", "## Run Prometheus", "", "Retention is a command-line setting, not part of prometheus.yml:", "",
              "```sh", "prometheus \\", *[f"  {f} \\" for f in flags[:-1]], f"  {flags[-1]}", "```", ""]
    return {"README.md": "\n".join(lines)}
