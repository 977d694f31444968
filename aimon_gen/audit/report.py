"""What audit found: one Problem per thing to change, as a table or as JSON for CI."""

from __future__ import annotations

import json
import textwrap
from dataclasses import asdict, dataclass

CHECKS = ("targets", "series", "labels", "rules", "cardinality")  # in the order they run


@dataclass(frozen=True)
class Problem:
    check: str      # one of CHECKS
    job: str        # the scrape job it concerns ("" for a rule group)
    subject: str    # the target, metric, label or rule group
    problem: str
    fix: str


def ordered(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (CHECKS.index(p.check), p.job, p.subject, p.problem))


def to_json(url: str, problems: list[Problem]) -> str:
    return json.dumps({"prometheus": url, "ok": not problems, "problems": [asdict(p) for p in ordered(problems)]},
                      indent=2) + "\n"


def table(url: str, problems: list[Problem], width: int = 100) -> str:
    """One block per problem: check, job and subject aligned, then what is wrong and what to change."""
    if not problems:
        return f"audit of {url}: no problems (targets, series, labels, rules, series counts)\n"
    rows = [(p.check, p.job or "-", p.subject) for p in ordered(problems)]
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    lines = [f"audit of {url}: {len(problems)} problem{'s' if len(problems) != 1 else ''}"]
    for p, (check, job, subject) in zip(ordered(problems), rows, strict=True):
        lines.append(f"{check.ljust(widths[0])}  {job.ljust(widths[1])}  {subject}")
        lines += textwrap.wrap(p.problem, width, initial_indent="    ", subsequent_indent="    ",
                               break_on_hyphens=False)
        lines += textwrap.wrap(p.fix, width, initial_indent="    fix: ", subsequent_indent="         ",
                               break_on_hyphens=False)
    return "\n".join(lines) + "\n"
