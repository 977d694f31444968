"""Metric catalogs: what each exporter really emits, as data (one YAML file per exporter).

Files: `aimon_gen/catalog/<kind>.yaml`, one per exporter kind of the registry
(aimon_gen/kinds.yaml): e.g. custom is the ml_inference_* contract, pipeline the
data_pipeline_* contract, s3 MinIO v2, prometheus its self-metrics plus the per-target
`up`/`scrape_*` series, alertmanager its own (scraped when prometheus.alertmanagers is set). Each file:

    exporter: <kind>          # the key in spec.exporters (prometheus: Prometheus itself)
    job: <job name>           # scheme.py's job for it
    defaults: {labels: [...], source: {repo, file}}   # inherited by every metric
    metrics:
      <name as exposed>: {type, labels, unit, help, source, buckets?, default?, enable?, ...}

Names are the series names as exposed: counters keep the suffix the exporter really uses
(vLLM `_total`, Triton and TGI none); histograms are listed by their base name with their
declared `buckets` (a list, or `{geometric: {start, factor, count}}` computed by repeated
multiplication, as TGI does). dcgm_exporter metrics say `default: true|false` (on in
dcgm-exporter's default-counters.csv or not), `on_event: true` for series that exist only once
the event happened (`aimon-gen audit` does not miss them), `enable: true` for the off-by-default fields
aimon-gen's generated dcgm-counters.csv turns on, and `field` (the DCGM field name, the
metric name unless given).

Stable interface (imported by compile/rules/groups.py, the dashboards and the verify simulators):

- `exporter_metrics(kind) -> dict[name, MetricInfo]`: one exporter's catalog.
- `metric_info(name) -> MetricInfo | None`: look a metric up in any catalog (base names,
  and `_bucket`/`_sum`/`_count` series of histograms and summaries).
- `histogram_buckets(metric) -> list[float]`: the declared `le` bounds (without +Inf).
- `exporters_in_use(spec) -> list[kind]`: the exporter kinds the spec scrapes.
- `emitted_metrics(spec) -> set[str]`: every series name the configured exporters emit
  (histograms expanded to _bucket/_sum/_count), dcgm fields that are on by default or
  enabled by aimon-gen's counters CSV, Prometheus's own metrics (and Alertmanager's when
  the spec sends alerts to one).
- `dcgm_counters_csv(fields) -> str`: a dcgm-exporter counters CSV enabling the given
  fields on top of the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .. import kinds
from ..resources import read_yaml

_HERE = Path(__file__).resolve().parent

# One catalog per exporter kind of the registry (aimon_gen/kinds.yaml).
KINDS = kinds.KINDS
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")
_KEYS = {"type", "labels", "unit", "help", "source", "buckets", "default", "enable", "field", "synthetic", "on_event"}


@dataclass(frozen=True)
class MetricInfo:
    name: str
    exporter: str
    type: str
    labels: tuple[str, ...]
    unit: str
    help: str
    source: str                 # "repo: file"
    buckets: tuple[float, ...] = ()
    default: bool = True        # dcgm: on in default-counters.csv
    enable: bool = False        # dcgm: turned on by aimon-gen's counters CSV
    field: str = ""             # dcgm: DCGM field name
    synthetic: bool = False     # made by Prometheus for every target (up, scrape_*)
    on_event: bool = False      # series appear only once the event happened (an XID): absence is normal
    series: tuple[str, ...] = ()

    @property
    def emitted(self) -> bool:
        """Emitted with aimon-gen's configuration (dcgm: by default or via its CSV)."""
        return self.default or self.enable


def _buckets(name: str, spec) -> tuple[float, ...]:
    if spec is None:
        return ()
    if isinstance(spec, dict):
        g = spec["geometric"]
        value, out = float(g["start"]), []
        for _ in range(int(g["count"])):
            value *= float(g["factor"])
            out.append(value)
        return tuple(out)
    values = tuple(float(v) for v in spec)
    if list(values) != sorted(set(values)):
        raise ValueError(f"catalog: {name} buckets must be increasing")
    return values


def _series(name: str, mtype: str) -> tuple[str, ...]:
    if mtype == "histogram":
        return (f"{name}_bucket", f"{name}_sum", f"{name}_count")
    if mtype == "summary":
        return (name, f"{name}_sum", f"{name}_count")
    return (name,)


@cache
def exporter_metrics(kind: str) -> dict[str, MetricInfo]:
    """name -> MetricInfo for one exporter kind (see KINDS)."""

    if kind not in KINDS:
        raise KeyError(f"no metric catalog for exporter '{kind}' (known: {', '.join(KINDS)})")
    doc = read_yaml(_HERE / f"{kind}.yaml")
    defaults = doc.get("defaults") or {}
    out: dict[str, MetricInfo] = {}
    for name, entry in doc["metrics"].items():
        unknown = set(entry) - _KEYS
        if unknown or entry.get("type") not in TYPES:
            raise ValueError(f"catalog {kind}.yaml: metric {name}: bad keys {sorted(unknown)} or type")
        src = entry.get("source") or defaults.get("source") or {}
        out[name] = MetricInfo(
            name=name, exporter=kind, type=entry["type"],
            labels=tuple(entry.get("labels", defaults.get("labels", []))),
            unit=str(entry.get("unit", "")), help=str(entry.get("help", "")),
            source=f"{src.get('repo', '')}: {src.get('file', '')}",
            buckets=_buckets(name, entry.get("buckets")),
            default=bool(entry.get("default", True)), enable=bool(entry.get("enable", False)),
            field=str(entry.get("field", name)), synthetic=bool(entry.get("synthetic", False)),
            on_event=bool(entry.get("on_event", False)),
            series=_series(name, entry["type"]))
    return out


@cache
def _by_series() -> dict[str, MetricInfo]:
    index: dict[str, MetricInfo] = {}
    for kind in KINDS:
        for info in exporter_metrics(kind).values():
            index.setdefault(info.name, info)
            for s in info.series:
                index.setdefault(s, info)
    return index


def metric_info(name: str) -> MetricInfo | None:
    """The catalog entry of a metric or of one of its series (`x_bucket` -> histogram `x`)."""
    return _by_series().get(name)


def histogram_buckets(metric: str) -> list[float]:
    """Declared `le` upper bounds of a histogram (base name or `_bucket` name), without +Inf."""
    info = metric_info(metric)
    if info is None or info.type != "histogram":
        raise KeyError(f"'{metric}' is not a histogram in any metric catalog")
    return list(info.buckets)


def exporters_in_use(spec) -> list[str]:
    """Exporter kinds the spec scrapes, in catalog order (prometheus always)."""
    used = set()
    if spec.node_groups:
        used.add("node_exporter")
    if any(g.gpu for g in spec.node_groups):
        used.add("dcgm_exporter")
    used.update(m.server for m in spec.models)
    if spec.pipelines:
        used.add("pipeline")
    used.update(s.kind for s in spec.storage)
    used.add("prometheus")
    if spec.prometheus.alertmanagers:
        used.add("alertmanager")  # scraped at the addresses Prometheus sends alerts to
    return [k for k in KINDS if k in used]


def emitted_metrics(spec) -> set[str]:
    """Series names the spec's exporters emit (histograms as _bucket/_sum/_count)."""
    names: set[str] = set()
    for kind in exporters_in_use(spec):
        for info in exporter_metrics(kind).values():
            if info.emitted:
                names.update(info.series)
    return names


def dcgm_counters_csv(fields) -> str:
    """A counters CSV (dcgm-exporter `-f`) with the default fields plus `fields`."""
    wanted = set(fields)
    lines = ["# DCGM FIELD, Prometheus metric type, help message",
             "# dcgm-exporter's default fields plus the ones aimon-gen's rules read."]
    for info in exporter_metrics("dcgm_exporter").values():
        if info.synthetic or not (info.default or info.name in wanted):
            continue
        lines.append(f"{info.field}, {info.type}, {info.help.replace(',', ';')}")
    return "\n".join(lines) + "\n"
