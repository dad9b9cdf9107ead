"""Find out once what an endpoint accepts: native tools, `tool_choice` forms, structured output.

Servers differ: llama.cpp takes `response_format` only as `json_object` with a `schema` key,
some builds of Ollama and TGI refuse `tools`, vLLM refuses `tool_choice="required"` without
a tool parser. Each probe is a one-token request; an error status, once a plain request has
succeeded, means "not supported".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import openai
from openai.types.chat import ChatCompletion, ChatCompletionChunk

__all__ = ["Capabilities", "StructuredOutput", "probe_capabilities", "create_completion"]

StructuredOutput = Literal["json_schema", "json_object_schema", "none"]
"""How the server can be made to answer in JSON: `response_format` of type `json_schema`,
of type `json_object` with a `schema` key (llama.cpp), or not at all (prompt only)."""

ToolChoiceForm = Literal["auto", "none", "required", "named"]

_PROBE_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "covey_probe",
        "description": "Capability probe; never called.",
        "parameters": {"type": "object", "properties": {"x": {"type": "integer"}}},
    },
}
_PROBE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"ok": {"type": "boolean"}},
    "required": ["ok"],
}


async def create_completion(client: openai.AsyncOpenAI, request: dict[str, Any]) -> Any:
    """POST a chat completion request that covey built as a JSON-ready dict.

    `chat.completions.create` would first walk the body against the SDK's TypedDicts, which
    costs more CPU than the rest of covey's turn (about 1 ms a request) and changes nothing
    in a body of plain dicts, lists and scalars. `extra_body` is merged in, as `create`
    does. Returns a `ChatCompletion`, or an `AsyncStream` of chunks when the request streams.
    """
    body = dict(request)
    options: openai.RequestOptions = {"security": {"bearer_auth": True}}
    extra = body.pop("extra_body", None)
    if extra is not None:
        options["extra_json"] = extra
    stream = bool(body.get("stream"))
    return await client.post(
        "/chat/completions",
        cast_to=ChatCompletion,
        body=body,
        options=options,
        stream=stream,
        stream_cls=openai.AsyncStream[ChatCompletionChunk],
    )


@dataclass(kw_only=True, slots=True, frozen=True)
class Capabilities:
    """What one endpoint accepts."""

    native_tools: bool
    """Whether the server takes the `tools` field."""
    tool_choice: frozenset[ToolChoiceForm]
    """`tool_choice` forms the server takes (empty without native tools)."""
    structured_output: StructuredOutput
    """The strongest structured-output form the server takes."""

    @property
    def constrained_tools(self) -> bool:
        """Whether tools must go through the prompt and a JSON envelope."""
        return not self.native_tools


Send = Callable[[dict[str, Any]], Awaitable[object]]


async def _accepted(send: Send, extra: dict[str, Any]) -> bool:
    # llama-cpp-python answers an unknown field value with HTTP 500, not 4xx, so after a
    # plain request has succeeded any error status (bar auth and rate limits) means "no";
    # a 5xx is asked once more so that one transient failure is not read as a "no".
    for attempt in range(2):
        try:
            await send(extra)
        except openai.APIStatusError as exc:
            if exc.status_code in (401, 403, 408, 429):
                raise
            if exc.status_code < 500 or attempt == 1:
                return False
        else:
            return True
    return False


async def probe_capabilities(client: openai.AsyncOpenAI, model: str) -> Capabilities:
    """Ask the endpoint, with one-token requests, what it accepts.

    Raises:
        openai.OpenAIError: when the server fails in a way that says nothing about support
            (connection refused, 5xx, authentication); the caller maps it.
    """

    async def send(extra: dict[str, Any]) -> object:
        base = {"model": model, "messages": [{"role": "user", "content": "ping"}]}
        return await create_completion(client, {**base, "max_tokens": 1, "temperature": 0, **extra})

    await send({})
    choices: set[ToolChoiceForm] = set()
    native = await _accepted(send, {"tools": [_PROBE_TOOL], "tool_choice": "auto"})
    if native:
        choices.add("auto")
        named = {"type": "function", "function": {"name": "covey_probe"}}
        forms: list[tuple[ToolChoiceForm, object]] = [
            ("none", "none"),
            ("required", "required"),
            ("named", named),
        ]
        for form, value in forms:
            if await _accepted(send, {"tools": [_PROBE_TOOL], "tool_choice": value}):
                choices.add(form)
    structured: StructuredOutput = "none"
    json_schema = {"name": "probe", "schema": _PROBE_SCHEMA}
    if await _accepted(
        send, {"response_format": {"type": "json_schema", "json_schema": json_schema}}
    ):
        structured = "json_schema"
    elif await _accepted(
        send, {"response_format": {"type": "json_object", "schema": _PROBE_SCHEMA}}
    ):
        structured = "json_object_schema"
    return Capabilities(
        native_tools=native, tool_choice=frozenset(choices), structured_output=structured
    )
