"""An OpenAI-compatible HTTP server that answers from a script or a policy function."""

from __future__ import annotations

import inspect
import itertools
import json
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from types import TracebackType
from typing import Self, assert_never, cast

import anyio
import anyio.abc

from .._errors import UsageError
from ._embeddings import embed_text, embeddings_response, tokenize_response
from ._http import (
    MAX_BODY,
    HttpRequest,
    Response,
    json_response,
    serve_connection,
)
from ._replies import completion_response, error_response, stream_response
from ._script import (
    ChatRequest,
    DisconnectFault,
    Fault,
    GarbageFault,
    Reply,
    ScriptError,
    StatusFault,
    Step,
)

__all__ = ["Policy", "ScriptedModelServer"]

Policy = Callable[[ChatRequest], Step | Awaitable[Step]]
"""Computes the answer to a request; sync or async."""

_JSON = ("content-type", "application/json")
_PROBE_REPLY = Reply(text="ok", finish_reason="length")


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
        tokenizer: bool = True,
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
            tokenizer: Serve llama.cpp's `POST /tokenize` (one token per word); False
                makes clients fall back to estimating.
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
        self._tokenizer = tokenizer
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
                return error_response(405, f"Use GET for {path}, not {method}.")
            return self._models()
        if path == "/tokenize" and self._tokenizer and method == "POST":
            return tokenize_response(request.body)
        if not path.endswith(("/chat/completions", "/embeddings")):
            return error_response(404, f"No route for {method} {path}.")
        if method != "POST":
            return error_response(405, f"Use POST for {path}, not {method}.")
        try:
            body = json.loads(request.body)
        except ValueError:
            return error_response(400, "The request body is not valid JSON.")
        if not isinstance(body, dict):
            return error_response(400, "The request body must be a JSON object.")
        chat = ChatRequest(path=path, body=body, headers=request.headers)  # pyright: ignore[reportUnknownArgumentType]
        if path.endswith("/embeddings"):
            return self._embeddings(chat)
        return await self._chat(chat)

    def _refusal(self, chat: ChatRequest) -> Response | None:
        body = chat.body
        if "tools" in body and not self._native_tools:
            return error_response(400, f"Model {self.model!r} does not support 'tools'.")
        choice = chat.tool_choice
        if choice is not None and _tool_choice_form(choice) not in self._tool_choice:
            return error_response(400, f"tool_choice {choice!r} is not supported by this server.")
        kind = (chat.response_format or {}).get("type")
        if "response_format" in body and kind not in self._response_formats:
            allowed = ", ".join(sorted(self._response_formats)) or "none"
            return error_response(
                400, f"response_format type {kind!r} is not supported ({allowed})."
            )
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
            return error_response(500, self._errors[-1])
        if step.delay:
            await anyio.sleep(step.delay)
        try:
            return self._answer(chat, step)
        except UsageError as exc:  # a reply the dialect cannot write
            return self._fail(f"Request #{len(self.requests)}: {exc}", exc)

    def _fail(self, message: str, cause: BaseException | None = None) -> Response:
        self._errors.append(message)
        self._cause = self._cause or cause
        return error_response(500, message)

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
                answer = stream_response if chat.stream else completion_response
                return answer(
                    chat, step, response_id=f"chatcmpl-{next(self._ids)}", model=self.model
                )
            case StatusFault():
                response = error_response(step.code, step.message)
                if step.retry_after is not None:
                    response.headers.append(("retry-after", f"{step.retry_after:g}"))
                return response
            case GarbageFault():
                return Response(headers=[_JSON], body=step.body)
            case DisconnectFault():
                return Response(close=True)
            case _:
                assert_never(step)

    # -- models and embeddings -----------------------------------------------------------

    def _models(self) -> Response:
        model = {"id": self.model, "object": "model", "created": 0, "owned_by": "covey"}
        return json_response({"object": "list", "data": [model]})

    def _embeddings(self, chat: ChatRequest) -> Response:
        return embeddings_response(chat, dimensions=self._embedding_dim, model=self.model)

    def embed(self, text: str, *, dimensions: int | None = None) -> list[float]:
        """The vector `/v1/embeddings` returns for `text`: a hashed bag of words, L2-normalised.

        Texts sharing words get similar vectors; case and surrounding punctuation are ignored.
        """
        return embed_text(text, dimensions or self._embedding_dim)
