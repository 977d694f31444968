"""Run the real promtool and amtool on a staged output tree.

Every generated file is checked by the tool it is for before anything reaches the
output folder. The commands run in parallel; each one's wall time is kept for reports.

Few processes, however big the spec: one `promtool check config` over prometheus.yml and every
shard config, one `check rules` over every rule file (and the PrometheusRule groups), and the
test files in at most one `test rules` per core. promtool names each file it checks ("Checking
x", "Unit Testing: x") before its verdict, so a failure still names the file it is in. amtool's
`config routes test` takes one label set per run, so each routing test is its own process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .check_sd import for_local_promtool
from .compile.alerting.alertmanager import routing_test_args
from .compile.result import Bundle, Sharding
from .errors import CheckFailed, ToolMissing
from .promql import duration_seconds
from .render import ALERTMANAGER, KUBERNETES, SHARDING, render, rule_path, shard_config_path

INSTALL_HINT = {
    "promtool": "install it with `apt-get install prometheus` (Debian/Ubuntu) or from "
                "https://prometheus.io/download/, or pass --no-validate",
    "amtool": "install it with `apt-get install prometheus-alertmanager` (Debian/Ubuntu) or from "
              "https://prometheus.io/download/, or pass --no-validate",
}

# prometheus.yml fields that name a file promtool opens while checking.
_FILE_KEYS = ("password_file", "credentials_file", "bearer_token_file", "ca_file", "cert_file", "key_file")
CHECK_CONFIG = ".check-prometheus.yml"
PLACEHOLDER = ".check-secrets/placeholder"  # every secret file of a checked config: paths are relative to it


@dataclass(frozen=True)
class Command:
    tool: str
    args: tuple[str, ...]
    file: str          # what it checks, for messages
    shown: tuple[tuple[str, str], ...] = ()   # (argument path, output file it checks): which failed


def failed_files(c: Command, output: str) -> str:
    """The output files a failed command names as failing (c.file when it names none of them)."""
    names, failed, current = dict(c.shown), [], None
    for line in output.splitlines():
        for head in ("Checking ", "Unit Testing: "):
            if line.startswith(head):
                current = line[len(head):].strip()
        if "FAILED" in line and current in names and names[current] not in failed:
            failed.append(names[current])
    return ", ".join(failed) or c.file


@dataclass(frozen=True)
class Timing:
    command: Command
    seconds: float


def find_tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise ToolMissing(name, INSTALL_HINT.get(name, f"put {name} on PATH"))
    return path


@dataclass
class CheckPlan:
    """The commands the build's output needs, and the check-only files they read (staged by run)."""
    commands: list[Command] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)   # path in the stage -> bytes


def plan(bundle: Bundle, spec_file: str, spec_name: str) -> CheckPlan:
    """What to check, from the build result alone: no file is written here."""
    out = CheckPlan()
    configs = []    # (file promtool reads, output file)
    if bundle.prometheus is not None:
        out.files[CHECK_CONFIG] = _check_config(out, bundle.prometheus, "", spec_file, spec_name)
        configs.append((CHECK_CONFIG, "prometheus.yml"))
    if bundle.sharding is not None:
        configs += _shard_configs(out, bundle.sharding)
    if configs:
        out.commands.append(_batch(("check", "config", "--lint-fatal"), configs))
    rules = [(p, p) for p in (rule_path(stem) for stem in sorted(bundle.rule_files))] + _kubernetes_rules(out, bundle)
    if rules:
        out.commands.append(_batch(("check", "rules", "--lint-fatal"), rules))
    # promtool tests the files of one run one after another: one run per core, the costliest
    # files first, each to the least loaded run.
    tests = sorted(((f"tests/{stem}.test.yml", _test_cost(bundle, doc)) for stem, doc in bundle.rule_tests.items()),
                   key=lambda t: (-t[1], t[0]))
    loads = [0] * min(len(tests), os.cpu_count() or 1)
    runs: list[list[str]] = [[] for _ in loads]
    for path, size in tests:
        i = loads.index(min(loads))
        loads[i] += size
        runs[i].append(path)
    out.commands.extend(_batch(("test", "rules"), [(t, t) for t in sorted(files)]) for files in runs)
    if bundle.alertmanager is not None:
        out.commands.append(Command("amtool", ("check-config", ALERTMANAGER), ALERTMANAGER))
        out.commands.extend(_routing_tests(bundle))
    return out


def _test_cost(bundle: Bundle, doc: dict) -> int:
    """promtool's work on a test file, roughly: every loaded rule at every evaluation up to each
    group's last check, plus a process start (CPU seconds measured on a fleet spec follow it)."""
    rules = 0
    for path in doc.get("rule_files") or []:
        stem = path.removeprefix("../").removeprefix("rules/").removesuffix(".rules.yml")
        found = bundle.rule_files.get(stem) if path.startswith("../") else bundle.test_rules.get(stem)
        rules += sum(len(g.rules) for g in found.groups) if found else 0
    step = duration_seconds(doc.get("evaluation_interval", "1m"))
    points = sum(max((duration_seconds(c["eval_time"]) for c in [*g.get("alert_rule_test", []),
                                                                   *g.get("promql_expr_test", [])]), default=0)
                 // step + 1 for g in doc.get("tests") or [])
    return int(points * max(rules, 1)) + 500


def _batch(args: tuple[str, ...], files: list[tuple[str, str]]) -> Command:
    """One promtool run over `files` ((path it reads, output file it checks))."""
    return Command("promtool", (*args, *(p for p, _ in files)), ", ".join(dict.fromkeys(s for _, s in files)),
                   tuple(files))


def _check_config(out: CheckPlan, doc: dict, up: str, spec_file: str, spec_name: str) -> bytes:
    """A prometheus.yml as the local promtool can check it; `up`: from its folder to the stage's top."""
    doc, secrets = _placeholder_secrets(doc, up + PLACEHOLDER)
    if secrets:
        out.files[PLACEHOLDER] = b"placeholder\n"
    # Debian's promtool lacks kubernetes_sd: asked only when the config has such blocks.
    return render("x.yml", for_local_promtool(doc, lambda: find_tool("promtool")), spec_file, spec_name)


def _routing_tests(bundle: Bundle) -> list[Command]:
    """One `amtool config routes test --verify.receivers` per routing test of the spec."""
    cmds = []
    for i, (labels, receivers) in enumerate(bundle.alertmanager_tests):
        args = routing_test_args(labels, receivers)
        shown = " ".join(args[5:]) or "no labels"
        cmds.append(Command("amtool", args, f"{ALERTMANAGER} (routing test alerting.tests[{i}]: {shown} "
                                            f"-> {','.join(receivers)})"))
    return cmds


def _shard_configs(out: CheckPlan, s: Sharding) -> list[tuple[str, str]]:
    """Every shard and global config as promtool checks it (secrets as placeholders)."""
    configs = [(shard_config_path(i), doc) for i, doc in enumerate(s.shard_configs)]
    if s.global_config is not None:
        configs.append((f"{SHARDING}prometheus-global.yml", s.global_config))
    files = []
    for path, doc in sorted(configs, key=lambda c: c[0]):
        check_rel = f"{SHARDING}.check-{path[len(SHARDING):]}"
        out.files[check_rel] = _check_config(out, doc, "../", "spec", "check")
        files.append((check_rel, path))
    return files


def _kubernetes_rules(out: CheckPlan, bundle: Bundle) -> list[tuple[str, str]]:
    """The groups inside each generated PrometheusRule, extracted to files for check rules."""
    files = []
    for name in sorted(n for n in bundle.kubernetes if n.startswith("prometheusrule-")):
        rel = f".check-kubernetes/{name[:-len('.yaml')]}.rules.yml"
        out.files[rel] = render(rel, {"groups": bundle.kubernetes[name]["spec"]["groups"]}, "spec", "check")
        files.append((rel, KUBERNETES + name))
    return files


def run(stage: Path, checks: CheckPlan) -> list[Timing]:
    """Stage the plan's check-only files, run every command in parallel in the staging folder,
    remove those files; raise on the first failure (in plan order)."""
    cmds = checks.commands
    for rel, data in checks.files.items():
        (stage / rel).parent.mkdir(parents=True, exist_ok=True)
        (stage / rel).write_bytes(data)
    exes = {c.tool: find_tool(c.tool) for c in cmds}

    def one(c: Command):
        t0 = time.perf_counter()
        proc = subprocess.run([exes[c.tool], *c.args], cwd=stage, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
        return c, proc, time.perf_counter() - t0  # each command's own wall time

    with ThreadPoolExecutor(max_workers=max(1, len(cmds))) as pool:
        results = list(pool.map(one, cmds))
    for rel in checks.files:
        (stage / rel).unlink(missing_ok=True)
    for c, proc, _ in results:
        if proc.returncode != 0:
            raise CheckFailed(c.tool + " " + " ".join(c.args[:2]), failed_files(c, proc.stdout),
                              proc.stdout.replace(CHECK_CONFIG, "prometheus.yml"))
    return [Timing(c, seconds) for c, _, seconds in results]


def _placeholder_secrets(doc: dict, placeholder: str) -> tuple[dict, int]:
    """(a copy of prometheus.yml whose secret-file paths name the placeholder, how many it replaced)."""
    count = 0

    def visit(node):
        nonlocal count
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key in _FILE_KEYS and isinstance(value, str):
                    count += 1
                    out[key] = placeholder
                else:
                    out[key] = visit(value)
            return out
        if isinstance(node, list):
            return [visit(item) for item in node]
        return node

    return visit(doc), count
