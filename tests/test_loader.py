"""The one loader: shipped data files and rule packs get the spec's positions and wording."""

from __future__ import annotations

from pathlib import Path

import pytest

from aimon_gen import thresholds
from aimon_gen.compile.rules.packs import load_pack
from aimon_gen.errors import SpecInvalid

ROOT = Path(__file__).resolve().parent.parent


def test_a_mistake_in_the_threshold_catalog_is_reported_at_its_line(tmp_path, monkeypatch):
    text = (ROOT / "rules/thresholds.yaml").read_text()
    text = text.replace("    for: 15m\n", "    for: 15mm\n", 1).replace("    unit: celsius\n", "    unti: celsius\n", 1)
    (tmp_path / "thresholds.yaml").write_text(text)
    monkeypatch.setattr(thresholds, "data_dir", lambda name: tmp_path)
    thresholds.catalog.cache_clear()
    try:
        with pytest.raises(SpecInvalid) as exc:
            thresholds.catalog()
    finally:
        thresholds.catalog.cache_clear()
    found = [str(p) for p in exc.value.problems]
    assert len(found) == 2, found
    assert found[0].startswith("rules/thresholds.yaml:16:10: thresholds.gpu_utilization_high.for: not a duration")
    assert "unknown field 'unti' (did you mean 'unit'?)" in found[1]


def test_a_rules_for_may_be_zero():
    # A fatal GPU error fires at once: `for: 0m` is a valid rule duration (unlike the spec's).
    assert thresholds.catalog()["gpu_xid_fatal"]["for"] == "0m"


@pytest.mark.parametrize("text, message", [
    ("", "mine.yaml: the rule pack is empty"),
    ("- 1\n", "mine.yaml:1:1: the rule pack must be a mapping with a `groups:` list"),
    ("groups: []\ngroups: []\n", "mine.yaml:2:1: groups: duplicate key 'groups' (first given on line 1)"),
    ("groups: !!python/object:os.system []\n", "mine.yaml:1:9: groups: YAML tag"),
    ("a: &a [*a]\n", "mine.yaml:1:"),
    ("groups:\n\t- name: x\n", "mine.yaml:2:1: YAML syntax error"),
])
def test_a_pack_is_read_with_the_specs_safety_limits(tmp_path, text, message):
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    with pytest.raises(SpecInvalid) as exc:
        load_pack(path, "mine.yaml", True)
    assert any(str(p).startswith(message) for p in exc.value.problems), exc.value.problems


def test_shipped_data_files_are_read_by_the_same_loader(tmp_path):
    from aimon_gen.resources import read_yaml

    (tmp_path / "vllm.yaml").write_text("metrics:\n  a: 1\n  a: 2\n")
    with pytest.raises(SpecInvalid) as exc:
        read_yaml(tmp_path / "vllm.yaml")
    assert str(exc.value.problems[0]).startswith(f"{tmp_path.name}/vllm.yaml:3:3: metrics.a: duplicate key 'a'")


def test_a_mistake_in_slo_sli_yaml_is_reported_at_its_line(tmp_path, monkeypatch):
    from aimon_gen import sli

    text = (ROOT / "rules/slo_sli.yaml").read_text().replace("fixed_buckets:", "fixed_bucket:")
    (tmp_path / "slo_sli.yaml").write_text(text)
    monkeypatch.setattr(sli, "data_dir", lambda name: tmp_path)
    sli._data.cache_clear()
    try:
        with pytest.raises(SpecInvalid) as exc:
            sli.fixed_buckets("vllm")
    finally:
        sli._data.cache_clear()
    line = text.splitlines().index(next(x for x in text.splitlines() if x.startswith("fixed_bucket:"))) + 1
    assert [str(p) for p in exc.value.problems] == [
        f"rules/slo_sli.yaml:{line}:1: fixed_bucket: unknown field 'fixed_bucket' (did you mean 'fixed_buckets'?)"]
