"""What each SLO measures: its SLI selectors (from rules/slo_sli.yaml) and the 5m PromQL.

Every SLO of the spec becomes one `SLODef` with a consistent label set; compile/slo/rules.py
turns those into rules and compile/slo/unittests.py into promtool tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from pydantic import BaseModel, ConfigDict, Field

from .catalog import histogram_buckets
from .loader import load
from .promql import quote, re2_escape, simple_selector
from .resources import data_dir
from .scheme import JOB_MODEL, JOB_PIPELINE
from .spec.types import duration_seconds

Matcher = tuple[str, str, str]   # (label, op, value) with op one of = != =~ !~


@dataclass(frozen=True)
class Selector:
    name: str
    matchers: tuple[Matcher, ...] = ()

    def __str__(self) -> str:
        inner = ", ".join(f"{label}{op}{quote(value)}" for label, op, value in self.matchers)
        return f"{self.name}{{{inner}}}" if inner else self.name

    def plus(self, *matchers: Matcher) -> Selector:
        return Selector(self.name, tuple(matchers) + self.matchers)


@dataclass(frozen=True)
class SLI:
    """Events: sum of the `total` counters; bad ones are `errors`, or total minus `good`."""
    total: tuple[Selector, ...] = ()
    errors: Selector | None = None
    good: Selector | None = None
    timestamp: Selector | None = None   # freshness: last success (unix seconds)
    # A series the server exposes from its start: tells "the SLI's series are gone" from "no
    # request yet" where the total counter only appears with the first request.
    present: Selector | None = None
    max_age: float = 0.0                # freshness: seconds

    def total_expr(self) -> str:
        if self.timestamp:
            return f"max({self.timestamp}) * 0 + 1"
        first, *rest = (_sum_rate(s) for s in self.total)
        return " + ".join([first] + [f"({r} or vector(0))" for r in rest])

    def bad_expr(self) -> str:
        if self.timestamp:
            return f"avg_over_time((time() - max({self.timestamp}) > bool {self.max_age:g})[5m:1m])"
        total = self.total_expr()
        total = f"({total})" if len(self.total) > 1 else total
        if self.errors:
            # A server that never failed has no error series yet: 0, not an empty result.
            return f"{_sum_rate(self.errors)} or {total} * 0"
        assert self.good is not None  # a request SLI counts errors or good events (slo_defs sets one)
        return f"{total} - ({_sum_rate(self.good)} or vector(0))"

    @property
    def required(self) -> Selector:
        """The series without which the SLO cannot be measured (latency: the threshold's bucket)."""
        if self.timestamp:
            return self.timestamp
        if self.present is not None:
            return self.present
        if self.good is not None and any(m[0] == "le" for m in self.good.matchers):
            return self.good
        return self.total[0]


@dataclass(frozen=True)
class SLODef:
    slo: str                 # the `slo` label
    service: str             # the `service` label: model, pipeline or service name
    kind: str                # availability | latency | freshness | service
    objective: Decimal       # e.g. 0.999
    period: str              # e.g. 30d
    labels: dict             # slo, service, model|pipeline, the entry's own labels
    sli: SLI
    path: tuple              # spec path, for warnings

    @property
    def budget(self) -> Decimal:
        return 1 - self.objective

    @property
    def guarded(self) -> bool:
        """Request-based SLIs get the low-traffic guard; freshness counts time, not requests."""
        return self.sli.timestamp is None


def _sum_rate(sel: Selector) -> str:
    return f"sum(rate({sel}[5m]))"


def _labels(sel: Selector) -> set[str]:
    return {m[0] for m in sel.matchers}


class _Availability(BaseModel):
    model_config = ConfigDict(extra="forbid")
    total: list[str] = Field(min_length=1)
    errors: str | None = None
    good: str | None = None
    present: str | None = None


class _SliFile(BaseModel):  # rules/slo_sli.yaml, checked by the one loader (errors at file:line)
    model_config = ConfigDict(extra="forbid")
    availability: dict[str, _Availability]
    latency: dict[str, dict[str, str]]
    fixed_buckets: list[str] = []
    freshness: str


@cache
def _data() -> dict:
    return load(data_dir("rules") / "slo_sli.yaml", _SliFile, "rules/slo_sli.yaml")[1]


def availability_sli(server: str) -> dict | None:
    """A server kind's availability events (errors/good, total, present), None when it has none."""
    return _data()["availability"].get(server)


def latency_histograms(server: str) -> dict[str, str]:
    """`slo.latency.metric` -> histogram for a server kind; the first is the default."""
    return dict(_data()["latency"].get(server) or {})


def latency_histogram(server: str, metric: str | None = None) -> str | None:
    """The histogram a latency SLO reads (None: the server has none, or not that one)."""
    found = latency_histograms(server)
    if not found:
        return None
    return found.get(metric) if metric else next(iter(found.values()))


def fixed_buckets(server: str) -> bool:
    """The server, not the user, chooses the buckets (so a threshold may fall between them)."""
    return server in _data().get("fixed_buckets", ())


def latency_bound(server: str, metric: str | None, seconds: float) -> float | None:
    """The bucket bound that measures `seconds`: the bucket itself, or for fixed buckets the
    largest bound at or below it; None when there is none."""

    hist = latency_histogram(server, metric)
    assert hist is not None  # both callers check the server has that histogram first
    buckets = histogram_buckets(hist)
    exact = [b for b in buckets if abs(b - seconds) <= 1e-9 * max(1.0, b)]
    if exact:
        return exact[0]
    below = [b for b in buckets if b <= seconds]
    return below[-1] if below and fixed_buckets(server) else None


def parse_selector(text: str) -> Selector | None:
    """`name{a="b", c=~"d"}` -> Selector; None for anything more complex."""
    sel = simple_selector(text)
    return None if sel is None or sel.name is None else Selector(sel.name, sel.matchers)


def _plain(text: str) -> Selector:
    """A selector known to be plain: rules/slo_sli.yaml's, or a spec's that spec.slo checked."""
    sel = parse_selector(text)
    assert sel is not None, text
    return sel


def le_regex(seconds: float) -> str:
    """The `le` value as Go ("1"), Python ("1.0") or Rust clients write it, as an anchored regex."""
    seconds = float(seconds)   # duration_seconds("1s") is the int 1; Python clients write "1.0"
    forms = [repr(seconds), f"{seconds:f}".rstrip("0").rstrip(".")]
    if forms[0].endswith(".0"):
        forms.insert(0, forms[0][:-2])
    seen = list(dict.fromkeys(forms))
    return "|".join(re2_escape(f) for f in seen)


def _objective(percent: float) -> Decimal:
    return Decimal(repr(percent)) / 100


def slo_defs(spec) -> list[SLODef]:
    """Every SLO of the spec, in spec order: models (availability, latency), pipelines, services."""
    data, out = _data(), []
    for i, m in enumerate(spec.models):
        if not m.slo:
            continue
        base: tuple[Matcher, ...] = (("job", "=", JOB_MODEL[m.server]), ("model", "=", m.name))
        if m.slo.triton_model:   # Triton's own `model` label, renamed on scrape (it clashes with ours)
            base += (("exported_model", "=", m.slo.triton_model),)
        labels = {"service": m.name, "model": m.name, **m.labels}
        entry = availability_sli(m.server)
        if m.slo.availability is not None and entry:   # spec.slo.slo_problems reports a server without one
            sli = SLI(total=tuple(_plain(t).plus(*base) for t in entry["total"]),
                      errors=_plain(entry["errors"]).plus(*base) if "errors" in entry else None,
                      good=_plain(entry["good"]).plus(*base) if "good" in entry else None,
                      present=_plain(entry["present"]).plus(*base) if "present" in entry else None)
            out.append(_def(f"{m.name}-availability", "availability", m.slo.availability, m.slo.window,
                            labels, sli, ("models", i, "slo", "availability")))
        hist = latency_histogram(m.server, m.slo.latency.metric) if m.slo.latency is not None else None
        bound = latency_bound(m.server, m.slo.latency.metric, duration_seconds(m.slo.latency.threshold)) \
            if hist else None
        if hist and bound is not None:   # spec.slo.slo_problems reports the other cases
            le = ("le", "=~", le_regex(bound))
            sli = SLI(total=(Selector(f"{hist}_count").plus(*base),),
                      good=Selector(f"{hist}_bucket").plus(*base, le))
            out.append(_def(f"{m.name}-latency", "latency", m.slo.latency.objective, m.slo.window,
                            labels, sli, ("models", i, "slo", "latency")))
    for i, p in enumerate(spec.pipelines):
        if p.slo:
            ts = Selector(data["freshness"], (("job", "=", JOB_PIPELINE), ("pipeline", "=", p.name)))
            sli = SLI(timestamp=ts, max_age=duration_seconds(p.freshness))
            out.append(_def(f"{p.name}-freshness", "freshness", p.slo.freshness, p.slo.window,
                            {"service": p.name, "pipeline": p.name, **p.labels}, sli,
                            ("pipelines", i, "slo", "freshness")))
    for i, s in enumerate(spec.slos):
        # Both parse: spec.slo.slo_problems refuses anything but a plain selector.
        sli = SLI(total=(_plain(s.total),), good=_plain(s.good))
        out.append(_def(s.name, "service", s.objective, s.window, {"service": s.name, **s.labels}, sli,
                        ("slos", i)))
    return out


def _def(slo, kind, percent, period, labels, sli, path) -> SLODef:
    return SLODef(slo, labels["service"], kind, _objective(percent), period, {"slo": slo, **labels}, sli, path)
