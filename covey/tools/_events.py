"""Events that tools report while they run: progress, log messages, a server that stopped."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["ProgressUpdate", "ServerLogMessage", "ServerStopped", "ToolEvent", "ToolEventSink"]


@dataclass(kw_only=True, slots=True, frozen=True)
class ProgressUpdate:
    """Progress that a running tool reported."""

    server: str
    """Toolset (server) name."""
    tool: str
    """Tool name."""
    progress: float
    """Progress so far."""
    total: float | None = None
    """Total, when known."""
    message: str | None = None
    """The server's progress message."""
    agent: str = ""
    """Agent whose call this is."""


@dataclass(kw_only=True, slots=True, frozen=True)
class ServerLogMessage:
    """A log message an MCP server sent."""

    server: str
    """Toolset (server) name."""
    level: str
    """Log level (`debug` ... `emergency`)."""
    data: Any
    """The message."""


@dataclass(kw_only=True, slots=True, frozen=True)
class ServerStopped:
    """An MCP server stopped (crashed, or its connection broke) while running a tool.

    The call's result is an error the model sees, but the failure is the infrastructure's,
    not the caller's: an evaluation retries the trial instead of scoring it.
    """

    server: str
    """Toolset (server) name."""
    tool: str
    """The tool that was running."""
    reason: str
    """What the connection reported, e.g. `Connection closed`."""
    restarting: bool
    """Whether the server is being restarted (False once its restarts are used up)."""
    agent: str = ""
    """Agent whose call this is."""


ToolEvent = ProgressUpdate | ServerLogMessage | ServerStopped
ToolEventSink = Callable[[ToolEvent], None]
"""Receives tool events; must not block (put them on a stream or a list)."""
