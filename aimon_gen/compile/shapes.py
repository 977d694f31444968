"""Test a rule shape once, not once per scope entry that shares it.

Many scope entries get rules that differ only in their own label values: every pipeline's
DataPipelineStalled, every GPU group's GPUMissing, every model's availability SLO. promtool's
cost grows with its test groups and the rules they evaluate, so a fleet of 1,000 hosts and 50
SLOs spent minutes proving the same expression again and again.

`Shapes` keeps one representative per shape. An entry B counts as the same shape as a kept
entry A only when B's text (its rules and, for packs, its tests, as JSON) is character for
character A's text with A's own label values replaced by B's (entry name, the entry's labels,
its target's instance and host: the values a scope entry contributes, never a number). So B's
rule is A's expression, threshold, `for`, severity and annotations with B's selector values,
and A's promtool test proves that expression; B's own rule still goes through `promtool check
rules` in its rule file. Anything else that differs (a threshold, a window, an objective, a
label B has and A has not, a value that needs escaping) makes B a shape of its own, tested.
"""

from __future__ import annotations

import json

_SENTINEL_CHARS = ("\x00", "\x01")


def text_of(doc: object) -> str:
    return json.dumps(doc, sort_keys=True, ensure_ascii=False)


def _renamable(value: str) -> bool:
    if not value or any(c in value for c in _SENTINEL_CHARS):
        return False
    try:
        float(value)
    except ValueError:
        return True
    return False   # a number may be a threshold as well as a label value: never renamed


def rename(text: str, mapping: dict[str, str]) -> str:
    """`text` with every key of `mapping` replaced by its value, longest key first, in one pass
    (a replaced value is never replaced again)."""
    keys = sorted(mapping, key=lambda k: (-len(k), k))
    for i, key in enumerate(keys):
        text = text.replace(key, f"\x01{chr(0) * (i + 1)}\x01")
    for i, key in reversed(list(enumerate(keys))):
        text = text.replace(f"\x01{chr(0) * (i + 1)}\x01", mapping[key])
    return text


class Shapes:
    """Representatives seen so far, per group key (e.g. one alert of one pack)."""

    def __init__(self) -> None:
        self._seen: dict[object, list[tuple[str, dict[str, str]]]] = {}

    def known(self, key: object, text: str, values: dict[str, str]) -> bool:
        """Is (text, own values) a renaming of a kept representative? If not, keep it as one."""
        kept = self._seen.setdefault(key, [])
        for rep_text, rep_values in kept:
            if _renaming(rep_text, rep_values, text, values):
                return True
        kept.append((text, values))
        return False


def _renaming(a_text: str, a_values: dict[str, str], b_text: str, b_values: dict[str, str]) -> bool:
    if a_values.keys() != b_values.keys():
        return False
    mapping: dict[str, str] = {}
    for k, src in a_values.items():
        dst = b_values[k]
        if src == dst:
            continue
        if not (_renamable(src) and _renamable(dst)) or mapping.setdefault(src, dst) != dst:
            return False
    if not mapping:
        return a_text == b_text
    return rename(a_text, mapping) == b_text
