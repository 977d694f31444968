"""render.to_yaml and render.to_json write what PyYAML's SafeDumper and json.dumps(indent=2)
write, byte for byte, though they skip those libraries' slow paths: any document, including
the strings YAML must quote (numbers, booleans, `null`, `: `, `#`, leading spaces, unicode)."""

import json
from pathlib import Path

import yaml
from hypothesis import given, settings, strategies as st

from aimon_gen import build, render

ROOT = Path(__file__).resolve().parents[1]

# Strings that look like other YAML types, or need quoting or a block, mixed with free text.
_TRICKY = st.sampled_from(["", "true", "no", "null", "~", "1", "0x1f", "1e3", "1_000", "-", ": x", "a: b", "#c",
                           " lead", "trail ", "multi\nline", "tab\tin", "é ü 中", "'q'", '"q"', "*a", "&b", "!t",
                           "[x]", "{y}", "%", "@", "`", "2024-01-01", ".inf", "=", "<%= x %>", "{{ $value }}"])
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), _TRICKY, st.text(max_size=12))
_DOCS = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(_TRICKY, st.text(max_size=8)), inner, max_size=4)),
    max_leaves=30)


class _Reference(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """The dumper render used before: SafeRepresenter with literal blocks for multi-line strings."""


_Reference.add_representer(str, lambda d, v: d.represent_scalar(
    "tag:yaml.org,2002:str", v, style="|" if "\n" in v else None))


def _reference_yaml(doc) -> str:
    return yaml.dump(doc, Dumper=_Reference, sort_keys=False, default_flow_style=False, allow_unicode=True,
                     width=10_000)


@settings(max_examples=200, deadline=None)
@given(_DOCS)
def test_yaml_is_what_pyyaml_writes(doc):
    assert render.to_yaml(doc) == _reference_yaml(doc)


@settings(max_examples=200, deadline=None)
@given(_DOCS)
def test_json_is_what_the_standard_library_writes(doc):
    assert render.to_json(doc) == json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def test_non_string_keys_are_converted_as_json_does():
    doc = {1: "a", "b": {2.5: [True, None]}}
    assert render.to_json(doc) == json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def test_every_document_of_the_example_renders_as_the_libraries_would():
    _, bundle, _ = build._compiled(ROOT / "specs" / "example.yaml", ("files", "kubernetes"))
    docs = render.documents(bundle)
    assert any(p.endswith(".json") for p in docs) and any(p.endswith(".yml") for p in docs)
    for path, doc in docs.items():
        if path.endswith((".yml", ".yaml")):
            assert render.to_yaml(doc) == _reference_yaml(doc), path
        elif path.endswith(".json"):
            assert render.to_json(doc) == json.dumps(doc, indent=2, ensure_ascii=False) + "\n", path
