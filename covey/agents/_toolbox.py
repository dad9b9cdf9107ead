"""The tools of one agent turn, and running the calls the model asked for, concurrently."""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import anyio

from .._concurrency import run_all
from ..models import MalformedToolCall, ToolCall, ToolDefinition
from ..tools import FunctionTool, RunContext, Tool, ToolResult, Toolset
from ._events import AgentEvent, ToolFinished, ToolStarted

__all__ = ["ToolSource", "Approval", "ToolBox", "as_sources", "run_calls"]

ToolSource = Tool | Toolset | Callable[..., Any]
"""What an agent takes as a tool: a `Tool`, a `Toolset` (MCP server), or a plain function."""

Approval = Callable[[ToolCall], "bool | str | Awaitable[bool | str]"]
"""Decides a call to a tool that requires approval: `True` allows it; `False` or a reason
refuses it, and the refusal goes back to the model."""

Emit = Callable[[AgentEvent], Awaitable[None]]


def as_sources(tools: Sequence[ToolSource]) -> list[Tool | Toolset]:
    """Wrap plain functions as `FunctionTool`s; keep tools and toolsets."""
    sources: list[Tool | Toolset] = []
    for item in tools:
        if isinstance(item, Tool | Toolset):
            sources.append(item)
        elif callable(item):
            sources.append(FunctionTool(item))
        else:
            raise TypeError(f"{item!r} is not a tool, a toolset or a function")
    return sources


@dataclass(kw_only=True, slots=True, frozen=True)
class _Renamed:
    """A tool shown to the model under another name (to settle a clash between servers)."""

    inner: Tool
    new_name: str

    @property
    def definition(self) -> ToolDefinition:
        return replace(self.inner.definition, name=self.new_name)

    @property
    def requires_approval(self) -> bool:
        return self.inner.requires_approval

    @property
    def timeout(self) -> float | None:
        return self.inner.timeout

    async def call(self, arguments: dict[str, Any], context: RunContext[Any]) -> ToolResult:
        return await self.inner.call(arguments, context)


@dataclass(kw_only=True, slots=True, frozen=True)
class ToolBox:
    """The tools available for one turn, by the name the model sees."""

    tools: dict[str, Tool]

    @classmethod
    async def gather(cls, sources: Sequence[Tool | Toolset]) -> ToolBox:
        """Collect tools; names that two toolsets share get each toolset's name as prefix."""
        owned: list[tuple[str | None, Tool]] = []
        for source in sources:
            if isinstance(source, Toolset):
                owned.extend((source.name, t) for t in await source.list_tools())
            else:
                owned.append((None, source))
        counts: dict[str, int] = {}
        for _, t in owned:
            counts[t.definition.name] = counts.get(t.definition.name, 0) + 1
        tools: dict[str, Tool] = {}
        for owner, t in owned:
            name = t.definition.name
            if counts[name] > 1 and owner is not None:
                t = _Renamed(inner=t, new_name=f"{owner}_{name}")
                name = t.definition.name
            tools[name] = t
        return cls(tools=tools)

    @property
    def definitions(self) -> list[ToolDefinition]:
        """What the model is told."""
        return [t.definition for t in self.tools.values()]


async def _approved(tool: Tool, call: ToolCall, approve: Approval | None) -> str | None:
    """None when the call may run, else the refusal to send back."""
    if not tool.requires_approval:
        return None
    if approve is None:
        return (
            f"Tool {call.name!r} needs approval and this agent has no approval callback, "
            "so the call was not made."
        )
    verdict = approve(call)
    if inspect.isawaitable(verdict):
        verdict = await verdict
    if verdict is True:
        return None
    reason = verdict if isinstance(verdict, str) and verdict else "no reason given"
    return f"The call to {call.name!r} was refused: {reason}. Do not retry it unchanged."


async def _one(
    call: ToolCall,
    box: ToolBox,
    context: RunContext[Any],
    default_timeout: float,
    approve: Approval | None,
) -> ToolResult:
    tool = box.tools.get(call.name)
    if tool is None:
        names = ", ".join(sorted(box.tools)) or "none"
        return ToolResult(
            content=f"There is no tool named {call.name!r}. The tools are: {names}.",
            is_error=True,
            invalid_arguments=True,
        )
    refusal = await _approved(tool, call, approve)
    if refusal is not None:
        return ToolResult(content=refusal, is_error=True)
    timeout = tool.timeout if tool.timeout is not None else default_timeout
    with anyio.move_on_after(timeout) as scope:
        return await tool.call(call.arguments, replace(context, tool_call_id=call.id))
    assert scope.cancelled_caught
    return ToolResult(
        content=f"Tool {call.name!r} did not finish within {timeout:g}s and was cancelled. "
        "Try a smaller request, or another way.",
        is_error=True,
    )


async def run_calls(
    calls: Sequence[ToolCall],
    box: ToolBox,
    context: RunContext[Any],
    *,
    agent: str,
    default_timeout: float,
    approve: Approval | None,
    emit: Emit,
) -> list[ToolResult]:
    """Run the calls concurrently, each with its timeout; results in the calls' order."""
    results: list[ToolResult | None] = [None] * len(calls)

    async def run(index: int, call: ToolCall) -> None:
        await emit(ToolStarted(agent=agent, call=call))
        start = time.perf_counter()
        result = await _one(call, box, context, default_timeout, approve)
        results[index] = result
        seconds = time.perf_counter() - start
        await emit(ToolFinished(agent=agent, call=call, result=result, seconds=seconds))

    await run_all([partial(run, i, c) for i, c in enumerate(calls)])
    return [r for r in results if r is not None]


def malformed_result(call: MalformedToolCall) -> ToolResult:
    """What the model is told about a call it wrote wrongly."""
    return ToolResult(content=call.error, is_error=True, invalid_arguments=True)
