"""An OpenAI-compatible HTTP server that answers from a script or a policy function."""

from __future__ import annotations

import hashlib
import inspect
import itertools
import json
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any, Self, assert_never

import anyio
import anyio.abc

from .._errors import UsageError
from ..models._dialects import render_tool_calls
from ._http import HttpRequest, Response, serve_connection
from ._script import ChatRequest, Fault, Reply, ScriptError, Step

__all__ = ["ScriptedModelServer", "Policy"]

Policy = Callable[[ChatRequest], "Step | Awaitable[Step]"]
"""Computes the answer to a request (sync or async)."""

_JSON = [("content-type", "application/json")]
_WHOLE_MESSAGE_DIALECTS = ("llama3", "python_tag", "pythonic")


def _dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _words(text: str) -> int:
    return len(text.split())


def _error(status: int, message: str, kind: str = "invalid_request_error") -> Response:
    body = {"error": {"message": message, "type": kind, "code": status}}
    return Response(status=status, headers=list(_JSON), body=_dumps(body))


def _tool_choice_form(choice: object) -> str:
    return choice if isinstance(choice, str) else "named"


class ScriptedModelServer:
    """A real OpenAI-compatible server on 127.0.0.1 for deterministic tests.

    Example:
        ```python
        async with ScriptedModelServer([Reply(text="hi")]) as server:
            client = ModelClient(ModelConfig(base_url=server.base_url))
        ```
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
    ) -> None:
        """Answer from `script` (in order) or from `policy`; see the class docs."""
        if script and policy is not None:
            raise UsageError("Give ScriptedModelServer a script or a policy, not both.")
        self._script = list(script)
        self._policy = policy
        self.model = model
        self._host = host
        self._port = port
        self.native_tools = native_tools
        self.tool_choice = frozenset(tool_choice)
        self.response_formats = frozenset(response_formats)
        self.allow_unused = allow_unused
        self.embedding_dim = embedding_dim
        self.requests: list[ChatRequest] = []
        self.probe_requests: list[ChatRequest] = []
        self.errors: list[str] = []
        self._group: anyio.abc.TaskGroup | None = None
        self._listener: Any = None
        self._used = False
        self._ids = itertools.count()

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT/v1`."""
        if self._listener is None:
            raise UsageError("The scripted server is not running: use `async with`.")
        port = self._listener.listeners[0].extra(anyio.abc.SocketAttribute.local_port)
        return f"http://{self._host}:{port}/v1"

    async def __aenter__(self) -> Self:
        if self._used:
            raise UsageError("A ScriptedModelServer runs once: create a new one.")
        self._used = True
        self._listener = await anyio.create_tcp_listener(
            local_host=self._host, local_port=self._port
        )
        self._group = anyio.create_task_group()
        await self._group.__aenter__()
        self._group.start_soon(self._accept, self._listener)
        return self

    async def _accept(self, listener: anyio.abc.Listener[anyio.abc.SocketStream]) -> None:
        assert self._group is not None

        async def handle(stream: anyio.abc.SocketStream) -> None:
            await serve_connection(stream, self._handle)

        async with listener:
            await listener.serve(handle, task_group=self._group)

    async def serve_forever(self) -> None:
        """Serve until cancelled (for the command line)."""
        await anyio.sleep_forever()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._group is not None
        self._group.cancel_scope.cancel()
        await self._group.__aexit__(None, None, None)
        if exc is not None:
            return
        if self.errors:
            raise ScriptError("; ".join(self.errors))
        if self._script and not self.allow_unused:
            raise ScriptError(
                f"{len(self._script)} scripted step(s) were never requested: {self._script[:3]}. "
                "The code under test asked the model fewer times than the script expects "
                "(pass allow_unused=True if that is fine)."
            )

    # -- routing ---------------------------------------------------------------------

    async def _handle(self, request: HttpRequest) -> Response:
        if request.method == "GET" and request.path.endswith("/models"):
            data = {
                "object": "list",
                "data": [{"id": self.model, "object": "model", "owned_by": "covey"}],
            }
            return Response(headers=list(_JSON), body=_dumps(data))
        if request.method != "POST":
            return _error(404, f"No route for {request.method} {request.path}")
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return _error(400, "The request body is not JSON.")
        if not isinstance(body, dict):
            return _error(400, "The request body must be a JSON object.")
        chat = ChatRequest(path=request.path, body=body, headers=request.headers)  # pyright: ignore[reportUnknownArgumentType]
        if request.path.endswith("/embeddings"):
            return self._embeddings(chat)
        if request.path.endswith("/chat/completions"):
            return await self._chat(chat)
        return _error(404, f"No route for POST {request.path}")

    def _refusal(self, chat: ChatRequest) -> Response | None:
        body = chat.body
        if "tools" in body and not self.native_tools:
            return _error(400, "This server does not support 'tools'.")
        if "tool_choice" in body and _tool_choice_form(body["tool_choice"]) not in self.tool_choice:
            return _error(400, f"tool_choice {body['tool_choice']!r} is not supported.")
        fmt = body.get("response_format")
        if isinstance(fmt, dict) and fmt.get("type") not in self.response_formats:  # pyright: ignore[reportUnknownMemberType]
            return _error(400, f"response_format type {fmt.get('type')!r} is not supported.")  # pyright: ignore[reportUnknownMemberType]
        return None

    async def _chat(self, chat: ChatRequest) -> Response:
        refusal = self._refusal(chat)
        if 1 in (chat.body.get("max_tokens"), chat.body.get("max_completion_tokens")):
            self.probe_requests.append(chat)
            return refusal or self._reply(chat, Reply(text="ok", finish_reason="length"))
        if refusal is not None:
            self.probe_requests.append(chat)
            return refusal
        self.requests.append(chat)
        step = await self._next_step(chat)
        if step is None:
            return _error(500, self.errors[-1], "server_error")
        if step.delay:
            await anyio.sleep(step.delay)
        match step:
            case Fault():
                return self._fault(step)
            case Reply():
                return self._reply(chat, step)
            case _:
                assert_never(step)

    async def _next_step(self, chat: ChatRequest) -> Step | None:
        if self._policy is not None:
            value = self._policy(chat)
            if inspect.isawaitable(value):
                value = await value
            return value
        if not self._script:
            self.errors.append(
                f"Unexpected request #{len(self.requests)} to the scripted model after the "
                f"script was used up (last user message: {chat.last_user_text[:80]!r})."
            )
            return None
        return self._script.pop(0)

    def _fault(self, fault: Fault) -> Response:
        match fault.kind:
            case "status":
                response = _error(
                    fault.code, fault.message, "server_error" if fault.code >= 500 else "error"
                )
                if fault.retry_after is not None:
                    response.headers.append(("retry-after", f"{fault.retry_after:g}"))
                return response
            case "garbage":
                return Response(headers=list(_JSON), body=b"<html>502 Bad Gateway</html>")
            case "disconnect":
                return Response(close=True)

    # -- answers -----------------------------------------------------------------------

    def _content(self, reply: Reply) -> tuple[str, list[dict[str, Any]]]:
        if reply.dialect is not None:
            text = reply.text if reply.dialect not in _WHOLE_MESSAGE_DIALECTS else ""
            rendered = render_tool_calls(list(reply.tool_calls), reply.dialect, text=text)  # pyright: ignore[reportArgumentType]
            return rendered, []
        calls: list[dict[str, Any]] = []
        for call in reply.tool_calls:
            args = json.dumps(call.arguments)
            if reply.malformed_arguments:
                args = args[:-1] + ',,"oops'
            calls.append(
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": args},
                }
            )
        return reply.text, calls

    def _usage(
        self, chat: ChatRequest, reply: Reply, text: str, calls: list[dict[str, Any]]
    ) -> dict[str, int]:
        if reply.usage is not None:
            prompt, completion = reply.usage
        else:
            prompt = sum(_words(str(m.get("content") or "")) for m in chat.messages)
            completion = _words(text) + sum(_words(c["function"]["arguments"]) for c in calls)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }

    def _reply(self, chat: ChatRequest, reply: Reply) -> Response:
        text, calls = self._content(reply)
        finish = reply.finish_reason or ("tool_calls" if calls else "stop")
        usage = self._usage(chat, reply, text, calls)
        ident = f"chatcmpl-{next(self._ids)}"
        model = reply.model or self.model
        if chat.stream:
            options: dict[str, Any] = chat.body.get("stream_options") or {}
            include_usage = bool(options.get("include_usage"))
            chunks = _stream_chunks(
                ident, model, reply.reasoning, text, calls, finish, usage if include_usage else None
            )
            return Response(
                headers=[("content-type", "text/event-stream")],
                chunks=chunks,
                cut_after=reply.cut_after_chunks,
            )
        message: dict[str, Any] = {"role": "assistant", "content": text or None}
        if calls:
            message["tool_calls"] = calls
        if reply.reasoning:
            message["reasoning_content"] = reply.reasoning
        body = _dumps(
            {
                "id": ident,
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": usage,
            }
        )
        if reply.cut_after_chunks is not None:
            head = (
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                f"content-length: {len(body) + 100}\r\n\r\n"
            )
            return Response(raw=head.encode() + body[: len(body) // 2])
        return Response(headers=list(_JSON), body=body)

    def _embeddings(self, chat: ChatRequest) -> Response:
        raw = chat.body.get("input", [])
        inputs = [raw] if isinstance(raw, str) else [str(x) for x in raw]  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
        data = [
            {"object": "embedding", "index": i, "embedding": self.embed(text)}
            for i, text in enumerate(inputs)
        ]
        tokens = sum(_words(t) for t in inputs)
        body = {
            "object": "list",
            "data": data,
            "model": chat.body.get("model", self.model),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
        return Response(headers=list(_JSON), body=_dumps(body))

    def embed(self, text: str) -> list[float]:
        """The deterministic embedding of `text`: hashed bag of words, L2-normalised."""
        vector = [0.0] * self.embedding_dim
        for word in text.lower().split():
            digest = hashlib.blake2b(word.strip(".,;:!?\"'()").encode(), digest_size=8).digest()
            index = int.from_bytes(digest[:4], "little") % self.embedding_dim
            vector[index] += 1.0 if digest[4] % 2 == 0 else -1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]


async def _stream_chunks(
    ident: str,
    model: str,
    reasoning: str,
    text: str,
    calls: list[dict[str, Any]],
    finish: str,
    usage: dict[str, int] | None,
) -> AsyncIterator[bytes]:
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
        body: dict[str, Any] = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [choice],
        }
        return b"data: " + _dumps(body) + b"\n\n"

    yield chunk({"role": "assistant", "content": ""})
    for i in range(0, len(reasoning), 8):
        yield chunk({"reasoning_content": reasoning[i : i + 8]})
    for i in range(0, len(text), 8):
        yield chunk({"content": text[i : i + 8]})
    for index, call in enumerate(calls):
        first = {
            "index": index,
            "id": call["id"],
            "type": "function",
            "function": {"name": call["function"]["name"], "arguments": ""},
        }
        yield chunk({"tool_calls": [first]})
        args = call["function"]["arguments"]
        for i in range(0, len(args), 10):
            yield chunk(
                {"tool_calls": [{"index": index, "function": {"arguments": args[i : i + 10]}}]}
            )
    yield chunk({}, finish)
    if usage is not None:
        body: dict[str, Any] = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [],
            "usage": usage,
        }
        yield b"data: " + _dumps(body) + b"\n\n"
    yield b"data: [DONE]\n\n"
