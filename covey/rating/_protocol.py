"""Protocol checks: both protocol eras, listings and their pages, unknown tools, cancellation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from ._calls import shorten
from ._context import DimensionDraft, RateContext
from ._session import describe

__all__ = ["MAX_PAGES", "check_protocol", "connect_both_eras"]

Fetch = Callable[[str | None], Awaitable[Any]]
"""Fetches one page of a listing, given its cursor."""

MAX_PAGES = 50
"""Most pages of one listing the rater follows."""


async def connect_both_eras(ctx: RateContext, draft: DimensionDraft) -> list[str]:
    """Connect with the initialize handshake, then with discovery; leaves a session open.

    Returns the protocol versions spoken. Raises the last error if neither era connects.
    """
    versions: list[str] = []
    failure: BaseException | None = None
    for mode in ("legacy", "auto"):
        try:
            client = await ctx.conn.open(mode)
        except Exception as exc:  # any failure to connect is a finding, with its message
            failure = exc
            what = "initialize handshake (2025-11-25 era)" if mode == "legacy" else "discovery"
            draft.failed(
                f"protocol.connect.{mode}",
                "critical" if mode == "legacy" else "medium",
                f"the {what} failed: {describe(exc)}",
                sent={"mode": mode},
                received=ctx.conn.exit_note() or ctx.conn.stderr_tail(),
            )
            continue
        versions.append(client.protocol_version)
        draft.passed(f"connects with mode={mode}: protocol {client.protocol_version}")
    if not versions:
        assert failure is not None
        raise failure
    if not any(v in MODERN_PROTOCOL_VERSIONS for v in versions):
        draft.failed(
            "protocol.modern_era",
            "low",
            f"speaks only the handshake era ({', '.join(sorted(set(versions)))}); "
            f"no server/discover for {', '.join(MODERN_PROTOCOL_VERSIONS)}",
            sent="server/discover",
            received=versions,
        )
    if ctx.conn.client_or_none() is None:
        await ctx.conn.open("legacy")
    return sorted(set(versions))


async def _pages(draft: DimensionDraft, what: str, fetch: Fetch) -> list[Any] | None:
    """Every item of a paginated listing; a finding and None when it fails or loops."""
    items: list[Any] = []
    cursor: str | None = None
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        try:
            page = await fetch(cursor)
        except MCPError as exc:
            draft.failed(
                f"protocol.{what}",
                "high",
                f"{what}/list failed: {exc}",
                sent={"cursor": cursor},
                received=str(exc),
            )
            return None
        items.extend(getattr(page, what))
        cursor = page.next_cursor
        if cursor is None:
            draft.passed(f"{what}/list: {len(items)} {what}")
            return items
        if cursor in seen:
            draft.failed(
                f"protocol.{what}.pagination",
                "medium",
                f"{what}/list returned the cursor {cursor!r} twice",
                received=cursor,
            )
            return items
        seen.add(cursor)
    draft.failed(
        f"protocol.{what}.pagination",
        "medium",
        f"{what}/list had more than {MAX_PAGES} pages",
        received=len(items),
    )
    return items


async def _listing(ctx: RateContext, draft: DimensionDraft, what: str, fetch: Fetch) -> list[Any]:
    """`_pages` within a bound; a listing that hangs is a critical finding."""
    limit = ctx.options.call_timeout * 4
    with anyio.move_on_after(limit) as scope:
        return await _pages(draft, what, fetch) or []
    if scope.cancelled_caught:
        draft.failed(
            f"protocol.{what}.hang",
            "critical",
            f"{what}/list did not finish within {limit:g}s",
            sent=f"{what}/list",
        )
        await ctx.restart()
    return []


async def check_protocol(ctx: RateContext, draft: DimensionDraft) -> None:
    """The listings, an unknown tool, a cancelled call; fills `ctx.tools`."""
    client = ctx.conn.client
    ctx.tools = await _listing(
        ctx, draft, "tools", lambda c: client.list_tools(cursor=c, cache_mode="bypass")
    )
    capabilities = client.server_capabilities
    if capabilities.resources is not None:
        await _listing(
            ctx, draft, "resources", lambda c: client.list_resources(cursor=c, cache_mode="bypass")
        )
    if capabilities.prompts is not None:
        await _listing(
            ctx, draft, "prompts", lambda c: client.list_prompts(cursor=c, cache_mode="bypass")
        )
    await _unknown_tool(ctx, draft)
    await _cancellation(ctx, draft)


async def _unknown_tool(ctx: RateContext, draft: DimensionDraft) -> None:
    name = "covey_rate_no_such_tool"
    outcome = await ctx.call(name, {})
    sent = {"method": "tools/call", "name": name}
    if outcome.kind == "protocol_error" and outcome.code == INVALID_PARAMS:
        draft.passed("an unknown tool is a -32602 error")
        return
    severity = "critical" if outcome.kind in ("crash", "hang") else "low"
    draft.failed(
        "protocol.unknown_tool",
        severity,
        f"an unknown tool was answered with {_shown(outcome.kind, outcome.code)}, "
        "not the protocol error -32602",
        sent=sent,
        received=shorten(outcome.text),
    )
    if outcome.kind in ("crash", "hang"):
        await ctx.restart()


def _shown(kind: str, code: int | None) -> str:
    return kind.replace("_", " ") + (f" {code}" if code is not None else "")


async def _cancellation(ctx: RateContext, draft: DimensionDraft) -> None:
    """A call cancelled at once leaves the server answering the next request."""
    client: Client = ctx.conn.client
    tool = next((t for t in ctx.tools if (t.annotations and t.annotations.read_only_hint)), None)
    name = tool.name if tool else "covey_rate_no_such_tool"
    with anyio.move_on_after(0.01):
        try:
            await client.call_tool(name, {})
        except MCPError:
            pass
    try:
        with anyio.fail_after(ctx.options.call_timeout):
            await client.list_tools(cache_mode="bypass")
    except (TimeoutError, MCPError) as exc:
        draft.failed(
            "protocol.cancellation",
            "high",
            "after a cancelled call the server no longer answered tools/list",
            tool=name,
            sent={"cancelled": name},
            received=f"{type(exc).__name__}: {exc}",
        )
        await ctx.restart()
        return
    draft.passed(f"answers after a cancelled call of {name}")
