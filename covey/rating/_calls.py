"""One bounded tool call and what became of it, and evidence made short enough to show.

A call ends as a result, a tool error, a protocol error, a crash or a hang.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

import anyio
from mcp.shared.exceptions import MCPError
from mcp_types import CONNECTION_CLOSED, REQUEST_TIMEOUT, CallToolResult

from ._session import Connection, ServerGone

__all__ = ["Outcome", "call_tool", "result_text", "shorten"]

OutcomeKind = Literal["result", "tool_error", "protocol_error", "crash", "hang"]


@dataclass(kw_only=True, slots=True, frozen=True)
class Outcome:
    """How the server answered one call."""

    kind: OutcomeKind
    text: str
    """The result's text, the error message, or what was observed."""
    code: int | None = None
    """The JSON-RPC error code of a protocol error."""
    result: CallToolResult | None = None
    seconds: float = 0.0


def result_text(result: CallToolResult) -> str:
    """Every text block of a result, joined, with its structured content if any."""
    parts = [str(getattr(block, "text", "")) for block in result.content]
    if result.structured_content is not None:
        parts.append(str(result.structured_content))
    return "\n".join(p for p in parts if p)


async def call_tool(
    conn: Connection,
    tool: str,
    arguments: dict[str, Any],
    *,
    timeout: float,  # noqa: ASYNC109
) -> Outcome:
    """Call `tool` within `timeout` seconds; a lost server is a crash, a late one a hang."""
    started = time.monotonic()
    try:
        with anyio.fail_after(timeout):
            result = await conn.client.call_tool(tool, arguments)
    except TimeoutError:
        return Outcome(kind="hang", text=f"no answer within {timeout:g}s", seconds=timeout)
    except MCPError as exc:
        seconds = time.monotonic() - started
        if exc.code == REQUEST_TIMEOUT:
            return Outcome(kind="hang", text=f"no answer within {timeout:g}s", seconds=seconds)
        if exc.code == CONNECTION_CLOSED or not conn.alive():
            return await _crash(conn, str(exc), seconds)
        return Outcome(kind="protocol_error", text=str(exc), code=exc.code, seconds=seconds)
    except (ServerGone, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as exc:
        return await _crash(conn, f"{type(exc).__name__}: {exc}", time.monotonic() - started)
    seconds = time.monotonic() - started
    kind: OutcomeKind = "tool_error" if result.is_error else "result"
    return Outcome(kind=kind, text=result_text(result), result=result, seconds=seconds)


async def _crash(conn: Connection, error: str, seconds: float) -> Outcome:
    code = None
    if conn.process is not None:  # the pipe closes a moment before the exit is seen
        with anyio.move_on_after(2):
            code = await conn.process.wait()
    status = "the connection was lost" if code is None else f"the server exited with code {code}"
    tail = conn.stderr_tail(300).strip()
    text = f"{status} ({error})" + (f"; its stderr ends: {tail}" if tail else "")
    return Outcome(kind="crash", text=text, seconds=seconds)


def shorten(value: Any, limit: int = 200) -> Any:
    """`value` with every string over `limit` characters cut, saying how long it was."""
    if isinstance(value, str):
        if len(value) <= limit:
            return value
        return f"{value[:limit]}... ({len(value)} characters)"
    if isinstance(value, dict):
        return {str(k): shorten(v, limit) for k, v in value.items()}  # type: ignore[misc]
    if isinstance(value, list):
        return [shorten(v, limit) for v in value[:20]]  # type: ignore[misc]
    return value
