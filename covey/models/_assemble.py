"""Turn what a server sent (a whole completion, or stream chunks) into covey's typed values."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, cast

from openai.types import CompletionUsage
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from .._errors import ModelResponseError
from ._constrained import parse_envelope
from ._dialect_calls import loads_repaired
from ._dialects import StreamingTextParser, parse_text
from ._types import (
    FinishReason,
    MalformedToolCall,
    ModelResponse,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    Usage,
)

__all__ = ["read_completion", "StreamAssembler", "parse_arguments"]

_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}


_MARKERS = frozenset("<[{(")


def _usage(usage: CompletionUsage | None) -> Usage:
    if usage is None:
        return Usage(requests=1)
    return Usage(
        input_tokens=usage.prompt_tokens or 0,
        output_tokens=usage.completion_tokens or 0,
        requests=1,
    )


def parse_arguments(raw: str, *, call_id: str, name: str) -> ToolCall | MalformedToolCall:
    """Parse a native call's argument string, repairing only what is safe to repair."""
    if not raw.strip():
        return ToolCall(id=call_id, name=name, arguments={})
    try:
        value = json.loads(raw)
    except ValueError:
        try:
            value = loads_repaired(raw)
        except ValueError as exc:
            return MalformedToolCall(
                id=call_id,
                name=name,
                raw=raw,
                error=f"Your call to tool {name!r} did not have valid JSON arguments ({exc}). "
                "Write the arguments as one JSON object of the tool's parameters.",
            )
    if not isinstance(value, dict):
        return MalformedToolCall(
            id=call_id,
            name=name,
            raw=raw,
            error=f"Your call to tool {name!r} had arguments that are not a JSON object. "
            "Write them as one JSON object of the tool's parameters.",
        )
    return ToolCall(id=call_id, name=name, arguments=cast(dict[str, Any], value))


def _split_think(content: str) -> tuple[str, str]:
    """(answer, reasoning) of a reply that may open with a `<think>` block."""
    head, sep, tail = content.partition("</think>")
    if not sep:
        return content.strip(), ""
    return tail.strip(), head.replace("<think>", "", 1).strip()


def _read_text(
    content: str,
    *,
    constrained: bool,
    tool_names: Collection[str],
    id_prefix: str,
    read_calls: bool = True,
) -> tuple[str, str, list[ToolCall], list[MalformedToolCall]]:
    if not read_calls and not constrained:
        # tool_choice "none": the model was not allowed to call, so call-like text is answer.
        text, reasoning = _split_think(content)
        return text, reasoning, [], []
    if constrained:
        envelope = parse_envelope(content, id_prefix=id_prefix)
        if envelope is not None:
            text, calls, malformed = envelope
            return text, "", calls, malformed
    if not _MARKERS.intersection(content):
        # No tag, bracket, brace or parenthesis: no dialect can be in it, so skip the parser.
        return content.strip(), "", [], []
    parsed = parse_text(content, tool_names=tool_names or None, id_prefix=id_prefix)
    return parsed.text, parsed.reasoning, parsed.tool_calls, parsed.malformed


def read_completion(
    completion: object,
    *,
    constrained: bool,
    tool_names: Collection[str],
    id_prefix: str,
    read_calls: bool = True,
) -> ModelResponse:
    """Read a whole (non-streamed) completion (its text calls too, unless not `read_calls`).

    Raises:
        ModelResponseError: when the server's answer is not a chat completion.
    """
    if not isinstance(completion, ChatCompletion) or not completion.choices:
        raise ModelResponseError(f"expected a chat completion, got {str(completion)[:200]!r}")
    choice = completion.choices[0]
    message = choice.message
    text, reasoning, calls, malformed = _read_text(
        message.content or "",
        constrained=constrained,
        tool_names=tool_names,
        id_prefix=id_prefix,
        read_calls=read_calls,
    )
    extra_reasoning = getattr(message, "reasoning_content", None)
    if isinstance(extra_reasoning, str) and extra_reasoning:
        reasoning = extra_reasoning + reasoning
    for native in message.tool_calls or []:
        function = getattr(native, "function", None)
        if function is None:
            continue
        parsed = parse_arguments(function.arguments, call_id=native.id, name=function.name)
        if isinstance(parsed, ToolCall):
            calls.append(parsed)
        else:
            malformed.append(parsed)
    finish = _FINISH.get(choice.finish_reason or "", "unknown")
    if calls and finish == "stop":
        finish = "tool_calls"
    return ModelResponse(
        text=text,
        reasoning=reasoning,
        tool_calls=tuple(calls),
        malformed_tool_calls=tuple(malformed),
        usage=_usage(completion.usage),
        finish_reason=finish,
        model=completion.model,
    )


@dataclass(slots=True)
class _NativeCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=lambda: [])


@dataclass(kw_only=True, slots=True)
class StreamAssembler:
    """Folds stream chunks into events and, at the end, one `ModelResponse`."""

    constrained: bool
    tool_names: Collection[str]
    id_prefix: str
    read_calls: bool = True
    """Whether text tool calls are read (not when the request said `tool_choice="none"`)."""
    chunks: int = 0
    _parser: StreamingTextParser | None = None
    _text: list[str] = field(default_factory=lambda: [])
    _reasoning: list[str] = field(default_factory=lambda: [])
    _raw_content: list[str] = field(default_factory=lambda: [])
    _calls: list[ToolCall] = field(default_factory=lambda: [])
    _malformed: list[MalformedToolCall] = field(default_factory=lambda: [])
    _native: dict[int, _NativeCall] = field(default_factory=lambda: {})
    _usage: Usage = field(default_factory=Usage)
    _finish: FinishReason = "unknown"
    _model: str = ""

    def __post_init__(self) -> None:
        if not self.constrained and self.read_calls:
            self._parser = StreamingTextParser(
                tool_names=self.tool_names or None, id_prefix=self.id_prefix
            )

    def feed(self, chunk: ChatCompletionChunk) -> list[StreamEvent]:
        """Take one chunk; return the events it completes."""
        self.chunks += 1
        self._model = chunk.model or self._model
        if chunk.usage is not None:
            self._usage = _usage(chunk.usage)
        events: list[StreamEvent] = []
        for choice in chunk.choices[:1]:
            delta = choice.delta
            reasoning = getattr(delta, "reasoning_content", None)
            if isinstance(reasoning, str) and reasoning:
                self._reasoning.append(reasoning)
                events.append(ReasoningDelta(text=reasoning))
            if delta.content:
                events.extend(self._content(delta.content))
            for tc in delta.tool_calls or []:
                slot = self._native.setdefault(tc.index, _NativeCall())
                slot.id = tc.id or slot.id
                if tc.function is not None:
                    slot.name = tc.function.name or slot.name
                    slot.arguments.append(tc.function.arguments or "")
            if choice.finish_reason:
                self._finish = _FINISH.get(choice.finish_reason, "unknown")
        return events

    def _content(self, content: str) -> list[StreamEvent]:
        if self._parser is None:
            self._raw_content.append(content)
            return []
        return self._route(self._parser.feed(content))

    def _route(
        self, items: list[TextDelta | ReasoningDelta | ToolCallDelta | MalformedToolCall]
    ) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        for item in items:
            match item:
                case TextDelta():
                    self._text.append(item.text)
                case ReasoningDelta():
                    self._reasoning.append(item.text)
                case ToolCallDelta():
                    self._calls.append(item.call)
                case MalformedToolCall():
                    self._malformed.append(item)
                    continue
            events.append(item)
        return events

    def finish(self) -> tuple[list[StreamEvent], ModelResponse]:
        """End of stream: the last events and the assembled response."""
        events: list[StreamEvent] = []
        if self._parser is not None:
            events = self._route(self._parser.finish())
        else:
            text, reasoning, calls, malformed = _read_text(
                "".join(self._raw_content),
                constrained=self.constrained,
                tool_names=self.tool_names,
                id_prefix=self.id_prefix,
                read_calls=self.read_calls,
            )
            self._reasoning.append(reasoning)
            self._malformed.extend(malformed)
            if text:
                self._text.append(text)
                events.append(TextDelta(text=text))
            for call in calls:
                self._calls.append(call)
                events.append(ToolCallDelta(call=call))
        for index in sorted(self._native):
            slot = self._native[index]
            parsed = parse_arguments(
                "".join(slot.arguments),
                call_id=slot.id or f"{self.id_prefix}_n{index}",
                name=slot.name,
            )
            if isinstance(parsed, ToolCall):
                self._calls.append(parsed)
                events.append(ToolCallDelta(call=parsed))
            else:
                self._malformed.append(parsed)
        finish = self._finish
        if self._calls and finish == "stop":
            finish = "tool_calls"
        response = ModelResponse(
            text="".join(self._text),
            reasoning="".join(self._reasoning),
            tool_calls=tuple(self._calls),
            malformed_tool_calls=tuple(self._malformed),
            usage=self._usage if self._usage.requests else Usage(requests=1),
            finish_reason=finish,
            model=self._model,
        )
        return events, response
