"""One connection to an MCP server: an owner task holding the `mcp.Client`, in explicit states.

The owner task enters the client, holds it while other tasks send requests through it, and
exits it, so cleanup never crosses tasks (the "exit cancel scope in a different task" bug)
and a crash stays in that task. Other tasks reach the connection by awaiting its state
(`acquire`) and report a session they saw break (`lose`). Every state change goes through
`_move`, checked against `TRANSITIONS`.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Coroutine, Mapping
from contextlib import AsyncExitStack
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, cast

import anyio
import anyio.abc
import httpx2
import mcp
import mcp_types as types
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from .._errors import CoveyError, UsageError
from ..tracing._genai import inject_trace_headers

__all__ = [
    "ConnectionState",
    "TRANSITIONS",
    "MCPConnection",
    "MCPConnectionError",
    "Target",
    "connection_failure",
    "describe",
]


class MCPConnectionError(CoveyError):
    """An MCP server could not be reached or started."""


class ConnectionState(enum.Enum):
    """Where a connection is in its life; `TRANSITIONS` lists the moves between states."""

    NEW = "new"
    """Created, not opened yet."""
    CONNECTING = "connecting"
    """The owner task is starting a session (the first, or a restart)."""
    READY = "ready"
    """A session is open; requests go through it."""
    LOST = "lost"
    """A restart failed (the server was not there); the next request tries again."""
    FAILED = "failed"
    """The session broke with no restarts left; requests fail at once."""
    CLOSED = "closed"
    """Closed, or the first session could not be started. Final."""


_S = ConnectionState
TRANSITIONS: Mapping[ConnectionState, frozenset[ConnectionState]] = {
    # open()
    _S.NEW: frozenset({_S.CONNECTING, _S.CLOSED}),
    # handshake done; a restart failed; the first session failed, or close()
    _S.CONNECTING: frozenset({_S.READY, _S.LOST, _S.CLOSED}),
    # the session broke: restart it now if restarts are left, else give up; close()
    _S.READY: frozenset({_S.CONNECTING, _S.FAILED, _S.CLOSED}),
    # a request needs the server: try again; close()
    _S.LOST: frozenset({_S.CONNECTING, _S.CLOSED}),
    _S.FAILED: frozenset({_S.CLOSED}),
    _S.CLOSED: frozenset(),
}
"""Every state and the states it may move to; `MCPConnection._move` enforces it."""


_OPEN: ContextVar[tuple[MCPConnection, ...]] = ContextVar("covey_open_mcp", default=())
"""Connections opened in the current task, in the order they were opened."""


@dataclass(kw_only=True, slots=True, frozen=True)
class Target:
    """Where the server is: a command to start, or a URL."""

    stdio: StdioServerParameters | None = None
    url: str | None = None
    headers: Mapping[str, str] | None = None

    def describe(self) -> str:
        """The command line or the URL."""
        if self.stdio is not None:
            return " ".join([self.stdio.command, *self.stdio.args])
        return str(self.url)

    def transport(self, timeout: float) -> Any:
        """What `mcp.Client` connects through (a fresh one for each session)."""
        if self.stdio is not None:
            return self.stdio
        assert self.url is not None
        return _HTTPTransport(self.url, dict(self.headers or {}), timeout)


class MCPConnection:
    """One server connection, restarted at most `max_restarts` times after it breaks."""

    def __init__(
        self,
        *,
        name: str,
        target: Target,
        make_client: Callable[[], mcp.Client],
        watch: Callable[[mcp.Client], Coroutine[Any, Any, None]],
        connect_timeout: float,
        max_restarts: int,
    ) -> None:
        """A closed connection; `open()` starts its owner task."""
        self.name = name
        self.target = target
        self.connect_timeout = connect_timeout
        self.max_restarts = max_restarts
        self.restarts = 0
        """Sessions started again after one broke."""
        self.state = ConnectionState.NEW
        self.generation = 0
        """Number of the current (or last) session; a request reports a loss with it."""
        self._make_client = make_client
        self._watch = watch
        self._client: mcp.Client | None = None
        self._cause = ""
        self._changed = anyio.Event()
        self._session_end = anyio.Event()
        self._wanted = anyio.Event()
        self._owner_done = anyio.Event()
        self._host: AsyncExitStack | None = None
        self._host_task = -1
        self._attempt = anyio.CancelScope()
        self._open_error: MCPConnectionError | None = None

    # -- state --------------------------------------------------------------------------

    def _move(self, to: ConnectionState) -> None:
        if to not in TRANSITIONS[self.state]:
            raise AssertionError(f"MCP connection {self.name!r}: no move {self.state} -> {to}")
        self.state = to
        if to in (ConnectionState.LOST, ConnectionState.FAILED):
            self._wanted = anyio.Event()
        self._changed.set()
        self._changed = anyio.Event()

    def lose(self, generation: int, cause: BaseException) -> None:
        """Session `generation` broke (`cause`): restart it if restarts are left, else fail."""
        if generation != self.generation or self.state is not ConnectionState.READY:
            return  # already decided, for this session or a later one
        self._cause = describe(cause)
        if self.restarts < self.max_restarts:
            self._move(ConnectionState.CONNECTING)
        else:
            self._move(ConnectionState.FAILED)
        self._session_end.set()

    # -- requests -----------------------------------------------------------------------

    async def acquire(self) -> tuple[mcp.Client, int]:
        """The open session and its generation, once there is one.

        Raises:
            MCPConnectionError: the server stopped and cannot be restarted, or is unreachable.
        """
        if (ready := self._ready()) is not None:  # every call asks: no cancel scope then
            return ready
        asked = False
        try:
            with anyio.fail_after(self.connect_timeout):
                while (state := self.state) is not ConnectionState.READY:
                    if state is ConnectionState.LOST and not asked:
                        asked = True
                        self._wanted.set()
                    elif state is not ConnectionState.CONNECTING:
                        raise self._unavailable(state)
                    await self._changed.wait()
        except TimeoutError as exc:
            raise MCPConnectionError(
                f"MCP server {self.name!r} did not come back within {self.connect_timeout:g}s."
            ) from exc
        assert self._client is not None
        return self._client, self.generation

    def _ready(self) -> tuple[mcp.Client, int] | None:
        if self.state is not ConnectionState.READY or self._client is None:
            return None
        return self._client, self.generation

    def _unavailable(self, state: ConnectionState) -> CoveyError:
        if state in (ConnectionState.NEW, ConnectionState.CLOSED):
            return UsageError(
                f"MCPToolset {self.name!r} is not open: use `async with MCPToolset...(...) as t:`."
            )
        if state is ConnectionState.FAILED:
            return MCPConnectionError(
                f"MCP server {self.name!r} stopped and was already restarted {self.restarts} "
                f"time(s): {self._cause or 'no reason known'}."
            )
        return MCPConnectionError(
            f"MCP server {self.name!r} ({self.target.describe()}) could not be reached again: "
            f"{self._cause}. The next call tries again."
        )

    # -- the owner task -----------------------------------------------------------------

    async def _own(self, *, task_status: anyio.abc.TaskStatus[None]) -> None:
        try:
            await self._serve(task_status)
            if self._open_error is not None:
                task_status.started()  # open() raises it, outside the task group
                return
            while self.state is not ConnectionState.CLOSED:
                if self.state is ConnectionState.CONNECTING:
                    await self._serve(None)
                    continue
                await self._wanted.wait()  # LOST or FAILED: until a request or close() wakes us
                if self.state is ConnectionState.LOST:
                    self._move(ConnectionState.CONNECTING)
        finally:
            self._owner_done.set()

    async def _serve(self, task_status: anyio.abc.TaskStatus[None] | None) -> None:
        """Hold one session until it ends, then leave the state its end calls for."""
        generation = self.generation + 1
        self._session_end = anyio.Event()
        failure: Exception | None = None
        # The deadline bounds the handshake only; close() cancels a connection attempt.
        with anyio.CancelScope(deadline=anyio.current_time() + self.connect_timeout) as scope:
            self._attempt = scope
            try:
                async with self._make_client() as client, anyio.create_task_group() as watchers:
                    scope.deadline = math.inf
                    self._client, self.generation = client, generation
                    if generation > 1:
                        self.restarts += 1
                    self._move(ConnectionState.READY)
                    watchers.start_soon(self._watch, client)
                    if task_status is not None:
                        task_status.started()
                    await self._session_end.wait()
                    watchers.cancel_scope.cancel()
            except Exception as exc:
                failure = exc
        self._client = None
        if self.generation == generation:
            if failure is not None:
                self.lose(generation, failure)  # it broke on its own (e.g. HTTP transport)
        elif scope.cancelled_caught or failure is not None:
            self._not_started(failure, first=task_status is not None)

    def _not_started(self, failure: Exception | None, *, first: bool) -> None:
        """A session did not start: try again on demand, or (the first) fail `open()`."""
        if self.state is not ConnectionState.CONNECTING:
            return  # closed meanwhile
        if failure is None:
            failure = TimeoutError(f"no answer within {self.connect_timeout:g}s")
        self._cause = describe(failure)
        if not first:
            self._move(ConnectionState.LOST)
            return
        self._move(ConnectionState.CLOSED)
        if isinstance(failure, TimeoutError):
            error = MCPConnectionError(
                f"MCP server {self.name!r} ({self.target.describe()}) did not answer "
                f"within {self.connect_timeout:g}s. Check that the command starts an MCP "
                "server, or raise connect_timeout."
            )
        else:
            error = MCPConnectionError(
                f"Could not connect to MCP server {self.name!r} "
                f"({self.target.describe()}): {self._cause}"
            )
        error.__cause__ = failure
        self._open_error = error

    # -- opening and closing --------------------------------------------------------------

    async def open(self) -> None:
        """Start the owner task and wait for the first session.

        Raises:
            MCPConnectionError: the server did not start or answer within `connect_timeout`.
        """
        if self.state is not ConnectionState.NEW:
            raise UsageError(f"MCPToolset {self.name!r} cannot be reopened: create a new one.")
        self._move(ConnectionState.CONNECTING)
        async with AsyncExitStack() as stack:
            group = await stack.enter_async_context(anyio.create_task_group())
            await group.start(self._own)  # until the first session is open, or failed
            if self._open_error is None:
                self._host = stack.pop_all()
        if self._open_error is not None:
            raise self._open_error
        self._host_task = anyio.get_current_task().id
        _OPEN.set((*_OPEN.get(), self))

    def _close_now(self) -> None:
        if self.state is ConnectionState.CONNECTING:
            self._attempt.cancel()
        if self.state is not ConnectionState.CLOSED:
            self._move(ConnectionState.CLOSED)
        self._session_end.set()
        self._wanted.set()

    async def close(self) -> None:
        """End the session and the owner task, in the task that opened the connection.

        Connections opened in one task may close in any order: the owner task ends now, and
        the task groups that hosted them are left in reverse order of opening.
        """
        stack = _OPEN.get()
        if self not in stack or anyio.get_current_task().id != self._host_task:
            raise UsageError(f"MCPToolset {self.name!r} must be closed by the task that opened it.")
        self._close_now()
        await self._owner_done.wait()
        while stack and stack[-1]._owner_done.is_set():
            top, stack = stack[-1], stack[:-1]
            host, top._host = top._host, None
            if host is not None:
                await host.aclose()
        _OPEN.set(stack)


class _HTTPTransport:
    """Streamable HTTP with our headers and timeouts; the httpx client lives with the transport."""

    def __init__(self, url: str, headers: dict[str, str], timeout: float) -> None:
        self._url = url
        self._headers = headers
        self._timeout = timeout
        self._stack: AsyncExitStack | None = None

    async def __aenter__(self) -> Any:
        async with AsyncExitStack() as stack:
            http = await stack.enter_async_context(
                httpx2.AsyncClient(
                    headers=self._headers,
                    timeout=httpx2.Timeout(self._timeout, read=None),
                    event_hooks={"request": [inject_trace_headers]},
                )
            )
            streams = await stack.enter_async_context(
                streamable_http_client(self._url, http_client=http)
            )
            self._stack = stack.pop_all()
            return streams

    async def __aexit__(self, *exc_info: object) -> bool | None:
        stack, self._stack = self._stack, None
        if stack is not None:
            return await stack.__aexit__(*exc_info)  # type: ignore[arg-type]
        return None


_BROKEN_TRANSPORT = (
    anyio.ClosedResourceError,
    anyio.BrokenResourceError,
    anyio.EndOfStream,
    OSError,  # also the transport's own bounded send timing out (TimeoutError)
    httpx2.TransportError,
)


def connection_failure(exc: BaseException) -> bool:
    """Whether `exc` says the connection broke, rather than the tool, a callback or covey."""
    if isinstance(exc, BaseExceptionGroup):
        group = cast(BaseExceptionGroup[BaseException], exc)
        return any(connection_failure(inner) for inner in group.exceptions)
    if isinstance(exc, mcp.MCPError):
        return exc.code == types.CONNECTION_CLOSED
    if isinstance(exc, httpx2.HTTPStatusError):
        return exc.response.status_code == 404  # the server forgot the session: it restarted
    return isinstance(exc, _BROKEN_TRANSPORT)


def describe(exc: BaseException) -> str:
    """`Type: message` of an exception, or of the first one in a group."""
    if isinstance(exc, BaseExceptionGroup):
        group = cast(BaseExceptionGroup[BaseException], exc)
        return describe(group.exceptions[0]) if group.exceptions else "ExceptionGroup"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
