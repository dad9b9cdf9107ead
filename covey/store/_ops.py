"""Field operations: how a checkpoint records one superstep's change to the state."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, cast

import pydantic_core

from .._errors import UsageError
from ._errors import StoreError

__all__ = ["FieldOp", "FieldOpLike", "OpName", "apply_ops", "fold", "encode_ops", "dumps", "loads"]

OpName = Literal["set", "append", "merge", "add"]
"""`set` replaces a field, `append` extends a list, `merge` updates a dict (shallow),
`add` adds a number."""


class FieldOpLike(Protocol):
    """Anything with `field`, `op` and `value`, such as the graph engine's own ops."""

    @property
    def field(self) -> str: ...  # protocol member

    @property
    def op(self) -> str: ...  # protocol member

    @property
    def value(self) -> Any: ...  # protocol member


@dataclass(kw_only=True, slots=True, frozen=True)
class FieldOp:
    """One field's change in a superstep; a checkpoint's delta is a list of these."""

    field: str
    """The state field it changes."""
    op: OpName
    """How it changes the field (see `OpName`)."""
    value: Any
    """JSON data (or pydantic models, stored as their JSON): the new value for `set`, the
    items for `append`, the keys for `merge`, the number for `add`."""


def dumps(value: Any, what: str = "A stored value") -> str:
    """Compact JSON text of `value` (pydantic models and dataclasses become their JSON).

    Raises:
        UsageError: `value` is not JSON data (`what` names it in the message).
    """
    try:
        return pydantic_core.to_json(value).decode()
    except pydantic_core.PydanticSerializationError as e:
        raise UsageError(f"{what} must be JSON data or pydantic models: {e}") from e


def loads(text: str | bytes) -> Any:
    """The value of JSON text."""
    return pydantic_core.from_json(text)


def _check(index: int, field: Any, op: Any, value: Any) -> str | None:
    if not isinstance(field, str) or not field:
        return f"op {index} has field {field!r}; a field is a non-empty string"
    if op == "set":
        return None
    if op == "append" and not isinstance(value, list):
        return f"op {index} appends {type(value).__name__} to {field!r}; append takes a list"
    if op == "merge" and not isinstance(value, dict):
        kind = type(cast(object, value)).__name__
        return f"op {index} merges {kind} into {field!r}; merge takes a dict"
    if op == "add" and (isinstance(value, bool) or not isinstance(value, int | float)):
        return f"op {index} adds {value!r} to {field!r}; add takes a number"
    if op not in ("append", "merge", "add"):
        return f"op {index} on {field!r} is {op!r}; use set, append, merge or add"
    return None


def encode_ops(ops: Sequence[FieldOpLike]) -> tuple[list[dict[str, Any]], str]:
    """Check ops and turn them into JSON data and JSON text.

    Raises:
        UsageError: an op is malformed or its value is not JSON.
    """
    try:
        data = cast(
            list[dict[str, Any]],
            pydantic_core.to_jsonable_python(
                [{"field": o.field, "op": o.op, "value": o.value} for o in ops]
            ),
        )
    except (pydantic_core.PydanticSerializationError, AttributeError) as e:
        raise UsageError(
            f"A checkpoint delta must be FieldOps whose values are JSON data or pydantic "
            f"models: {e}"
        ) from e
    for index, item in enumerate(data):
        problem = _check(index, item["field"], item["op"], item["value"])
        if problem is not None:
            raise UsageError(f"Bad checkpoint delta: {problem}.")
    return data, dumps(data)


def apply_ops(state: dict[str, Any], ops: Sequence[FieldOpLike | dict[str, Any]]) -> dict[str, Any]:
    """A new state: `state` with `ops` applied in order (neither argument is changed).

    Ops may be `FieldOp`s or their JSON form `{"field": ..., "op": ..., "value": ...}`.

    Raises:
        StoreError: an op does not fit the field's current value (say, append to a number).
    """
    items = [
        item
        if isinstance(item, dict)
        else {"field": item.field, "op": item.op, "value": item.value}
        for item in ops
    ]
    return fold(copy.deepcopy(state), copy.deepcopy(items))


def fold(state: dict[str, Any], ops: list[dict[str, Any]]) -> dict[str, Any]:
    """Apply JSON-form ops to `state` in place, reusing their values; returns `state`.

    Only for data nobody else holds (freshly decoded JSON): it avoids copying a long list
    once per step when replaying many deltas.

    Raises:
        StoreError: an op does not fit the field's current value.
    """
    for item in ops:
        field, op, value = item["field"], item["op"], item["value"]
        current = state.get(field)
        try:
            state[field] = _step(current, op, value)
        except (TypeError, AttributeError) as e:
            raise StoreError(
                f"Cannot apply {op!r} to state field {field!r} holding "
                f"{type(current).__name__}: {e}"
            ) from e
    return state


def _step(current: Any, op: str, value: Any) -> Any:
    match op:
        case "set":
            return value
        case "append" if current is None:
            return list(value)
        case "append":
            current.extend(value)
            return current
        case "merge" if current is None:
            return dict(value)
        case "merge":
            current.update(value)
            return current
        case "add":
            return (0 if current is None else current) + value
        case _:
            raise TypeError(f"unknown op {op!r}")
