"""Typed values that the model layer produces: responses, tool calls, usage, stream events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, cast

__all__ = [
    "ToolCall",
    "MalformedToolCall",
    "Usage",
    "FinishReason",
    "ModelResponse",
    "TextDelta",
    "ReasoningDelta",
    "ToolCallDelta",
    "ResponseDone",
    "StreamEvent",
    "ToolDefinition",
]

FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "error", "unknown"]


@dataclass(kw_only=True, slots=True, frozen=True)
class ToolCall:
    """One call of a tool that the model asked for, whatever dialect it was written in."""

    id: str
    """Call id: the server's for native calls, a generated `call_...` id for text dialects."""
    name: str
    """Name of the tool to call."""
    arguments: dict[str, Any]
    """Parsed arguments (a JSON object)."""
    dialect: str = "native"
    """Where the call came from: `native`, `hermes`, `llama3`, `python_tag`, `mistral`,
    `pythonic` or `envelope` (constrained mode)."""


@dataclass(kw_only=True, slots=True, frozen=True)
class MalformedToolCall:
    """A tool call the model tried to write but that could not be parsed safely.

    The agent loop sends `error` back to the model so it can try again.
    """

    id: str
    """Call id (the server's, or generated)."""
    name: str | None
    """Tool name, when it could be read."""
    raw: str
    """The text of the call as the model wrote it."""
    error: str
    """What is wrong with it, phrased for the model."""
    dialect: str = "native"
    """The dialect the call was written in."""


@dataclass(kw_only=True, slots=True, frozen=True)
class Usage:
    """Token counts for one or more model calls."""

    input_tokens: int = 0
    """Prompt tokens."""
    output_tokens: int = 0
    """Completion tokens."""
    requests: int = 0
    """Number of model requests counted."""

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            requests=self.requests + other.requests,
        )


@dataclass(kw_only=True, slots=True, frozen=True)
class ModelResponse:
    """A whole answer of the model, with tool calls from any dialect normalised."""

    text: str
    """The answer text, with tool-call markup and reasoning removed."""
    reasoning: str = ""
    """Reasoning the model wrote (`<think>` blocks or the server's `reasoning_content`)."""
    tool_calls: tuple[ToolCall, ...] = ()
    """Tool calls the model asked for, in order."""
    malformed_tool_calls: tuple[MalformedToolCall, ...] = ()
    """Tool calls that could not be parsed; the agent asks the model again."""
    usage: Usage = field(default_factory=Usage)
    """Token usage of this request."""
    finish_reason: FinishReason = "unknown"
    """Why the model stopped."""
    model: str = ""
    """Model name the server reported."""


@dataclass(kw_only=True, slots=True, frozen=True)
class TextDelta:
    """A piece of answer text, streamed."""

    text: str
    """The new text."""


@dataclass(kw_only=True, slots=True, frozen=True)
class ReasoningDelta:
    """A piece of reasoning text, streamed."""

    text: str
    """The new reasoning text."""


@dataclass(kw_only=True, slots=True, frozen=True)
class ToolCallDelta:
    """A tool call that became complete while streaming."""

    call: ToolCall
    """The complete call."""


@dataclass(kw_only=True, slots=True, frozen=True)
class ResponseDone:
    """The end of a stream, with the whole response assembled."""

    response: ModelResponse
    """Everything the stream carried, as one response."""


StreamEvent = TextDelta | ReasoningDelta | ToolCallDelta | ResponseDone


@dataclass(kw_only=True, slots=True, frozen=True)
class ToolDefinition:
    """What the model is told about a tool: its name, description and argument schema."""

    name: str
    """Tool name as the model must write it."""
    description: str
    """What the tool does, for the model."""
    parameters: dict[str, Any]
    """JSON schema of the arguments (an object schema)."""

    def to_openai(self) -> dict[str, Any]:
        """The `tools` entry in the Chat Completions format.

        Large length limits are left out of the schema the model sees: llama.cpp turns a
        schema into a grammar with one rule per allowed character, and limits in the
        thousands crash its server. The tool itself still enforces them.
        """
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": without_large_limits(self.parameters),
            },
        }


_LENGTH_KEYS = ("maxLength", "minLength", "maxItems", "minItems")
_LARGEST_LIMIT = 64


def without_large_limits(schema: Any) -> Any:
    """A copy of a JSON schema without length limits above `_LARGEST_LIMIT`."""
    if isinstance(schema, dict):
        items = cast(dict[str, Any], schema).items()
        return {
            key: without_large_limits(value)
            for key, value in items
            if not (key in _LENGTH_KEYS and isinstance(value, int) and value > _LARGEST_LIMIT)
        }
    if isinstance(schema, list):
        return [without_large_limits(item) for item in cast(list[Any], schema)]
    return schema
