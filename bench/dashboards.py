"""Dashboard figures: count, panels, JSON size and build time, for the example and a 1,000-host spec.

    .venv/bin/python bench/dashboards.py [--runs 5]

Times are in-process, of the dashboards compile step alone (the spec is loaded and the rules and
SLO steps run once, outside the timing); the first build includes importing the SDK modules.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def fleet_spec(hosts: int) -> str:
    """1,000 GPU hosts (8 GPUs each) in 4 groups, 40 models of every server kind with SLOs, 20 pipelines."""
    kinds = ["vllm", "triton", "tgi", "custom"]
    lines = ["version: 1", f"name: bench-{hosts}", "node_groups:"]
    per = hosts // 4
    for g in range(4):
        lines += [f"  - name: pool-{g}", f'    hosts: ["gpu{g}-[0001:{per:04d}].dc1"]',
                  "    gpu: {model: H100-80GB, count: 8}"]
    lines.append("models:")
    for i in range(40):
        slo = ", slo: {availability: 99.9}" if i % 2 == 0 else ""
        lines.append(f"  - {{name: model-{i:03d}, server: {kinds[i % 4]}, targets: [infer-{i:03d}.dc1]{slo}}}")
    lines.append("pipelines:")
    lines += [f"  - {{name: etl-{i:02d}, targets: [etl-{i:02d}.dc1], freshness: 1h, slo: {{freshness: 99}}}}"
              for i in range(20)]
    return "\n".join(lines) + "\n"


def _bundle_before_dashboards(ctx):
    from aimon_gen.compile.pipeline import STEPS
    from aimon_gen.compile.dashboards.panels import compile_dashboards
    from aimon_gen.compile.result import Bundle

    bundle = Bundle()
    for step in STEPS:
        if step is compile_dashboards:
            return bundle
        step(ctx, bundle)
    return bundle


def figures(spec_path: Path, runs: int) -> dict:
    from aimon_gen.compile.context import Context
    from aimon_gen.compile.dashboards.panels import compile_dashboards
    from aimon_gen.render import render
    from aimon_gen.spec.load import load_spec

    spec = load_spec(spec_path).spec
    ctx = Context(spec, str(spec_path), spec_path.parent)
    before = _bundle_before_dashboards(ctx)   # rules and SLOs the dashboards read
    t0 = time.perf_counter()
    compile_dashboards(ctx, before)
    first = time.perf_counter() - t0
    docs = {f"dashboards/{name}.json": doc for name, doc in before.dashboards.items()}
    times = []
    for _ in range(runs):
        before.dashboards.clear()
        t0 = time.perf_counter()
        compile_dashboards(ctx, before)
        times.append(time.perf_counter() - t0)
    sizes = {p: len(render(p, d, spec_path.name, spec.name)) for p, d in docs.items()}
    panels = {p: sum(1 for x in d["panels"] if x["type"] != "row") for p, d in docs.items()}
    return {"first_ms": first * 1000, "median_ms": statistics.median(times) * 1000, "sizes": sizes, "panels": panels}


def report(name: str, f: dict) -> None:
    print(f"{name}: {len(f['sizes'])} dashboards, {sum(f['panels'].values())} panels, "
          f"{sum(f['sizes'].values()) / 1024:.1f} KiB JSON; first build {f['first_ms']:.1f} ms "
          f"(incl. SDK import), then {f['median_ms']:.1f} ms")
    for p in sorted(f["sizes"]):
        print(f"  {p:32} {f['panels'][p]:3} panels {f['sizes'][p] / 1024:6.1f} KiB")


SDK_MODULES = ["grafana_foundation_sdk.builders." + m for m in
               ("dashboard", "prometheus", "common", "timeseries", "stat", "gauge", "bargauge", "table", "heatmap",
                "statetimeline")]


def sdk_import_ms(runs: int) -> float:
    """Median wall time of importing the SDK modules the dashboards use, in a fresh interpreter."""
    import subprocess

    code = "import time; t = time.perf_counter(); import " + ", ".join(SDK_MODULES) + \
           "; print((time.perf_counter() - t) * 1000)"
    return statistics.median(float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                                  check=True).stdout) for _ in range(runs))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    print(f"import of the SDK modules used: {sdk_import_ms(args.runs):.1f} ms (fresh interpreter, median)")
    report("specs/example.yaml", figures(ROOT / "specs" / "example.yaml", args.runs))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fleet-1000.yaml"
        path.write_text(fleet_spec(1000))
        report("1,000 hosts, 40 models, 20 pipelines, 40 SLOs", figures(path, args.runs))


if __name__ == "__main__":
    main()
