"""The `covey view` web app: starlette routes over one open `Store`."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from .._errors import UsageError
from ..store import CheckpointNotFound, LongTermMemory, Memory, Store
from . import _queries as q
from ._html import esc, page
from ._pages_evals import compare_page, run_page, runs_page, trial_page
from ._pages_memory import memory_page
from ._pages_threads import thread_page, threads_page
from ._pages_traces import trace_page, traces_page
from ._static import LIVE_JS, VIEW_CSS

__all__ = ["build_app"]

# Pages load nothing from elsewhere, and nothing may be framed or scripted inline.
_SECURITY_HEADERS = {
    "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self' "
    "'unsafe-inline'; connect-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}

Handler = Callable[[Request, Store], Awaitable[Response]]


def build_app(store: Store) -> Starlette:
    """The app; it opens `store` at startup and closes it at shutdown."""

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncGenerator[None]:
        async with store:
            await q.prepare(store)
            yield

    def route(path: str, handler: Handler) -> Route:
        async def endpoint(request: Request) -> Response:
            try:
                response = await handler(request, store)
            except (UsageError, CheckpointNotFound) as exc:
                response = _html("Not found", f'<p class="error">{esc(exc)}</p>', 404)
            response.headers.update(_SECURITY_HEADERS)
            return response

        return Route(path, endpoint)

    routes = [
        route("/", _runs),
        route("/runs/{run_id}", _run),
        route("/runs/{run_id}/trials/{case_id}/{trial:int}", _trial),
        route("/compare", _compare),
        route("/traces", _traces),
        route("/traces/{trace_id}", _trace),
        route("/threads", _threads),
        route("/threads/{thread_id}", _thread),
        route("/memory", _memory),
        route("/api/stamp", _stamp),
        route("/static/view.css", _css),
        route("/static/live.js", _js),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def _html(title: str, body: str, status: int = 200, stamp: str | None = None) -> HTMLResponse:
    return HTMLResponse(page(title, body, stamp=stamp), status_code=status)


async def _runs(request: Request, store: Store) -> Response:
    return _html("Eval runs", runs_page(await q.run_rows(store)), stamp=await q.stamp(store))


async def _run(request: Request, store: Store) -> Response:
    run_id = request.path_params["run_id"]
    results = await q.load_run(store, run_id)
    body = run_page(results, await q.eval_trace_ids(store, run_id))
    return _html(f"Run {run_id}", body, stamp=await q.stamp(store))


async def _trial(request: Request, store: Store) -> Response:
    run_id, case_id = request.path_params["run_id"], request.path_params["case_id"]
    index: int = request.path_params["trial"]
    trial = await q.find_trial(store, run_id, case_id, index)
    if trial is None:
        raise UsageError(f"Run {run_id!r} has no recorded trial {index} of case {case_id!r}.")
    trace_id = (await q.eval_trace_ids(store, run_id)).get((case_id, index))
    return _html(f"{case_id} trial {index + 1}", trial_page(trial, trace_id))


async def _compare(request: Request, store: Store) -> Response:
    a, b = request.query_params.get("a", ""), request.query_params.get("b", "")
    if not a or not b:
        raise UsageError("Name two runs to compare: /compare?a=RUN&b=RUN.")
    body = compare_page(await q.load_run(store, a), await q.load_run(store, b))
    return _html(f"{a} vs {b}", body, stamp=await q.stamp(store))


async def _traces(request: Request, store: Store) -> Response:
    return _html("Traces", traces_page(await q.recent_traces(store)), stamp=await q.stamp(store))


async def _trace(request: Request, store: Store) -> Response:
    trace_id = request.path_params["trace_id"]
    spans = await q.load_trace(store, trace_id)
    if not spans:
        raise UsageError(f"No trace {trace_id!r} in the store at {store.url}.")
    return _html(f"Trace {spans[0].name}", trace_page(spans), stamp=await q.stamp(store))


async def _threads(request: Request, store: Store) -> Response:
    return _html("Threads", threads_page(await q.thread_list(store)), stamp=await q.stamp(store))


async def _thread(request: Request, store: Store) -> Response:
    thread_id = request.path_params["thread_id"]
    steps = await q.thread_steps(store, thread_id)
    if not steps:
        raise UsageError(f"No thread {thread_id!r} in the store at {store.url}.")
    wanted = request.query_params.get("step")
    chosen = next((s for s in steps if str(s.step) == wanted), steps[-1])
    previous = [s for s in steps if s.step < chosen.step]
    before = await q.checkpoint(store, previous[-1].id) if previous else None
    body = thread_page(steps, await q.checkpoint(store, chosen.id), before)
    return _html(f"Thread {thread_id}", body, stamp=await q.stamp(store))


async def _memory(request: Request, store: Store) -> Response:
    namespace = request.query_params.get("ns")
    query = request.query_params.get("q", "").strip()
    found: list[Memory] = []
    if namespace and query:
        found = await LongTermMemory(store, namespace).recall(query, limit=20, mode="text")
    body = memory_page(await q.memory_namespaces(store), namespace, query, found)
    return _html("Memory", body)


async def _stamp(request: Request, store: Store) -> Response:
    return JSONResponse({"stamp": await q.stamp(store)})


async def _css(request: Request, store: Store) -> Response:
    return Response(VIEW_CSS, media_type="text/css")


async def _js(request: Request, store: Store) -> Response:
    return Response(LIVE_JS, media_type="text/javascript")
