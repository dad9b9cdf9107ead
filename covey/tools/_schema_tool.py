"""A Python callable as a tool with an explicit JSON Schema, not one read from its signature.

Environments of published agent benchmarks describe their tools with a JSON Schema and
return strings the model must see as they are. `schema_tool` keeps both: the schema goes to
the model unchanged, arguments are checked against it, and a returned string is the result.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

import anyio.to_thread
import jsonschema

from .._errors import UsageError
from ..models import ToolDefinition
from ._base import RunContext, ToolResult

__all__ = ["SchemaTool", "schema_tool"]


def _checked_schema(name: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    if schema.get("type") != "object":
        raise UsageError(
            f"Tool {name!r}: its JSON Schema must describe an object of arguments "
            f'({{"type": "object", "properties": {{...}}}}), got type {schema.get("type")!r}.'
        )
    try:
        jsonschema.Draft202012Validator.check_schema(dict(schema))
    except jsonschema.SchemaError as exc:
        raise UsageError(f"Tool {name!r}: its JSON Schema is not valid: {exc.message}.") from None
    return dict(schema)


def _problems(arguments: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema)
    found: list[str] = []
    errors: list[jsonschema.ValidationError] = list(validator.iter_errors(arguments))  # pyright: ignore[reportUnknownMemberType]
    for error in errors:
        where = ".".join(str(p) for p in error.absolute_path) or "(arguments)"
        found.append(f"{where}: {error.message}")
    return found


class SchemaTool:
    """A tool made of a callable and the JSON Schema of its keyword arguments.

    The model sees `schema` as it is. Arguments that do not match it go back to the model
    as an error naming each problem (counted against the agent's budget for bad calls);
    otherwise the callable gets them as keyword arguments. A returned string reaches the
    model unchanged; anything else is sent as JSON.
    """

    def __init__(
        self,
        function: Callable[..., Any],
        schema: Mapping[str, Any],
        *,
        name: str | None = None,
        description: str | None = None,
        requires_approval: bool = False,
        timeout: float | None = None,
    ) -> None:
        """Make a tool; see `schema_tool` for the arguments."""
        self.function = function
        tool_name = name or getattr(function, "__name__", "")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}", tool_name):
            raise UsageError(
                f"Tool name {tool_name!r} is not usable by models: use letters, digits, "
                "'_', '-' or '.', at most 64 characters, e.g. name='lookup_order'."
            )
        self._schema = _checked_schema(tool_name, schema)
        doc = inspect.cleandoc(function.__doc__ or "").split("\n\n", 1)[0]
        self._definition = ToolDefinition(
            name=tool_name,
            description=description or doc or f"Call {tool_name}.",
            parameters=self._schema,
        )
        self._requires_approval = requires_approval
        self._timeout = timeout
        self._is_async = inspect.iscoroutinefunction(function)

    @property
    def definition(self) -> ToolDefinition:
        """Name, description and the schema as given."""
        return self._definition

    @property
    def requires_approval(self) -> bool:
        """Whether each call needs approval."""
        return self._requires_approval

    @property
    def timeout(self) -> float | None:
        """Seconds one call may take; `None` uses the agent's default."""
        return self._timeout

    async def call(self, arguments: dict[str, Any], context: RunContext[Any]) -> ToolResult:
        """Check the arguments against the schema, call the function, wrap its result."""
        name = self._definition.name
        problems = _problems(arguments, self._schema)
        if problems:
            return ToolResult(
                content=f"The arguments for tool {name!r} are invalid: "
                + "; ".join(problems)
                + ". Fix them to match the tool's schema and call it again.",
                is_error=True,
                invalid_arguments=True,
            )
        try:
            if self._is_async:
                value = await cast(Callable[..., Awaitable[Any]], self.function)(**arguments)
            else:
                value = await anyio.to_thread.run_sync(
                    lambda: self.function(**arguments), abandon_on_cancel=True
                )
        except Exception as exc:  # a tool's failure is the model's to handle
            return ToolResult(
                content=f"Tool {name!r} failed: {type(exc).__name__}: {exc}", is_error=True
            )
        if isinstance(value, ToolResult):
            return value
        if isinstance(value, str):
            return ToolResult(content=value, structured=value)
        return ToolResult(content=json.dumps(value, default=str), structured=value)

    def __repr__(self) -> str:
        return f"SchemaTool({self._definition.name!r})"


def schema_tool(
    function: Callable[..., Any],
    schema: Mapping[str, Any],
    *,
    name: str | None = None,
    description: str | None = None,
    requires_approval: bool = False,
    timeout: float | None = None,
) -> SchemaTool:
    """A tool of `function` whose arguments are described by `schema` (a JSON Schema).

    Args:
        function: called with the arguments as keywords; sync (run in a thread) or async.
        schema: the JSON Schema of the arguments object, shown to the model as it is.
        name: tool name; default the function's name.
        description: default the first paragraph of the function's docstring.
        requires_approval: ask the agent's approval callback before each call.
        timeout: seconds one call may take; default the agent's tool timeout.

    Raises:
        UsageError: the name is not usable, or the schema is not a valid object schema.
    """
    return SchemaTool(
        function,
        schema,
        name=name,
        description=description,
        requires_approval=requires_approval,
        timeout=timeout,
    )
