"""One tool of an MCP server, and the names toolsets get by default."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import mcp
import mcp_types as types

from ..models import ToolDefinition
from ._base import RunContext, ToolResult

if TYPE_CHECKING:
    from ._mcp import MCPToolset

__all__ = ["MCPTool", "all_tools", "http_name", "stdio_name"]


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


async def all_tools(client: mcp.Client) -> list[types.Tool]:
    """Every page of the server's tool list (at most 100 pages)."""
    specs: list[types.Tool] = []
    cursor: str | None = None
    for _ in range(100):
        page = await client.list_tools(cursor=cursor, cache_mode="refresh")
        specs.extend(page.tools)
        cursor = page.next_cursor
        if cursor is None:
            break
    return specs


def http_name(url: str) -> str:
    """A toolset name from a server URL's host and port."""
    netloc = url.split("//", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
    return _short(netloc.replace(".", "_").replace(":", "_"))


def stdio_name(command: str, args: Sequence[str]) -> str:
    """A toolset name from a server's command line (its module or script name)."""
    if "-m" in args[:-1]:
        return _short(args[list(args).index("-m") + 1])
    first = next((a for a in args if not a.startswith("-")), command)
    return _short(first.rsplit("/", 1)[-1].removesuffix(".py"))


def _short(text: str) -> str:
    tail = text.rstrip("/").rsplit("/", 1)[-1].rsplit(".", 1)[-1]
    cleaned = "".join(c if c.isalnum() or c in "_-" else "_" for c in tail)
    return cleaned[:32] or "mcp"
