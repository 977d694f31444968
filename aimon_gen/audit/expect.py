"""What a Prometheus running the spec's output should hold, from the compiled Bundle (never
from generated text): the jobs and the labels their series carry, the metrics each job must
serve (read by the generated rules and dashboard queries) with the contract labels read from
them, the rule groups, and `aimon-gen plan`'s series estimate per job."""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import kinds, promql
from ..catalog import metric_info
from ..compile.result import Bundle, RuleGroup
from ..plan import estimate
from ..render import documents, rule_path
from ..verify.dashboards import BUILTINS, queries, substitute

# Series Prometheus makes itself: they exist only while something fires.
_MADE_BY_PROMETHEUS = frozenset({"ALERTS", "ALERTS_FOR_STATE"})


@dataclass
class Need:
    """One metric a job must serve: who reads it, and the contract labels they read from it."""
    job: str
    metric: str
    readers: list[str] = field(default_factory=list)   # "alert GPUTemperatureHigh", "dashboard gpu.json: ..."
    labels: set[str] = field(default_factory=set)
    fix: str = ""                                      # how to get it served, from its catalog entry


@dataclass
class Expected:
    jobs: list[str]                                # job label values, in prometheus.yml's order
    target_labels: dict[str, tuple[str, ...]]      # job -> labels every series of it carries
    needs: dict[tuple[str, str], Need]             # (job, metric) -> Need
    groups: list[tuple[str, RuleGroup]]            # (rule file, group), as Prometheus lists them
    series: dict[str, int]                         # job -> plan's series estimate
    kind_of_job: dict[str, str] = field(default_factory=dict)
    made_by_rules: frozenset[str] = frozenset()    # series names the rules write (they keep `job`)


def expected(bundle: Bundle, spec, assumptions: dict | None = None) -> Expected:
    """What to look for; `assumptions` as `aimon-gen plan --assume` takes them."""
    jobs, target_labels = scrape_jobs((bundle.prometheus or {}).get("scrape_configs") or [])
    exp = Expected(jobs, target_labels, {}, [], {j.job: j.series for j in estimate(spec, assumptions).jobs})
    exp.kind_of_job = {j.name: j.exporter for j in bundle.scrape_jobs}
    recorded = set(bundle.recorded_names())
    exp.made_by_rules = frozenset(recorded | _MADE_BY_PROMETHEUS)
    for stem in sorted(bundle.rule_files):
        for group in bundle.rule_files[stem].groups:
            exp.groups.append((rule_path(stem), group))
            for rule in group.rules:
                reader = f"alert {rule['alert']}" if "alert" in rule else f"recording rule {rule['record']}"
                _read(exp, str(rule["expr"]), reader, recorded)
    for path, title, doc, expr in queries(documents(bundle, readme=False)):
        _read(exp, substitute(expr, _variables(doc)), f"dashboard {path.removeprefix('dashboards/')}: {title}",
              recorded)
    return exp


def scrape_jobs(scrape_configs: list[dict]) -> tuple[list[str], dict[str, tuple[str, ...]]]:
    """(job label values, job -> labels every target of it gets) from prometheus.yml's data:
    static labels common to all its target groups, and the labels its relabelling sets."""
    order: list[str] = []
    labels: dict[str, set[str]] = {}
    for sc in scrape_configs:
        relabels = sc.get("relabel_configs") or []
        job = next((r.get("replacement") for r in relabels if r.get("target_label") == "job"), sc["job_name"])
        mine = {r["target_label"] for r in relabels if r.get("action", "replace") == "replace"
                and r.get("target_label") and not r["target_label"].startswith("__")} - {"job", "instance"}
        statics = [set(s.get("labels") or {}) for s in sc.get("static_configs") or []]
        if statics:
            mine |= set.intersection(*statics)
        if job not in labels:
            order.append(job)
            labels[job] = mine
        else:
            labels[job] &= mine
    return order, {job: tuple(sorted(labels[job])) for job in order}


def _variables(doc: dict) -> dict[str, str]:
    # Any value parses: audit reads metric names, job matchers and grouping labels, not values.
    names = [v.get("name") for v in (doc.get("templating") or {}).get("list") or [] if v.get("name")]
    return {**{n: ".*" for n in names}, **BUILTINS}


def _read(exp: Expected, expr: str, reader: str, recorded: set[str]) -> None:
    needed = promql.needed_labels(expr)
    for sel in promql.selectors(expr):
        name = sel.name
        if not name or name in recorded or name in _MADE_BY_PROMETHEUS:
            continue  # recording rules are judged as loaded rules, not as series
        info = metric_info(name)
        if info is not None and (not info.emitted or info.on_event):
            continue
        job = sel.equal().get("job")
        if job is None:
            if any(label == "job" for label, _, _ in sel.matchers) or info is None:
                continue  # a regex over jobs, or a metric of no known exporter: no one job to judge by
            job = kinds.job(info.exporter)
        if job not in exp.target_labels:
            continue
        need = exp.needs.setdefault((job, name), Need(job, name, fix=_fix(name, job, info)))
        if reader not in need.readers:
            need.readers.append(reader)
        if info is not None:
            # The expression's needs, narrowed to this metric's contract: a label its catalog lists.
            need.labels |= needed & (set(info.labels) - {"le"})


def _fix(name: str, job: str, info) -> str:
    if info is None:
        return f"make the {job} job's exporter serve {name}, or check it is the exporter and version the spec names"
    if info.enable:  # off in the exporter's defaults, on in the counters file aimon-gen generates
        return f"run dcgm-exporter with the generated counters file (-f dcgm-counters.csv): {name} is off by default"
    return (f"make the {info.exporter} exporter serve {name}: {info.help.strip()} "
            f"(aimon_gen/catalog/{info.exporter}.yaml names the source)")
