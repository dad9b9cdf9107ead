"""Arguments made from a tool's input schema: one plausible valid call, and malformed calls.

Generation is seeded and deterministic, so a rating names the exact input behind a finding and
a re-run repeats it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, cast

from mcp_types import Tool

__all__ = ["HUGE", "NESTING", "Malformed", "malformed_calls", "valid_arguments"]

HUGE = 200_000
"""Characters in a huge string."""
NESTING = 150
"""Depth of a deeply nested value (below the 200 levels JSON parsers commonly accept)."""
ODD_TEXT = "nul\x00 rtl\u202e bom\ufeff emoji\U0001f600 zero\u200bwidth"

_SAMPLE_STRINGS = {
    "path": "notes.txt",
    "file": "notes.txt",
    "url": "http://127.0.0.1:9/",
    "uri": "http://127.0.0.1:9/",
    "query": "SELECT 1",
    "sql": "SELECT 1",
    "timezone": "UTC",
    "expression": "1+1",
}


@dataclass(frozen=True, slots=True)
class Malformed:
    """A malformed call: what is wrong with it, and whether it may be schema-valid after all."""

    kind: str
    """wrong_type, missing_required, extra_field, huge_string, deep_nesting or odd_unicode."""
    arguments: dict[str, Any]
    field: str | None
    may_be_valid: bool
    """True when the schema allows these arguments (a result is then a fine answer)."""


def _properties(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    properties = schema.get("properties")
    return properties if isinstance(properties, dict) else {}  # type: ignore[return-value]


def _type(spec: dict[str, Any]) -> str:
    kind = spec.get("type")
    if isinstance(kind, list):
        kinds = [str(k) for k in cast("list[Any]", kind) if k != "null"]
        return kinds[0] if kinds else "null"
    if isinstance(kind, str):
        return kind
    for option in spec.get("anyOf", spec.get("oneOf", [])):
        if isinstance(option, dict) and option.get("type") not in (None, "null"):  # type: ignore[union-attr]
            return _type(option)  # type: ignore[arg-type]
    return "object" if "properties" in spec else "any"


def _value(name: str, spec: dict[str, Any], depth: int = 0) -> Any:
    """A plausible value for one field: its default, example, enum, or by its type."""
    for key in ("default", "const"):
        if key in spec:
            return spec[key]
    if spec.get("enum"):
        return spec["enum"][0]
    if isinstance(spec.get("examples"), list) and spec["examples"]:
        return spec["examples"][0]
    kind = _type(spec)
    if kind in ("integer", "number"):
        low = spec.get("minimum", spec.get("exclusiveMinimum", 0))
        return max(1, int(low) + (1 if "exclusiveMinimum" in spec else 0))
    if kind == "boolean":
        return False
    if kind == "array":
        item = spec.get("items")
        if isinstance(item, dict) and depth < 4:
            return [_value(name, cast("dict[str, Any]", item), depth + 1)]
        return []
    if kind == "object":
        return valid_arguments(spec, depth + 1) if depth < 4 else {}
    lowered = name.lower()
    return next((v for k, v in _SAMPLE_STRINGS.items() if k in lowered), "covey")


def valid_arguments(schema: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """Arguments for every required field of `schema`, each plausible for its name and type."""
    required = schema.get("required", [])
    properties = _properties(schema)
    names = [str(n) for n in cast("list[Any]", required)] if isinstance(required, list) else []
    return {n: _value(n, properties.get(n, {}), depth) for n in names}


_WRONG = {
    "string": [12345, True, ["x"], {"a": 1}],
    "integer": ["not a number", 1.5, [1], {"n": 1}],
    "number": ["not a number", [1.5], {"n": 1}, True],
    "boolean": ["maybe", 3, [True]],
    "array": ["not an array", 5, {"a": 1}],
    "object": ["not an object", 5, [1]],
}


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for level in range(depth):
        value = [value] if level % 2 else {"d": value}
    return value


def malformed_calls(tool: Tool, count: int, seed: int) -> list[Malformed]:
    """`count` malformed calls of `tool`, cycling through the kinds the schema allows."""
    rng = random.Random(f"{seed}:{tool.name}")
    base = valid_arguments(tool.input_schema)
    properties = _properties(tool.input_schema)
    required = [n for n in tool.input_schema.get("required", []) if n in base]
    typed = [n for n, s in properties.items() if _type(s) in _WRONG]
    strings = [n for n, s in properties.items() if _type(s) == "string" and "enum" not in s]
    open_shape = tool.input_schema.get("additionalProperties") is not False
    extra = Malformed("extra_field", {**base, "covey_unexpected": 1}, None, open_shape)
    makers: list[Any] = [lambda: extra]
    if typed:
        makers.append(lambda: _wrong_type(base, properties, rng.choice(typed), rng))
    if required:
        makers.append(lambda: _missing(base, rng.choice(required)))
    if strings:
        makers.append(
            lambda: _string(base, properties, rng.choice(strings), "x" * HUGE, "huge_string")
        )
        makers.append(
            lambda: _string(base, properties, rng.choice(strings), ODD_TEXT, "odd_unicode")
        )
    if properties:
        makers.append(lambda: _deep(base, properties, rng.choice(sorted(properties))))
    else:
        makers.append(
            lambda: Malformed("deep_nesting", {"covey_unexpected": _nested(NESTING)}, None, True)
        )
    return [makers[i % len(makers)]() for i in range(count)]


def _wrong_type(
    base: dict[str, Any], properties: dict[str, Any], name: str, rng: random.Random
) -> Malformed:
    value = rng.choice(_WRONG[_type(properties[name])])
    return Malformed("wrong_type", {**base, name: value}, name, False)


def _missing(base: dict[str, Any], name: str) -> Malformed:
    return Malformed("missing_required", {k: v for k, v in base.items() if k != name}, name, False)


def _string(
    base: dict[str, Any], properties: dict[str, Any], name: str, text: str, kind: str
) -> Malformed:
    spec = properties[name]
    fits = (
        len(text) <= spec.get("maxLength", len(text))
        and "pattern" not in spec
        and "format" not in spec
    )
    return Malformed(kind, {**base, name: text}, name, fits)


def _deep(base: dict[str, Any], properties: dict[str, Any], name: str) -> Malformed:
    untyped = _type(properties[name]) == "any"
    return Malformed("deep_nesting", {**base, name: _nested(NESTING)}, name, untyped)
