"""What every compile step is given: the spec, where it came from, and where findings go."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..spec.finding import Finding


@dataclass
class Context:
    spec: Any            # Spec
    spec_file: str       # as the user named it, for messages
    spec_dir: Path       # user rule packs are relative to it
    # Findings (spec path, message) that do not stop the build; shown at their spec line.
    warnings: list = field(default_factory=list)

    # Problems only the compiled documents reveal (e.g. a route matching a label no alert
    # carries); the build stops with them at their spec line, like load-time findings.
    errors: list = field(default_factory=list)

    # `aimon-gen build --format` (files, kubernetes); empty: the spec's outputs.formats.
    formats: tuple = ()

    def output_formats(self) -> tuple:
        return tuple(self.formats or self.spec.outputs.formats)

    def warn(self, path: tuple, message: str, hint: str = "") -> None:
        self.warnings.append(Finding(path, message, hint, warning=True))

    def error(self, path: tuple, message: str, hint: str = "", at_key: bool = False) -> None:
        self.errors.append(Finding(path, message, hint, at_key=at_key))
