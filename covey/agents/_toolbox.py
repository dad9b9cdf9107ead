"""The tools of one agent turn, and running the calls the model asked for, concurrently."""

from __future__ import annotations

import inspect
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol, cast

import anyio

from .._concurrency import run_all
from ..models import MalformedToolCall, ToolCall, ToolDefinition
from ..tools import ElicitationHandler, FunctionTool, RunContext, Tool, ToolResult, Toolset
from ..tools._elicitation import answering_elicitations
from ..tracing._genai import end_tool, tool_span
from ._events import AgentEvent, ToolFinished, ToolStarted

if TYPE_CHECKING:
    from ..tools._mcp_tool import MCPTool

__all__ = ["ToolSource", "Approval", "ToolJournal", "ToolBox", "as_sources", "run_calls"]

ToolSource = Tool | Toolset | Callable[..., Any]
"""What an agent takes as a tool: a `Tool`, a `Toolset` (MCP server), or a plain function."""

Approval = Callable[[ToolCall], "bool | str | Awaitable[bool | str]"]
"""Decides a call to a tool that requires approval: `True` allows it; `False` or a reason
refuses it, and the refusal goes back to the model."""

Emit = Callable[[AgentEvent], Awaitable[None]]


class ToolJournal(Protocol):
    """Keeps a run's tool calls, so that running the same task again does not repeat them.

    Give one to `Agent.run(journal=...)`; a graph's agent node gives one backed by the
    store's effect journal. For each call, in the order the model made them, the run asks for
    its `key`; a call whose key has a recorded result gets that result back without the tool
    running (or being approved) again; a call that runs has its result recorded, and the
    questions its MCP server asks meanwhile go to the journal's `elicitation` handler.
    """

    def key(self, call: ToolCall) -> str:
        """A key for `call` that is the same when the same task runs again."""
        ...  # protocol member

    async def replay(self, key: str) -> ToolResult | None:
        """The result recorded under `key`, or None when the call has not completed."""
        ...  # protocol member

    async def record(self, key: str, result: ToolResult) -> None:
        """Record a completed call's result."""
        ...  # protocol member

    async def approve(self, key: str, call: ToolCall) -> bool | str | None:
        """Decide a call that requires approval (by its key), or None for the run's `approve`."""
        ...  # protocol member

    def elicitation(self, key: str) -> ElicitationHandler | None:
        """Answers MCP elicitations while the call runs (for toolsets without a handler)."""
        ...  # protocol member


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


async def _approved(
    tool: Tool, call: ToolCall, approve: Approval | None, kept: tuple[ToolJournal, str] | None
) -> str | None:
    """None when the call may run, else the refusal to send back."""
    if not tool.requires_approval:
        return None
    verdict = await kept[0].approve(kept[1], call) if kept is not None else None
    if verdict is None:
        if approve is None:
            return (
                f"Tool {call.name!r} needs approval and this agent has no approval callback, "
                "so the call was not made."
            )
        decided = approve(call)
        verdict = await decided if inspect.isawaitable(decided) else decided
    if verdict is True:
        return None
    reason = verdict if isinstance(verdict, str) and verdict else "no reason given"
    return f"The call to {call.name!r} was refused: {reason}. Do not retry it unchanged."


async def _prepare(
    call: ToolCall,
    box: ToolBox,
    approve: Approval | None,
    kept: tuple[ToolJournal, str] | None,
) -> ToolResult | None:
    """What the call gets without running (unknown tool, replayed, refused), or None."""
    tool = box.tools.get(call.name)
    if tool is None:
        names = ", ".join(sorted(box.tools)) or "none"
        return ToolResult(
            content=f"There is no tool named {call.name!r}. The tools are: {names}.",
            is_error=True,
            invalid_arguments=True,
        )
    if kept is not None:
        done = await kept[0].replay(kept[1])
        if done is not None:
            return done
    refusal = await _approved(tool, call, approve, kept)
    return ToolResult(content=refusal, is_error=True) if refusal is not None else None


async def _invoke(
    call: ToolCall,
    tool: Tool,
    context: RunContext[Any],
    default_timeout: float,
    kept: tuple[ToolJournal, str] | None,
) -> ToolResult:
    timeout = tool.timeout if tool.timeout is not None else default_timeout
    elicit = kept[0].elicitation(kept[1]) if kept is not None else None
    answering = answering_elicitations(elicit) if elicit is not None else nullcontext()
    with anyio.move_on_after(timeout) as scope, answering:
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
    journal: ToolJournal | None = None,
) -> list[ToolResult]:
    """Run the calls concurrently, each with its timeout; results in the calls' order.

    Approvals (and a journal's replays) are settled first, one call at a time in the model's
    order, so no tool of the turn runs until every call in it has been decided.
    """
    kept = [(journal, journal.key(c)) if journal is not None else None for c in calls]
    settled = [await _prepare(c, box, approve, k) for c, k in zip(calls, kept, strict=True)]
    results: list[ToolResult | None] = [None] * len(calls)

    async def run(index: int, call: ToolCall) -> None:
        await emit(ToolStarted(agent=agent, call=call))
        start = time.perf_counter()
        tool = box.tools.get(call.name)
        server = _server_of(tool)
        with tool_span(call.name, call.id, call.arguments, agent=agent, server=server) as span:
            result = settled[index]
            if result is None:
                assert tool is not None, "a call without a tool is settled by _prepare"
                result = await _invoke(call, tool, context, default_timeout, kept[index])
                if (journaled := kept[index]) is not None:
                    await journaled[0].record(journaled[1], result)
            end_tool(span, result)
        results[index] = result
        seconds = time.perf_counter() - start
        await emit(ToolFinished(agent=agent, call=call, result=result, seconds=seconds))

    await run_all([partial(run, i, c) for i, c in enumerate(calls)])
    return [r for r in results if r is not None]


def _server_of(tool: Tool | None) -> str | None:
    """The MCP server a tool belongs to (None for a function tool)."""
    inner = tool.inner if isinstance(tool, _Renamed) else tool
    # No MCP tool exists until its module is loaded; agents without MCP never load it.
    module = sys.modules.get("covey.tools._mcp_tool")
    if module is None:
        return None
    mcp_tool: type[MCPTool] = module.MCPTool
    return inner.toolset.name if isinstance(inner, mcp_tool) else None


def malformed_result(call: MalformedToolCall, box: ToolBox | None = None) -> ToolResult:
    """What the model is told about a call it wrote wrongly, with the tool's parameters."""
    content = call.error
    tool = box.tools.get(call.name) if box is not None and call.name else None
    if tool is not None:
        content += f" The parameters of {call.name!r}: {parameters_text(tool.definition)}."
    return ToolResult(content=content, is_error=True, invalid_arguments=True)


def parameters_text(definition: ToolDefinition) -> str:
    """A tool's parameters in a line, e.g. `path (string, required), head (integer)`."""
    schema = definition.parameters
    properties = cast(dict[str, Any], schema.get("properties") or {})
    required = set(cast(list[str], schema.get("required") or []))
    parts = [
        f"{key} ({_type_name(cast(dict[str, Any], spec))}{', required' if key in required else ''})"
        for key, spec in properties.items()
    ]
    return ", ".join(parts) or "none"


def _type_name(spec: dict[str, Any]) -> str:
    if "type" in spec:
        return str(spec["type"])
    options = cast(list[dict[str, Any]], spec.get("anyOf") or [])
    names = [str(o.get("type", "object")) for o in options if o.get("type") != "null"]
    return " or ".join(names) or "any"
