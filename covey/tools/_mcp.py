"""MCP servers as toolsets, over stdio or streamable HTTP, on the `mcp` 2.x client.

This module is the surface: tools, resources and prompts, and how a failed call reads to
the model. The connection itself (owner task, states, restarts) is `_mcp_connection`; the
server's requests during a call (sampling, elicitation) are `_mcp_requests`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

import anyio
import mcp
import mcp_types as types
from mcp.client.session import ClientRequestContext, IncomingMessage
from mcp.client.stdio import StdioServerParameters
from mcp.shared.dispatcher import ProgressFnT
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from .._errors import UsageError
from ..models import ModelClient
from ._base import RunContext, Tool, ToolResult
from ._elicitation import ElicitationHandler, answering_elicitations
from ._events import ProgressUpdate, ServerLogMessage, ServerStopped, ToolEvent, ToolEventSink
from ._mcp_connection import (
    ConnectionState,
    MCPConnection,
    MCPConnectionError,
    Target,
    connection_failure,
    describe,
)
from ._mcp_convert import to_tool_result
from ._mcp_requests import ServerRequests, handler_error
from ._mcp_tool import MCPTool, all_tools, http_name, stdio_name

__all__ = ["MCPToolset", "MCPTool", "MCPConnectionError", "answering_elicitations"]

T = TypeVar("T")


class MCPToolset:
    """The tools of one MCP server, shared by every agent that is given it.

    A server's sampling requests are answered by `sampling_model` when given, else by the
    model of the agent whose call made them.

    Example:
        ```python
        async with MCPToolset.stdio("python", ["-m", "covey.servers.files", "--root", "."]) as fs:
            agent = Agent("clerk", model, tools=[fs])
        ```
    """

    def __init__(
        self,
        target: Target,
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
        self.name = name
        self.request_timeout = request_timeout
        self.call_timeout = call_timeout
        self.events = events
        self.approve_destructive = approve_destructive
        self._target = target
        self._requests = ServerRequests(
            name, sampling_model=sampling_model, elicitation=elicitation
        )
        self._connection = MCPConnection(
            name=name,
            target=target,
            make_client=self._make_client,
            watch=self._watch_tool_changes,
            connect_timeout=connect_timeout,
            max_restarts=max_restarts,
        )
        self._tools: list[Tool] | None = None
        self._tools_generation = 0
        self._tools_lock = anyio.Lock()

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
        return cls(Target(stdio=params), name=name or stdio_name(command, args), **options)

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
        return cls(Target(url=url, headers=headers), name=name or http_name(url), **options)

    # -- settings kept by the parts that use them ------------------------------------------

    @property
    def sampling_model(self) -> ModelClient | None:
        """Answers every sampling request of this server (else the calling agent's model)."""
        return self._requests.sampling_model

    @sampling_model.setter
    def sampling_model(self, model: ModelClient | None) -> None:
        self._requests.sampling_model = model

    @property
    def elicitation(self) -> ElicitationHandler | None:
        """Answers this server's requests for user input (else the run's handler)."""
        return self._requests.elicitation

    @elicitation.setter
    def elicitation(self, handler: ElicitationHandler | None) -> None:
        self._requests.elicitation = handler

    @property
    def connect_timeout(self) -> float:
        """Seconds to wait for the server to start and answer."""
        return self._connection.connect_timeout

    @property
    def max_restarts(self) -> int:
        """Times the server is restarted after it stops."""
        return self._connection.max_restarts

    @property
    def restarts(self) -> int:
        """Times the server was restarted after it stopped."""
        return self._connection.restarts

    @property
    def state(self) -> ConnectionState:
        """Where the connection is: connecting, ready, lost, failed, closed..."""
        return self._connection.state

    # -- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self._connection.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._connection.close()

    def _make_client(self) -> mcp.Client:
        return mcp.Client(
            self._target.transport(self.request_timeout),
            read_timeout_seconds=self.request_timeout,
            sampling_callback=self._on_sampling,
            elicitation_callback=self._on_elicitation,
            logging_callback=self._on_log,
            message_handler=self._on_message,
            log_level="debug" if self.events is not None else None,
            cache=None,
        )

    # -- what the server sends ------------------------------------------------------------

    async def _on_sampling(
        self, context: ClientRequestContext, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult | types.ErrorData:
        return await self._requests.sampling(params)

    async def _on_elicitation(
        self, context: ClientRequestContext, params: types.ElicitRequestParams
    ) -> types.ElicitResult | types.ErrorData:
        within_call = context.session.protocol_version in MODERN_PROTOCOL_VERSIONS
        return await self._requests.elicitation_for(params, within_call=within_call)

    async def _on_log(self, params: types.LoggingMessageNotificationParams) -> None:
        if self.events is not None:
            self.events(ServerLogMessage(server=self.name, level=params.level, data=params.data))

    async def _on_message(self, message: IncomingMessage) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            self._tools = None
        await anyio.lowlevel.checkpoint()

    async def _watch_tool_changes(self, client: mcp.Client) -> None:
        # From 2026-07-28 on, list changes arrive on a `subscriptions/listen` stream rather
        # than as unsolicited notifications; without it the cached tool list would go stale.
        tools = client.server_capabilities.tools
        if client.protocol_version not in MODERN_PROTOCOL_VERSIONS:
            return
        if tools is None or not tools.list_changed:
            return
        try:
            async with client.listen(tools_list_changed=True) as subscription:
                async for _ in subscription:
                    self._tools = None
        except Exception:  # a server that drops the stream still serves calls
            return

    # -- requests ---------------------------------------------------------------------------

    async def _read(self, request: Callable[[mcp.Client], Awaitable[T]]) -> T:
        """Send a request that is safe to repeat; once more on a fresh session if it broke."""
        client, generation = await self._connection.acquire()
        try:
            return await request(client)
        except Exception as exc:
            if not connection_failure(exc):
                raise
            self._connection.lose(generation, exc)
        client, _ = await self._connection.acquire()
        return await request(client)

    async def list_tools(self) -> list[Tool]:
        """The server's tools, listed once per session and again after `tools/list_changed`."""
        tools = self._tools
        if tools is not None and self._tools_generation == self._connection.generation:
            return tools
        async with self._tools_lock:
            if self._tools is None or self._tools_generation != self._connection.generation:
                specs = await self._read(all_tools)
                self._tools = [MCPTool(toolset=self, spec=s) for s in specs]
                self._tools_generation = self._connection.generation
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
        try:
            client, generation = await self._connection.acquire()
        except MCPConnectionError as exc:
            return self._unavailable(name, exc, context)
        try:
            with self._requests.calling(context.model if context else None):
                result = await client.call_tool(
                    name,
                    arguments,
                    read_timeout_seconds=limit,
                    progress_callback=self._progress(name, context),
                )
        except Exception as exc:
            if (raised := handler_error(exc)) is not None:
                raise raised from None
            if connection_failure(exc):
                self._connection.lose(generation, exc)
                return self._stopped(name, exc, context)
            if isinstance(exc, mcp.MCPError):
                return self._protocol_error(name, exc, limit)
            text = f"Tool {name!r} on server {self.name!r} failed in the client: {describe(exc)}"
            return ToolResult(content=text, is_error=True)
        return to_tool_result(result)

    def _progress(self, tool: str, context: RunContext[Any] | None) -> ProgressFnT:
        async def progress(progress: float, total: float | None, message: str | None) -> None:
            update = ProgressUpdate(
                server=self.name,
                tool=tool,
                progress=progress,
                total=total,
                message=message,
                agent=context.agent if context else "",
            )
            self._emit(update, context)

        return progress

    def _emit(self, event: ToolEvent, context: RunContext[Any] | None) -> None:
        for sink in (self.events, context.on_event if context else None):
            if sink is not None:
                sink(event)

    def _protocol_error(self, name: str, exc: mcp.MCPError, limit: float) -> ToolResult:
        if exc.code == types.REQUEST_TIMEOUT:
            text = (
                f"Tool {name!r} on server {self.name!r} did not answer within {limit:g}s and "
                "was cancelled. Try a smaller request, or another way."
            )
        elif exc.code == types.INVALID_PARAMS:
            text = (
                f"Tool {name!r} on server {self.name!r} refused the call: {str(exc).rstrip('.')}."
            )
            return ToolResult(content=text, is_error=True, invalid_arguments=True)
        else:
            text = f"Tool {name!r} on server {self.name!r} failed: {str(exc).rstrip('.')}."
        return ToolResult(content=text, is_error=True)

    def _report_stop(self, name: str, reason: str, context: RunContext[Any] | None) -> bool:
        restarting = self.state not in (ConnectionState.FAILED, ConnectionState.CLOSED)
        stopped = ServerStopped(
            server=self.name,
            tool=name,
            reason=reason,
            restarting=restarting,
            agent=context.agent if context else "",
        )
        self._emit(stopped, context)
        return restarting

    def _stopped(
        self, name: str, exc: BaseException, context: RunContext[Any] | None
    ) -> ToolResult:
        restarting = self._report_stop(name, describe(exc), context)
        text = (
            f"The MCP server {self.name!r} stopped while running tool {name!r} "
            f"({describe(exc)}). "
            + (
                "It is being restarted: call the tool again if it is still needed."
                if restarting
                else "It cannot be restarted again: do without this tool."
            )
        )
        return ToolResult(content=text, is_error=True)

    def _unavailable(
        self, name: str, exc: MCPConnectionError, context: RunContext[Any] | None
    ) -> ToolResult:
        restarting = self._report_stop(name, str(exc), context)
        advice = "Call it again later if it is still needed." if restarting else "Do without it."
        text = f"Tool {name!r} is not available: {str(exc).rstrip('.')}. {advice}"
        return ToolResult(content=text, is_error=True)

    # -- resources and prompts ---------------------------------------------------------------

    async def list_resources(self) -> list[types.Resource]:
        """The server's resources."""
        return list((await self._read(lambda c: c.list_resources())).resources)

    async def read_resource(self, uri: str) -> str:
        """A resource's contents, as text (binary contents are described, not decoded)."""
        result = await self._read(lambda c: c.read_resource(uri))
        parts: list[str] = []
        for item in result.contents:
            text = getattr(item, "text", None)
            parts.append(text if isinstance(text, str) else f"[binary {item.mime_type}]")
        return "\n".join(parts)

    async def list_prompts(self) -> list[types.Prompt]:
        """The server's prompts."""
        return list((await self._read(lambda c: c.list_prompts())).prompts)

    async def get_prompt(self, name: str, arguments: Mapping[str, str] | None = None) -> str:
        """A prompt rendered by the server, as text (one message per paragraph)."""
        result = await self._read(lambda c: c.get_prompt(name, dict(arguments or {})))
        texts = [getattr(m.content, "text", "") for m in result.messages]
        return "\n\n".join(t for t in texts if t)

    def __repr__(self) -> str:
        return f"MCPToolset({self.name!r}, {self._target.describe()!r})"
