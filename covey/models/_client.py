"""The model client: one `AsyncOpenAI` per endpoint, shared by every agent that uses it."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any, Literal, Self, cast

import anyio
import openai
from openai.types.chat import ChatCompletionChunk

from .._errors import ModelHTTPError, ModelResponseError, UsageError
from ..tracing._genai import chat_span, end_chat, traced_chat
from ._assemble import StreamAssembler, read_completion
from ._config import ModelConfig
from ._constrained import constrained_messages, envelope_schema
from ._messages import Message, to_openai_messages
from ._probe import Capabilities, create_completion, probe_capabilities
from ._retry import RetryCallback, call_with_retries, to_model_error
from ._types import ModelResponse, ResponseDone, StreamEvent, ToolDefinition

__all__ = ["ModelClient", "ModelSettings", "OutputSchema", "ToolChoice"]

ToolChoice = Literal["auto", "none", "required"] | str
"""`auto`, `none`, `required`, or the name of one tool the model must call."""

_FULL_CAPABILITIES = Capabilities(
    native_tools=True,
    tool_choice=frozenset({"auto", "none", "required", "named"}),
    structured_output="json_schema",
)


@dataclass(kw_only=True, slots=True, frozen=True)
class ModelSettings:
    """Sampling settings for one request; `None` leaves the server's default."""

    temperature: float | None = None
    """Sampling temperature."""
    max_tokens: int | None = None
    """Cap on generated tokens."""
    top_p: float | None = None
    """Nucleus sampling."""
    seed: int | None = None
    """Seed, for servers that honour one."""
    stop: tuple[str, ...] = ()
    """Stop sequences."""
    extra_body: Mapping[str, Any] | None = None
    """Server-specific fields sent as they are (for example `{"top_k": 20}`)."""


@dataclass(kw_only=True, slots=True, frozen=True)
class OutputSchema:
    """A JSON schema the answer must follow."""

    name: str
    """Schema name (letters, digits, `_`)."""
    schema: dict[str, Any]
    """The JSON schema (an object schema)."""


@dataclass(kw_only=True, slots=True, frozen=True)
class _Plan:
    constrained: bool
    tool_names: frozenset[str]
    request: dict[str, Any]
    read_calls: bool = True


class ModelClient:
    """Talks to one OpenAI-compatible endpoint (vLLM, llama.cpp, Ollama, SGLang, ...).

    Create one per endpoint and share it: it holds one `AsyncOpenAI` and its connection
    pool, and caches what the endpoint can do.

    Example:
        ```python
        async with ModelClient(ModelConfig(base_url="http://127.0.0.1:8000/v1")) as model:
            reply = await model.complete([UserMessage(content="Hello")])
            print(reply.text)
        ```
    """

    def __init__(self, config: ModelConfig, *, capabilities: Capabilities | None = None) -> None:
        """Create a client.

        Args:
            config: where the server is and how to talk to it.
            capabilities: what the server accepts, if known; otherwise covey probes it on
                the first request that needs to know.
        """
        self.config = config
        self._openai = openai.AsyncOpenAI(
            base_url=config.base_url,
            api_key=config.api_key,
            max_retries=0,
            timeout=openai.Timeout(config.timeout, connect=config.connect_timeout),
        )
        self._model = config.model
        self._capabilities = capabilities
        if capabilities is None and config.tool_mode == "native":
            self._capabilities = _FULL_CAPABILITIES
        self._lock = anyio.Lock()
        self._ids = itertools.count()
        self._closed = False

    @property
    def openai(self) -> openai.AsyncOpenAI:
        """The underlying `AsyncOpenAI` client, for calls covey does not wrap."""
        return self._openai

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool. The client cannot be used afterwards."""
        self._closed = True
        await self._openai.close()

    async def model_name(self) -> str:
        """The configured model name, or else the first one the server lists."""
        if self._model is not None:
            return self._model
        async with self._lock:
            if self._model is None:
                page = await call_with_retries(self._openai.models.list, self.config)
                if not page.data:
                    raise UsageError(
                        f"The model server at {self.config.base_url} lists no models: "
                        "set COVEY_MODEL (or ModelConfig(model=...)) to the model to use."
                    )
                self._model = page.data[0].id
        return self._model

    async def served_models(self, *, timeout: float = 5.0) -> list[str] | None:  # noqa: ASYNC109
        """The model names the server lists at `/v1/models`, asked once without retries.

        Returns:
            The names, or None when the server answers with an error status (it does not
            list models).

        Raises:
            ModelConnectionError: nothing answers at the base URL within `timeout` seconds.
        """
        config = replace(self.config, timeout=timeout, connect_timeout=timeout, max_retries=0)
        quick = self._openai.with_options(timeout=timeout, max_retries=0)
        try:
            page = await call_with_retries(quick.models.list, config)
        except ModelHTTPError:
            return None
        return [model.id for model in page.data]

    async def embed(self, texts: Sequence[str], *, model: str | None = None) -> list[list[float]]:
        """Vectors for `texts` from the server's `/v1/embeddings` (llama.cpp, vLLM, ...).

        Args:
            texts: What to embed (one vector each, in order).
            model: The embedding model (default: this client's model).

        Raises:
            ModelError: the server failed or has no embeddings endpoint (after retries).
        """
        if not texts:
            return []
        name = model or await self.model_name()

        async def create() -> Any:
            return await self._openai.embeddings.create(
                model=name, input=list(texts), encoding_format="float"
            )

        page = await call_with_retries(create, self.config)
        ordered = sorted(page.data, key=lambda item: item.index)
        if len(ordered) != len(texts):
            raise ModelResponseError(
                f"The embeddings endpoint at {self.config.base_url} returned {len(ordered)} "
                f"vectors for {len(texts)} texts: check that model {name!r} embeds."
            )
        return [list(map(float, item.embedding)) for item in ordered]

    async def capabilities(self) -> Capabilities:
        """What the endpoint accepts; probed once, then cached."""
        if self._capabilities is not None:
            return self._capabilities
        model = await self.model_name()
        async with self._lock:
            if self._capabilities is None:
                try:
                    caps = await probe_capabilities(self._openai, model)
                except openai.OpenAIError as exc:
                    raise to_model_error(exc, self.config, attempts=1) from exc
                if self.config.tool_mode == "constrained":
                    caps = Capabilities(
                        native_tools=False,
                        tool_choice=frozenset(),
                        structured_output=caps.structured_output,
                    )
                self._capabilities = caps
        return self._capabilities

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        tool_choice: ToolChoice = "auto",
        output: OutputSchema | None = None,
        settings: ModelSettings | None = None,
        on_retry: RetryCallback | None = None,
    ) -> ModelResponse:
        """Ask the model for one whole answer.

        Args:
            messages: the conversation so far.
            tools: tools the model may call.
            tool_choice: whether (or which) tool the model must call.
            output: a JSON schema the final answer must follow.
            settings: sampling settings.
            on_retry: called before each retry, for progress reporting.

        Raises:
            ModelError: the server could not be reached, refused the request, or answered
                with something that is not a chat completion, after retries.
        """
        plan = await self._plan(messages, tools, tool_choice, output, settings)
        id_prefix = self._id_prefix()

        async def attempt() -> ModelResponse:
            try:
                completion = await create_completion(self._openai, plan.request)
            except ValueError as exc:  # the SDK lets a body that is not JSON escape raw
                raise ModelResponseError(f"the body is not JSON ({exc})") from exc
            return read_completion(
                completion,
                constrained=plan.constrained,
                tool_names=plan.tool_names,
                id_prefix=id_prefix,
                read_calls=plan.read_calls,
            )

        span = chat_span(plan.request, self.config.base_url, stream=False)
        retried = call_with_retries(attempt, self.config, on_retry)
        return await (retried if span is None else traced_chat(span, retried))

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        tool_choice: ToolChoice = "auto",
        output: OutputSchema | None = None,
        settings: ModelSettings | None = None,
        on_retry: RetryCallback | None = None,
    ) -> AsyncGenerator[StreamEvent]:
        """Ask the model for an answer, streamed: text, reasoning and tool calls as they come.

        The last event is always `ResponseDone` with the whole response. Close the iterator
        (`contextlib.aclosing`) if you stop early. A failure before the first chunk is
        retried like `complete()`; a stream cut midway raises `ModelResponseError`.
        """
        plan = await self._plan(messages, tools, tool_choice, output, settings)
        request: dict[str, Any] = {
            **plan.request,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        assembler = StreamAssembler(
            constrained=plan.constrained,
            tool_names=plan.tool_names,
            id_prefix=self._id_prefix(),
            read_calls=plan.read_calls,
        )

        async def open_stream() -> openai.AsyncStream[ChatCompletionChunk]:
            stream = await create_completion(self._openai, request)
            return cast(openai.AsyncStream[ChatCompletionChunk], stream)

        span = chat_span(request, self.config.base_url, stream=True)
        try:
            chunks = await call_with_retries(open_stream, self.config, on_retry)
            try:
                async for chunk in chunks:
                    for event in assembler.feed(chunk):
                        yield event
            except openai.OpenAIError as exc:
                raise ModelResponseError(
                    f"The stream from {self.config.base_url} broke after {assembler.chunks} "
                    f"chunks ({type(exc).__name__}: {exc}). Ask again; if it keeps happening, "
                    "check the server's log or use complete() instead of stream()."
                ) from exc
            finally:
                await chunks.close()
            events, response = assembler.finish()
        except BaseException as exc:
            end_chat(span, None, exc)
            raise
        end_chat(span, response)
        for event in events:
            yield event
        yield ResponseDone(response=response)

    def _id_prefix(self) -> str:
        return f"call_{next(self._ids)}"

    async def _plan(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolDefinition],
        tool_choice: ToolChoice,
        output: OutputSchema | None,
        settings: ModelSettings | None,
    ) -> _Plan:
        if self._closed:
            raise UsageError("This ModelClient is closed: create a new one.")
        model = await self.model_name()
        caps = await self.capabilities() if tools or output else _FULL_CAPABILITIES
        request: dict[str, Any] = {"model": model}
        constrained = bool(tools) and caps.constrained_tools
        if constrained:
            request["messages"] = constrained_messages(messages, tools)
            final = output.schema if output else None
            schema = envelope_schema(tools, final)
            _add_response_format(request, caps, OutputSchema(name="envelope", schema=schema))
        else:
            request["messages"] = to_openai_messages(messages)
            if tools:
                request["tools"] = [t.to_openai() for t in tools]
                choice = _tool_choice(tool_choice, caps, tools)
                if choice is not None:
                    request["tool_choice"] = choice
            if output is not None:
                _add_response_format(request, caps, output)
        _add_settings(request, settings)
        return _Plan(
            constrained=constrained,
            tool_names=frozenset(t.name for t in tools),
            request=request,
            read_calls=tool_choice != "none",
        )


def _tool_choice(
    choice: ToolChoice, caps: Capabilities, tools: Sequence[ToolDefinition]
) -> object | None:
    if choice in ("auto", "none", "required"):
        return choice if choice in caps.tool_choice else None
    if choice not in {t.name for t in tools}:
        names = ", ".join(sorted(t.name for t in tools))
        raise UsageError(f"tool_choice={choice!r} names no tool given; the tools are: {names}.")
    if "named" in caps.tool_choice:
        return {"type": "function", "function": {"name": choice}}
    return "required" if "required" in caps.tool_choice else None


def _add_response_format(request: dict[str, Any], caps: Capabilities, output: OutputSchema) -> None:
    if caps.structured_output == "json_schema":
        request["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": output.name, "schema": output.schema},
        }
    elif caps.structured_output == "json_object_schema":
        request["response_format"] = {"type": "json_object", "schema": output.schema}
    if caps.structured_output != "json_schema":
        # Without a schema-enforcing server the model only knows the shape from the prompt.
        hint = f"Answer with JSON that follows this schema: {json.dumps(output.schema)}"
        request["messages"] = _with_system_hint(request["messages"], hint)


def _with_system_hint(messages: list[dict[str, Any]], hint: str) -> list[dict[str, Any]]:
    # Many chat templates accept a system message only in first place.
    if messages and messages[0].get("role") == "system":
        first = {**messages[0], "content": f"{messages[0]['content']}\n\n{hint}"}
        return [first, *messages[1:]]
    return [{"role": "system", "content": hint}, *messages]


def _add_settings(request: dict[str, Any], settings: ModelSettings | None) -> None:
    if settings is None:
        return
    for key in ("temperature", "max_tokens", "top_p", "seed"):
        value = getattr(settings, key)
        if value is not None:
            request[key] = value
    if settings.stop:
        request["stop"] = list(settings.stop)
    if settings.extra_body:
        request["extra_body"] = dict(settings.extra_body)
