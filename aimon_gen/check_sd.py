"""Service discovery the local promtool cannot parse.

Debian's Prometheus packages are built without some discovery plugins (kubernetes among
them): their promtool rejects `kubernetes_sd_configs` as an unknown field although upstream
Prometheus accepts it. When that is so, the check-only copy of a config gets an empty
`static_configs` in place of those blocks, so relabelling, paths and everything else are
still checked; the written file keeps the real discovery.
"""

from __future__ import annotations

import copy
import subprocess
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

_PROBE = "scrape_configs:\n- job_name: probe\n  kubernetes_sd_configs:\n  - role: pod\n"


@cache
def kubernetes_sd_supported(promtool: str) -> bool:
    """Asked once per process: does this promtool parse kubernetes_sd_configs?"""
    with tempfile.TemporaryDirectory(prefix="aimon-gen-probe-") as folder:
        probe = Path(folder) / "probe.yml"
        probe.write_text(_PROBE)
        done = subprocess.run([promtool, "check", "config", probe.name], cwd=folder, capture_output=True,
                              text=True, stdin=subprocess.DEVNULL)
    return done.returncode == 0


def for_local_promtool(doc: dict, promtool: Callable[[], str]) -> dict:
    """`doc`, or a copy without kubernetes_sd_configs when this promtool cannot parse them.
    `promtool` finds the binary, asked only when the config has such blocks."""
    jobs = doc.get("scrape_configs") or []
    if not any("kubernetes_sd_configs" in sc for sc in jobs):
        return doc
    if kubernetes_sd_supported(promtool()):
        return doc
    out = copy.deepcopy(doc)
    for sc in out["scrape_configs"]:
        if sc.pop("kubernetes_sd_configs", None) is not None:
            sc["static_configs"] = [{"targets": []}]
    return out
