"""`aimon-gen verify SPEC`: build, start the stack, check, break things, report, stop."""

from __future__ import annotations

import time
from collections.abc import Callable, Set
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..build import build, generate
from ..catalog import exporter_metrics
from ..compile.result import Bundle
from ..promql import metric_names
from ..render import documents
from ..scheme import JOB_MODEL, JOB_PIPELINE
from ..spec.load import load_spec
from . import dashboards, rewrite, scenarios
from .api import Alertmanager, Prometheus
from .fleet import Fleet
from .report import Report
from .sink import Sink
from .stack import Stack, StackError, find_binary, wait_for
from .waves import WaveChecker, classify_rules


@dataclass
class Options:
    prometheus: str | None = None
    alertmanager: str | None = None
    node_exporter: str | None = None
    keep: bool = False
    timeout: float = 120.0      # longest wait for any one condition (a wave's alerts, targets up)
    log: Callable[[str], None] | None = None  # progress lines


def verify(spec_path: Path, opts: Options) -> Report:
    """Run everything; the Report says what passed. Raises MissingBinary before starting anything."""
    bins = {name: find_binary(name, getattr(opts, name)) for name in ("prometheus", "alertmanager", "node_exporter")}
    log = opts.log or (lambda _msg: None)
    t0 = time.monotonic()
    report = Report()
    with Stack() as stack:
        session = _start(stack, spec_path, bins, log)
        prom, am, sink, fleet, bundle, spec, am_cfg = session
        docs = documents(bundle)
        report.urls = {"prometheus": prom.url, "alertmanager": am.url, "webhook sink": sink.url}
        _check_targets(prom, report, opts.timeout, log, _jobs(bundle))
        kinds = classify_rules(docs)
        _warm_up(prom, opts.timeout, log)
        _check_rules(prom, report)
        _check_quiet(prom, kinds, report)
        log("checking dashboard queries")
        board = dashboards.evaluate(docs, prom)
        checker = WaveChecker(prom, am, sink, fleet, am_cfg, kinds, report, opts.timeout, log)
        plan = scenarios.plan(spec)
        waves = scenarios.waves(plan)
        for i, wave in enumerate(waves, 1):
            log(f"wave {i}/{len(waves)}: " + "; ".join(s.title for s in wave))
            checker.run(wave, before_clear=lambda: _recheck_empty(board, prom))
        if not waves:
            _recheck_empty(board, prom)
        _dashboard_rows(board, report, _unsimulated_series(bundle, docs))
        report.seconds = time.monotonic() - t0
        if opts.keep:
            _keep(report, log)
    return report


def _start(stack: Stack, spec_path: Path, bins: dict, log):
    log(f"building {spec_path} (checked by promtool and amtool)")
    spec = load_spec(spec_path).spec
    built = build(spec_path, stack.root / "build")
    # The typed result, not the written bytes; the build cache keeps bytes only: compile again on a hit.
    bundle = built.bundle if built.bundle is not None else generate(spec_path)[1]
    assert bundle.prometheus is not None  # the scrape step sets it in every compile
    docs = documents(bundle)
    run = stack.root / "run"
    run.mkdir()
    sink = Sink()
    stack.on_close(sink.close)
    log("starting node_exporter, Alertmanager, simulators, Prometheus on 127.0.0.1")
    node = stack.node_exporter(bins["node_exporter"])
    fleet = Fleet(spec, node.url)
    stack.on_close(fleet.close)
    am_cfg = rewrite.alertmanager(bundle.alertmanager, sink.url)
    _write_yaml(run / "alertmanager.yml", am_cfg)
    am = stack.alertmanager(bins["alertmanager"], run / "alertmanager.yml")
    fleet.alertmanager_url = am.url   # the `alertmanager` scrape job reads the real one
    prom_cfg = rewrite.prometheus(bundle.prometheus, lambda sc: rewrite.static_targets(sc, docs), fleet.place,
                                  am.url.removeprefix("http://"))
    for rel in prom_cfg.get("rule_files") or []:
        _write_yaml(run / rel, rewrite.rules(docs[rel]))
    _write_yaml(run / "prometheus.yml", prom_cfg)
    prom = stack.prometheus(bins["prometheus"], run / "prometheus.yml")
    fleet.set_prometheus(prom.url)
    return Prometheus(prom.url), Alertmanager(am.url), sink, fleet, bundle, spec, am_cfg


def _write_yaml(path: Path, doc) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def _check_targets(prom: Prometheus, report: Report, timeout: float, log, expected_jobs=()) -> None:
    log("waiting for every scrape target to be up")

    def all_up():
        ts = prom.targets()
        return ts if ts and all(t["health"] == "up" for t in ts) else None
    try:
        targets = wait_for(all_up, timeout, what="every target up")
    except TimeoutError:
        targets = prom.targets()
    jobs = {t["labels"].get("job") for t in targets}
    for job in sorted(set(expected_jobs) - jobs):
        report.add("target up", job, True, "no static or file targets (Kubernetes discovery): not simulated", info=True)
    for t in sorted(targets, key=lambda t: (t["labels"].get("job", ""), t["labels"].get("instance", ""))):
        labels = t["labels"]
        subject = f"{labels.get('job')} {labels.get('instance')}"
        report.add("target up", subject, t["health"] == "up", t.get("lastError") or _label_text(labels))


def _jobs(bundle: Bundle) -> list[str]:
    # A part of a job split by client settings reports under its job; discovered ones by name.
    return [sc["job_name"] if "kubernetes_sd_configs" in sc else rewrite.job_label(sc)
            for sc in (bundle.prometheus or {}).get("scrape_configs") or []]


def _unsimulated_series(bundle: Bundle, docs: dict) -> set[str]:
    """Series of jobs verify cannot simulate (Kubernetes discovery): their panels may stay empty."""
    kind_of = {**{job: kind for kind, job in JOB_MODEL.items()}, JOB_PIPELINE: "pipeline"}
    out: set[str] = set()
    for sc in (bundle.prometheus or {}).get("scrape_configs") or []:
        if rewrite.static_targets(sc, docs):
            continue
        job = rewrite.job_label(sc)
        if job in kind_of:
            out |= {s for info in exporter_metrics(kind_of[job]).values() for s in info.series}
    return out


def _label_text(labels: dict) -> str:
    keep = [k for k in ("host", "node_group", "model", "pipeline", "storage") if k in labels]
    return ", ".join(f"{k}={labels[k]}" for k in keep)


def _warm_up(prom: Prometheus, timeout: float, log) -> None:
    """Wait until the longest (compressed) window holds data, so rates are real."""
    need = rewrite.WINDOW_MAX + rewrite.FOR_MAX / 2
    log(f"collecting {need:.0f}s of data before the first check")
    expr = f"min(count_over_time(up[{rewrite.fmt(need)}]))"
    try:
        wait_for(lambda: (r := prom.query(expr)) and float(r[0]["value"][1]) >= need - 2, timeout + need,
                 interval=0.5, what="the first windows of data")
    except TimeoutError as exc:
        raise StackError(str(exc)) from None


def _check_rules(prom: Prometheus, report: Report) -> None:
    rules = prom.rules()
    bad = [r for r in rules if r.get("health") == "err"]
    for r in bad:
        report.add("rule evaluates", r["name"], False, r.get("lastError", ""))
    report.add("rule evaluates", f"{len(rules)} rules", not bad, f"{len(bad)} with evaluation errors" if bad else "")


def _check_quiet(prom: Prometheus, kinds: dict, report: Report) -> None:
    """Before any fault, nothing may fire or be pending (alerts on the real host's own metrics excepted;
    a heartbeat, severity none, fires always by design)."""
    noisy = 0
    for a in prom.alerts():
        name = a["labels"]["alertname"]
        if a["labels"].get("severity") == "none":
            report.add("quiet", name, a["state"] == "firing", f"{a['state']}: a heartbeat, always firing by design",
                       info=True)
            continue
        if kinds.get(name) == "host":
            report.add("quiet", name, True, f"{a['state']} on this machine's real metrics", info=True)
            continue
        noisy += 1
        report.add("quiet", name, False, f"{a['state']} without a fault: {_label_text(a['labels'])}")
    if not noisy:
        report.add("quiet", "no fault", True, "no alert firing or pending")


def _recheck_empty(board: list[dict], prom: Prometheus) -> None:
    # Queries over errors or firing alerts are empty on a healthy estate: ask again in each wave.
    for r in board:
        if not r["error"] and r["series"] == 0:
            result, error = prom.try_query(r["expr"])
            r["series"], r["error"] = len(result or []), error


def _dashboard_rows(board: list[dict], report: Report, unsimulated: Set[str] = frozenset()) -> None:
    notes: set[tuple[str, str]] = set()
    for r in board:
        ok = not r["error"] and r["series"] > 0
        detail = r["error"] or (f"{r['series']} series" if ok else f"no series: {r['expr']}")
        subject = f"{r['file'].removeprefix('dashboards/')}: {r['panel']}"
        if not ok and not r["error"] and unsimulated & metric_names(r["expr"]):
            report.add("dashboard query", subject, True, "no series: its job is discovered through "
                       "Kubernetes and not simulated", info=True)
            continue
        report.add("dashboard query", subject, ok, detail)
        notes.update((r["file"], n) for n in r["notes"])
    for file, note in sorted(notes):
        report.add("dashboard variable", file, True, note + " (queries used its match-all value)", info=True)


def _keep(report: Report, log) -> None:
    print(report.table(), flush=True)
    print("\nThe stack keeps running (faults cleared):")
    for name, url in report.urls.items():
        print(f"  {name}: {url}")
    print("Press Ctrl-C to stop it and remove its files.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        log("stopping")
