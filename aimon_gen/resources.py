"""Where the shipped data lives: rule packs and dashboard definitions.

In a checkout they are the top-level `rules/` and `dashboards/` folders; the wheel
carries the same folders inside the package (see pyproject's force-include).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from .errors import SpecInvalid

_HERE = Path(__file__).resolve().parent


@cache
def data_dir(name: str) -> Path:
    for candidate in (_HERE / "_data" / name, _HERE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"aimon-gen's {name}/ folder is missing from this installation")


def read_yaml(path: Path):
    """A shipped data file, read by the one loader (positions, duplicate keys and the safety
    limits; a mistake is reported at its file:line as SpecInvalid)."""
    # lazy: the build cache's hit path imports this module for data_dir() and must not pay
    # for PyYAML and pydantic (see cache.py).
    from .loader import DATA, parse_yaml  # lazy: see above

    data, _, problems = parse_yaml(path, f"{path.parent.name}/{path.name}", DATA)
    if problems:
        raise SpecInvalid(problems)
    return data
