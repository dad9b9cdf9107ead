"""MCP servers as toolsets, over stdio or streamable HTTP, on the `mcp` 2.x client.

One task owns each connection for its whole life: it enters the `mcp.Client`, keeps it open
while other tasks send requests through it, and exits it. So cleanup never crosses tasks
(the "exit cancel scope in a different task" bug), a crash is contained in that task, and a
restart is the owner leaving and re-entering the client.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from contextlib import AsyncExitStack, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, cast

import anyio
import anyio.abc
import httpx2
import mcp
import mcp_types as types
from mcp.client.session import ClientRequestContext, IncomingMessage
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from .._errors import CoveyError, UsageError
from ..models import ModelClient, ToolDefinition
from ._base import RunContext, Tool, ToolResult
from ._events import ProgressUpdate, ServerLogMessage, ServerStopped, ToolEventSink
from ._mcp_convert import (
    ElicitationHandler,
    ElicitationRequest,
    ElicitationResponse,
    answer_elicitation,
    answer_sampling,
    to_tool_result,
)

__all__ = ["MCPToolset", "MCPConnectionError", "answering_elicitations"]


_OPEN: ContextVar[tuple[MCPToolset, ...]] = ContextVar("covey_open_toolsets", default=())
"""Toolsets open in the current task, in the order they were opened."""

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


class _HandlerRaised(Exception):
    """Carries an exception of a run's elicitation handler out through the MCP client."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _handler_error(error: BaseException) -> Exception | None:
    if isinstance(error, _HandlerRaised):
        return error.error
    if isinstance(error, BaseExceptionGroup):
        group = cast(BaseExceptionGroup[BaseException], error)
        for inner in group.exceptions:
            if (found := _handler_error(inner)) is not None:
                return found
    return None


class MCPConnectionError(CoveyError):
    """An MCP server could not be reached or started."""


@dataclass(kw_only=True, slots=True, frozen=True)
class _Target:
    stdio: StdioServerParameters | None = None
    url: str | None = None
    headers: Mapping[str, str] | None = None

    def describe(self) -> str:
        if self.stdio is not None:
            return " ".join([self.stdio.command, *self.stdio.args])
        return str(self.url)


@dataclass(kw_only=True, slots=True, frozen=True)
class MCPTool:
    """One tool of an MCP server, callable through its toolset's shared session."""

    toolset: MCPToolset
    spec: types.Tool

    @property
    def definition(self) -> ToolDefinition:
        """The server's name, description and input schema."""
        return ToolDefinition(
            name=self.spec.name,
            description=self.spec.description or self.spec.title or self.spec.name,
            parameters=self.spec.input_schema,
        )

    @property
    def requires_approval(self) -> bool:
        """Destructive tools need approval when the toolset says so."""
        if not self.toolset.approve_destructive:
            return False
        notes = self.spec.annotations
        return bool(notes is None or notes.destructive_hint is not False) and not bool(
            notes is not None and notes.read_only_hint
        )

    @property
    def timeout(self) -> float | None:
        """The toolset's call timeout."""
        return self.toolset.call_timeout

    async def call(self, arguments: dict[str, Any], context: RunContext[Any]) -> ToolResult:
        """Call the tool on the server; failures come back as error results."""
        return await self.toolset.call_tool(self.spec.name, arguments, context=context)


class MCPToolset:
    """The tools of one MCP server, shared by every agent that is given it.

    Example:
        ```python
        async with MCPToolset.stdio("python", ["-m", "covey.servers.files", "--root", "."]) as fs:
            agent = Agent("clerk", model, tools=[fs])
        ```
    """

    def __init__(
        self,
        target: _Target,
        *,
        name: str,
        request_timeout: float = 30.0,
        call_timeout: float = 60.0,
        connect_timeout: float = 30.0,
        max_restarts: int = 1,
        sampling_model: ModelClient | None = None,
        elicitation: ElicitationHandler | None = None,
        events: ToolEventSink | None = None,
        approve_destructive: bool = False,
    ) -> None:
        """Use `MCPToolset.stdio(...)` or `MCPToolset.http(...)`."""
        self._target = target
        self.name = name
        self.request_timeout = request_timeout
        self.call_timeout = call_timeout
        self.connect_timeout = connect_timeout
        self.max_restarts = max_restarts
        self.sampling_model = sampling_model
        self.elicitation = elicitation
        self.events = events
        self.approve_destructive = approve_destructive
        self.restarts = 0
        self._client: mcp.Client | None = None
        self._group: anyio.abc.TaskGroup | None = None
        self._wake = anyio.Event()
        self._stopping = False
        self._used = False
        self._tools: list[Tool] | None = None
        self._tools_lock = anyio.Lock()
        self._generation = 0
        self._ready = anyio.Event()
        self._failure: str | None = None
        self._dead = False
        self._owner_done = anyio.Event()
        self._closed_early = False

    @classmethod
    def stdio(
        cls,
        command: str,
        args: Sequence[str] = (),
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        name: str | None = None,
        **options: Any,
    ) -> MCPToolset:
        """A server started as a child process, spoken to over its stdin and stdout."""
        params = StdioServerParameters(
            command=command, args=list(args), env=dict(env) if env else None, cwd=cwd
        )
        return cls(_Target(stdio=params), name=name or _stdio_name(command, args), **options)

    @classmethod
    def http(
        cls,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        name: str | None = None,
        **options: Any,
    ) -> MCPToolset:
        """A server reached over streamable HTTP at `url` (e.g. `http://127.0.0.1:8000/mcp`)."""
        if not url.startswith(("http://", "https://")):
            raise UsageError(f"MCP server URL {url!r} is not http(s): pass e.g. http://host/mcp.")
        return cls(_Target(url=url, headers=headers), name=name or _http_name(url), **options)

    # -- lifecycle ---------------------------------------------------------------

    async def __aenter__(self) -> Self:
        if self._used:
            raise UsageError(f"MCPToolset {self.name!r} cannot be reopened: create a new one.")
        self._used = True
        group = anyio.create_task_group()
        await group.__aenter__()
        try:
            with anyio.fail_after(self.connect_timeout):
                await group.start(self._own)
        except BaseException as exc:
            group.cancel_scope.cancel()
            await group.__aexit__(None, None, None)
            if isinstance(exc, TimeoutError):
                raise MCPConnectionError(
                    f"MCP server {self.name!r} ({self._target.describe()}) did not answer "
                    f"within {self.connect_timeout:g}s. Check that the command starts an MCP "
                    "server, or raise connect_timeout."
                ) from exc
            raise
        self._group = group
        _OPEN.set((*_OPEN.get(), self))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopping = True
        self._wake.set()
        stack = _OPEN.get()
        if self not in stack:
            raise UsageError(f"MCPToolset {self.name!r} must be closed by the task that opened it.")
        if stack[-1] is not self:
            # Closed out of order (first in, first out): end the connection now, and leave
            # the emptied task group for the later toolsets' exit to unwind in LIFO order.
            await self._owner_done.wait()
            self._closed_early = True
            return
        while stack and (stack[-1] is self or stack[-1]._closed_early):
            top, stack = stack[-1], stack[:-1]
            group, top._group = top._group, None
            if group is not None:
                await group.__aexit__(exc_type, exc, tb)
        _OPEN.set(stack)

    async def _own(self, *, task_status: anyio.abc.TaskStatus[None]) -> None:
        try:
            await self._connection_loop(task_status)
        finally:
            self._owner_done.set()

    async def _connection_loop(self, task_status: anyio.abc.TaskStatus[None]) -> None:
        first = True
        while not self._stopping:
            try:
                async with self._connect() as client, anyio.create_task_group() as watchers:
                    self._client = client
                    self._generation += 1
                    self._tools = None
                    if _modern(client):
                        watchers.start_soon(self._watch_tool_changes, client)
                    if first:
                        task_status.started()
                        first = False
                    self._ready.set()
                    await self._wake.wait()
                    watchers.cancel_scope.cancel()
            except Exception as exc:
                if first:
                    raise MCPConnectionError(
                        f"Could not connect to MCP server {self.name!r} "
                        f"({self._target.describe()}): {_describe(exc)}"
                    ) from exc
                self._failure = _describe(exc)
            self._mark_down()
            if self._stopping:
                return
            self._wake = anyio.Event()
            if self.restarts >= self.max_restarts:
                self._dead = True
                self._ready.set()  # release waiters: they will see the server is dead
                await self._wake.wait()
                return
            self.restarts += 1

    def _connect(self) -> mcp.Client:
        target = self._target
        server: Any
        if target.stdio is not None:
            server = target.stdio
        else:
            assert target.url is not None
            server = _HTTPTransport(target.url, dict(target.headers or {}), self.request_timeout)
        return mcp.Client(
            server,
            read_timeout_seconds=self.request_timeout,
            sampling_callback=self._on_sampling,
            elicitation_callback=self._on_elicitation,
            logging_callback=self._on_log,
            message_handler=self._on_message,
            log_level="debug" if self.events is not None else None,
            cache=None,
        )

    # -- callbacks from the server ------------------------------------------------

    async def _on_sampling(
        self, context: ClientRequestContext, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult | types.ErrorData:
        return await answer_sampling(self.sampling_model, params)

    async def _on_elicitation(
        self, context: ClientRequestContext, params: types.ElicitRequestParams
    ) -> types.ElicitResult | types.ErrorData:
        run = _RUN_ELICITATION.get() if self.elicitation is None else None
        if run is None:
            return await answer_elicitation(self.name, self.elicitation, params)
        failed: list[Exception] = []

        async def handler(request: ElicitationRequest) -> ElicitationResponse:
            try:
                return await run(request)
            except Exception as exc:
                failed.append(exc)
                raise

        answer = await answer_elicitation(self.name, handler, params)
        client = self._client
        if failed and client is not None and _modern(client):
            # The request came within the caller's call_tool, which raises this for it.
            raise _HandlerRaised(failed[0])
        return answer

    async def _on_log(self, params: types.LoggingMessageNotificationParams) -> None:
        if self.events is not None:
            self.events(ServerLogMessage(server=self.name, level=params.level, data=params.data))

    async def _watch_tool_changes(self, client: mcp.Client) -> None:
        # From 2026-07-28 on, list changes arrive on a `subscriptions/listen` stream rather
        # than as unsolicited notifications; without it the cached tool list would go stale.
        tools = client.server_capabilities.tools
        if tools is None or not tools.list_changed:
            return
        try:
            async with client.listen(tools_list_changed=True) as subscription:
                async for _ in subscription:
                    self._tools = None
        except Exception:  # a server that drops the stream still serves calls
            return

    async def _on_message(self, message: IncomingMessage) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            self._tools = None
        await anyio.lowlevel.checkpoint()

    # -- requests -------------------------------------------------------------------

    async def _session(self) -> mcp.Client:
        client = self._client
        if client is not None:
            return client
        if self._group is None:
            raise UsageError(
                f"MCPToolset {self.name!r} is not open: use `async with MCPToolset...(...) as t:`."
            )
        if not self._dead:
            with anyio.fail_after(self.connect_timeout):
                await self._ready.wait()
        if self._client is None:
            raise MCPConnectionError(
                f"MCP server {self.name!r} stopped and was already restarted "
                f"{self.restarts} time(s): {self._failure or 'no reason known'}."
            )
        return self._client

    def _mark_down(self) -> None:
        """Forget the current connection; later requests wait for the owner to reconnect."""
        if self._client is not None or self._ready.is_set():
            self._client = None
            self._ready = anyio.Event()

    def _restart(self) -> None:
        self._mark_down()
        self._wake.set()

    async def list_tools(self) -> list[Tool]:
        """The server's tools, listed once and again after `tools/list_changed`."""
        tools = self._tools
        if tools is not None:
            return tools
        async with self._tools_lock:
            if self._tools is None:
                client = await self._session()
                specs: list[types.Tool] = []
                cursor: str | None = None
                for _ in range(100):
                    page = await client.list_tools(cursor=cursor, cache_mode="refresh")
                    specs.extend(page.tools)
                    cursor = page.next_cursor
                    if cursor is None:
                        break
                self._tools = [MCPTool(toolset=self, spec=s) for s in specs]
            return self._tools

    async def call_tool(
        self,
        name: str,
        arguments: dict[str, Any],
        *,
        context: RunContext[Any] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - becomes the MCP request's read timeout
    ) -> ToolResult:
        """Call a tool; a dead server, a timeout or a protocol error is an error result."""
        limit = timeout if timeout is not None else self.call_timeout
        generation = -1
        try:
            client = await self._session()
            generation = self._generation

            async def progress(progress: float, total: float | None, message: str | None) -> None:
                update = ProgressUpdate(
                    server=self.name,
                    tool=name,
                    progress=progress,
                    total=total,
                    message=message,
                    agent=context.agent if context else "",
                )
                for sink in (self.events, context.on_event if context else None):
                    if sink is not None:
                        sink(update)

            result = await client.call_tool(
                name, arguments, read_timeout_seconds=limit, progress_callback=progress
            )
        except mcp.MCPError as exc:
            return self._protocol_error(name, exc, limit, context)
        except (
            CoveyError,
            anyio.ClosedResourceError,
            anyio.BrokenResourceError,
            OSError,
            httpx2.HTTPError,
            ExceptionGroup,
        ) as exc:
            if (raised := _handler_error(exc)) is not None:
                raise raised from None
            return self._connection_lost(name, exc, generation, context)
        return to_tool_result(result)

    def _protocol_error(
        self, name: str, exc: mcp.MCPError, limit: float, context: RunContext[Any] | None
    ) -> ToolResult:
        if exc.code == types.REQUEST_TIMEOUT:
            text = (
                f"Tool {name!r} on server {self.name!r} did not answer within {limit:g}s and "
                "was cancelled. Try a smaller request, or another way."
            )
        elif exc.code == types.CONNECTION_CLOSED:
            return self._connection_lost(name, exc, self._generation, context)
        elif exc.code == types.INVALID_PARAMS:
            text = (
                f"Tool {name!r} on server {self.name!r} refused the call: {str(exc).rstrip('.')}."
            )
            return ToolResult(content=text, is_error=True, invalid_arguments=True)
        else:
            text = f"Tool {name!r} on server {self.name!r} failed: {str(exc).rstrip('.')}."
        return ToolResult(content=text, is_error=True)

    def _connection_lost(
        self, name: str, exc: BaseException, generation: int, context: RunContext[Any] | None
    ) -> ToolResult:
        if generation == self._generation:
            self._restart()
        will = self.restarts < self.max_restarts and not self._stopping
        stopped = ServerStopped(
            server=self.name,
            tool=name,
            reason=_describe(exc),
            restarting=will,
            agent=context.agent if context else "",
        )
        for sink in (self.events, context.on_event if context else None):
            if sink is not None:
                sink(stopped)
        text = (
            f"The MCP server {self.name!r} stopped while running tool {name!r} "
            f"({_describe(exc)}). "
            + (
                "It is being restarted: call the tool again if it is still needed."
                if will
                else "It cannot be restarted again: do without this tool."
            )
        )
        return ToolResult(content=text, is_error=True)

    # -- resources and prompts ---------------------------------------------------------

    async def list_resources(self) -> list[types.Resource]:
        """The server's resources."""
        client = await self._session()
        return list((await client.list_resources()).resources)

    async def read_resource(self, uri: str) -> str:
        """A resource's contents, as text (binary contents are described, not decoded)."""
        client = await self._session()
        result = await client.read_resource(uri)
        parts: list[str] = []
        for item in result.contents:
            text = getattr(item, "text", None)
            parts.append(text if isinstance(text, str) else f"[binary {item.mime_type}]")
        return "\n".join(parts)

    async def list_prompts(self) -> list[types.Prompt]:
        """The server's prompts."""
        client = await self._session()
        return list((await client.list_prompts()).prompts)

    async def get_prompt(self, name: str, arguments: Mapping[str, str] | None = None) -> str:
        """A prompt rendered by the server, as text (one message per paragraph)."""
        client = await self._session()
        result = await client.get_prompt(name, dict(arguments or {}))
        texts = [getattr(m.content, "text", "") for m in result.messages]
        return "\n\n".join(t for t in texts if t)

    def __repr__(self) -> str:
        return f"MCPToolset({self.name!r}, {self._target.describe()!r})"


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
                    headers=self._headers, timeout=httpx2.Timeout(self._timeout, read=None)
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


def _modern(client: mcp.Client) -> bool:
    return client.protocol_version in MODERN_PROTOCOL_VERSIONS


def _http_name(url: str) -> str:
    netloc = url.split("//", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
    return _short(netloc.replace(".", "_").replace(":", "_"))


def _stdio_name(command: str, args: Sequence[str]) -> str:
    if "-m" in args[:-1]:
        return _short(args[list(args).index("-m") + 1])
    first = next((a for a in args if not a.startswith("-")), command)
    return _short(first.rsplit("/", 1)[-1].removesuffix(".py"))


def _short(text: str) -> str:
    tail = text.rstrip("/").rsplit("/", 1)[-1].rsplit(".", 1)[-1]
    cleaned = "".join(c if c.isalnum() or c in "_-" else "_" for c in tail)
    return cleaned[:32] or "mcp"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        group = cast(BaseExceptionGroup[BaseException], exc)
        return _describe(group.exceptions[0]) if group.exceptions else "ExceptionGroup"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
