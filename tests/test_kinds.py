"""The kinds registry (aimon_gen/kinds.yaml): every kind is wired through from the one entry."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest

from aimon_gen import catalog, kinds, scheme
from aimon_gen.catalog import exporter_metrics
from aimon_gen.compile.rules.packs import shipped_packs
from aimon_gen.resources import read_yaml
from aimon_gen.spec.model import Exporters, Model, Storage


@pytest.mark.parametrize("name", kinds.KINDS)
def test_each_kind_has_a_catalog_naming_the_same_job(name):
    doc = read_yaml(Path(catalog.__file__).parent / f"{name}.yaml")
    assert (doc["exporter"], doc["job"]) == (name, kinds.job(name))
    assert exporter_metrics(name)


def test_spec_model_follows_the_registry():
    servers, stores = kinds.of_scope("models"), kinds.of_scope("storage")
    assert typing.get_args(Model.model_fields["server"].annotation) == servers
    assert typing.get_args(Storage.model_fields["kind"].annotation) == stores
    configurable = [k for k in kinds.KINDS if kinds.kind(k).port]
    assert list(Exporters.model_fields) == configurable
    for k in configurable:
        default = Exporters.model_fields[k].default
        assert (default.port, default.path) == (kinds.kind(k).port, kinds.kind(k).path)
    assert scheme.JOB_MODEL == {k: kinds.job(k) for k in servers}


def test_every_server_kind_has_a_shipped_rule_pack():
    required = {str(g["requires"]) for p in shipped_packs() for g in p.groups}
    assert set(kinds.of_scope("models")) <= required
    assert [p.path.stem for p in shipped_packs()] == list(kinds.PACKS)


@pytest.mark.parametrize("name", [k for k in kinds.KINDS if kinds.kind(k).verify])
def test_verify_tables_name_metrics_of_their_own_catalog(name):
    """A typo in kinds.yaml would silently leave a metric at its neutral value."""
    metrics = exporter_metrics(name)
    verify = kinds.kind(name).verify
    for table in ("gauges", "rates", "latencies", "slow", "failing"):
        for metric in verify.get(table) or {}:
            base = metric.removesuffix("_sum").removesuffix("_count")
            assert metric in metrics or base in metrics or metric.startswith("DCGM_EXP_"), (table, metric)
    for metric in verify.get("latencies") or {}:
        assert metrics[metric].type == "histogram"
    assert set(verify.get("identity") or {}) <= {label for m in metrics.values() for label in m.labels}


@pytest.mark.parametrize("entry", ["{scope: models, job: x, prot: 1}", "{scope: model, job: x}"])
def test_a_misspelt_registry_entry_is_refused(tmp_path, entry):
    path = tmp_path / "kinds.yaml"
    path.write_text(f"scopes: {{models: model}}\nexporters:\n  x: {entry}\npacks: []\n")
    with pytest.raises(ValueError, match="exporter x"):
        kinds.load(path)
