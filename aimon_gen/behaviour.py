"""Behaviour scenarios: how exporters really behave over time, as the oracle for the alerts.

The generated per-alert unit tests (compile/rules/unittests.py) come from each rule itself, so they
only prove a rule agrees with itself. A scenario is written from the exporter's documented
behaviour instead (its docs, its source, NVIDIA's XID catalog, the mixins) and states what an
on-call engineer expects in labels and severity, never in alert names:

    scenarios:
      - name: XID 43 (application fault) stays quiet
        why: XID 43 is a GPU exception raised by the user's program; the GPU is healthy.
        source: NVIDIA XID catalog (docs.nvidia.com/deploy/xid-errors)
        subject: {exporter: dcgm_exporter, where: {workload: training}}
        series:
          - {metric: DCGM_EXP_XID_ERRORS_COUNT, labels: {gpu: "0", xid: "43"}, values: "0x10 1x5 0x30"}
        expect:
          - {at: 12m, quiet: true}                  # no critical/warning alert of the subject
          - {at: 12m, fires: warning, labels: {gpu: "0"}}   # some warning with these labels

- `subject` picks the spec entry the scenario is about: the first entry served by `exporter`
  whose fields match `where` (e.g. `workload: training`, `server: vllm`, `slo: true` for "has an
  SLO"). A spec without such an entry skips the scenario. For `prometheus` and
  `alertmanager` (no spec entry), `where` asks about the spec's `prometheus` section
  (`remote_write: true`, `alertmanagers: true`).
- Each series gets the labels a real target of that entry carries after the scrape (job,
  instance, host, node_group, model, owner labels ...); `exporter:` takes them from another job
  of the same entry (node_exporter beside dcgm_exporter), `target: N` from its N-th host.
  `up` is 1 for every target a scenario feeds, unless the scenario gives `up` itself.
- An expectation matches the alerts that carry the subject's entry label (`node_group`,
  `model`, `pipeline`, `storage`; `job` for Prometheus and Alertmanager themselves), or the
  labels in `match:`. `fires: S` wants at least one such alert of severity S (with `labels:`
  among its labels); `quiet: true` wants none of severity critical or warning, `quiet:
  [critical]` none that pages.

promtool is the evaluator: one test group per scenario lists every generated alert with
`exp_alerts: []` at each checked time; what promtool reports as unexpectedly firing is what
fired. Everything else (which alert, which labels) is compared here.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import kinds, scheme
from .build import generate
from .promql import quote, selectors
from .spec.types import duration_seconds, split_target

SEVERITIES = ("critical", "warning", "info", "none")
ENTRY_LABEL = kinds.SCOPE_LABEL


class ScenarioError(Exception):
    """A scenario file that cannot be read, or a scenario that cannot run on a spec."""


@dataclass(frozen=True)
class Expectation:
    at: str
    fires: str | None            # a severity, or None for a quiet check
    labels: dict
    quiet: tuple = ()            # severities that must not fire
    match: dict | None = None    # overrides the subject's entry label


@dataclass
class Scenario:
    name: str
    why: str
    source: str
    file: str
    subject: dict
    series: list
    expect: list[Expectation]
    evaluation_interval: str = "1m"


@dataclass
class Outcome:
    scenario: Scenario
    entry: str                   # the spec entry it ran on
    failures: list[str] = field(default_factory=list)
    fired: dict = field(default_factory=dict)   # time (s) -> [labels of each firing alert]
    checked: list = field(default_factory=list)  # (expectation, alerts it matched)
    # time (s) -> firing alerts that may be about the subject: its labels, or no such label at all
    about: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures


# ---------------------------------------------------------------------------- loading

_SCENARIO_KEYS = {"name", "why", "source", "subject", "series", "expect", "evaluation_interval"}
_SERIES_KEYS = {"metric", "labels", "values", "exporter", "target"}
_EXPECT_KEYS = {"at", "fires", "quiet", "labels", "match"}


def load_file(path: Path) -> list[Scenario]:
    shown = str(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioError(f"{shown}: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("scenarios"), list):
        raise ScenarioError(f"{shown}: a scenario file is a mapping with a `scenarios:` list")
    return [_scenario(shown, i, raw) for i, raw in enumerate(doc["scenarios"])]


def load_folder(folder: Path) -> list[Scenario]:
    return [s for path in sorted(folder.glob("*.yaml")) for s in load_file(path)]


def _scenario(shown: str, i: int, raw) -> Scenario:
    where = f"{shown}: scenario {i}"
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where}: must be a mapping")
    where = f"{shown}: scenario {raw.get('name', i)!r}"
    _keys(where, raw, _SCENARIO_KEYS, ("name", "why", "source", "subject", "series", "expect"))
    if not str(raw["why"]).strip() or not str(raw["source"]).strip():
        raise ScenarioError(f"{where}: `why` and `source` say what real behaviour it is based on")
    subject = raw["subject"]
    if not isinstance(subject, dict) or "exporter" not in subject:
        raise ScenarioError(f"{where}: subject needs `exporter` (and optionally `where`)")
    for s in raw["series"]:
        _keys(where + " series", s, _SERIES_KEYS, ("metric", "values"))
    expect = []
    for e in raw["expect"]:
        _keys(where + " expect", e, _EXPECT_KEYS, ("at",))
        if ("fires" in e) == ("quiet" in e):
            raise ScenarioError(f"{where}: each expectation says either `fires: <severity>` or `quiet: ...`")
        fires = e.get("fires")
        if fires is not None and fires not in SEVERITIES:
            raise ScenarioError(f"{where}: fires: {fires!r} is not one of {', '.join(SEVERITIES)}")
        quiet = e.get("quiet")
        quiet = ("critical", "warning") if quiet is True else tuple(quiet or ())
        if fires is None and not quiet:
            raise ScenarioError(f"{where}: quiet: true or a list of severities")
        duration_seconds(str(e["at"]))
        expect.append(Expectation(str(e["at"]), fires, {str(k): str(v) for k, v in (e.get("labels") or {}).items()},
                                  quiet, e.get("match")))
    return Scenario(str(raw["name"]), str(raw["why"]), str(raw["source"]), shown, subject, list(raw["series"]),
                    expect, str(raw.get("evaluation_interval", "1m")))


def _keys(where: str, node, allowed: set, required: tuple) -> None:
    if not isinstance(node, dict):
        raise ScenarioError(f"{where}: must be a mapping")
    unknown = sorted(set(node) - allowed)
    missing = [k for k in required if k not in node]
    if unknown or missing:
        raise ScenarioError(f"{where}: unknown keys {unknown} / missing keys {missing}")


# ---------------------------------------------------------------------------- subjects

def _section(exporter: str) -> str:
    """The spec list an exporter kind serves (kinds.yaml), or none."""
    return kinds.kind(exporter).scope if exporter in kinds.KINDS else "none"


def _matches(entry, where: dict) -> bool:
    for key, want in where.items():
        have = getattr(entry, key, None)
        if isinstance(want, bool):
            have = bool(have)
        elif have is not None and not isinstance(have, (str, int, float)):
            have = getattr(have, "name", have)
        if have != want:
            return False
    return True


def find_subject(spec, subject: dict):
    """The first spec entry the subject describes, or None (the scenario does not apply)."""
    exporter, where = subject["exporter"], subject.get("where") or {}
    section = _section(exporter)
    if section == "none":
        # Prometheus/Alertmanager: `where` asks about spec.prometheus (e.g. remote_write: true).
        return _SelfMonitored(exporter) if _matches(spec.prometheus, where) else None
    for entry in getattr(spec, section):
        if section == "node_groups" and kinds.kind(exporter).gpu and not entry.gpu:
            continue
        if section == "models" and entry.server != exporter:
            continue
        if section == "storage" and entry.kind != exporter:
            continue
        if _matches(entry, where):
            return entry
    return None


@dataclass(frozen=True)
class _SelfMonitored:
    """Prometheus or Alertmanager themselves: no spec entry, matched by job."""
    exporter: str

    @property
    def name(self) -> str:
        return self.exporter


def _job_name(exporter: str) -> str:
    return kinds.job(exporter) if exporter in kinds.KINDS else exporter


def target_labels(spec, exporter: str, entry, index: int = 0) -> dict[str, str]:
    """Labels of the `index`-th target of `entry` in `exporter`'s job, as Prometheus stores them."""
    job_name = _job_name(exporter)
    if isinstance(entry, _SelfMonitored):
        return {"job": job_name, "instance": f"localhost:{_SELF_PORTS.get(exporter, 9090)}"}
    label = ENTRY_LABEL[_section(exporter)]
    for job in scheme.jobs(spec):
        if job.name != job_name:
            continue
        for group in job.groups:
            labels = dict(group.labels)
            if labels.get(label) != entry.name:
                continue
            if not group.targets:
                return {**labels, "job": job_name, **scheme.discovered_target_labels(group)}
            if index >= len(group.targets):
                raise ScenarioError(f"{entry.name} has {len(group.targets)} target(s); the scenario uses target "
                                    f"{index}")
            target = group.targets[index]
            return {**labels, "job": job_name, "instance": scheme.instance_of(job, target),
                    "host": split_target(target)[0]}
    raise ScenarioError(f"no {exporter} target for {label}={entry.name}")


_SELF_PORTS = {"prometheus": 9090, "alertmanager": 9093}


def subject_match(exporter: str, entry) -> dict[str, str]:
    if isinstance(entry, _SelfMonitored):
        return {"job": _job_name(exporter)}
    return {ENTRY_LABEL[_section(exporter)]: entry.name}


# ---------------------------------------------------------------------------- running

def series_text(metric: str, labels: dict) -> str:
    inner = ", ".join(f"{k}={quote(str(v))}" for k, v in sorted(labels.items()))
    return f"{metric}{{{inner}}}"


def _input_series(spec, scenario: Scenario, entry) -> list[dict]:
    exporter = scenario.subject["exporter"]
    out, targets, with_up = [], {}, set()
    for s in scenario.series:
        kind = s.get("exporter", exporter)
        base = target_labels(spec, kind, entry, int(s.get("target", 0)))
        targets[(kind, int(s.get("target", 0)))] = base
        if s["metric"] == "up":
            with_up.add((kind, int(s.get("target", 0))))
        labels = {**base, **{str(k): str(v) for k, v in (s.get("labels") or {}).items()}}
        out.append({"series": series_text(str(s["metric"]), labels), "values": str(s["values"])})
    steps = max(duration_seconds(e.at) for e in scenario.expect) // 60 + 10
    for key, base in sorted(targets.items()):
        if key not in with_up:
            out.append({"series": series_text("up", base), "values": f"1x{int(steps)}"})
    return out


def run(spec_path: Path, scenarios: list[Scenario], promtool: str = "promtool") -> list[Outcome]:
    """Build the spec, run every scenario that applies to it through promtool, judge each."""

    files, bundle, loaded = generate(spec_path)
    spec = loaded.spec
    names = sorted(bundle.alert_names())  # as compiled, not re-read
    rule_files = sorted(p for p in files if p.endswith(".rules.yml") and "/" not in p)
    runs: list[tuple[Scenario, object]] = []
    for sc in scenarios:
        entry = find_subject(spec, sc.subject)
        if entry is not None:
            runs.append((sc, entry))
    if not runs:
        return []
    with tempfile.TemporaryDirectory(prefix="aimon-gen-scenarios-") as tmp:
        folder = Path(tmp)
        for p in rule_files:
            (folder / p).write_bytes(files[p])
        fired = _evaluate(folder, spec, runs, names, rule_files, promtool)
    outcomes = []
    for i, (sc, entry) in enumerate(runs):
        outcomes.append(judge(sc, sc.subject["exporter"], entry, fired.get(i, {})))
    return outcomes


def _evaluate(folder: Path, spec, runs, names: list[str], rule_files: list[str], promtool: str) -> dict:
    by_interval: dict[str, list] = {}
    for i, (sc, entry) in enumerate(runs):
        times = sorted({duration_seconds(e.at) for e in sc.expect})
        checks = [{"eval_time": _fmt(t), "alertname": n, "exp_alerts": []} for t in times for n in names]
        group = {"name": f"s{i}", "interval": "1m", "input_series": _input_series(spec, sc, entry),
                 "alert_rule_test": checks}
        cost = times[-1] / duration_seconds(sc.evaluation_interval)  # evaluation steps promtool runs
        by_interval.setdefault(sc.evaluation_interval, []).append((cost, group))
    # promtool is single-threaded: the scenarios are shared out over one process per core,
    # longest first onto the least loaded file.
    files: list[tuple[str, list, float]] = []
    workers = max(1, os.cpu_count() or 1)
    for interval, groups in sorted(by_interval.items()):
        chunks: list[tuple[float, list]] = [(0.0, []) for _ in range(min(workers, len(groups)))]
        for cost, group in sorted(groups, key=lambda g: -g[0]):
            load, members = min(chunks, key=lambda c: c[0])
            chunks[chunks.index((load, members))] = (load + cost, members + [group])
        files += [(interval, members, load) for load, members in chunks]
    procs = []
    for n, (interval, groups, _) in enumerate(files):
        path = folder / f"scenarios-{n}.test.yml"
        doc = {"rule_files": rule_files, "evaluation_interval": interval, "tests": groups}
        path.write_text(yaml.safe_dump(doc, sort_keys=False, width=1 << 20), encoding="utf-8")
        procs.append(subprocess.Popen([promtool, "test", "rules", path.name], cwd=folder, text=True,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
    fired: dict[int, dict] = {}
    for proc in procs:
        text, _ = proc.communicate()
        found = parse_promtool(text)
        broken = [line for line in text.splitlines() if _tool_error(line) and _labels(line) is None
                  and "Annotations:{" not in line]
        if broken or (proc.returncode != 0 and not found):
            raise ScenarioError("promtool could not run the scenarios:\n" + "\n".join(broken or [text[-3000:]]))
        for (name, seconds), alerts in found.items():
            fired.setdefault(int(name[1:]), {}).setdefault(seconds, []).extend(alerts)
    return fired


# promtool's own failures (a series it cannot parse, a rule file it cannot load), as opposed
# to the alerts it reports as firing.
_TOOL_ERRORS = ("parse error", "could not", "error loading", "unmarshal", "bad ", "invalid ")


def _tool_error(line: str) -> bool:
    low = line.lower()
    return any(words in low for words in _TOOL_ERRORS)


def _fmt(seconds: float) -> str:
    return f"{int(seconds)}s"


def _field(line: str, key: str) -> str | None:
    """The value of one of promtool's `key: value,` lines."""
    text = line.strip()
    return text[len(key) + 2:-1] if text.startswith(key + ": ") and text.endswith(",") else None


def _labels(line: str) -> str | None:
    """`{a="b", ...}` of a `Labels:{...}` line."""
    text = line.strip()
    return text[len("Labels:"):] if text.startswith("Labels:{") and text.endswith("}") else None


def parse_promtool(text: str) -> dict[tuple[str, float], list[dict]]:
    """(test group, eval time in s) -> labels of each alert promtool reports as firing."""
    out: dict[tuple[str, float], list[dict]] = {}
    group, at = None, None
    for line in text.splitlines():
        name, alert, labels = _field(line, "name"), _field(line, "alertname"), _labels(line)
        if name and name[0] == "s" and name[1:].isdigit():   # our test groups are s<N>
            group = name
        elif alert and ", time: " in alert:
            at = float(duration_seconds(alert.rsplit(", time: ", 1)[1]))  # Go durations: 1h30m0s
            if group is not None:  # an alert line always follows its group's name line
                out.setdefault((group, at), [])
        elif labels is not None and group is not None and at is not None:
            # A label set prints as a selector of equality matchers: the PromQL parser reads it.
            out[(group, at)].append(next((s.equal() for s in selectors(labels)), {}))
    return out


def judge(sc: Scenario, exporter: str, entry, fired: dict) -> Outcome:
    outcome = Outcome(sc, entry.name, fired=fired)
    default_match = subject_match(exporter, entry)
    for e in sc.expect:
        at = duration_seconds(e.at)
        match = {str(k): str(v) for k, v in e.match.items()} if e.match is not None else default_match
        mine = [a for a in fired.get(at, []) if all(a.get(k) == v for k, v in match.items())]
        outcome.about[at] = [a for a in fired.get(at, []) if all(a.get(k, v) == v for k, v in match.items())]
        if e.fires is not None:
            hits = [a for a in mine if a.get("severity") == e.fires
                    and all(a.get(k) == v for k, v in e.labels.items())]
            outcome.checked.append((e, hits))
            if not hits:
                outcome.failures.append(f"at {e.at}: expected a {e.fires} alert with {_show({**match, **e.labels})}; "
                                        f"firing: {_brief(mine) or 'none'}")
        else:
            bad = [a for a in mine if a.get("severity") in e.quiet
                   and all(a.get(k) == v for k, v in e.labels.items())]
            outcome.checked.append((e, bad))
            if bad:
                outcome.failures.append(f"at {e.at}: expected no {'/'.join(e.quiet)} alert with {_show(match)}; "
                                        f"firing: {_brief(bad)}")
    return outcome


def _show(labels: dict) -> str:
    return "{" + ", ".join(f"{k}={v!r}" for k, v in labels.items()) + "}"


def _brief(alerts: list[dict]) -> str:
    return ", ".join(f"{a.get('alertname')}[{a.get('severity')}]" for a in alerts)


def report(outcomes: list[Outcome]) -> str:
    lines = []
    for o in outcomes:
        mark = "ok  " if o.ok else "FAIL"
        lines.append(f"{mark} {o.scenario.file}: {o.scenario.name} (on {o.entry})")
        lines += [f"       {f}" for f in o.failures]
    return "\n".join(lines)
