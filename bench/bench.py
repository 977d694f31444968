"""Speed and memory of the CLI as users run it (issue 15): whole processes, wall time and peak RSS.

    .venv/bin/python bench/bench.py [--runs 7] [--quick] [--only reference,fleet,startup,growth,alerting]
                                    [--instructions] [--write-specs DIR]

One run prints every figure of issue 15's "Done when", each beside its goal (pass/FAIL):

1. reference: the peers' reference scenario (bench/reference.yaml: 4 GPU nodes, 2 models with
   SLOs, 1 pipeline), cold (`build --no-cache --no-validate`, which writes prometheus.yml, the
   rules, the SLO rules, the promtool tests and six dashboards), beside metrics-forge 1.0.0
   generating rules and dashboards for the same services (bench/reference-forge.yaml, which
   says what "same" means) with `generate ... -o rules.yaml -d dashboards/`. metrics-forge lives
   in the bench's own venv, bench/.venv-forge (created on the first run: `python -m venv` and
   `pip install metrics-forge==1.0.0`; git ignores it). Goal: ratio <= 1.0.
2. fleet: the issue's fleet spec (10 node groups x 100 hosts x 8 GPUs; 100 models, 25 each of
   vllm/triton/tgi/custom, 50 with an availability SLO; 20 pipelines; no alerting section, as in
   the issue), cold unchecked and cold checked (real promtool), and an unchanged rebuild served
   by the build cache. Goals: <= 1.0 s unchecked, <= 5 s checked, <= 150 MB.
3. startup: `aimon-gen --help` beside a bare `python -c pass` (goal <= 6x), and `aimon-gen
   validate specs/example.yaml` beside --help (goal <= 2x), with the build cache cold (an empty
   cache folder: validate compiles the spec) and warm (the example was built before: validate
   reads the cached findings). The goal is judged on the cold case, the one a CI runner pays.
4. growth: the fleet spec at 1x, 3x and 10x of a base unit (1 group x 100 hosts, 10 models of
   which 5 with an SLO, 2 pipelines; 10x is the fleet spec), unchecked, with time, peak RSS and
   the slope per unit of each segment. Growth is called linear when the 3x->10x slope is at most
   1.5x the 1x->3x slope (a quadratic term would make it about 3x).
5. alerting: the same three sizes with an alerting section added (a webhook receiver and a
   route per team, then amtool has work too), since a real estate has one and the routing
   analysis of the compile step grows with hosts x rules: same table, same linearity goal, and the
   10x build against the fleet's 1.0 s. Runs as many times as the checked build (it is slow).

Cases that are compared run interleaved (A, B, A, B, ...) after one warm-up each, so a change in
the machine's load hits both sides; figures are medians. Peak RSS is ru_maxrss from wait4: the
largest single process of the run (aimon-gen, or one promtool/amtool it started), in MB (10^6
bytes, as the goal is stated). aimon-gen runs from this checkout (PYTHONPATH, the same code the
console script would import; --tree runs another checkout's, e.g. a worktree without this
bench) with the interpreter running the bench; bytecode is cached as from a wheel.

--instructions adds callgrind instruction counts of each process (not of the promtool/amtool
it starts) and the goals' ratios by them: the same on a busy or an idle machine, so use them
to decide (wall time on the shared 2-core VM moves by 50% from hour to hour, and more when
other jobs run). --quick: 3 runs, one checked run, for a quick look while working.
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
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
FORGE_VENV = BENCH / ".venv-forge"
FORGE_VERSION = "1.0.0"
# What the aimon-gen console script runs, against this checkout's code (PYTHONPATH below).
LAUNCH = "import sys; sys.argv[0] = 'aimon-gen'; from aimon_gen.cli import main; sys.exit(main())"
AIMON = [sys.executable, "-c", LAUNCH]
# As installed from a wheel: bytecode cached (some environments set PYTHONDONTWRITEBYTECODE,
# which makes every run recompile aimon_gen's own modules).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["PYTHONPATH"] = str(ROOT)  # --tree changes it
TOOL_RUN = re.compile(r"\s*(\d+) ms\s+(?:promtool|amtool) ")  # a line of `build --timings`
# What a cold build imports before doing anything: the stack the project is built on.
STACK_IMPORTS = "import typer, yaml, jinja2; from pydantic import BaseModel"
SECTIONS = ("reference", "fleet", "startup", "growth", "alerting")
MB = 1e6


def fleet_spec(scale: int, alerting: bool = False) -> str:
    """The fleet at `scale` base units: per unit 1 node group of 100 hosts x 8 GPUs, 10 models
    (server kinds in turn, every other one with an availability SLO) and 2 pipelines. Scale 10
    is issue 15's fleet: 1,000 hosts, 100 models (50 with an SLO), 20 pipelines. `alerting` adds
    an Alertmanager section (a webhook receiver and a route per team), which the issue's fleet
    has not: the "alerting" section measures what it costs."""
    kinds = ["vllm", "triton", "tgi", "custom"]
    teams = [f"team-{t}" for t in range(5)]
    lines = ["version: 1", f"name: fleet-{scale}x", "node_groups:"]
    for g in range(scale):
        lines += [f"  - name: pool-{g:02d}", f'    hosts: ["gpu{g:02d}-[001:100].dc1"]',
                  "    gpu: {model: H100-80GB, count: 8}", f"    labels: {{team: {teams[g % 5]}}}"]
    lines.append("models:")
    for i in range(10 * scale):
        kind = kinds[i % 4]
        entry = (f"  - {{name: model-{i:03d}, server: {kind}, targets: [infer-{i:03d}.dc1], "
                 f"labels: {{team: {teams[i % 5]}}}")
        if i % 2 == 0:
            extra = f", triton_model: model-{i:03d}" if kind == "triton" else ""
            entry += f", slo: {{availability: 99.9, window: 30d{extra}}}"
        lines.append(entry + "}")
    lines.append("pipelines:")
    for p in range(2 * scale):
        lines.append(f"  - {{name: etl-{p:02d}, targets: [etl-{p:02d}.dc1], freshness: 1h, "
                     f"labels: {{team: {teams[p % 5]}}}}}")
    if not alerting:
        return "\n".join(lines) + "\n"
    lines += ["alerting:", "  default_receiver: platform", "  receivers:",
              '    - {name: platform, webhook: {url: "http://hooks.internal/platform"}}']
    lines += [f'    - {{name: {t}, webhook: {{url: "http://hooks.internal/{t}"}}}}' for t in teams]
    lines += ["  routes:"] + [f"    - {{receiver: {t}, match: {{team: {t}}}}}" for t in teams]
    lines.append("    - {receiver: platform}")  # the rest on purpose (else a warning names them)
    return "\n".join(lines) + "\n"


@dataclass
class Case:
    name: str
    cmd: list[str]
    env: dict[str, str] = field(default_factory=dict)
    walls: list[float] = field(default_factory=list)
    peaks: list[float] = field(default_factory=list)
    countable: bool = True  # False: the time is in child processes (promtool), which callgrind does not count
    instr: float | None = None  # millions, with --instructions
    stdout: str = ""  # of the last run

    @property
    def median(self) -> float:
        return statistics.median(self.walls)

    @property
    def peak(self) -> float:
        return max(self.peaks)


def run_once(case: Case, cwd: Path) -> None:
    t0 = time.perf_counter()
    with open(cwd / "stdout.txt", "wb") as out:
        proc = subprocess.Popen(case.cmd, cwd=cwd, env={**ENV, **case.env}, stdout=out, stderr=subprocess.PIPE)
        err = proc.stderr.read() if proc.stderr else b""  # read before waiting: a full pipe would block it
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4; keeps Popen from waiting again
    case.walls.append(time.perf_counter() - t0)
    case.peaks.append(usage.ru_maxrss * 1024 / MB)
    case.stdout = (cwd / "stdout.txt").read_text(errors="replace")
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {case.name}\n  {' '.join(case.cmd)}\n{err.decode()[-3000:]}")


def interleaved(cases: list[Case], runs: int, cwd: Path, warm_up: bool = True) -> None:
    """One warm-up each (not counted), then `runs` rounds of every case in turn."""
    for case in cases if warm_up else ():
        run_once(case, cwd)
        case.walls.clear()
        case.peaks.clear()
    for _ in range(runs):
        for case in cases:
            run_once(case, cwd)


def instructions(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    """Millions of instructions the process runs (valgrind callgrind): the same count on a busy
    or an idle machine, where wall time on a shared VM varies by 50% from hour to hour."""
    proc = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
                          cwd=cwd, env={**ENV, **(env or {})}, capture_output=True, text=True)
    found = re.search(r"Collected : (\d+)", proc.stderr)
    if proc.returncode != 0 or not found:
        raise SystemExit(f"failed under valgrind: {' '.join(map(str, cmd))}\n{proc.stderr[-2000:]}")
    return int(found.group(1)) / 1e6


class Report:
    def __init__(self, args: argparse.Namespace, cwd: Path) -> None:
        self.args, self.cwd = args, cwd
        self.goals: list[tuple[str, str, bool | None]] = []

    def table(self, title: str, cases: list[Case]) -> None:
        print(f"\n{title}")
        for case in cases:
            line = (f"  {case.name:<58} {case.median * 1000:>7.0f} ms  (fastest {min(case.walls) * 1000:>5.0f})"
                    f" {case.peak:>6.0f} MB")
            if self.args.instructions and case.countable:
                case.instr = instructions(case.cmd, self.cwd, case.env)
                line += f" {case.instr:>9,.0f} M instr"
            print(line, flush=True)

    def goal(self, what: str, value: float, limit: float, unit: str, fmt: str = ".2f") -> None:
        ok = value <= limit
        self.goals.append((what, f"{value:{fmt}}{unit} (goal <= {limit:{fmt}}{unit})", ok))
        print(f"  -> {what}: {value:{fmt}}{unit}, goal <= {limit:{fmt}}{unit}: {'pass' if ok else 'FAIL'}", flush=True)

    def ratio(self, what: str, a: Case, b: Case, limit: float) -> None:
        """a / b by median wall time against the goal; by instructions too when counted, which
        the machine's load does not move (judge a change by them)."""
        self.goal(what, a.median / b.median, limit, "x")
        if a.instr and b.instr:
            self.goal(f"{what}, by instructions", a.instr / b.instr, limit, "x")

    def missing(self, what: str, why: str) -> None:
        self.goals.append((what, f"not measured: {why}", None))
        print(f"  -> {what}: not measured ({why})", flush=True)

    def summary(self) -> None:
        print("\ngoals (issue 15)")
        for what, text, ok in self.goals:
            mark = "n/a " if ok is None else ("pass" if ok else "FAIL")
            print(f"  [{mark}] {what}: {text}")


def forge_cli(quiet: bool = False) -> Path | None:
    """metrics-forge in the bench's own venv, installed on first use; None when it cannot be."""
    exe = FORGE_VENV / "bin" / "metrics-forge"
    if exe.exists():
        return exe
    print(f"creating {FORGE_VENV.relative_to(ROOT)} with metrics-forge=={FORGE_VERSION} (once)", flush=True)
    steps = [[sys.executable, "-m", "venv", str(FORGE_VENV)],
             [str(FORGE_VENV / "bin" / "python"), "-m", "pip", "install", "-q", f"metrics-forge=={FORGE_VERSION}"]]
    for step in steps:
        proc = subprocess.run(step, capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"  could not install metrics-forge: {' '.join(step)}\n{proc.stderr[-1500:]}")
            shutil.rmtree(FORGE_VENV, ignore_errors=True)
            return None
    return exe if exe.exists() else None


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def reference(rep: Report, tmp: Path, runs: int) -> None:
    out = tmp / "ref-out"
    aimon = Case("aimon-gen build reference.yaml --no-cache --no-validate",
                 [*AIMON, "build", str(BENCH / "reference.yaml"), "-o", str(out), "--no-cache", "--no-validate", "-q"])
    floor = Case("floor: python importing the stack a build needs (typer, pydantic, PyYAML, Jinja2)",
                 [sys.executable, "-c", STACK_IMPORTS])
    cases = [aimon, floor]
    forge = forge_cli()
    if forge is not None:
        fout = tmp / "forge-out"
        cases.append(Case(f"metrics-forge {FORGE_VERSION} generate reference-forge.yaml",
                          [str(forge), "generate", str(BENCH / "reference-forge.yaml"),
                           "-o", str(fout / "rules.yaml"), "-d", str(fout / "dashboards")]))
    interleaved(cases, runs, tmp)
    rep.table(f"1. reference scenario, cold ({runs} interleaved runs)", cases)
    written = files_under(out)
    dashboards = [f for f in written if f.startswith("dashboards/")]
    print(f"  aimon-gen wrote {len(written)} files: prometheus.yml {'prometheus.yml' in written}, "
          f"rules {sum(f.endswith('.rules.yml') for f in written)}, "
          f"tests {sum(f.startswith('tests/') for f in written)}, dashboards {len(dashboards)}")
    if forge is not None:
        print(f"  metrics-forge wrote {len(files_under(tmp / 'forge-out'))} files "
              "(rules.yaml and a dashboard per service)")
        rep.ratio("reference cold, aimon-gen / metrics-forge", aimon, cases[2], 1.0)
        print(f"  floor: importing the required stack alone takes {floor.median / cases[2].median:.2f}x "
              "metrics-forge's whole run (by wall time of interleaved runs)"
              + (f", {floor.instr / cases[2].instr:.2f}x by instructions" if floor.instr and cases[2].instr else ""))
    else:
        rep.missing("reference cold, aimon-gen / metrics-forge", "metrics-forge could not be installed")
    if len(dashboards) != 6 or "slo.rules.yml" not in written or "prometheus.yml" not in written:
        print("  WARNING: the reference build no longer writes prometheus.yml, the SLO rules and six dashboards")


def fleet(rep: Report, tmp: Path, runs: int, checked_runs: int) -> None:
    spec = tmp / "fleet-10x.yaml"
    spec.write_text(fleet_spec(10))
    build = [*AIMON, "build", str(spec), "-q"]
    unchecked = Case("fleet, cold, unchecked (--no-cache --no-validate)",
                     [*build, "-o", str(tmp / "fleet-u"), "--no-cache", "--no-validate"])
    cached = Case("fleet, unchanged rebuild (build cache, checked)", [*build, "-o", str(tmp / "fleet-c")])
    checked = Case("fleet, cold, checked (--no-cache, promtool + amtool)",
                   [*build, "-o", str(tmp / "fleet-c"), "--no-cache", "--timings"], countable=False)
    interleaved([unchecked, cached], runs, tmp)
    interleaved([checked], checked_runs, tmp, warm_up=False)  # the unchecked runs warmed the same code
    rep.table(f"2. fleet: 10 groups x 100 hosts x 8 GPUs, 100 models (50 SLOs), 20 pipelines "
              f"({runs} runs; checked: {checked_runs})", [unchecked, cached, checked])
    out = tmp / "fleet-u"
    size = sum((out / f).stat().st_size for f in files_under(out))
    print(f"  output: {len(files_under(out))} files, {size / 1024:.0f} KiB")
    rep.goal("fleet cold unchecked", unchecked.median, 1.0, " s")
    rep.goal("fleet cold checked", checked.median, 5.0, " s")
    rep.goal("fleet peak RSS (unchecked and checked)", max(unchecked.peak, checked.peak), 150, " MB", ".0f")
    tools = [(m.group(1), ln.strip()) for ln in checked.stdout.splitlines() if (m := TOOL_RUN.match(ln))]
    busy = sum(int(ms) for ms, _ in tools)
    print(f"  the checked build started {len(tools)} promtool/amtool processes, {busy / 1000:.1f} s of their "
          "wall time together (--timings of its last run)")
    for _, ln in tools if rep.args.timings else ():
        print(f"    {ln}")


def startup(rep: Report, tmp: Path, runs: int) -> None:
    example = str(Path(ENV["PYTHONPATH"]) / "specs/example.yaml")
    warm_cache = tmp / "cache-warm"
    subprocess.run([*AIMON, "build", example, "-o", str(tmp / "ex"), "--no-validate", "-q"], cwd=tmp,
                   env={**ENV, "AIMON_GEN_CACHE_DIR": str(warm_cache)}, check=True, capture_output=True)
    bare = Case("python -c pass", [sys.executable, "-c", "pass"])
    helpc = Case("aimon-gen --help", [*AIMON, "--help"])
    cold = Case("aimon-gen validate specs/example.yaml, cache cold", [*AIMON, "validate", example],
                {"AIMON_GEN_CACHE_DIR": str(tmp / "cache-empty")})
    warm = Case("aimon-gen validate specs/example.yaml, cache warm", [*AIMON, "validate", example],
                {"AIMON_GEN_CACHE_DIR": str(warm_cache)})
    floor = Case("floor: python importing typer and pydantic (what validate cannot do without)",
                 [sys.executable, "-c", "import typer; from pydantic import BaseModel"])
    typer_only = Case("floor: python importing typer (what --help cannot do without)",
                      [sys.executable, "-c", "import typer"])
    load_only = Case("floor: python importing typer and loading the example with the spec model (no compile)",
                     [sys.executable, "-c", "import sys, typer; from aimon_gen.spec.load import load_spec; "
                                            "load_spec(__import__('pathlib').Path(sys.argv[1]))", example])
    cases = [bare, helpc, cold, warm, floor, typer_only, load_only]
    interleaved(cases, runs, tmp)
    rep.table(f"3. start-up ({runs} interleaved runs)", cases)
    rep.ratio("--help / bare python start", helpc, bare, 6.0)
    print(f"  floor: importing typer alone is {typer_only.median / bare.median:.2f}x a bare start"
          + (f", {typer_only.instr / bare.instr:.2f}x by instructions" if typer_only.instr and bare.instr else ""))
    rep.ratio("validate example (cache cold) / --help", cold, helpc, 2.0)
    print(f"  (validate with the cache warm: {warm.median / helpc.median:.1f}x --help; floor: importing typer and "
          f"pydantic alone is {floor.median / helpc.median:.2f}x --help"
          + (f", {floor.instr / helpc.instr:.2f}x by instructions" if floor.instr and helpc.instr else "")
          + f"; loading the spec with its model and nothing more is {load_only.median / helpc.median:.2f}x --help"
          + (f", {load_only.instr / helpc.instr:.2f}x by instructions)" if load_only.instr and helpc.instr else ")"))


def growth(rep: Report, tmp: Path, runs: int, alerting: bool = False) -> None:
    scales = (1, 3, 10)
    tag = "alerting" if alerting else "growth"
    cases = []
    for scale in scales:
        spec = tmp / f"{tag}-{scale}x.yaml"
        spec.write_text(fleet_spec(scale, alerting))
        cases.append(Case(f"{scale:>2}x: {100 * scale:>5} hosts, {10 * scale:>3} models, {2 * scale:>2} pipelines"
                          + (", alerting" if alerting else ""),
                          [*AIMON, "build", str(spec), "-o", str(tmp / f"{tag}-{scale}"), "-q",
                           "--no-cache", "--no-validate"]))
    # The growth section warmed the same code; the alerting builds are long, so not run twice.
    interleaved(cases, runs, tmp, warm_up=not alerting)
    title = ("5. the fleet with an alerting section (a route per team), cold unchecked" if alerting
             else "4. growth, cold unchecked")
    rep.table(f"{title} ({runs} interleaved runs; a unit = 100 hosts, 10 models, 2 pipelines)", cases)
    slopes = []
    for i in range(len(scales) - 1):
        (s0, c0), (s1, c1) = (scales[i], cases[i]), (scales[i + 1], cases[i + 1])
        dt = (c1.median - c0.median) / (s1 - s0)
        dm = (c1.peak - c0.peak) / (s1 - s0)
        slopes.append(dt)
        print(f"  {s0}x -> {s1}x: {dt * 1000:.0f} ms and {dm:.1f} MB per unit")
    what = "with an alerting section" if alerting else "of the fleet spec"
    if all(c.instr for c in cases):
        # Instruction counts do not move with the machine's load; wall slopes can even go negative.
        per = [(cases[i + 1].instr - cases[i].instr) / (scales[i + 1] - scales[i])  # type: ignore[operator]
               for i in range(len(scales) - 1)]
        print(f"  by instructions: {per[0]:,.0f} M then {per[1]:,.0f} M per unit")
        rep.goal(f"growth {what}, by instructions: slope 3x->10x / slope 1x->3x (linear <= 1.5)",
                 per[1] / per[0], 1.5, "x")
    if slopes[0] > 0:
        rep.goal(f"growth {what}: slope 3x->10x / slope 1x->3x (linear <= 1.5)", slopes[1] / slopes[0], 1.5, "x")
    else:
        print("  (wall slope 1x->3x not positive: the load moved more than the build; see instructions)")
    if alerting:
        rep.goal("fleet with an alerting section, cold unchecked (same goal as the fleet)", cases[-1].median, 1.0, " s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=7, help="interleaved runs per case (default 7)")
    ap.add_argument("--checked-runs", type=int, default=3,
                    help="runs of the checked fleet build and of the alerting section (default 3)")
    ap.add_argument("--quick", action="store_true", help="3 runs, 1 checked run")
    ap.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections of {', '.join(SECTIONS)}")
    ap.add_argument("--instructions", action="store_true",
                    help="also count instructions under valgrind, and ratios by them (slow: 30 s to minutes a case)")
    ap.add_argument("--timings", action="store_true",
                    help="print each promtool/amtool run of the checked fleet build (its --timings)")
    ap.add_argument("--tree", type=Path, default=ROOT,
                    help="the checkout whose aimon-gen to run (default: the one holding this bench)")
    ap.add_argument("--write-specs", metavar="DIR", type=Path,
                    help="write the fleet specs (1x, 3x, 10x) to DIR and exit, for profiling")
    args = ap.parse_args()
    if args.write_specs:
        args.write_specs.mkdir(parents=True, exist_ok=True)
        for scale in (1, 3, 10):
            (args.write_specs / f"fleet-{scale}x.yaml").write_text(fleet_spec(scale))
            (args.write_specs / f"fleet-{scale}x-alerting.yaml").write_text(fleet_spec(scale, alerting=True))
        print(f"wrote {args.write_specs}/fleet-{{1,3,10}}x[-alerting].yaml (fleet-10x.yaml is issue 15's fleet)")
        return
    runs, checked_runs = (3, 1) if args.quick else (args.runs, args.checked_runs)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    if unknown := set(only) - set(SECTIONS):
        ap.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    tmp = Path(tempfile.mkdtemp(prefix="aimon-bench-"))
    ENV["AIMON_GEN_CACHE_DIR"] = str(tmp / "cache")
    tree = args.tree.resolve()
    if not (tree / "aimon_gen" / "cli.py").exists():
        ap.error(f"--tree {tree}: no aimon_gen/cli.py there")
    ENV["PYTHONPATH"] = str(tree)
    commit = subprocess.run(["git", "-C", str(tree), "describe", "--always", "--dirty"],
                            capture_output=True, text=True).stdout.strip()
    print(f"aimon-gen bench: {tree} at {commit}, Python {sys.version.split()[0]}, {os.cpu_count()} cores, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average {os.getloadavg()[0]:.1f}")
    rep = Report(args, tmp)
    try:
        if "reference" in only:
            reference(rep, tmp, runs)
        if "fleet" in only:
            fleet(rep, tmp, runs, checked_runs)
        if "startup" in only:
            startup(rep, tmp, runs)
        if "growth" in only:
            growth(rep, tmp, runs)
        if "alerting" in only:
            growth(rep, tmp, checked_runs, alerting=True)
        rep.summary()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
