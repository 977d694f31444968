"""Grafana provisioning files: the Prometheus datasource and a file provider for the dashboards.

Grafana reads `provisioning/datasources/*.yml` and `provisioning/dashboards/*.yml` from its
provisioning folder (`/etc/grafana/provisioning` by default). The provider's `options.path`
is absolute on the Grafana host: copy or mount the output's `dashboards/` folder there
(`grafana.dashboards_path`, default /var/lib/grafana/dashboards/<spec name>).
"""

from __future__ import annotations

DEFAULT_DASHBOARDS_ROOT = "/var/lib/grafana/dashboards"


def dashboards_path(spec) -> str:
    return spec.grafana.dashboards_path or f"{DEFAULT_DASHBOARDS_ROOT}/{spec.name}"


def compile_provisioning(ctx, bundle) -> None:
    """Compile step: provisioning files, when the build has dashboards."""
    if not bundle.dashboards:
        return
    spec, g = ctx.spec, ctx.spec.grafana
    datasource = {
        "apiVersion": 1,
        "datasources": [{
            "name": g.datasource.name,
            "type": "prometheus",
            "uid": g.datasource.uid,     # every dashboard panel refers to it by this uid
            "access": "proxy",
            "url": g.datasource.url,
            "isDefault": False,
            "editable": False,
            "jsonData": {"timeInterval": spec.prometheus.scrape_interval},
        }],
    }
    provider = {
        "apiVersion": 1,
        "providers": [{
            "name": f"aimon-gen-{spec.name}",
            "orgId": 1,
            "type": "file",
            "folder": g.folder,
            "disableDeletion": False,
            "allowUiUpdates": False,     # the spec is the source: edits in the UI would be lost
            "updateIntervalSeconds": 30,
            "options": {"path": dashboards_path(spec), "foldersFromFilesStructure": False},
        }],
    }
    bundle.provisioning.update(datasources=datasource, dashboards=provider)
