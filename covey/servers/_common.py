"""What every bundled server shares: the server class, results, errors, options and `main`.

A new server builds a `BundledServer`, registers tools with `hints(...)` annotations,
returns `text_result(...)` / `structured_result(...)` or a typed dict, raises
`ToolError` (or `bad_argument(...)`) for anything the caller got wrong, and ends with
`return run_main(build, parser, argv)`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INVALID_PARAMS,
    CallToolResult,
    GetPromptResult,
    InputRequiredResult,
    TextContent,
    ToolAnnotations,
)
from pydantic import ValidationError
from typing_extensions import TypedDict  # pydantic needs it for TypedDicts before 3.12

__all__ = [
    "TOKEN_ENV",
    "BundledServer",
    "HTTPOptions",
    "SetupError",
    "TextOutput",
    "TextResult",
    "ToolError",
    "add_transport_arguments",
    "bad_argument",
    "hints",
    "http_options",
    "run_main",
    "structured_result",
    "text_result",
]

TOKEN_ENV = "COVEY_SERVER_TOKEN"
"""Environment variable holding the bearer token HTTP mode requires (`--token` wins)."""

_SHOWN_INPUT = 60
"""Characters of a rejected value quoted back in an error: enough to recognise it."""


class SetupError(Exception):
    """A server cannot start as configured; `run_main` prints it as one line and exits 2."""


class TextOutput(TypedDict):
    """The structured form of a text result, as the reference MCP servers publish it."""

    content: str


TextResult = Annotated[CallToolResult, TextOutput]
"""Return annotation of a tool whose result is text: output schema `{content: string}`."""


def text_result(text: str) -> CallToolResult:
    """A result the model reads as plain text, mirrored as `{"content": text}`."""
    return CallToolResult(content=[TextContent(text=text)], structured_content={"content": text})


def structured_result(text: str, data: Mapping[str, Any]) -> CallToolResult:
    """A result with readable text for the model and structured data for programs."""
    return CallToolResult(content=[TextContent(text=text)], structured_content=dict(data))


def hints(
    *,
    read_only: bool,
    destructive: bool = False,
    idempotent: bool = False,
    open_world: bool = False,
    title: str | None = None,
) -> ToolAnnotations:
    """Tool annotations with every hint set, so no client falls back to its worst-case default."""
    return ToolAnnotations(
        title=title,
        read_only_hint=read_only,
        destructive_hint=destructive and not read_only,
        idempotent_hint=idempotent or read_only,
        open_world_hint=open_world,
    )


def _covey_version() -> str:
    try:
        return metadata.version("covey")
    except metadata.PackageNotFoundError:
        return "0"


def bad_argument(name: str, problem: str, fix: str) -> ToolError:
    """A tool error naming the argument, what is wrong with it and how to fix it.

    Example:
        `raise bad_argument("time", "'25:00' is not a time", "Use HH:MM, 24-hour.")`
    """
    return ToolError(f"Bad argument '{name}': {problem}. {fix}")


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN_INPUT else text[:_SHOWN_INPUT] + "...(truncated)"


def _type_name(spec: Mapping[str, Any]) -> str:
    if "type" in spec:
        return str(spec["type"])
    options: list[Mapping[str, Any]] = spec.get("anyOf", [])
    names = [
        str(option.get("type", "object")) for option in options if option.get("type") != "null"
    ]
    return " or ".join(names) or "any"


def _describe_validation(
    tool: str, error: ValidationError, arguments: Mapping[str, Any], schema: Mapping[str, Any]
) -> str:
    """Turn pydantic's report into one message a model can act on."""
    problems: list[str] = []
    for item in error.errors(include_url=False)[:10]:
        where = ".".join(str(part) for part in item["loc"]) or "arguments"
        problem = f"{where}: {item['msg']}"
        if item["type"] != "missing":
            problem += f" (got {_shown(item['input'])})"
        problems.append(problem)
    properties: Mapping[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", ()))
    unexpected = sorted(set(arguments) - set(properties))
    if unexpected:
        problems.append("unexpected argument(s): " + ", ".join(_shown(k) for k in unexpected[:10]))
    expected = ", ".join(
        f"{key} ({_type_name(spec)}{', required' if key in required else ''})"
        for key, spec in properties.items()
    )
    return (
        f"Invalid arguments for tool '{tool}': {'; '.join(problems)}. "
        f"Call it again with arguments matching its input schema: {expected or 'none'}."
    )


class BundledServer(MCPServer[Any]):
    """An `MCPServer` that answers unknown tools and prompts with `-32602`, explains bad arguments.

    The SDK reports an unknown tool as a tool error; the MCP spec asks for a protocol error
    (invalid params), which also lets clients tell "no such tool" from "the tool failed".
    """

    def __init__(self, name: str, *, instructions: str, version: str | None = None) -> None:
        """A server called `name`; `version` defaults to covey's."""
        super().__init__(
            name,
            instructions=instructions,
            version=version if version is not None else _covey_version(),
            log_level="WARNING",
        )
        self._cleanups: list[Callable[[], Awaitable[None]]] = []

    def add_cleanup(self, close: Callable[[], Awaitable[None]]) -> None:
        """Run `close()` when the server stops (last added, first run), e.g. to close a store."""
        self._cleanups.append(close)

    async def aclose(self) -> None:
        """Run the cleanups added with `add_cleanup`; `run_main` calls it on every stop."""
        while self._cleanups:
            await self._cleanups.pop()()

    async def call_tool(
        self,
        name: str,
        arguments: dict[str, Any],
        context: Context[Any, Any] | None = None,
    ) -> CallToolResult | InputRequiredResult:
        """Call a tool; unknown names are `-32602`, invalid arguments a clear tool error."""
        tools = {tool.name: tool for tool in await self.list_tools()}
        tool = tools.get(name)
        if tool is None:
            known = ", ".join(sorted(tools))
            raise MCPError(
                code=INVALID_PARAMS,
                message=f"Unknown tool: {_shown(name)}. This server's tools are: {known}.",
            )
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(exc, UnexpectedToolError) or not isinstance(cause, ValidationError):
                raise
            message = _describe_validation(name, cause, arguments, tool.input_schema)
            raise ToolError(message) from cause

    async def get_prompt(
        self,
        name: str,
        arguments: dict[str, Any] | None = None,
        context: Context[Any, Any] | None = None,
    ) -> GetPromptResult | InputRequiredResult:
        """Render a prompt; an unknown name is `-32602` (the SDK answers an internal error)."""
        known = sorted(prompt.name for prompt in await self.list_prompts())
        if name not in known:
            listed = ", ".join(known) or "none"
            message = f"Unknown prompt: {_shown(name)}. This server's prompts: {listed}."
            raise MCPError(code=INVALID_PARAMS, message=message)
        return await super().get_prompt(name, arguments, context)


@dataclass(kw_only=True, slots=True, frozen=True)
class HTTPOptions:
    """How to serve over streamable HTTP."""

    host: str
    """Address to bind; 127.0.0.1 unless asked otherwise."""
    port: int
    """Port to bind; 0 picks a free one (the URL printed on stdout names it)."""
    token: str | None = None
    """Bearer token every request must carry, or None for none."""
    allowed_hosts: tuple[str, ...] = field(default_factory=tuple)
    """Extra host names accepted in the `Host` header (the bind address always is)."""
    allowed_origins: tuple[str, ...] = field(default_factory=tuple)
    """Extra `Origin` values accepted (the server's own origin always is)."""


def add_transport_arguments(parser: argparse.ArgumentParser) -> None:
    """Add `--http`, `--token`, `--allow-host` and `--allow-origin` to a server's parser."""
    group = parser.add_argument_group("transport (stdio unless --http is given)")
    group.add_argument(
        "--http",
        metavar="HOST:PORT",
        help="serve streamable HTTP at http://HOST:PORT/mcp (PORT 0 picks a free port; "
        "the URL is printed on stdout once the server accepts connections)",
    )
    group.add_argument(
        "--token",
        help=f"bearer token HTTP clients must send (default: ${TOKEN_ENV}; prefer the "
        "variable, command lines are visible to other users)",
    )
    group.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also accept this Host name (repeatable; for servers reached by a DNS name)",
    )
    group.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="URL",
        help="also accept requests from this browser Origin, e.g. http://localhost:6274",
    )


def _parse_address(text: str) -> tuple[str, int]:
    host, sep, port_text = text.rpartition(":")
    if not sep:
        host, port_text = "127.0.0.1", text
    host = host.strip("[]") or "127.0.0.1"
    if not port_text.isdigit() or int(port_text) > 65535:
        raise SetupError(
            f"--http {text!r}: expected HOST:PORT with PORT 0-65535, e.g. 127.0.0.1:8000"
        )
    return host, int(port_text)


def http_options(args: argparse.Namespace, environ: Mapping[str, str]) -> HTTPOptions | None:
    """The HTTP options the parsed arguments ask for, or None to serve stdio.

    Raises:
        SetupError: `--http` is malformed, or the token is empty.
    """
    address: str | None = args.http
    if address is None:
        return None
    host, port = _parse_address(address)
    token: str | None = args.token if args.token is not None else environ.get(TOKEN_ENV) or None
    if token is not None and not token.strip():
        raise SetupError("--token is empty: pass a non-empty token or leave it out")
    return HTTPOptions(
        host=host,
        port=port,
        token=token,
        allowed_hosts=tuple(args.allow_host),
        allowed_origins=tuple(args.allow_origin),
    )


async def _serve(server: MCPServer[Any], options: HTTPOptions | None) -> None:
    try:
        if options is None:
            await server.run_stdio_async()
            return
        from ._http import serve_http  # only HTTP mode pays for uvicorn

        await serve_http(server, options)
    finally:
        if isinstance(server, BundledServer):
            with anyio.CancelScope(shield=True), anyio.move_on_after(10):
                await server.aclose()


def run_main(
    build: Callable[[argparse.Namespace], MCPServer[Any]],
    parser: argparse.ArgumentParser,
    argv: Sequence[str] | None,
) -> int:
    """Parse arguments, build the server and serve it until stdin closes or a signal arrives.

    Args:
        build: Makes the server from the parsed arguments; raises `SetupError` on bad ones.
        parser: The server's parser, with `add_transport_arguments` already applied.
        argv: Arguments without the program name; None reads `sys.argv`.

    Returns:
        The process exit code: 0 after a clean stop, 2 when the server cannot start.
    """
    args = parser.parse_args(argv)
    try:
        options = http_options(args, os.environ)
        server = build(args)
        anyio.run(_serve, server, options)
    except SetupError as exc:
        print(f"{parser.prog}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0
