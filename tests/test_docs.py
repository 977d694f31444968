"""Docs generated from code stay current."""

from aimon_gen.spec.model import Spec
from aimon_gen.spec.reference import markdown

from conftest import ROOT


def test_spec_reference_is_current():
    assert (ROOT / "docs/spec.md").read_text() == markdown(Spec), \
        "docs/spec.md is stale: aimon-gen schema --markdown > docs/spec.md"


def test_reference_covers_every_section():
    text = markdown(Spec)
    for section in ("## Spec", "## NodeGroup", "## Model", "## Pipeline", "## Storage", "## ThresholdSetting",
                    "## Prometheus", "## Alerting", "## Grafana"):
        assert section in text


def test_readme_alert_table_is_current():
    from aimon_gen.alert_reference import replace_in

    text = (ROOT / "README.md").read_text()
    assert replace_in(text) == text, "README's alert table is stale: aimon-gen alerts --readme README.md"


def test_every_shipped_alert_says_what_to_do():
    from aimon_gen.alert_reference import rows

    missing = [name for name, _, _, _, text in rows() if len(text) < 60]
    assert not missing, f"alerts without a runbook: text in their pack: {missing}"
