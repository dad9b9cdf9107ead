"""Python functions as tools: schema from the signature and docstring, pydantic validation."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any, cast, get_origin, get_type_hints, overload

import anyio.to_thread
import pydantic
from pydantic.fields import FieldInfo

from .._errors import UsageError
from ..models import ToolDefinition
from ._base import RunContext, ToolResult

__all__ = ["FunctionTool", "tool"]

_ARGS_HEADER = re.compile(r"^\s*(Args|Arguments|Parameters):\s*$")
_SECTION = re.compile(r"^\s*[A-Z][A-Za-z ]*:\s*$")
_ARG_LINE = re.compile(r"^\s*(\*{0,2}\w+)\s*(\([^)]*\))?\s*:\s*(.*)$")


def _parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """Split a Google docstring into the description and per-argument descriptions."""
    if not doc:
        return "", {}
    lines = inspect.cleandoc(doc).splitlines()
    description: list[str] = []
    args: dict[str, str] = {}
    section: str | None = None
    current: str | None = None
    for line in lines:
        if _ARGS_HEADER.match(line):
            section, current = "args", None
        elif _SECTION.match(line):
            section, current = "other", None
        elif section is None:
            description.append(line)
        elif section == "args":
            match = _ARG_LINE.match(line)
            if match and len(line) - len(line.lstrip()) <= 4:
                key: str = match.group(1).lstrip("*")
                args[key] = match.group(3).strip()
                current = key
            elif current is not None and line.strip():
                args[current] = f"{args.get(current, '')} {line.strip()}"
    return "\n".join(description).strip(), args


def _is_context(annotation: Any) -> bool:
    return annotation is RunContext or get_origin(annotation) is RunContext


def _result(value: Any) -> ToolResult:
    if isinstance(value, ToolResult):
        return value
    if isinstance(value, str):
        return ToolResult(content=value, structured=value)
    if isinstance(value, pydantic.BaseModel):
        return ToolResult(content=value.model_dump_json(), structured=value.model_dump())
    try:
        return ToolResult(content=json.dumps(value, default=str), structured=value)
    except (TypeError, ValueError):
        return ToolResult(content=str(value), structured=None)


def _validation_message(name: str, error: pydantic.ValidationError) -> str:
    problems: list[str] = []
    for item in error.errors(include_url=False):
        where = ".".join(str(p) for p in item["loc"]) or "(arguments)"
        given = item.get("input")
        shown = json.dumps(given, default=str)[:80] if given is not None else "nothing"
        problems.append(f"{where}: {item['msg']} (got {shown})")
    return (
        f"The arguments for tool {name!r} are invalid: " + "; ".join(problems) + ". "
        "Fix them to match the tool's schema and call it again."
    )


class FunctionTool:
    """A tool made from a Python function (sync or async).

    The name is the function's name, the description its docstring, and the argument
    schema comes from its type hints; argument descriptions come from the docstring's
    `Args:` section. A parameter annotated `RunContext[...]` receives the run context and
    is not shown to the model.
    """

    def __init__(
        self,
        function: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        requires_approval: bool = False,
        timeout: float | None = None,
    ) -> None:
        """Make a tool of `function`; see `tool` for the arguments."""
        self.function = function
        self._name = name or function.__name__
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}", self._name):
            raise UsageError(
                f"Tool name {self._name!r} is not usable by models: use letters, digits, "
                "'_', '-' or '.', at most 64 characters, e.g. name='lookup_order'."
            )
        self._requires_approval = requires_approval
        self._timeout = timeout
        self._is_async = inspect.iscoroutinefunction(function)
        doc, arg_docs = _parse_docstring(function.__doc__)
        self._description = description or doc or f"Call {self._name}."
        self._context_param, self._model = self._build_model(arg_docs)
        schema = self._model.model_json_schema()
        schema.pop("title", None)
        for prop in schema.get("properties", {}).values():
            if isinstance(prop, dict):
                cast(dict[str, Any], prop).pop("title", None)
        self._definition = ToolDefinition(
            name=self._name, description=self._description, parameters=schema
        )

    def _build_model(self, arg_docs: dict[str, str]) -> tuple[str | None, type[pydantic.BaseModel]]:
        signature = inspect.signature(self.function)
        try:
            hints = get_type_hints(self.function, include_extras=True)
        except NameError as exc:
            raise UsageError(
                f"Tool {self._name!r} has a type hint covey cannot resolve ({exc}): "
                "import the type at module level."
            ) from exc
        context_param: str | None = None
        fields: dict[str, Any] = {}
        for param in signature.parameters.values():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                raise UsageError(
                    f"Tool {self._name!r} takes *{param.name}: tools need named parameters "
                    "so that the model can be given a schema."
                )
            annotation = hints.get(param.name, Any)
            if _is_context(annotation):
                context_param = param.name
                continue
            default = ... if param.default is param.empty else param.default
            fields[param.name] = (
                annotation,
                FieldInfo(default=default, description=arg_docs.get(param.name)),
            )
        config = pydantic.ConfigDict(extra="forbid")
        model = pydantic.create_model(f"{self._name}_arguments", __config__=config, **fields)
        return context_param, model

    @property
    def definition(self) -> ToolDefinition:
        """Name, description and argument schema, as the model sees them."""
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
        """Validate the arguments, run the function, and wrap what it returns or raises."""
        try:
            parsed = self._model.model_validate(arguments)
        except pydantic.ValidationError as exc:
            return ToolResult(
                content=_validation_message(self._name, exc), is_error=True, invalid_arguments=True
            )
        kwargs = {name: getattr(parsed, name) for name in type(parsed).model_fields}
        if self._context_param is not None:
            kwargs[self._context_param] = context
        try:
            if self._is_async:
                value = await cast(Callable[..., Awaitable[Any]], self.function)(**kwargs)
            else:
                value = await anyio.to_thread.run_sync(
                    lambda: self.function(**kwargs), abandon_on_cancel=True
                )
        except Exception as exc:  # a tool's failure is the model's to handle
            return ToolResult(
                content=f"Tool {self._name!r} failed: {type(exc).__name__}: {exc}",
                is_error=True,
            )
        return _result(value)

    def __repr__(self) -> str:
        return f"FunctionTool({self._name!r})"


@overload
def tool(function: Callable[..., Any], /) -> FunctionTool: ...
@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    requires_approval: bool = False,
    timeout: float | None = None,
) -> Callable[[Callable[..., Any]], FunctionTool]: ...
def tool(
    function: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    requires_approval: bool = False,
    timeout: float | None = None,
) -> FunctionTool | Callable[[Callable[..., Any]], FunctionTool]:
    """Make a tool of a function: `@tool` or `@tool(name=..., requires_approval=True)`.

    Args:
        function: the function, when used as a bare decorator.
        name: tool name; default the function's name.
        description: description; default the docstring before its `Args:` section.
        requires_approval: ask the agent's approval callback before each call.
        timeout: seconds one call may take; default the agent's tool timeout.
    """

    def wrap(fn: Callable[..., Any]) -> FunctionTool:
        return FunctionTool(
            fn,
            name=name,
            description=description,
            requires_approval=requires_approval,
            timeout=timeout,
        )

    return wrap(function) if function is not None else wrap
