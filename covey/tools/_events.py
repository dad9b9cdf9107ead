"""Events that tools report while they run: progress, and server log messages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["ProgressUpdate", "ServerLogMessage", "ToolEvent", "ToolEventSink"]


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


ToolEvent = ProgressUpdate | ServerLogMessage
ToolEventSink = Callable[[ToolEvent], None]
"""Receives tool events; must not block (put them on a stream or a list)."""
