"""Run the real promtool and amtool on a staged output tree.

Every generated file is checked by the tool it is for before anything reaches the
output folder. The commands run in parallel; each one's wall time is kept for reports.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .check_sd import for_local_promtool
from .errors import CheckFailed, ToolMissing
from .render import render

INSTALL_HINT = {
    "promtool": "install it with `apt-get install prometheus` (Debian/Ubuntu) or from "
                "https://prometheus.io/download/, or pass --no-validate",
    "amtool": "install it with `apt-get install prometheus-alertmanager` (Debian/Ubuntu) or from "
              "https://prometheus.io/download/, or pass --no-validate",
}

# prometheus.yml fields that name a file promtool opens while checking.
_FILE_KEYS = ("password_file", "credentials_file", "bearer_token_file", "ca_file", "cert_file", "key_file")
CHECK_CONFIG = ".check-prometheus.yml"


@dataclass(frozen=True)
class Command:
    tool: str
    args: tuple[str, ...]
    file: str          # what it checks, for messages


@dataclass(frozen=True)
class Timing:
    command: Command
    seconds: float


def find_tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise ToolMissing(name, INSTALL_HINT.get(name, f"put {name} on PATH"))
    return path


def plan(stage: Path, bundle: dict, spec_file: str, spec_name: str) -> list[Command]:
    """The checks the staged files need. Writes the check-only copy of prometheus.yml."""
    cmds: list[Command] = []
    if "prometheus.yml" in bundle:
        doc = _placeholder_secrets(bundle["prometheus.yml"], stage)
        doc = for_local_promtool(doc, stage)  # Debian's promtool lacks kubernetes_sd
        (stage / CHECK_CONFIG).write_bytes(render("x.yml", doc, spec_file, spec_name))
        cmds.append(Command("promtool", ("check", "config", "--lint-fatal", CHECK_CONFIG), "prometheus.yml"))
    rules = sorted(p for p in bundle if p.endswith(".rules.yml"))
    if rules:
        cmds.append(Command("promtool", ("check", "rules", "--lint-fatal", *rules), ", ".join(rules)))
    tests = sorted(p for p in bundle if p.startswith("tests/") and p.endswith(".yml"))
    # One process per file: promtool tests files one after another, and the cores are idle otherwise.
    cmds.extend(Command("promtool", ("test", "rules", t), t) for t in tests)
    if "alertmanager.yml" in bundle:
        cmds.append(Command("amtool", ("check-config", "alertmanager.yml"), "alertmanager.yml"))
    for extra in EXTRA_PLANS:
        cmds.extend(extra(stage, bundle))
    return cmds


# Other modules add functions (stage, bundle) -> [Command], e.g. Alertmanager routing tests.
EXTRA_PLANS: list = []


def run(stage: Path, cmds: list[Command]) -> list[Timing]:
    """Run every command in parallel in the staging folder; raise on the first failure (in plan order)."""
    from concurrent.futures import ThreadPoolExecutor

    exes = {c.tool: find_tool(c.tool) for c in cmds}

    def one(c: Command):
        t0 = time.perf_counter()
        proc = subprocess.run([exes[c.tool], *c.args], cwd=stage, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
        return c, proc, time.perf_counter() - t0  # each command's own wall time

    with ThreadPoolExecutor(max_workers=max(1, len(cmds))) as pool:
        results = list(pool.map(one, cmds))
    (stage / CHECK_CONFIG).unlink(missing_ok=True)
    for c, proc, _ in results:
        if proc.returncode != 0:
            raise CheckFailed(c.tool + " " + " ".join(c.args[:2]), c.file,
                              proc.stdout.replace(CHECK_CONFIG, "prometheus.yml"))
    return [Timing(c, seconds) for c, _, seconds in results]


def _placeholder_secrets(doc, stage: Path):
    """A copy of prometheus.yml whose secret-file paths point at placeholders in the stage."""
    doc = copy.deepcopy(doc)
    folder = stage / ".check-secrets"
    count = 0

    def visit(node):
        nonlocal count
        if isinstance(node, dict):
            for key, value in node.items():
                if key in _FILE_KEYS and isinstance(value, str):
                    folder.mkdir(exist_ok=True)
                    count += 1
                    placeholder = folder / f"secret-{count}"
                    placeholder.write_text("placeholder\n")
                    node[key] = str(placeholder)
                else:
                    visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    visit(doc)
    return doc
