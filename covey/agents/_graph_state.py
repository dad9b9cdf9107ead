"""Graph state: a pydantic model whose fields may declare how concurrent updates merge.

```python
class State(BaseModel):
    messages: Annotated[list[str], append] = []
    total: Annotated[int, add] = 0
    answer: str = ""            # no reducer: one writer per superstep
```
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast, get_origin, get_type_hints

import pydantic

from .._errors import UsageError
from ..store._ops import FieldOp, OpName

__all__ = [
    "Reducer",
    "append",
    "merge",
    "add",
    "reducer",
    "StateSchema",
    "FieldOp",
]


@dataclass(frozen=True, slots=True)
class Reducer:
    """How a field combines an update with its current value."""

    name: str
    """Shown in errors."""
    op: OpName
    """The store operation that records the update (`set` for custom reducers)."""
    fn: Callable[[Any, Any], Any]
    """`(current, update) -> new value`."""


append = Reducer("append", "append", lambda old, new: [*old, *new])
"""List field: updates are lists whose items are appended."""
merge = Reducer("merge", "merge", lambda old, new: {**old, **new})
"""Dict field: updates are dicts merged in (later keys win)."""
add = Reducer("add", "add", lambda old, new: old + new)
"""Numeric field: updates are added."""


def reducer(fn: Callable[[Any, Any], Any], name: str | None = None) -> Reducer:
    """A custom reducer `(current, update) -> new value`; checkpoints store its result."""
    return Reducer(name or getattr(fn, "__name__", "custom"), "set", fn)


@dataclass(frozen=True, slots=True)
class StateSchema:
    """The state model and the reducer of each field (None: plain overwrite)."""

    model: type[pydantic.BaseModel]
    reducers: Mapping[str, Reducer | None]

    @classmethod
    def of(cls, model: type[pydantic.BaseModel]) -> StateSchema:
        """Read the reducers from `Annotated[...]` field types."""
        if not (inspect.isclass(model) and issubclass(model, pydantic.BaseModel)):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise UsageError(f"Graph state must be a pydantic BaseModel subclass, got {model!r}.")
        hints = get_type_hints(model, include_extras=True)
        reducers: dict[str, Reducer | None] = {}
        for name in model.model_fields:
            found: Reducer | None = None
            hint = hints.get(name)
            if get_origin(hint) is not None and hasattr(hint, "__metadata__"):
                for meta in cast(tuple[Any, ...], hint.__metadata__):  # pyright: ignore[reportOptionalMemberAccess]
                    if isinstance(meta, Reducer):
                        found = meta
            reducers[name] = found
        return cls(model=model, reducers=reducers)

    def check_update(self, node: str, update: Mapping[str, Any]) -> None:
        """Refuse updates to fields the state does not have."""
        unknown = [k for k in update if k not in self.reducers]
        if unknown:
            fields = ", ".join(self.reducers)
            raise UsageError(
                f"Node {node!r} returned unknown state field(s) {unknown}; the fields are: "
                f"{fields}."
            )

    def delta(
        self, node: str, before: Mapping[str, Any], after: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The update that takes the fields in `after` from `before` to `after`.

        Through each field's reducer: an appended list gives its new items, a sum the
        difference, a merged dict the keys that changed; other fields (plain, or with a custom
        reducer) give their new value. Unchanged fields are left out.

        Raises:
            UsageError: a change the field's reducer cannot express (items removed from an
                `append` list, keys from a `merge` dict).
        """
        update: dict[str, Any] = {}
        for field, new in after.items():
            old = before.get(field)
            if field not in self.reducers or new == old:
                continue
            red = self.reducers[field]
            change = _change(red, old, new)
            if change is _CANNOT:
                raise UsageError(
                    f"Node {node!r} changed state field {field!r} in a way its reducer "
                    f"({red.name if red else 'none'}) cannot apply: {old!r} -> {new!r}. Map "
                    "the subgraph's result with output=lambda state, result: {...}."
                )
            update[field] = change
        return update

    def apply(
        self, state: pydantic.BaseModel, updates: list[tuple[str, Mapping[str, Any]]]
    ) -> tuple[pydantic.BaseModel, list[FieldOp]]:
        """Merge the superstep's updates (node, partial update) into a new state.

        Raises:
            UsageError: two nodes wrote one field that has no reducer.
        """
        writers: dict[str, str] = {}
        values = state.model_dump()
        ops: list[FieldOp] = []
        for node, update in updates:
            for field, value in update.items():
                red = self.reducers[field]
                if red is None:
                    if field in writers:
                        raise UsageError(
                            f"Nodes {writers[field]!r} and {node!r} both wrote state field "
                            f"{field!r} in one superstep, and it has no reducer. Give it one "
                            f"(Annotated[..., append] / merge / add / reducer(fn)) or let "
                            "only one of them write it."
                        )
                    writers[field] = node
                    values[field] = value
                    ops.append(FieldOp(field=field, op="set", value=value))
                else:
                    values[field] = red.fn(values[field], value)
                    new = values[field] if red.op == "set" else value
                    ops.append(FieldOp(field=field, op=red.op, value=new))
        new_state = self.model.model_validate(values)
        return new_state, [
            FieldOp(field=o.field, op=o.op, value=_ANY.dump_python(o.value, mode="json"))
            for o in ops
        ]


_ANY: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(Any)

_CANNOT: Any = object()


def _change(red: Reducer | None, old: Any, new: Any) -> Any:
    """What, given to `red`, turns `old` into `new` (`_CANNOT` when nothing does)."""
    if red is None or red.op == "set":
        return new
    if red is append and isinstance(old, list) and isinstance(new, list):
        old_list, new_list = cast(list[Any], old), cast(list[Any], new)
        same_start = new_list[: len(old_list)] == old_list
        return new_list[len(old_list) :] if same_start else _CANNOT
    if red is add and isinstance(old, int | float) and isinstance(new, int | float):
        return new - old
    if red is merge and isinstance(old, dict) and isinstance(new, dict):
        old_dict, new_dict = cast(dict[str, Any], old), cast(dict[str, Any], new)
        if not old_dict.keys() <= new_dict.keys():
            return _CANNOT
        return {k: v for k, v in new_dict.items() if k not in old_dict or old_dict[k] != v}
    return _CANNOT
