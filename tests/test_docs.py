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
