"""Generated dashboards against Grafana's dashboard model (tests/grafana_schema.py), and the
validator itself: each rule it holds must reject a dashboard that breaks it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from conftest import EXAMPLE  # noqa: E402
from grafana_schema import problems  # noqa: E402

from aimon_gen.build import generate  # noqa: E402
from aimon_gen.render import documents  # noqa: E402


@pytest.fixture(scope="module")
def example():
    _, bundle, _ = generate(EXAMPLE)
    return None, None, {p: d for p, d in documents(bundle).items() if p.startswith("dashboards/")}


def _panels(doc):
    return [p for p in doc["panels"] if p["type"] != "row"]


def test_every_dashboard_matches_grafanas_model(example):
    _, _, dashboards = example
    for path, doc in dashboards.items():
        assert problems(doc) == [], path


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d.update(rows=[]), "dashboard.rows: unknown key"),
    (lambda d: d.pop("templating"), "templating: required"),
    (lambda d: d.update(uid="x" * 41), "uid: at most 40"),
    (lambda d: _panels(d)[0]["gridPos"].update(w=25), ".gridPos.w: must be 1..24"),
    (lambda d: _panels(d)[0]["gridPos"].update(x=20, w=12), "must fit the 24-column grid"),
    (lambda d: _panels(d)[0].update(type="graph"), "Angular panel"),
    (lambda d: _panels(d)[0].update(type="fancy-panel"), "not a panel type Grafana ships"),
    (lambda d: _panels(d)[0]["targets"][0].pop("refId"), "every query needs a refId"),
    (lambda d: _panels(d)[0].update(datasource={"uid": "prometheus"}), "needs a non-empty type"),
    (lambda d: _panels(d)[0].update(legend={}), ".legend: unknown key"),
    (lambda d: _panels(d)[0]["fieldConfig"]["defaults"].update(thresholds={"mode": "absolute", "steps": [
        {"value": 5, "color": "red"}]}), "steps[0].value: the first step is the base"),
    (lambda d: _panels(d)[1].update(gridPos=dict(_panels(d)[0]["gridPos"])), "overlaps"),
])
def test_validator_rejects_what_grafana_rejects(example, mutate, expected):
    doc = json.loads(json.dumps(example[2]["dashboards/gpu.json"]))
    mutate(doc)
    assert any(expected in p for p in problems(doc)), problems(doc)
