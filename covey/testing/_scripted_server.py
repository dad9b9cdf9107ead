"""An OpenAI-compatible HTTP server that answers from a script or a policy function."""

from __future__ import annotations

import base64
import hashlib
import inspect
import itertools
import json
import math
import struct
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from types import TracebackType
from typing import Any, Self, assert_never, cast

import anyio
import anyio.abc

from .._errors import UsageError
from ..models._dialects import render_tool_calls
from ._http import (
    MAX_BODY,
    HttpRequest,
    Response,
    dumps,
    json_response,
    serve_connection,
    sse_event,
)
from ._script import (
    ChatRequest,
    DisconnectFault,
    Fault,
    GarbageFault,
    Reply,
    ScriptError,
    StatusFault,
    Step,
    content_text,
)

__all__ = ["Policy", "ScriptedModelServer"]

Policy = Callable[[ChatRequest], Step | Awaitable[Step]]
"""Computes the answer to a request; sync or async."""

_JSON = ("content-type", "application/json")
_SSE = ("content-type", "text/event-stream")
_TEXT_PIECE = 8
_ARGUMENTS_PIECE = 10
_PROBE_REPLY = Reply(text="ok", finish_reason="length")


def _words(text: str) -> int:
    return len(text.split())


def _error(status: int, message: str) -> Response:
    kind = "server_error" if status >= 500 else "invalid_request_error"
    if status == 429:
        kind = "rate_limit_error"
    return json_response(
        {"error": {"message": message, "type": kind, "param": None, "code": status}}, status
    )


def _tool_choice_form(choice: object) -> str:
    return choice if isinstance(choice, str) else "named"


class ScriptedModelServer:
    """A real OpenAI-compatible server on 127.0.0.1 for deterministic tests.

    It answers `POST /v1/chat/completions` from `script` (one step per request, in order)
    or from `policy`, streaming when asked; serves `GET /v1/models` and a deterministic
    `POST /v1/embeddings`. One-token probes (`max_tokens` or `max_completion_tokens` of 1)
    get a canned answer and go to `probe_requests`; requests using a capability the server
    is set not to have get HTTP 400 and go to `rejected_requests`. Neither uses a step.

    Example:
        ```python
        async with ScriptedModelServer([Reply(text="hi")]) as server:
            client = openai.AsyncOpenAI(base_url=server.base_url, api_key="x")
            ...
        ```

    Raises:
        ScriptError: when the `async with` block ends with scripted steps unused (unless
            `allow_unused`), or after a request that had no step left or whose policy failed.
    """

    def __init__(
        self,
        script: Sequence[Step] = (),
        *,
        policy: Policy | None = None,
        model: str = "scripted",
        host: str = "127.0.0.1",
        port: int = 0,
        native_tools: bool = True,
        tool_choice: Sequence[str] = ("auto", "none", "required", "named"),
        response_formats: Sequence[str] = ("json_schema", "json_object", "text"),
        allow_unused: bool = False,
        embedding_dim: int = 64,
        max_body: int = MAX_BODY,
    ) -> None:
        """Set up the server; it starts listening in `async with`.

        Args:
            script: The answers, in the order requests arrive.
            policy: Instead of a script, a function computing each answer (sync or async).
            model: The model name reported and listed by `/v1/models`.
            host: Address to bind.
            port: Port to bind; 0 picks a free one.
            native_tools: Whether requests may use the `tools` field.
            tool_choice: `tool_choice` forms accepted: `auto`, `none`, `required`, `named`.
            response_formats: `response_format.type` values accepted.
            allow_unused: Do not fail when scripted steps are left over.
            embedding_dim: Length of the vectors `/v1/embeddings` returns.
            max_body: Largest request body accepted, in bytes.
        """
        if script and policy is not None:
            raise UsageError("Give ScriptedModelServer a script or a policy, not both.")
        self._script: deque[Step] = deque(script)
        self._policy = policy
        self.model = model
        """The model name reported."""
        self.requests: list[ChatRequest] = []
        """Chat requests answered from the script or policy (or refused for lack of a step)."""
        self.probe_requests: list[ChatRequest] = []
        """One-token probes, answered without using a step."""
        self.rejected_requests: list[ChatRequest] = []
        """Requests refused with HTTP 400 for an unsupported capability (probes excluded)."""
        self._host, self._port, self._max_body = host, port, max_body
        self._native_tools = native_tools
        self._tool_choice = frozenset(tool_choice)
        self._response_formats = frozenset(response_formats)
        self._allow_unused = allow_unused
        self._embedding_dim = embedding_dim
        self._errors: list[str] = []
        self._cause: BaseException | None = None
        self._stack: AsyncExitStack | None = None
        self._bound_port: int | None = None
        self._ids = itertools.count(1)

    @property
    def base_url(self) -> str:
        """`http://HOST:PORT/v1`, to give an OpenAI client as `base_url`."""
        if self._bound_port is None:
            raise UsageError("The scripted server is not running: use `async with server:`.")
        return f"http://{self._host}:{self._bound_port}/v1"

    async def __aenter__(self) -> Self:
        if self._bound_port is not None:
            raise UsageError(
                "This ScriptedModelServer has already been started; a server runs once: "
                "create a new one."
            )
        async with AsyncExitStack() as stack:
            listener = await anyio.create_tcp_listener(local_host=self._host, local_port=self._port)
            stack.push_async_callback(listener.aclose)
            group = await stack.enter_async_context(anyio.create_task_group())
            stack.callback(group.cancel_scope.cancel)
            group.start_soon(listener.serve, self._connection, group)
            self._bound_port = listener.extra(anyio.abc.SocketAttribute.local_port)
            self._stack = stack.pop_all()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stack, self._stack = self._stack, None
        assert stack is not None, "__aexit__ without __aenter__"
        await stack.__aexit__(exc_type, exc, tb)
        if exc is None:
            self._check_script()

    def _check_script(self) -> None:
        if self._errors:
            raise ScriptError("\n".join(self._errors)) from self._cause
        if self._script and not self._allow_unused:
            steps = ", ".join(repr(step)[:100] for step in list(self._script)[:3])
            raise ScriptError(
                f"{len(self._script)} scripted step(s) were never requested, starting with "
                f"{steps}. The code under test asked the model fewer times than the script "
                "expects (pass allow_unused=True if that is fine)."
            )

    async def _connection(self, stream: anyio.abc.SocketStream) -> None:
        await serve_connection(stream, self._handle, max_body=self._max_body)

    # -- routing -------------------------------------------------------------------------

    async def _handle(self, request: HttpRequest) -> Response:
        path, method = request.path, request.method
        if path.endswith("/models"):
            if method != "GET":
                return _error(405, f"Use GET for {path}, not {method}.")
            return self._models()
        if not path.endswith(("/chat/completions", "/embeddings")):
            return _error(404, f"No route for {method} {path}.")
        if method != "POST":
            return _error(405, f"Use POST for {path}, not {method}.")
        try:
            body = json.loads(request.body)
        except ValueError:
            return _error(400, "The request body is not valid JSON.")
        if not isinstance(body, dict):
            return _error(400, "The request body must be a JSON object.")
        chat = ChatRequest(path=path, body=body, headers=request.headers)  # pyright: ignore[reportUnknownArgumentType]
        if path.endswith("/embeddings"):
            return self._embeddings(chat)
        return await self._chat(chat)

    def _refusal(self, chat: ChatRequest) -> Response | None:
        body = chat.body
        if "tools" in body and not self._native_tools:
            return _error(400, f"Model {self.model!r} does not support 'tools'.")
        choice = chat.tool_choice
        if choice is not None and _tool_choice_form(choice) not in self._tool_choice:
            return _error(400, f"tool_choice {choice!r} is not supported by this server.")
        kind = (chat.response_format or {}).get("type")
        if "response_format" in body and kind not in self._response_formats:
            allowed = ", ".join(sorted(self._response_formats)) or "none"
            return _error(400, f"response_format type {kind!r} is not supported ({allowed}).")
        return None

    async def _chat(self, chat: ChatRequest) -> Response:
        refusal = self._refusal(chat)
        if chat.is_probe:
            self.probe_requests.append(chat)
            return refusal or self._answer(chat, _PROBE_REPLY)
        if refusal is not None:
            self.rejected_requests.append(chat)
            return refusal
        self.requests.append(chat)
        step = await self._next_step(chat)
        if step is None:
            return _error(500, self._errors[-1])
        if step.delay:
            await anyio.sleep(step.delay)
        try:
            return self._answer(chat, step)
        except UsageError as exc:  # a reply the dialect cannot write
            return self._fail(f"Request #{len(self.requests)}: {exc}", exc)

    def _fail(self, message: str, cause: BaseException | None = None) -> Response:
        self._errors.append(message)
        self._cause = self._cause or cause
        return _error(500, message)

    async def _next_step(self, chat: ChatRequest) -> Step | None:
        number = len(self.requests)
        if self._policy is None:
            if self._script:
                return self._script.popleft()
            self._fail(
                f"Unexpected request #{number} to the scripted model after the script was "
                f"used up (last user message: {chat.last_user_text[:80]!r})."
            )
            return None
        try:
            value = self._policy(chat)
            if inspect.isawaitable(value):
                value = await value
        except Exception as exc:
            self._fail(f"The policy raised {exc!r} on request #{number}.", exc)
            return None
        answer = cast(object, value)
        if not isinstance(answer, Reply | Fault):
            self._fail(
                f"The policy returned {answer!r} on request #{number}, not a Reply or Fault."
            )
            return None
        return value

    def _answer(self, chat: ChatRequest, step: Step) -> Response:
        match step:
            case Reply():
                if chat.stream:
                    return self._stream(chat, step)
                return self._completion(chat, step)
            case StatusFault():
                response = _error(step.code, step.message)
                if step.retry_after is not None:
                    response.headers.append(("retry-after", f"{step.retry_after:g}"))
                return response
            case GarbageFault():
                return Response(headers=[_JSON], body=step.body)
            case DisconnectFault():
                return Response(close=True)
            case _:
                assert_never(step)

    # -- chat answers --------------------------------------------------------------------

    def _content(self, reply: Reply) -> tuple[str, list[dict[str, Any]]]:
        """The content and native tool calls to send."""
        if reply.dialect is not None:
            return render_tool_calls(reply.tool_calls, reply.dialect, text=reply.text), []
        calls: list[dict[str, Any]] = []
        for call in reply.tool_calls:
            arguments = json.dumps(call.arguments)
            if reply.malformed_arguments:
                arguments = arguments[:-1] + ',,"oops'
            function = {"name": call.name, "arguments": arguments}
            calls.append({"id": call.id, "type": "function", "function": function})
        return reply.text, calls

    def _usage(
        self, chat: ChatRequest, reply: Reply, text: str, calls: list[dict[str, Any]]
    ) -> dict[str, int]:
        if reply.usage is not None:
            prompt, completion = reply.usage
        else:
            prompt = sum(_words(content_text(m.get("content"))) for m in chat.messages)
            arguments = sum(_words(c["function"]["arguments"]) for c in calls)
            completion = _words(text) + _words(reply.reasoning) + arguments
        total = prompt + completion
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total}

    def _completion(self, chat: ChatRequest, reply: Reply) -> Response:
        text, calls = self._content(reply)
        message: dict[str, Any] = {"role": "assistant", "content": text or None}
        if calls:
            message["tool_calls"] = calls
        if reply.reasoning:
            message["reasoning_content"] = reply.reasoning
        finish = reply.finish_reason or ("tool_calls" if calls else "stop")
        body = dumps(
            {
                "id": f"chatcmpl-{next(self._ids)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": reply.model or self.model,
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": self._usage(chat, reply, text, calls),
            }
        )
        if reply.cut_after_chunks is None:
            return Response(headers=[_JSON], body=body)
        head = f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}"
        return Response(raw=head.encode() + b"\r\n\r\n" + body[: len(body) // 2])

    def _stream(self, chat: ChatRequest, reply: Reply) -> Response:
        text, calls = self._content(reply)
        envelope = {
            "id": f"chatcmpl-{next(self._ids)}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": reply.model or self.model,
        }

        def event(delta: dict[str, Any], finish: str | None = None) -> bytes:
            choice = {"index": 0, "delta": delta, "finish_reason": finish}
            return sse_event({**envelope, "choices": [choice]})

        events = [event({"role": "assistant", "content": ""})]
        for i in range(0, len(reply.reasoning), _TEXT_PIECE):
            events.append(event({"reasoning_content": reply.reasoning[i : i + _TEXT_PIECE]}))
        for i in range(0, len(text), _TEXT_PIECE):
            events.append(event({"content": text[i : i + _TEXT_PIECE]}))
        for index, call in enumerate(calls):
            function = {"name": call["function"]["name"], "arguments": ""}
            first = {"index": index, "id": call["id"], "type": "function", "function": function}
            events.append(event({"tool_calls": [first]}))
            arguments: str = call["function"]["arguments"]
            for i in range(0, len(arguments), _ARGUMENTS_PIECE):
                piece = {"arguments": arguments[i : i + _ARGUMENTS_PIECE]}
                events.append(event({"tool_calls": [{"index": index, "function": piece}]}))
        events.append(event({}, reply.finish_reason or ("tool_calls" if calls else "stop")))
        options: object = chat.body.get("stream_options")
        if isinstance(options, dict) and options.get("include_usage"):  # pyright: ignore[reportUnknownMemberType]
            usage = self._usage(chat, reply, text, calls)
            events.append(sse_event({**envelope, "choices": [], "usage": usage}))
        cut = reply.cut_after_chunks
        if cut is None:
            events.append(b"data: [DONE]\n\n")
        return Response(headers=[_SSE, ("cache-control", "no-cache")], chunks=events, cut_after=cut)

    # -- models and embeddings -----------------------------------------------------------

    def _models(self) -> Response:
        model = {"id": self.model, "object": "model", "created": 0, "owned_by": "covey"}
        return json_response({"object": "list", "data": [model]})

    def _embeddings(self, chat: ChatRequest) -> Response:
        raw: object = chat.body.get("input", [])
        items: list[object] = [raw] if isinstance(raw, str) else []
        if isinstance(raw, list):
            items = cast(list[object], raw)
        inputs = [item if isinstance(item, str) else json.dumps(item) for item in items]
        dimensions = chat.body.get("dimensions") or self._embedding_dim
        as_base64 = chat.body.get("encoding_format") == "base64"
        data: list[dict[str, Any]] = []
        for index, text in enumerate(inputs):
            vector = self.embed(text, dimensions=int(dimensions))
            encoded: object = vector
            if as_base64:
                encoded = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        tokens = sum(_words(t) for t in inputs)
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        model = chat.body.get("model") or self.model
        return json_response({"object": "list", "data": data, "model": model, "usage": usage})

    def embed(self, text: str, *, dimensions: int | None = None) -> list[float]:
        """The vector `/v1/embeddings` returns for `text`: a hashed bag of words, L2-normalised.

        Texts sharing words get similar vectors; case and surrounding punctuation are ignored.
        """
        vector = [0.0] * (dimensions or self._embedding_dim)
        for word in text.lower().split():
            digest = hashlib.blake2b(word.strip(".,;:!?\"'()[]").encode(), digest_size=8).digest()
            index = int.from_bytes(digest[:4], "little") % len(vector)
            vector[index] += 1.0 if digest[4] % 2 == 0 else -1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]
