"""Capture the Prometheus API answers tests/test_audit.py's unit tests read, from the same live
stack as its e2e tests (a real Prometheus 2.42): `python tests/audit_capture.py` rewrites
tests/data/audit/*.json. Not a test module."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import EXAMPLE  # noqa: E402
from test_audit import Live  # noqa: E402

from aimon_gen.audit import checks  # noqa: E402
from aimon_gen.audit.expect import expected  # noqa: E402
from aimon_gen.build import compile_spec  # noqa: E402
from aimon_gen.verify.stack import Stack  # noqa: E402

OUT = Path(__file__).resolve().parent / "data" / "audit"
GROUPS = ("vllm", "slo-llama-70b-chat-availability")  # an alert and a recording group of one name, an SLO group


def _query(live: Live, expr: str) -> list:
    import urllib.parse
    return live.api("/api/v1/query?" + urllib.parse.urlencode({"query": expr}))["result"]


def main() -> None:
    bundle, loaded = compile_spec(EXAMPLE)
    exp = expected(bundle, loaded.spec)
    OUT.mkdir(parents=True, exist_ok=True)
    with Stack() as stack:
        live = Live(stack)
        live_jobs = set(exp.jobs)
        groups = [g for g in live.api("/api/v1/rules")["groups"] if g["name"] in GROUPS]
        for g in groups:
            g["file"] = "/etc/prometheus/" + g["file"].rsplit("/", 1)[-1]  # not the run's temporary folder
        _dump("rules.json", groups)
        _dump("series_per_job.json", _query(live, checks.cardinality_query(live_jobs)))
        live.break_things()
        _dump("broken_targets.json", live.api("/api/v1/targets?state=active")["activeTargets"])
        _dump("broken_status_label.json", _query(live, checks.label_queries(exp, live_jobs)["status"]))


def _dump(name: str, doc) -> None:
    (OUT / name).write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
