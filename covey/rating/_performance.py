"""Performance: start-to-ready time, calls per second of a read-only tool, server memory."""

from __future__ import annotations

import time

import anyio
from mcp_types import Tool

from ._arguments import valid_arguments
from ._context import DimensionDraft, RateContext

__all__ = ["SLOW_START_S", "check_performance"]

SLOW_START_S = 10.0
"""A server that takes longer than this to become ready gets a low finding."""
LARGE_MEMORY_MB = 500.0
SLOW_CALLS_PER_S = 5.0
_WINDOW_S = 2.0
_MAX_CALLS = 200


async def check_performance(ctx: RateContext, draft: DimensionDraft) -> None:
    """Measure; findings only for slow starts, slow calls and large memory."""
    if ctx.conn.ready_s is not None:
        ready = ctx.conn.ready_s
        draft.measurements["ready_s"] = round(ready, 3)
        if ready > SLOW_START_S:
            draft.failed(
                "performance.slow_start",
                "low",
                f"the server took {ready:.1f}s to start and answer the handshake "
                f"(over {SLOW_START_S:g}s)",
                received=round(ready, 3),
            )
    await _throughput(ctx, draft)
    if ctx.conn.process is not None:
        memory = ctx.conn.rss_bytes() / 2**20
        draft.measurements["memory_mb"] = round(memory, 1)
        if memory > LARGE_MEMORY_MB:
            draft.failed(
                "performance.memory",
                "low",
                f"the server's processes hold {memory:.0f} MB (over {LARGE_MEMORY_MB:g})",
                received=round(memory, 1),
            )
    else:
        draft.notes.append("memory is measured only for servers the rater starts (stdio)")


async def _throughput(ctx: RateContext, draft: DimensionDraft) -> None:
    for tool in ctx.tools:
        if tool.annotations is None or not tool.annotations.read_only_hint:
            continue
        if (rate := await _calls_per_second(ctx, tool)) is not None:
            draft.measurements["calls_per_s"] = round(rate, 1)
            draft.checks.append(f"measured: {rate:.1f} calls/s of {tool.name}, one at a time")
            if rate < SLOW_CALLS_PER_S:
                draft.failed(
                    "performance.slow_calls",
                    "low",
                    f"{tool.name} answered {rate:.1f} calls/s (under {SLOW_CALLS_PER_S:g})",
                    tool=tool.name,
                    received=round(rate, 1),
                )
            return
    draft.notes.append("no read-only tool answered a plausible call, so calls/s was not measured")


async def _calls_per_second(ctx: RateContext, tool: Tool) -> float | None:
    arguments = valid_arguments(tool.input_schema)
    if (await ctx.call(tool.name, arguments)).kind != "result":
        return None
    calls = 0
    started = time.monotonic()
    with anyio.move_on_after(_WINDOW_S * 2):
        while calls < _MAX_CALLS and time.monotonic() - started < _WINDOW_S:
            if (await ctx.call(tool.name, arguments)).kind != "result":
                return None
            calls += 1
    return calls / max(time.monotonic() - started, 1e-6)
