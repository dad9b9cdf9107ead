"""Spans for agents, model calls and tool calls, with the GenAI semantic conventions.

Each hook asks `active_tracer()` first and returns a shared no-op when tracing is off, so
nothing below the check (attribute dicts, JSON of messages) is built on the hot path.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ._switch import active_tracer, capture_content

if TYPE_CHECKING:
    from opentelemetry.trace import Span

    from ..models import ModelResponse
    from ..tools import ToolResult

__all__ = [
    "SpanScope",
    "agent_span",
    "chat_span",
    "end_chat",
    "end_tool",
    "inject_trace_headers",
    "record_usage",
    "span",
    "tool_span",
    "traced_chat",
]

SpanScope = AbstractContextManager["Span | None"]
"""`with hook(...) as span:`; `span` is None when tracing is off."""

_OFF: SpanScope = nullcontext()
_SYSTEM = "openai"  # the API covey speaks to every model server


def span(name: str, attributes: Mapping[str, str | int | float | bool]) -> SpanScope:
    """A plain covey span (graph steps, nodes, reflection rounds, recall, trials).

    Build `attributes` cheaply: the caller pays for them even when tracing is off; hooks
    with costly attributes check `active_tracer()` themselves.
    """
    tracer = active_tracer()
    if tracer is None:
        return _OFF
    return tracer.start_as_current_span(name, attributes=dict(attributes))


def agent_span(agent: str, model: str | None, base_url: str) -> SpanScope:
    """An agent run: `invoke_agent {agent}`, current while the run lasts."""
    tracer = active_tracer()
    if tracer is None:
        return _OFF
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.system": _SYSTEM,
        "gen_ai.provider.name": _SYSTEM,
        "gen_ai.agent.name": agent,
        **_server(base_url),
    }
    if model:
        attributes["gen_ai.request.model"] = model
    return tracer.start_as_current_span(f"invoke_agent {agent}", attributes=attributes)


def record_usage(span: Span | None, input_tokens: int, output_tokens: int) -> None:
    """Token usage of a run (summed over its model calls)."""
    if span is not None:
        span.set_attribute("gen_ai.usage.input_tokens", input_tokens)
        span.set_attribute("gen_ai.usage.output_tokens", output_tokens)


def chat_span(request: Mapping[str, Any], base_url: str, *, stream: bool) -> Span | None:
    """Start a model call's span (`chat {model}`); end it with `end_chat`.

    It is not made current: nothing runs inside a model call that has spans of its own, and
    a streamed call's span lives across the generator's yields.
    """
    tracer = active_tracer()
    if tracer is None:
        return None
    from opentelemetry.trace import SpanKind

    model = str(request.get("model", ""))
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.system": _SYSTEM,
        "gen_ai.provider.name": _SYSTEM,
        "gen_ai.request.model": model,
        "covey.stream": stream,
        **_server(base_url),
    }
    for key in ("temperature", "max_tokens", "top_p", "seed"):
        if request.get(key) is not None:
            attributes[f"gen_ai.request.{key}"] = request[key]
    if capture_content():
        attributes["gen_ai.input.messages"] = json.dumps(
            [_input_message(m) for m in request.get("messages", ())], default=str
        )
    return tracer.start_span(f"chat {model}", kind=SpanKind.CLIENT, attributes=attributes)


def end_chat(
    span: Span | None, response: ModelResponse | None, error: BaseException | None = None
) -> None:
    """Record the response (or the failure) on a model call's span and end it."""
    if span is None:
        return
    if response is not None:
        span.set_attribute("gen_ai.response.model", response.model)
        span.set_attribute("gen_ai.response.finish_reasons", (response.finish_reason,))
        record_usage(span, response.usage.input_tokens, response.usage.output_tokens)
        if capture_content():
            span.set_attribute("gen_ai.output.messages", json.dumps([_output_message(response)]))
    if error is not None and not isinstance(error, GeneratorExit):  # a reader stopping early
        _fail(span, error)
    span.end()


async def traced_chat(span: Span, call: Awaitable[ModelResponse]) -> ModelResponse:
    """Await a model call, then end its span with the response or the failure."""
    try:
        response = await call
    except BaseException as exc:
        end_chat(span, None, exc)
        raise
    end_chat(span, response)
    return response


def tool_span(
    name: str, call_id: str, arguments: Mapping[str, Any], *, agent: str, server: str | None
) -> SpanScope:
    """A tool call: `execute_tool {name}`, current so MCP requests nest under it."""
    tracer = active_tracer()
    if tracer is None:
        return _OFF
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": name,
        "gen_ai.tool.call.id": call_id,
        "gen_ai.tool.type": "function" if server is None else "extension",
        "gen_ai.agent.name": agent,
    }
    if server is not None:
        attributes["covey.mcp.server"] = server
    if capture_content():
        attributes["gen_ai.tool.call.arguments"] = json.dumps(arguments, default=str)
    return tracer.start_as_current_span(f"execute_tool {name}", attributes=attributes)


def end_tool(span: Span | None, result: ToolResult) -> None:
    """Record a tool call's outcome (its content only when content capture is on)."""
    if span is None:
        return
    if result.is_error:
        from opentelemetry.trace import StatusCode

        span.set_attribute("error.type", "tool_error")
        span.set_status(StatusCode.ERROR)
    if capture_content():
        span.set_attribute("gen_ai.tool.call.result", result.content)


def _fail(span: Span, error: BaseException) -> None:
    from opentelemetry.trace import StatusCode

    span.record_exception(error)
    span.set_attribute("error.type", type(error).__qualname__)
    span.set_status(StatusCode.ERROR, str(error))


def _server(base_url: str) -> dict[str, Any]:
    parts = urlsplit(base_url)
    found: dict[str, Any] = {}
    if parts.hostname:
        found["server.address"] = parts.hostname
    if parts.port:
        found["server.port"] = parts.port
    return found


def _input_message(message: Mapping[str, Any]) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    content = message.get("content")
    if message.get("role") == "tool":
        parts.append(
            {"type": "tool_call_response", "id": message.get("tool_call_id"), "response": content}
        )
    elif content:
        parts.append({"type": "text", "content": content})
    calls: Iterable[Mapping[str, Any]] = message.get("tool_calls") or ()
    for call in calls:
        function = call.get("function", {})
        parts.append(
            {
                "type": "tool_call",
                "id": call.get("id"),
                "name": function.get("name"),
                "arguments": function.get("arguments"),
            }
        )
    return {"role": message.get("role"), "parts": parts}


def _output_message(response: ModelResponse) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    if response.text:
        parts.append({"type": "text", "content": response.text})
    for call in response.tool_calls:
        parts.append(
            {"type": "tool_call", "id": call.id, "name": call.name, "arguments": call.arguments}
        )
    return {"role": "assistant", "parts": parts, "finish_reason": response.finish_reason}


async def inject_trace_headers(request: Any) -> None:
    """An httpx request hook: the current span's `traceparent` header (W3C trace context)."""
    if active_tracer() is None:
        return
    from opentelemetry.propagate import inject

    inject(request.headers)
