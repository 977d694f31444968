"""Command line: a thin typer app. Heavy modules are imported inside each command,
because this runs in pre-commit hooks where start-up time is the user's wait.

Exit codes: 0 ok, 1 invalid spec or a failed check, 2 usage error, 3 internal error.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
import typer.core

from . import __version__

app = typer.Typer(
    name="aimon-gen",
    help="Compile one spec of your AI infrastructure into Prometheus, alert rules, Alertmanager and Grafana.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

class _Command(typer.core.TyperCommand):
    """Usage lines as Unix tools write them: `build [OPTIONS] SPEC`, not typer's `{SPEC}`."""

    def collect_usage_pieces(self, ctx):
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in super().collect_usage_pieces(ctx)]


REPORT = "https://github.com/aimon-gen/aimon-gen/issues"

# build --format: what each value writes (examples/terraform validates against these names).
BUILD_FORMATS = {"files": ("files",), "kubernetes": ("kubernetes",), "both": ("files", "kubernetes")}

SpecArg = Annotated[Path, typer.Argument(help="The spec file (YAML).", show_default=False, metavar="SPEC")]


def _err(text: str) -> None:
    print(text, file=sys.stderr)


def _out(text: str) -> None:
    """Print a listing; a reader that leaves early (`aimon-gen schema | head -1`) is fine, as
    for any Unix tool: exit 0, with stdout pointed at devnull so the final flush cannot fail."""
    import os

    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(0) from None


def _version(value: bool) -> None:
    if value:
        print(f"aimon-gen {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(version: Annotated[bool | None, typer.Option("--version", callback=_version, is_eager=True,
                                                          help="Print the version and exit.")] = None) -> None:
    pass


@app.command(cls=_Command, short_help="Build SPEC into the output folder, checked by promtool and amtool.")
def build(
    spec: SpecArg,
    out: Annotated[Path, typer.Option("-o", "--out", help="Output folder.")] = Path("out"),
    check: Annotated[bool, typer.Option("--check", help="Write nothing; exit 1 with a diff when the output folder is "
                                                        "stale.")] = False,
    no_validate: Annotated[bool, typer.Option("--no-validate", help="Skip promtool/amtool (not recommended).")] = False,
    timings: Annotated[bool, typer.Option("--timings", help="Print how long each external check took.")] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Rebuild and re-check even when no input changed "
                                           "since the last build (see the README's build cache).")] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print problems only.")] = False,
    format: Annotated[str | None, typer.Option(
        "--format", help="files | kubernetes | both (default: the spec's outputs.formats, else files). "
                         "Kubernetes manifests go under kubernetes/.", show_default=False)] = None,
) -> None:
    """Build SPEC into the output folder, checked by promtool and amtool first."""
    from .build import build as run_build

    if format is not None and format not in BUILD_FORMATS:
        _err(f"--format {format}: choose files, kubernetes or both")
        raise typer.Exit(2)
    result = _guard(lambda: run_build(spec, out, validate=not no_validate, check_only=check,
                                      formats=BUILD_FORMATS.get(format or "", ()), use_cache=not no_cache))
    _print_warnings(result.warnings)
    if result.recovered:
        _err(f"{out}: {result.recovered} (an earlier build was stopped while writing it)")
    if check:
        if result.pending_install:
            _err(f"{out}: an earlier build was stopped while installing its files; "
                 f"run `aimon-gen build {spec} -o {out}` to complete it")
            raise typer.Exit(1)
        if result.diff:
            sys.stdout.write(result.diff)
            _err(f"{out} is stale: run `aimon-gen build {spec} -o {out}` and commit the result")
            raise typer.Exit(1)
        if not quiet:
            print(f"{out} is up to date ({len(result.files)} files)")
        return
    if no_validate:
        _err("warning: --no-validate: the output was not checked by promtool or amtool")
    if timings:
        if result.cached:
            print("  (build cache: no input changed since a build that passed; nothing compiled or re-checked)")
        for t in result.timings:
            print(f"  {t.seconds * 1000:7.0f} ms  {t.command.tool} {' '.join(t.command.args[:2])}  ({t.command.file})")
    if not quiet:
        what = f"{len(result.changed)} changed" + (f", {len(result.removed)} removed" if result.removed else "")
        checked = "" if no_validate else ", checked"
        checked += " (cached)" if result.cached else ""
        print(f"built {out}/: {len(result.files)} files, {what}{checked} in {result.seconds:.2f}s")


@app.command(cls=_Command, short_help="Check SPEC and report every problem; writes nothing.")
def validate(spec: SpecArg) -> None:
    """Check SPEC and report every problem; writes nothing."""
    from . import cache

    # The same findings as `build`, warnings of the compile step included: from the build
    # cache when nothing changed since the last build, else by compiling (nothing rendered).
    hit = cache.lookup(spec, (), need_checked=False)
    if hit is not None:
        warnings = hit.warnings
    else:
        from .build import compile_only

        warnings = _guard(lambda: compile_only(spec))
    _print_warnings(warnings)
    print(f"{spec}: valid")


@app.command(cls=_Command, short_help="Write a commented starter spec.")
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the starter spec.")] = Path("aimon-gen.yaml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter spec."""
    if path.exists() and not force:
        _err(f"{path} exists; pass --force to overwrite it")
        raise typer.Exit(1)
    text = (Path(__file__).parent / "starter.yaml").read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}; next: aimon-gen build {path}")


@app.command(cls=_Command, short_help="Print the spec's JSON Schema, or its reference as Markdown.")
def schema(markdown: Annotated[bool, typer.Option("--markdown",
                                                  help="Print the spec reference as Markdown.")] = False) -> None:
    """Print the JSON Schema of the spec (for editors), or the reference as Markdown."""
    import json

    from .spec.model import Spec

    if markdown:
        from .spec.reference import markdown as reference

        _out(reference(Spec))
        return
    doc = Spec.model_json_schema(by_alias=True)
    doc["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    doc["title"] = "aimon-gen spec"
    _out(json.dumps(doc, indent=2, sort_keys=True) + "\n")


@app.command(cls=_Command, short_help="List every named threshold with its default.")
def thresholds() -> None:
    """List every named threshold with its default and meaning."""
    from .thresholds import catalog

    lines = []
    for name, t in sorted(catalog().items()):
        extra = f" for {t['for']}" if t.get("for") else ""
        lines.append(f"{name}: {t['value']} {t.get('unit', '')}{extra}  {t.get('description', '')}\n")
    _out("".join(lines))


@app.command(cls=_Command, short_help="List every shipped alert and what to do when it fires.")
def alerts(readme: Annotated[Path | None, typer.Option(
        "--readme", help="Rewrite the alert table between the markers in this README instead of printing it.")] = None,
) -> None:
    """List every shipped alert: severity, threshold, what it means and what to do."""
    from .alert_reference import START, markdown, replace_in

    if readme is None:
        _out(markdown() + "\n")
        return
    text = readme.read_text(encoding="utf-8")
    if START not in text:
        _err(f"{readme}: no alert table markers ({START})")
        raise typer.Exit(1)
    readme.write_text(replace_in(text), encoding="utf-8")


@app.command(cls=_Command, short_help="Run the behaviour scenarios against SPEC's alerts.")
def scenarios(
    spec: SpecArg,
    folder: Annotated[list[Path] | None, typer.Option(
        "--scenarios",
        help="A folder of your own scenario files (*.yaml), run with the shipped ones (repeatable).")] = None,
    only_mine: Annotated[bool, typer.Option("--only-mine",
                                            help="Run only the folders given with --scenarios.")] = False,
) -> None:
    """Run the behaviour scenarios (real exporter faults and healthy busy workloads over time)
    against SPEC's generated rules with promtool; exit 1 when an alert misbehaves."""
    import shutil

    from . import behaviour
    from .errors import ToolMissing
    from .resources import data_dir

    def run():
        found = [] if only_mine else behaviour.load_folder(data_dir("rules") / "scenarios")
        for f in folder or []:
            if not f.is_dir():
                raise behaviour.ScenarioError(f"{f}: not a folder of scenario files")
            found += behaviour.load_folder(f)
        promtool = shutil.which("promtool")
        if promtool is None:
            raise ToolMissing("promtool", "install Prometheus's promtool (Debian: apt-get install prometheus)")
        return behaviour.run(spec, found, promtool)

    def guarded():
        try:
            return run()
        except behaviour.ScenarioError as exc:
            return exc
    outcomes = _guard(guarded)
    if isinstance(outcomes, Exception):
        _err(f"scenarios: {outcomes}")
        raise typer.Exit(1)
    print(behaviour.report(outcomes))
    failed = sum(not o.ok for o in outcomes)
    print(f"{len(outcomes) - failed} passed, {failed} failed ({len(outcomes)} scenarios apply to {spec})")
    raise typer.Exit(1 if failed else 0)


@app.command(cls=_Command, short_help="Run the generated stack for real, break things, check alerts.")
def verify(
    spec: SpecArg,
    prometheus: Annotated[str | None, typer.Option("--prometheus",
                                                   help="Prometheus binary (default: prometheus on PATH).")] = None,
    alertmanager: Annotated[str | None, typer.Option("--alertmanager", help="Alertmanager binary (default: "
                                                                            "prometheus-alertmanager or alertmanager "
                                                                            "on PATH).")] = None,
    node_exporter: Annotated[str | None, typer.Option("--node-exporter", help="node_exporter binary (default: "
                                                                              "prometheus-node-exporter or "
                                                                              "node_exporter on PATH).")] = None,
    keep: Annotated[bool, typer.Option("--keep", help="Leave the stack running after the checks and print its URLs; "
                                                      "Ctrl-C stops it.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Longest wait, in seconds, for any one condition (targets "
                                                             "up, a fault's alerts).")] = 120.0,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="No progress lines.")] = False,
) -> None:
    """Run the generated stack for real on 127.0.0.1 (Prometheus, Alertmanager, node_exporter,
    simulated exporters), break things on purpose and check that the right alerts fire and
    reach the right receivers. Exit 0 only when every check passed."""
    from .verify.run import Options, verify as run_verify
    from .verify.stack import MissingBinary, StackError

    log = (lambda _m: None) if quiet else (lambda m: print(f"verify: {m}", file=sys.stderr, flush=True))
    opts = Options(prometheus, alertmanager, node_exporter, keep, timeout, log)

    def run():
        try:
            return run_verify(spec, opts)
        except (MissingBinary, StackError) as exc:
            return exc
    report = _guard(run)
    if isinstance(report, Exception):
        _err(f"verify: {report}")
        raise typer.Exit(1)
    if not keep:
        print(report.table())
    raise typer.Exit(0 if report.ok else 1)


@app.command(cls=_Command, short_help="Estimate series, samples/s and disk per scrape job.")
def plan(
    spec: SpecArg,
    assume: Annotated[list[str] | None, typer.Option(
        "--assume", help="Override an assumption, e.g. --assume host_cpus=128 (repeatable).")] = None,
    budget: Annotated[int | None, typer.Option(
        "--budget", help="Series one Prometheus should hold (default: prometheus.series_budget).")] = None,
) -> None:
    """Estimate active series, samples per second and disk per scrape job; warn above the series budget."""
    from .plan import estimate, parse_assumptions, report
    from .spec.load import load_spec

    try:
        overrides = parse_assumptions(assume or [])
    except ValueError as exc:
        _err(str(exc))
        raise typer.Exit(2) from None
    loaded = _guard(lambda: load_spec(spec))
    _print_warnings(loaded.warnings)
    result = estimate(loaded.spec, overrides)
    if budget is not None:
        result.budget = budget
    table, warnings = report(result, loaded.spec)
    print(table)
    for w in warnings:
        _err(f"warning: {w}")


@app.command(cls=_Command, short_help="Check a running Prometheus has what SPEC's rules and dashboards read.")
def audit(
    spec: SpecArg,
    prometheus: Annotated[str, typer.Option("--prometheus", help="Base URL of the running Prometheus, e.g. "
                                                                 "http://prometheus:9090.", show_default=False)],
    bearer_token_file: Annotated[Path | None, typer.Option(
        "--bearer-token-file", help="File holding a bearer token for Prometheus's API.")] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for each API call.")] = 10.0,
    as_json: Annotated[bool, typer.Option("--json", help="Problems as JSON (keys: check, job, subject, problem, "
                                                         "fix), for CI.")] = False,
    assume: Annotated[list[str] | None, typer.Option(
        "--assume", help="As for plan: an assumption of the series estimate, e.g. host_cpus=128.")] = None,
) -> None:
    """Ask a running Prometheus (HTTP API only) whether it has what SPEC's generated rules and
    dashboards read: targets up per job, the series and labels they select, the rule groups
    loaded as generated, series per job near `aimon-gen plan`'s estimate. Exit 0 when clean,
    1 when a problem is found (or the spec is invalid), 2 when Prometheus cannot be asked."""
    from .audit.client import Unreachable
    from .audit.report import table, to_json
    from .audit.run import Options, audit as run_audit
    from .plan import parse_assumptions

    try:
        overrides = parse_assumptions(assume or [])
    except ValueError as exc:
        _err(str(exc))
        raise typer.Exit(2) from None
    opts = Options(prometheus, bearer_token_file, timeout, overrides)

    def run():
        try:
            return run_audit(spec, opts)
        except Unreachable as exc:
            return exc
    problems = _guard(run)
    if isinstance(problems, Unreachable):
        _err(f"audit: {problems}")
        raise typer.Exit(2)
    _out(to_json(prometheus, problems) if as_json else table(prometheus, problems))
    raise typer.Exit(1 if problems else 0)


def _print_warnings(warnings) -> None:
    for w in warnings:
        _err(str(w))


def _guard(fn):
    """Turn every expected failure into messages and exit 1; a bug into one line and exit 3."""
    from .errors import CheckFailed, OutputConflict, SpecInvalid, ToolMissing
    from .output import InstallFailed, OutputBusy

    try:
        return fn()
    except SpecInvalid as exc:
        for p in exc.problems:
            _err(str(p))
        _err(f"{len(exc.problems)} problem{'s' if len(exc.problems) != 1 else ''} found; nothing written")
    except CheckFailed as exc:
        _err(f"{exc.tool} rejected the generated {exc.file}; nothing written:")
        _err(exc.output.rstrip())
    except ToolMissing as exc:
        _err(f"{exc.tool} not found on PATH: {exc.how}; nothing written")
    except (OutputBusy, InstallFailed) as exc:
        _err(f"aimon-gen: {exc}")
    except OutputConflict as exc:
        for f in exc.files:
            _err(f"{exc.out_dir}/{f}: exists and was not written by aimon-gen; move it away or choose another -o")
        _err("nothing written")
    except OSError as exc:
        _err(f"aimon-gen: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": ") + "; nothing written")
    except KeyboardInterrupt:
        _err("interrupted; nothing written")
        raise typer.Exit(130) from None
    except Exception as exc:  # noqa: BLE001 - the last line of defence: never a traceback
        _err(f"aimon-gen: internal error ({type(exc).__name__}: {exc}). This is a bug: please report it at "
             f"{REPORT} with the spec and this line. Nothing was written.")
        raise typer.Exit(3) from None
    raise typer.Exit(1)


def main() -> None:
    # A short-lived process: the cyclic GC only slows imports and model building (~13%).
    import gc
    import os

    gc.disable()
    # pydantic scans every installed package's entry points for plugins (~30 ms) before it
    # builds the spec models; none could do anything useful in this process.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    try:
        app()
    except KeyboardInterrupt:
        _err("interrupted")
        sys.exit(130)
