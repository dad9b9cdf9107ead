"""The embedded model's HTTP API: the OpenAI Chat Completions subset covey uses.

- `GET /v1/models`: the model, with its slot count and context size; answered at once,
  even while a generation runs.
- `POST /v1/chat/completions`: streamed or not; tools, `tool_choice` (`auto`, `none`, a
  named tool), `response_format` (`json_schema`, `json_object` with `schema`), `stop`,
  `seed`, `max_tokens` (default: the server's `--max-tokens`), `ignore_eos`.
- `POST /extras/tokenize/count`: `{"input": text}` -> `{"count": n}`, for token budgets.
- `POST /covey/render`: the exact prompt text a chat request becomes, for debugging.
- `GET /covey/status`: generations served and cancelled, busy, queued.

Requests queue for the one slot in arrival order. A client that disconnects, while queued
or while its answer is generated, frees the slot within one token.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any, cast

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from ._llama_engine import Engine, Generation, RequestError

__all__ = ["build_app"]


def _error(status: int, message: str) -> JSONResponse:
    kind = "invalid_request_error" if status < 500 else "server_error"
    return JSONResponse({"error": {"message": message, "type": kind, "code": status}}, status)


class _Api:
    def __init__(self, engine: Engine, alias: str) -> None:
        self.engine = engine
        self.alias = alias
        self.slot = anyio.Lock()
        self.ids = itertools.count(1)

    async def models(self, request: Request) -> Response:
        meta = {
            "slots": 1,
            "n_ctx": self.engine.n_ctx,
            "family": self.engine.family.name,
            "template": "model" if self.engine.template is not None else "covey",
        }
        entry = {"id": self.alias, "object": "model", "owned_by": "covey", "meta": meta}
        return JSONResponse({"object": "list", "data": [entry]})

    async def status(self, request: Request) -> Response:
        return JSONResponse(asdict(self.engine.stats))

    async def _body(self, request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RequestError(f"the request body is not JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise RequestError("the request body must be a JSON object")
        return body  # pyright: ignore[reportUnknownVariableType]

    async def count(self, request: Request) -> Response:
        try:
            text = (await self._body(request)).get("input")
            if not isinstance(text, str):
                raise RequestError("'input' must be a string")
        except RequestError as exc:
            return _error(400, str(exc))
        return JSONResponse({"count": self.engine.count(text)})

    async def render(self, request: Request) -> Response:
        try:
            prompt = self.engine.render(await self._body(request))
        except RequestError as exc:
            return _error(400, str(exc))
        return JSONResponse({"prompt": prompt, "tokens": self.engine.count(prompt)})

    async def chat(self, request: Request) -> Response:
        try:
            body = await self._body(request)
            async with self.slot:  # grammar and tokenizer work, quick, one at a time too
                generation = await anyio.to_thread.run_sync(self.engine.prepare, body)
        except RequestError as exc:
            return _error(400, str(exc))
        ident = f"chatcmpl-{next(self.ids)}"
        if body.get("stream"):
            options = cast(dict[str, Any], body.get("stream_options") or {})
            usage = bool(options.get("include_usage"))
            return _Stream(self, generation, ident, usage)
        text: list[str] = []

        async def whole(send: Any) -> None:
            text.append(await self._text(generation))

        await _while_connected(request.receive, generation, whole, None)
        if generation.cancel.is_set() or not text:
            return _error(499, "the client closed the request")
        message = self._message(generation, text[0])
        finish = "tool_calls" if generation.tool_name else generation.finish
        choice = {"index": 0, "message": message, "finish_reason": finish}
        return JSONResponse({**self._head(ident), "choices": [choice], "usage": _usage(generation)})

    def _head(self, ident: str, kind: str = "chat.completion") -> dict[str, Any]:
        return {"id": ident, "object": kind, "created": int(time.time()), "model": self.alias}

    def _message(self, generation: Generation, text: str) -> dict[str, Any]:
        if generation.tool_name is None:
            return {"role": "assistant", "content": text}
        call = {"name": generation.tool_name, "arguments": text}
        tool_call = {"id": "call_0", "type": "function", "function": call}
        return {"role": "assistant", "content": None, "tool_calls": [tool_call]}

    async def _text(self, generation: Generation) -> str:
        def run() -> str:
            return "".join(self.engine.stream(generation))

        async with self.slot:
            # Not abandoned on cancel: the thread sees the flag and ends within a token.
            return await anyio.to_thread.run_sync(run)

    async def stream(self, generation: Generation, ident: str, usage: bool, send: Send) -> None:
        """Send the answer as server-sent events, a piece at a time, as it is generated."""
        head = self._head(ident, "chat.completion.chunk")

        async def event(delta: dict[str, Any], finish: str | None = None) -> None:
            choice = {"index": 0, "delta": delta, "finish_reason": finish}
            await _send_data(send, {**head, "choices": [choice]})

        text: list[str] = []
        async with self.slot:
            await event({"role": "assistant", "content": ""})
            pieces = self.engine.stream(generation)
            try:
                while (piece := await anyio.to_thread.run_sync(next, pieces, None)) is not None:
                    text.append(piece)
                    if generation.tool_name is None:
                        await event({"content": piece})
            finally:
                with anyio.CancelScope(shield=True):  # ends the generation and its counts
                    await anyio.to_thread.run_sync(pieces.close)
        if generation.tool_name is not None:
            call = self._message(generation, "".join(text))["tool_calls"][0]
            await event({"tool_calls": [{"index": 0, **call}]})
        finish = "tool_calls" if generation.tool_name else generation.finish
        await event({}, finish)
        if usage:
            await _send_data(send, {**head, "choices": [], "usage": _usage(generation)})
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})


async def _send_data(send: Send, value: object) -> None:
    data = f"data: {json.dumps(value)}\n\n".encode()
    await send({"type": "http.response.body", "body": data, "more_body": True})


async def _while_connected(
    receive: Receive,
    generation: Generation,
    work: Callable[[Send | None], Awaitable[None]],
    send: Send | None,
) -> None:
    """Run `work`; if the client disconnects first, cancel the generation and the work."""

    async def watch(cancel: Callable[[], None]) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        generation.cancel.set()
        cancel()

    async with anyio.create_task_group() as group:
        group.start_soon(watch, group.cancel_scope.cancel)
        await work(send)
        group.cancel_scope.cancel()


class _Stream(Response):
    """A streamed answer, sent from one task that also watches for the client leaving."""

    def __init__(self, api: _Api, generation: Generation, ident: str, usage: bool) -> None:
        super().__init__(media_type="text/event-stream")
        self._api, self._generation, self._ident, self._usage = api, generation, ident, usage

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def work(send: Send | None) -> None:
            assert send is not None
            headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await self._api.stream(self._generation, self._ident, self._usage, send)

        await _while_connected(receive, self._generation, work, send)


def _usage(generation: Generation) -> dict[str, int]:
    prompt, completion = len(generation.prompt), generation.tokens
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def build_app(engine: Engine, alias: str) -> Starlette:
    """The ASGI app serving `engine` under the model name `alias`."""
    api = _Api(engine, alias)
    return Starlette(
        routes=[
            Route("/v1/models", api.models, methods=["GET"]),
            Route("/v1/chat/completions", api.chat, methods=["POST"]),
            Route("/extras/tokenize/count", api.count, methods=["POST"]),
            Route("/covey/render", api.render, methods=["POST"]),
            Route("/covey/status", api.status, methods=["GET"]),
        ]
    )
