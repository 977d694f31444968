"""What audit found: one Problem per thing to change, as a table or as JSON for CI."""

from __future__ import annotations

import json
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


def table(url: str, problems: list[Problem]) -> str:
    if not problems:
        return f"audit of {url}: no problems (targets, series, labels, rules, series counts)\n"
    rows = [(p.check, p.job or "-", p.subject) for p in ordered(problems)]
    widths = [max(len(r[i]) for r in [("check", "job", "subject"), *rows]) for i in range(3)]
    head = "  ".join(h.ljust(w) for h, w in zip(("check", "job", "subject"), widths, strict=True))
    lines = [f"audit of {url}: {len(problems)} problem{'s' if len(problems) != 1 else ''}", f"{head}  problem"]
    indent = " " * (sum(widths) + 2 * 3)
    for p, r in zip(ordered(problems), rows, strict=True):
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + "  " + p.problem)
        lines.append(f"{indent}fix: {p.fix}")
    return "\n".join(lines) + "\n"
