"""Chat messages, and their Chat Completions wire form."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, assert_never

from ._types import ToolCall

__all__ = [
    "SystemMessage",
    "UserMessage",
    "AssistantMessage",
    "ToolResultMessage",
    "Message",
    "to_openai_messages",
]


@dataclass(kw_only=True, slots=True, frozen=True)
class SystemMessage:
    """Instructions for the model."""

    content: str
    """The instructions."""


@dataclass(kw_only=True, slots=True, frozen=True)
class UserMessage:
    """What the user says."""

    content: str
    """The user's text."""


@dataclass(kw_only=True, slots=True, frozen=True)
class AssistantMessage:
    """What the model said: text, tool calls, or both."""

    content: str = ""
    """Answer text."""
    tool_calls: tuple[ToolCall, ...] = ()
    """Tool calls the model made in this turn."""


@dataclass(kw_only=True, slots=True, frozen=True)
class ToolResultMessage:
    """The result of one tool call, sent back to the model."""

    tool_call_id: str
    """Id of the call this answers."""
    name: str
    """Name of the tool that was called."""
    content: str
    """The result (or error) as text."""
    is_error: bool = False
    """Whether the call failed; the content then says why."""


Message = SystemMessage | UserMessage | AssistantMessage | ToolResultMessage


def _tool_call_wire(call: ToolCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
    }


def to_openai_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """Turn covey messages into the Chat Completions `messages` list."""
    wire: list[dict[str, Any]] = []
    for message in messages:
        match message:
            case SystemMessage():
                wire.append({"role": "system", "content": message.content})
            case UserMessage():
                wire.append({"role": "user", "content": message.content})
            case AssistantMessage():
                entry: dict[str, Any] = {"role": "assistant", "content": message.content}
                if message.tool_calls:
                    entry["tool_calls"] = [_tool_call_wire(c) for c in message.tool_calls]
                wire.append(entry)
            case ToolResultMessage():
                wire.append(
                    {
                        "role": "tool",
                        "tool_call_id": message.tool_call_id,
                        "content": message.content,
                    }
                )
            case _:
                assert_never(message)
    return wire
