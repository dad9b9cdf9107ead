"""Everything that happens in an agent run, as typed events on one stream."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..models import Message, ModelResponse, ToolCall, ToolDefinition, Usage
from ..tools import ProgressUpdate, ServerLogMessage, ToolResult

__all__ = [
    "RunStarted",
    "ModelRequestStarted",
    "TextChunk",
    "ReasoningChunk",
    "ToolCallRequested",
    "ModelResponded",
    "ToolStarted",
    "ToolFinished",
    "RetryScheduled",
    "ContextCompacted",
    "Reflected",
    "ErrorOccurred",
    "RunFinished",
    "AgentEvent",
]


@dataclass(kw_only=True, slots=True, frozen=True)
class RunStarted:
    """A run began."""

    agent: str
    """Agent name."""
    run_id: str
    """Run id."""


@dataclass(kw_only=True, slots=True, frozen=True)
class ModelRequestStarted:
    """The agent sent the conversation to the model."""

    agent: str
    """Agent name."""
    turn: int
    """Turn number, from 1."""
    messages: tuple[Message, ...]
    """The messages sent."""
    tools: tuple[ToolDefinition, ...] = ()
    """The tools offered with them (every kind: functions, MCP servers, environments)."""


@dataclass(kw_only=True, slots=True, frozen=True)
class TextChunk:
    """A piece of answer text, as the model streams it."""

    agent: str
    """Agent name."""
    text: str
    """The new text."""


@dataclass(kw_only=True, slots=True, frozen=True)
class ReasoningChunk:
    """A piece of reasoning, as the model streams it."""

    agent: str
    """Agent name."""
    text: str
    """The new reasoning text."""


@dataclass(kw_only=True, slots=True, frozen=True)
class ToolCallRequested:
    """The model finished writing a tool call (while streaming)."""

    agent: str
    """Agent name."""
    call: ToolCall
    """The call."""


@dataclass(kw_only=True, slots=True, frozen=True)
class ModelResponded:
    """The model's whole answer for one turn."""

    agent: str
    """Agent name."""
    turn: int
    """Turn number, from 1."""
    response: ModelResponse
    """The answer, with tool calls normalised."""


@dataclass(kw_only=True, slots=True, frozen=True)
class ToolStarted:
    """A tool call began."""

    agent: str
    """Agent name."""
    call: ToolCall
    """The call."""


@dataclass(kw_only=True, slots=True, frozen=True)
class ToolFinished:
    """A tool call ended, well or badly."""

    agent: str
    """Agent name."""
    call: ToolCall
    """The call."""
    result: ToolResult
    """What goes back to the model."""
    seconds: float
    """How long it took."""


@dataclass(kw_only=True, slots=True, frozen=True)
class RetryScheduled:
    """Something failed and will be tried again."""

    agent: str
    """Agent name."""
    what: str
    """What is retried: `model` or `output`."""
    attempt: int
    """Which attempt failed."""
    error: str
    """Why."""


@dataclass(kw_only=True, slots=True, frozen=True)
class ContextCompacted:
    """Older turns were summarised to keep the conversation within the agent's budget."""

    agent: str
    """Agent name."""
    tokens_before: int
    tokens_after: int
    summarized_messages: int
    """Messages the summary replaced."""


@dataclass(kw_only=True, slots=True, frozen=True)
class Reflected:
    """A critic checked a draft against the agent's reflection criteria."""

    agent: str
    """Agent name."""
    round: int
    """1 for the first draft, 2 for the first revision, ..."""
    passed: bool
    """Whether every criterion held."""
    failed_criteria: tuple[str, ...] = ()
    feedback: str = ""


@dataclass(kw_only=True, slots=True, frozen=True)
class ErrorOccurred:
    """The run failed; the exception is raised after this event."""

    agent: str
    """Agent name."""
    error: str
    """The error message."""


@dataclass(kw_only=True, slots=True, frozen=True)
class RunFinished:
    """The run ended with an answer."""

    agent: str
    """Agent name."""
    output: Any
    """The final output (text, or an instance of the agent's output type)."""
    usage: Usage
    """Token usage summed over the run."""


AgentEvent = (
    RunStarted
    | ModelRequestStarted
    | TextChunk
    | ReasoningChunk
    | ToolCallRequested
    | ModelResponded
    | ToolStarted
    | ToolFinished
    | ProgressUpdate
    | ServerLogMessage
    | RetryScheduled
    | ContextCompacted
    | Reflected
    | ErrorOccurred
    | RunFinished
)
