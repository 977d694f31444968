"""Speed and memory of the CLI as users run it: whole processes, wall time and peak RSS.

    .venv/bin/python bench/bench.py [--runs 7] [--validate] [--instructions]

Cases: `aimon-gen --help`, a build of specs/example.yaml, and builds of generated specs
with 10, 100 and 1,000 hosts (8 GPUs each) and 100 models. Builds skip promtool/amtool
unless --validate, so the figures are aimon-gen's own time. Targets (issue 2): --help
< 80 ms, example < 250 ms, 1,000 hosts < 1 s and < 150 MB.

"cold" builds pass --no-cache: load, compile, render every time. "cached" builds repeat a
build whose inputs did not change (the pre-commit and CI case), served by the build cache
(aimon_gen/cache.py); its entries live in the bench's own temporary folder. The two "import
floor" lines are processes that only import the libraries --help and a cold build need.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = Path(sys.executable).parent / "aimon-gen"


def fleet_spec(hosts: int, models: int) -> str:
    kinds = ["vllm", "triton", "tgi", "custom"]
    lines = ["version: 1", f"name: bench-{hosts}", "node_groups:",
             "  - name: gpu", f'    hosts: ["gpu-[0001:{hosts:04d}].dc1"]',
             "    gpu: {model: H100-80GB, count: 8}", "    labels: {team: research}",
             "models:"]
    for i in range(models):
        lines.append(f"  - {{name: model-{i:03d}, server: {kinds[i % 4]}, targets: [infer-{i:03d}.dc1], "
                     f"labels: {{team: team-{i % 5}}}}}")
    lines += ["pipelines:", "  - {name: etl, targets: [etl.dc1], freshness: 1h}"]
    return "\n".join(lines) + "\n"


# As installed from a wheel: bytecode cached (some environments set PYTHONDONTWRITEBYTECODE,
# which makes every run recompile aimon_gen's own modules).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
FLOOR = ("import typer, yaml, jinja2, pydantic.fields, pydantic.main, "
         "grafana_foundation_sdk.builders.dashboard, grafana_foundation_sdk.builders.timeseries")


def instructions(cmd: list[str], cwd: Path) -> float:
    """Millions of instructions the process runs (valgrind callgrind): the same count on a busy
    or an idle machine, where wall time on a shared VM varies by 50% from hour to hour."""
    proc = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
                          cwd=cwd, env=ENV, capture_output=True, text=True)
    found = re.search(r"Collected : (\d+)", proc.stderr)
    if proc.returncode != 0 or not found:
        raise SystemExit(f"failed under valgrind: {' '.join(map(str, cmd))}\n{proc.stderr[-2000:]}")
    return int(found.group(1)) / 1e6


def measure(cmd: list[str], runs: int, cwd: Path) -> tuple[float, float, float]:
    """Median and fastest wall seconds, and max peak RSS (MiB), over `runs` runs of a whole
    process (after one warm-up)."""
    walls, peaks = [], []
    subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True)
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        walls.append(time.perf_counter() - t0)
        peaks.append(usage.ru_maxrss / 1024)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"failed: {' '.join(map(str, cmd))}\n{proc.stderr.read().decode()}")
        proc.stderr.close()
    return statistics.median(walls), min(walls), max(peaks)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--validate", action="store_true", help="include promtool/amtool checks")
    ap.add_argument("--instructions", action="store_true",
                    help="also count instructions under valgrind (slow: about 30 s a case; aimon-gen's own process)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="aimon-bench-"))
    flags = [] if args.validate else ["--no-validate"]
    try:
        ENV["AIMON_GEN_CACHE_DIR"] = str(tmp / "cache")
        example = [str(CLI), "build", str(ROOT / "specs/example.yaml"), "-o", str(tmp / "ex"), *flags]
        cases = [("aimon-gen --help", [str(CLI), "--help"]),
                 ("build specs/example.yaml, cold", [*example, "--no-cache"]),
                 ("build specs/example.yaml, cached", example),
                 ("build --check specs/example.yaml, cached", [*example, "--check"])]
        for hosts in (10, 100, 1000):
            spec = tmp / f"fleet-{hosts}.yaml"
            spec.write_text(fleet_spec(hosts, 100))
            cases.append((f"build {hosts} hosts x 8 GPUs + 100 models, cold",
                          [str(CLI), "build", str(spec), "-o", str(tmp / f"o{hosts}"), *flags, "--no-cache"]))
        cases.append(("build 1000 hosts x 8 GPUs + 100 models, cached",
                      [str(CLI), "build", str(tmp / "fleet-1000.yaml"), "-o", str(tmp / "o1000"), *flags]))
        cases.append(("import floor of --help (typer alone)", [sys.executable, "-c", "import typer"]))
        cases.append(("import floor (libraries of a cold build)", [sys.executable, "-c", FLOOR]))
        print(f"{'case':<48} {'median':>8} {'fastest':>8} {'peak RSS':>9}"
              f"{'  instructions' if args.instructions else ''}   ({args.runs} runs, "
              f"{'with' if args.validate else 'without'} promtool/amtool)")
        for name, cmd in cases:
            median, fastest, rss = measure(cmd, args.runs, tmp)
            line = f"{name:<48} {median * 1000:>5.0f} ms {fastest * 1000:>5.0f} ms {rss:>5.0f} MiB"
            if args.instructions:
                line += f" {instructions(cmd, tmp):>9,.0f} M"
            print(line, flush=True)
        for hosts in (1000,):
            size = sum(p.stat().st_size for p in (tmp / f"o{hosts}").rglob("*") if p.is_file())
            print(f"output of the {hosts}-host spec: {size / 1024:.0f} KiB in "
                  f"{sum(1 for p in (tmp / f'o{hosts}').rglob('*') if p.is_file())} files")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
