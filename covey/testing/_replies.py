"""Rendering a scripted `Reply` as an OpenAI Chat Completions answer, whole or streamed."""

from __future__ import annotations

import json
import time
from typing import Any

from ..models._dialects import render_tool_calls
from ._http import Response, dumps, json_response, sse_event
from ._script import ChatRequest, Reply, content_text

__all__ = ["completion_response", "error_response", "stream_response", "words"]

_JSON = ("content-type", "application/json")
_SSE = ("content-type", "text/event-stream")
_TEXT_PIECE = 8
_ARGUMENTS_PIECE = 10


def words(text: str) -> int:
    """The scripted server's token count: whitespace-separated words."""
    return len(text.split())


def error_response(status: int, message: str) -> Response:
    """An OpenAI-style error body with the type a real server would send for `status`."""
    kind = "server_error" if status >= 500 else "invalid_request_error"
    if status == 429:
        kind = "rate_limit_error"
    return json_response(
        {"error": {"message": message, "type": kind, "param": None, "code": status}}, status
    )


def _content(reply: Reply) -> tuple[str, list[dict[str, Any]]]:
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
    chat: ChatRequest, reply: Reply, text: str, calls: list[dict[str, Any]]
) -> dict[str, int]:
    if reply.usage is not None:
        prompt, completion = reply.usage
    else:
        prompt = sum(words(content_text(m.get("content"))) for m in chat.messages)
        arguments = sum(words(c["function"]["arguments"]) for c in calls)
        completion = words(text) + words(reply.reasoning) + arguments
    total = prompt + completion
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total}


def completion_response(
    chat: ChatRequest, reply: Reply, *, response_id: str, model: str
) -> Response:
    """`reply` as one `chat.completion` body (cut in half when the reply asks for a cut)."""
    text, calls = _content(reply)
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = calls
    if reply.reasoning:
        message["reasoning_content"] = reply.reasoning
    finish = reply.finish_reason or ("tool_calls" if calls else "stop")
    body = dumps(
        {
            "id": response_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": reply.model or model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": _usage(chat, reply, text, calls),
        }
    )
    if reply.cut_after_chunks is None:
        return Response(headers=[_JSON], body=body)
    head = f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}"
    return Response(raw=head.encode() + b"\r\n\r\n" + body[: len(body) // 2])


def stream_response(chat: ChatRequest, reply: Reply, *, response_id: str, model: str) -> Response:
    """`reply` as server-sent `chat.completion.chunk` events, text and arguments in pieces."""
    text, calls = _content(reply)
    envelope = {
        "id": response_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": reply.model or model,
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
        usage = _usage(chat, reply, text, calls)
        events.append(sse_event({**envelope, "choices": [], "usage": usage}))
    cut = reply.cut_after_chunks
    if cut is None:
        events.append(b"data: [DONE]\n\n")
    return Response(headers=[_SSE, ("cache-control", "no-cache")], chunks=events, cut_after=cut)
