"""Problems a user can act on: where (file:line:col), which field, what to change."""

from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int  # 1-based; 0 when unknown
    col: int   # 1-based; 0 when unknown
    path: str  # dotted field path, e.g. models[0].server
    message: str
    hint: str = ""
    warning: bool = False

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}:{self.col}"
        text = f"{where}: {'warning: ' if self.warning else ''}"
        if self.path:
            text += f"{self.path}: "
        text += self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class SpecInvalid(Exception):
    """Raised with every problem found, never just the first."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = sorted(problems)


class CheckFailed(Exception):
    """An external tool (promtool, amtool) rejected generated output."""

    def __init__(self, tool: str, file: str, output: str):
        super().__init__(f"{tool} rejected {file}")
        self.tool, self.file, self.output = tool, file, output


class ToolMissing(Exception):
    def __init__(self, tool: str, how: str):
        super().__init__(f"{tool} not found")
        self.tool, self.how = tool, how


def did_you_mean(word: str, choices) -> str:
    match = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"did you mean '{match[0]}'?" if match else ""


class OutputConflict(Exception):
    """The build would overwrite files in the output folder that it did not write."""

    def __init__(self, out_dir, files: list[str]):
        super().__init__(f"{len(files)} file(s) in {out_dir} are not aimon-gen's")
        self.out_dir, self.files = out_dir, files
