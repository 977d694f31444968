"""The spec reference (docs/spec.md), generated from the models so it cannot drift."""

from __future__ import annotations

import typing

from pydantic import BaseModel
from pydantic_core import PydanticUndefined


def _type_name(tp) -> str:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Annotated:
        for m in args[1:]:
            func = getattr(m, "func", None)  # the validator names the meaning
            if func is not None and func.__name__ in _NAMED:
                return _NAMED[func.__name__]
        return _type_name(args[0])
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return " or ".join(_type_name(a) for a in args if a is not type(None))
    if origin is list:
        return f"list of {_type_name(args[0])}"
    if origin is dict:
        return f"map of {_type_name(args[0])} to {_type_name(args[1])}"
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return f"[{tp.__name__}](#{tp.__name__.lower()})"
    return {int: "integer", float: "number", str: "string", bool: "boolean"}.get(tp, getattr(tp, "__name__", str(tp)))


_NAMED = {"_duration": "duration (`30s`, `5m`, `1h30m`)", "_percent": "percentage (0-100)",
          "_byte_size": "byte size (`500GB`)", "_label_name": "label name", "_label_value": "string",
          "_name": "name (`[a-z0-9._-]`)", "_target": "`host[:port]`", "_hosts": "list of hosts (ranges allowed)",
          "_shorthand": "[ThresholdSetting](#thresholdsetting) or number"}


def _models(root: type[BaseModel]) -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []

    def visit(tp):
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp not in seen:
                seen.append(tp)
                for f in tp.model_fields.values():
                    visit(f.annotation)
        for a in typing.get_args(tp):
            visit(a)

    visit(root)
    return seen


def _field_type(field) -> str:
    # pydantic moves a top-level Annotated's validators into field.metadata
    for m in field.metadata:
        func = getattr(m, "func", None)
        if func is not None and func.__name__ in _NAMED:
            return _NAMED[func.__name__]
    return _type_name(field.annotation)


def _default(field) -> str:
    if field.is_required():
        return "**required**"
    value = field.default
    if value is PydanticUndefined or value is None:
        return ""
    if isinstance(value, BaseModel):
        return "see below"
    if value in ([], {}):
        return "`[]`" if value == [] else "`{}`"
    return f"`{value}`"


def markdown(root: type[BaseModel]) -> str:
    out = ["# Spec reference", "",
           "Generated from the models by `aimon-gen schema --markdown`; `aimon-gen schema` prints the same as",
           "JSON Schema for editors. Unknown keys are errors everywhere.", ""]
    for model in _models(root):
        out += [f"## {model.__name__}", ""]
        doc = (model.__doc__ or "").strip()
        if doc and not doc.startswith("!!!") and "Usage docs" not in doc:
            out += [doc.splitlines()[0], ""]
        out += ["| field | type | default | meaning |", "| --- | --- | --- | --- |"]
        for name, field in model.model_fields.items():
            desc = (field.description or "").replace("|", "\\|").replace("\n", " ")
            out.append(f"| `{field.alias or name}` | {_field_type(field)} | {_default(field)} | {desc} |")
        out.append("")
    return "\n".join(out)
