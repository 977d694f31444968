"""The results of a verify run: one row per check, printed as a table."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Row:
    check: str        # targets | rules | quiet | dashboard | fault | receivers | inhibition | grouping
    subject: str
    ok: bool
    detail: str = ""
    info: bool = False  # shown, not counted (e.g. alerts from the real host's own metrics)


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    seconds: float = 0.0
    urls: dict[str, str] = field(default_factory=dict)

    def add(self, check: str, subject: str, ok: bool, detail: str = "", info: bool = False) -> None:
        self.rows.append(Row(check, subject, ok, detail, info))

    @property
    def checks(self) -> list[Row]:
        return [r for r in self.rows if not r.info]

    @property
    def failed(self) -> list[Row]:
        return [r for r in self.checks if not r.ok]

    @property
    def ok(self) -> bool:
        return bool(self.checks) and not self.failed

    def table(self, width: int = 100) -> str:
        head = ("check", "subject", "result", "detail")
        rows = _collapsed([(r.check, r.subject, "info" if r.info else ("PASS" if r.ok else "FAIL"), r.detail)
                           for r in self.rows])
        w0 = max([len(head[0])] + [len(r[0]) for r in rows])
        w1 = min(44, max([len(head[1])] + [len(r[1]) for r in rows]))
        lines = [f"{head[0]:<{w0}}  {head[1]:<{w1}}  {head[2]:<6}  {head[3]}",
                 f"{'-' * w0}  {'-' * w1}  {'-' * 6}  {'-' * 6}"]
        for check, subject, result, detail in rows:
            subject = subject if len(subject) <= w1 else subject[:w1 - 1] + "~"
            lines.append(f"{check:<{w0}}  {subject:<{w1}}  {result:<6}  {detail}".rstrip())
        n, bad = len(self.checks), len(self.failed)
        lines.append(f"\n{n} checks, {n - bad} passed, {bad} failed in {self.seconds:.0f}s")
        return "\n".join(lines)


def _collapsed(rows: list[tuple]) -> list[tuple]:
    """Info rows saying the same thing shown once with a count: 34 x NodeHighCPU from this
    machine's own cores, or one `$cluster` note per dashboard, are each one fact."""
    groups: dict[tuple, list[str]] = {}
    for check, subject, result, detail in rows:
        if result == "info":
            groups.setdefault((check, detail), []).append(subject)
    out, shown = [], set()
    for check, subject, result, detail in rows:
        if result != "info":
            out.append((check, subject, result, detail))
            continue
        if (check, detail) in shown:
            continue
        shown.add((check, detail))
        subjects = groups[(check, detail)]
        names = list(dict.fromkeys(subjects))
        label = names[0] if len(names) == 1 else ", ".join(names)
        count = f" (x{len(subjects)})" if len(subjects) > 1 else ""
        out.append((check, label, result, f"{detail}{count}".lstrip()))
    return out
