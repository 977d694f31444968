"""Where the shipped data lives: rule packs and dashboard definitions.

In a checkout they are the top-level `rules/` and `dashboards/` folders; the wheel
carries the same folders inside the package (see pyproject's force-include).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_HERE = Path(__file__).resolve().parent


@cache
def data_dir(name: str) -> Path:
    for candidate in (_HERE / "_data" / name, _HERE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"aimon-gen's {name}/ folder is missing from this installation")


def read_yaml(path: Path):
    """A shipped data file, parsed with libyaml when present (the pure-Python parser is ~10x slower)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=loader)  # noqa: S506 - a safe loader
