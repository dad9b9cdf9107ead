"""Scripted-server policies the benchmarks start in a separate process."""

from __future__ import annotations

from covey.models import ToolCall
from covey.testing import ChatRequest, Reply


def add_then_answer(request: ChatRequest) -> Reply:
    """First turn: call `add`; once a tool result is in the conversation: answer."""
    if any(m.get("role") == "tool" for m in request.messages):
        return Reply(text="The answer is 3.")
    return Reply(tool_calls=[ToolCall(id="c1", name="add", arguments={"a": 1, "b": 2})])
