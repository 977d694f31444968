"""The planned dashboards as plain data (no SDK yet), and the filter syntax their queries use."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..templating import render
from .definitions import Common


@dataclass
class Target:
    expr: str
    legend: str = ""
    instant: bool = False
    fmt: str = "time_series"          # time_series | table | heatmap


@dataclass
class Panel:
    type: str
    title: str
    unit: str
    w: int
    h: int
    description: str = ""
    min: float | None = None
    max: float | None = None
    steps: list = field(default_factory=list)        # [(value | None, color)]
    no_value: str | None = None
    links: list = field(default_factory=list)        # [(title, url)]
    overrides: list = field(default_factory=list)    # [(series name, steps)]
    regex_overrides: list = field(default_factory=list)  # [(series name regex, steps)]
    targets: list = field(default_factory=list)


@dataclass
class Board:
    name: str                 # file name: dashboards/<name>.json
    uid: str
    title: str
    tags: list
    variables: list
    rows: list                # [(row title, [Panel])]
    filters: dict             # filter name -> matchers for this dashboard


def filters_for(common: Common, variables: list[str]) -> dict[str, str]:
    """Each filter's matchers, using only the variables the dashboard (or variable) has."""
    out = {}
    for name, f in common.filters.items():
        parts = [f'job="{f.job}"'] if f.job else []
        parts += [f'{label}=~"${label}"' for label in f.labels if label in variables]
        parts += [f.extra] if f.extra else []
        out[name] = ", ".join(parts)
    return out


def expand(text: str, filters: dict[str, str]) -> str:
    out = render(text, filters, "dashboards")  # names were checked when the definitions loaded
    return out.replace("{, ", "{").replace(", }", "}")  # a filter with no matchers
