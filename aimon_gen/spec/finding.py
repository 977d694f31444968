"""A finding of a cross-field check: a problem or warning at a spec path, before it has a line."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    path: tuple
    message: str
    hint: str = ""
    warning: bool = False
    at_key: bool = False
    # Another place the message names as `{also}`: the loader writes it as the user's spec has
    # it (the checks may have run on the spec without its invalid entries, where indices shift).
    also: tuple = ()
