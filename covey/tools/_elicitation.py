"""Questions an MCP server asks the user while a tool runs, and who answers them.

Kept apart from the MCP client so that agents can take an elicitation handler without
importing `mcp` (which an agent with only function tools never needs).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "ElicitationRequest",
    "ElicitationResponse",
    "ElicitationHandler",
    "answering_elicitations",
    "run_elicitation",
]


@dataclass(kw_only=True, slots=True, frozen=True)
class ElicitationRequest:
    """A server asks the user for input while a tool runs."""

    server: str
    """Name of the toolset whose server asks."""
    message: str
    """What the server asks, for a person to read."""
    schema: dict[str, Any] = field(default_factory=lambda: {})
    """JSON schema of the answer the server wants (form mode)."""
    url: str | None = None
    """A URL the user is asked to open (URL mode)."""


@dataclass(kw_only=True, slots=True, frozen=True)
class ElicitationResponse:
    """The user's answer to an `ElicitationRequest`."""

    action: Literal["accept", "decline", "cancel"]
    """Whether the user answered, refused, or dismissed the question."""
    content: dict[str, Any] | None = None
    """The answer, matching the request's schema, when accepted."""


ElicitationHandler = Callable[[ElicitationRequest], Awaitable[ElicitationResponse]]
"""Answers a server's request for user input (a person, a UI, or a graph interrupt)."""

_RUN_ELICITATION: ContextVar[ElicitationHandler | None] = ContextVar(
    "covey_run_elicitation", default=None
)
"""Answers elicitations of the tool calls made in this task (see `answering_elicitations`)."""


@contextmanager
def answering_elicitations(handler: ElicitationHandler) -> Generator[None]:
    """Answer elicitations of MCP tool calls made inside this block with `handler`.

    For toolsets without an `elicitation=` handler of their own (theirs comes first). An
    agent's run uses it around each tool call when its caller gives one (a graph's agent
    node does, to ask a person through `ctx.ask`). It needs a server speaking MCP 2026-07-28
    or later, whose requests come back within the tool call: there an exception `handler`
    raises ends the call and the call raises it (a graph node's question stops the run so).
    Older servers send requests outside the call, and without a toolset handler those are
    declined.
    """
    token = _RUN_ELICITATION.set(handler)
    try:
        yield
    finally:
        _RUN_ELICITATION.reset(token)


def run_elicitation() -> ElicitationHandler | None:
    """The handler `answering_elicitations` set for this task, if any."""
    return _RUN_ELICITATION.get()
