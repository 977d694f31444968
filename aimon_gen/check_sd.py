"""Service discovery the local promtool cannot parse.

Debian's Prometheus packages are built without some discovery plugins (kubernetes and consul
among them; its changelog: "Disable Consul SD"): their promtool rejects `kubernetes_sd_configs`
or `consul_sd_configs` as an unknown field although upstream Prometheus accepts it. When that
is so, the check-only copy of a config gets an empty `static_configs` in place of those blocks
(their fields are checked by the spec's model), so relabelling, paths and everything else are
still checked; the written file keeps the real discovery.
"""

from __future__ import annotations

import copy
import subprocess
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

# A minimal valid block of each discovery some builds leave out.
_PROBES = {"kubernetes_sd_configs": "  - role: pod\n", "consul_sd_configs": "  - server: localhost:8500\n"}


@cache
def sd_supported(promtool: str, key: str = "kubernetes_sd_configs") -> bool:
    """Asked once per process and kind: does this promtool parse `key` (e.g. kubernetes_sd_configs)?"""
    with tempfile.TemporaryDirectory(prefix="aimon-gen-probe-") as folder:
        probe = Path(folder) / "probe.yml"
        probe.write_text(f"scrape_configs:\n- job_name: probe\n  {key}:\n{_PROBES[key]}")
        done = subprocess.run([promtool, "check", "config", probe.name], cwd=folder, capture_output=True,
                              text=True, stdin=subprocess.DEVNULL)
    return done.returncode == 0


def for_local_promtool(doc: dict, promtool: Callable[[], str]) -> dict:
    """`doc`, or a copy without the discovery blocks this promtool cannot parse.
    `promtool` finds the binary, asked only when the config has such blocks."""
    jobs = doc.get("scrape_configs") or []
    present = [key for key in _PROBES if any(key in sc for sc in jobs)]
    missing = [key for key in present if not sd_supported(promtool(), key)]
    if not missing:
        return doc
    out = copy.deepcopy(doc)
    for sc in out["scrape_configs"]:
        if any(sc.pop(key, None) is not None for key in missing):
            sc["static_configs"] = [{"targets": []}]
    return out
