"""`rate_server`: start or reach a server, run every dimension's checks, grade them."""

from __future__ import annotations

import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import anyio

from .. import __version__
from ._conformance import check_conformance
from ._context import DimensionDraft, RateContext, RateOptions
from ._definitions import check_definitions
from ._grades import grade
from ._performance import check_performance
from ._probe_site import probe_site
from ._protocol import check_protocol, connect_both_eras
from ._robustness import check_robustness
from ._security import check_security
from ._security_http import check_http_security
from ._session import Connection, Sandbox, Target, describe
from .models import DimensionName, Rating

__all__ = ["rate_server"]

DIMENSIONS: tuple[DimensionName, ...] = (
    "protocol",
    "definitions",
    "robustness",
    "security",
    "performance",
)


async def rate_server(
    command: Sequence[str] | None = None,
    *,
    url: str | None = None,
    headers: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    copy: Sequence[Path] = (),
    options: RateOptions | None = None,
) -> Rating:
    """Rate an MCP server: a stdio `command` (run in a fresh temporary directory) or a `url`.

    In `command` and the values of `env`, the text `{workdir}` is replaced by that directory.
    `copy` lists files (a database, say) copied into it first. The rating finishes within
    `options.budget` seconds whatever the server does, and says when it stopped early.

    Raises:
        CoveyError: neither or both of `command` and `url` were given.
    """
    target = Target(
        command=tuple(command or ()), url=url, headers=dict(headers or {}), env=dict(env or {})
    )
    options = options or RateOptions()
    sandbox = Sandbox.create(copy)
    conn = Connection(target=target, sandbox=sandbox, timeout=options.start_timeout)
    ctx = RateContext(conn=conn, sandbox=sandbox, options=options)
    drafts: dict[DimensionName, DimensionDraft] = {n: DimensionDraft(name=n) for n in DIMENSIONS}
    rating = Rating(
        target=target.shown(),
        transport="stdio" if target.command else "http",
        covey_version=__version__,
    )
    started = time.monotonic()
    try:
        with anyio.move_on_after(options.budget) as budget:
            try:
                await _run(ctx, drafts, rating)
            finally:
                await conn.aclose()  # inside the budget's scope, where the session was opened
        if budget.cancelled_caught:
            ctx.stopped_because = f"the rating's time budget of {options.budget:g}s ran out"
    finally:
        shutil.rmtree(sandbox.base, ignore_errors=True)
    rating.duration_s = round(time.monotonic() - started, 2)
    rating.completed = ctx.stopped_because is None
    rating.stopped_because = ctx.stopped_because
    rating.dimensions = [grade(drafts[name]) for name in DIMENSIONS]
    return rating


async def _run(
    ctx: RateContext, drafts: dict[DimensionName, DimensionDraft], rating: Rating
) -> None:
    protocol = drafts["protocol"]
    try:
        rating.protocol_versions = await connect_both_eras(ctx, protocol)
    except Exception as exc:
        why = ctx.conn.exit_note() or describe(exc)
        ctx.stopped_because = f"the server did not start or connect: {why}"
        for name in DIMENSIONS[1:]:
            drafts[name].rated = False
            drafts[name].notes.append("the server did not start or connect (see protocol)")
        return
    ctx.conn.timeout = ctx.options.call_timeout
    info = ctx.conn.client.server_info
    rating.server_name, rating.server_version = (info.name, info.version) if info else (None, None)
    await check_protocol(ctx, protocol)
    await check_conformance(ctx, protocol, rating.protocol_versions)
    rating.tools = [t.name for t in ctx.tools]
    check_definitions(ctx.tools, drafts["definitions"])
    await check_robustness(ctx, drafts["robustness"], drafts["definitions"])
    with probe_site() as site:
        await check_security(ctx, drafts["security"], site)
    await check_http_security(ctx, drafts["security"])
    await check_performance(ctx, drafts["performance"])
