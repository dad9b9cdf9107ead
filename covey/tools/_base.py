"""What every tool is, wherever it comes from: a definition plus an async call."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from ..models import ModelClient, ToolDefinition
from ._events import ToolEventSink

__all__ = ["ToolResult", "Tool", "Toolset", "RunContext", "Deps"]

Deps = TypeVar("Deps")


@dataclass(kw_only=True, slots=True)
class RunContext(Generic[Deps]):
    """What a tool may know about the run that calls it. Passed explicitly, never global."""

    deps: Deps
    """The dependencies the caller gave the run (a database handle, a user id, ...)."""
    agent: str = ""
    """Name of the agent running the tool."""
    run_id: str = ""
    """Id of the run."""
    tool_call_id: str = ""
    """Id of the tool call being executed."""
    metadata: dict[str, Any] = field(default_factory=lambda: {})
    """Free-form values a run carries for its tools."""
    on_event: ToolEventSink | None = None
    """Where a tool reports progress while it runs (the agent's event stream)."""
    model: ModelClient | None = None
    """The model of the agent running the tool; it answers an MCP server's sampling
    requests made during the call (unless the toolset has a `sampling_model`)."""


@dataclass(kw_only=True, slots=True, frozen=True)
class ToolResult:
    """What a tool call produced, as the model will see it."""

    content: str
    """Text sent back to the model."""
    is_error: bool = False
    """Whether the call failed; `content` then says why and how to fix it."""
    structured: Any = None
    """The result as data, when the tool gave one (for traces and end-state checks)."""
    invalid_arguments: bool = False
    """Whether the call failed because its arguments were invalid (counts against the
    agent's retry budget for bad calls)."""


@runtime_checkable
class Tool(Protocol):
    """A tool an agent can call. Function tools and MCP tools both implement it."""

    @property
    def definition(self) -> ToolDefinition:
        """Name, description and argument schema, as the model sees them."""
        ...  # protocol member

    @property
    def requires_approval(self) -> bool:
        """Whether a person (an approval callback) must allow each call."""
        ...  # protocol member

    @property
    def timeout(self) -> float | None:
        """Seconds one call may take; `None` uses the agent's default."""
        ...  # protocol member

    async def call(self, arguments: dict[str, Any], context: RunContext[Any]) -> ToolResult:
        """Run the tool. Failures come back as a `ToolResult` with `is_error=True`."""
        ...  # protocol member


@runtime_checkable
class Toolset(Protocol):
    """A source of several tools that may change over time (an MCP server, for one)."""

    @property
    def name(self) -> str:
        """Short name, used to prefix tool names that clash with another toolset's."""
        ...  # protocol member

    async def list_tools(self) -> list[Tool]:
        """The tools available now (cached by the toolset; cheap to call every turn)."""
        ...  # protocol member
