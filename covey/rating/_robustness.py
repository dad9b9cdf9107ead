"""Robustness: malformed calls per tool, then a valid one; crashes, hangs and error quality.

Each tool gets its malformed calls, then a plausible valid call. The server must answer each
malformed call with a tool error (a result is fine when the call may be valid after all), never
crash, hang or answer with a protocol error, and must still answer after. A crash or hang is
recorded with its input; the server is restarted (stdio) and the next tool is tried.
"""

from __future__ import annotations

import re
from collections import defaultdict

import anyio
from mcp_types import INVALID_PARAMS, Tool

from ._arguments import Malformed, malformed_calls, valid_arguments
from ._calls import Outcome, shorten
from ._context import DimensionDraft, RateContext
from ._definitions import structured_without_schema
from .models import Severity

__all__ = ["check_robustness"]

_SAYS_WHAT = re.compile(
    r"requir|missing|expect|invalid|must|type|not (a|an) |too (long|large|big|deep)|"
    r"exceed|unexpected|unknown|allowed|valid|field|argument|parameter|limit",
    re.IGNORECASE,
)


async def check_robustness(ctx: RateContext, draft: DimensionDraft, defs: DimensionDraft) -> None:
    """Every listed tool in turn, until the rating is stopped (a server that cannot restart)."""
    for tool in ctx.tools:
        if ctx.stopped_because is not None:
            draft.notes.append(f"not rated past {tool.name}: {ctx.stopped_because}")
            return
        await _rate_tool(ctx, draft, defs, tool)


async def _rate_tool(
    ctx: RateContext, draft: DimensionDraft, defs: DimensionDraft, tool: Tool
) -> None:
    calls = malformed_calls(tool, ctx.options.malformed_calls, ctx.options.seed)
    seen: dict[str, list[tuple[Malformed, Outcome]]] = defaultdict(list)
    for call in calls:
        outcome = await ctx.call(tool.name, call.arguments)
        seen[_verdict(call, outcome)].append((call, outcome))
        if outcome.kind in ("crash", "hang"):
            break
    if "hang" in seen and await _still_answers(ctx):
        seen["hang_alone"] = seen.pop("hang")
    _report(draft, tool, seen, len(calls))
    if "crash" in seen or "hang" in seen:
        if not await ctx.restart():
            ctx.stopped_because = ctx.stopped_because or _stop_reason(ctx, seen)
            return
    await _valid_call(ctx, draft, defs, tool)


async def _still_answers(ctx: RateContext) -> bool:
    """Whether the server still answers tools/list after a call hung."""
    with anyio.move_on_after(min(ctx.options.call_timeout, 5.0)):
        try:
            await ctx.conn.client.list_tools(cache_mode="bypass")
        except Exception:  # any failure means it does not answer
            return False
        return True
    return False


def _stop_reason(ctx: RateContext, seen: dict[str, list[tuple[Malformed, Outcome]]]) -> str:
    what = "crashed" if "crash" in seen else "hung"
    if ctx.conn.process is None:
        return f"the server {what} and an HTTP server cannot be restarted by the rater"
    return f"the server {what} and was restarted {ctx.options.max_restarts} times already"


def _verdict(call: Malformed, outcome: Outcome) -> str:
    if outcome.kind in ("crash", "hang"):
        return outcome.kind
    if outcome.kind == "protocol_error":
        return "invalid_params" if outcome.code == INVALID_PARAMS else "protocol_error"
    if outcome.kind == "result":
        return "ok" if call.may_be_valid else "accepted"
    vague = not call.may_be_valid and not _SAYS_WHAT.search(outcome.text)
    return "vague" if vague else "ok"


_FINDINGS: dict[str, tuple[str, Severity, str]] = {
    "crash": ("robustness.crash", "critical", "crashed on a {kind} call"),
    "hang": (
        "robustness.hang",
        "critical",
        "did not answer a {kind} call, and then answered nothing at all",
    ),
    "hang_alone": (
        "robustness.hang",
        "high",
        "did not answer a {kind} call (other requests were still answered)",
    ),
    "protocol_error": (
        "robustness.protocol_error",
        "medium",
        "answered a {kind} call with a protocol error, not a tool error",
    ),
    "invalid_params": (
        "robustness.invalid_params",
        "low",
        "answered a {kind} call with JSON-RPC -32602, which the model never sees, not a tool error",
    ),
    "accepted": (
        "robustness.accepted_invalid",
        "medium",
        "accepted an invalid {kind} call as valid",
    ),
    "vague": (
        "robustness.vague_error",
        "low",
        "answered a {kind} call with an error that does not say what was wrong",
    ),
}


def _report(
    draft: DimensionDraft, tool: Tool, seen: dict[str, list[tuple[Malformed, Outcome]]], total: int
) -> None:
    answered = sum(len(v) for v in seen.values())
    for verdict, (check, severity, message) in _FINDINGS.items():
        if verdict not in seen:
            continue
        call, outcome = seen[verdict][0]
        times = f" ({len(seen[verdict])} of {answered} calls)" if len(seen[verdict]) > 1 else ""
        draft.failed(
            check,
            severity,
            f"{tool.name} " + message.format(kind=call.kind) + times,  # type: ignore[arg-type]
            tool=tool.name,
            sent=shorten(call.arguments),
            received=shorten(outcome.text, 400),
        )
    if set(seen) <= {"ok"}:
        draft.passed(f"{tool.name}: {total} malformed calls, each answered well")


async def _valid_call(
    ctx: RateContext, draft: DimensionDraft, defs: DimensionDraft, tool: Tool
) -> None:
    arguments = valid_arguments(tool.input_schema)
    outcome = await ctx.call(tool.name, arguments)
    if outcome.kind in ("result", "tool_error"):
        draft.passed(
            f"{tool.name}: still answers a valid call after the malformed ones ({outcome.kind})"
        )
        result = outcome.result
        if (
            result is not None
            and result.structured_content is not None
            and tool.output_schema is None
        ):
            structured_without_schema(tool, defs)
        return
    alone = outcome.kind == "hang" and await _still_answers(ctx)
    severity = "critical" if outcome.kind in ("crash", "hang") and not alone else "medium"
    if alone:
        severity = "high"
    draft.failed(
        f"robustness.after.{outcome.kind}",
        severity,
        f"{tool.name} gave {outcome.kind} to a plausible valid call after the malformed ones",
        tool=tool.name,
        sent=arguments,
        received=shorten(outcome.text, 400),
    )
    if outcome.kind in ("crash", "hang") and not alone and not await ctx.restart():
        what = "crashed" if outcome.kind == "crash" else "hung"
        ctx.stopped_because = ctx.stopped_because or f"the server {what} and could not restart"
