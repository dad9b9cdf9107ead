"""PLACEHOLDER until the full dialect parser lands (being written in parallel)."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from ._types import MalformedToolCall, ReasoningDelta, TextDelta, ToolCall, ToolCallDelta

DIALECTS: tuple[str, ...] = ("hermes",)


@dataclass(kw_only=True, slots=True)
class ParsedText:
    text: str
    reasoning: str = ""
    tool_calls: list[ToolCall] = field(default_factory=lambda: [])
    malformed: list[MalformedToolCall] = field(default_factory=lambda: [])


def parse_text(
    text: str, *, tool_names: Collection[str] | None = None, id_prefix: str = "call"
) -> ParsedText:
    calls: list[ToolCall] = []
    out = text
    while "<tool_call>" in out and "</tool_call>" in out:
        a = out.index("<tool_call>")
        b = out.index("</tool_call>")
        data = json.loads(out[a + 11 : b])
        calls.append(ToolCall(id=f"{id_prefix}_{len(calls)}", name=data["name"], arguments=data["arguments"], dialect="hermes"))
        out = out[:a] + out[b + 12 :]
    return ParsedText(text=out.strip() if calls else out, tool_calls=calls)


class StreamingTextParser:
    def __init__(self, *, tool_names: Collection[str] | None = None, id_prefix: str = "call") -> None:
        self._buf: list[str] = []
        self._names = tool_names
        self._prefix = id_prefix

    def feed(self, chunk: str) -> list[TextDelta | ReasoningDelta | ToolCallDelta | MalformedToolCall]:
        self._buf.append(chunk)
        return []

    def finish(self) -> list[TextDelta | ReasoningDelta | ToolCallDelta | MalformedToolCall]:
        parsed = parse_text("".join(self._buf), tool_names=self._names, id_prefix=self._prefix)
        out: list[TextDelta | ReasoningDelta | ToolCallDelta | MalformedToolCall] = []
        if parsed.text:
            out.append(TextDelta(text=parsed.text))
        out.extend(ToolCallDelta(call=c) for c in parsed.tool_calls)
        return out


def render_tool_calls(calls: Sequence[ToolCall], dialect: str, *, text: str = "") -> str:
    return text + "".join(
        f"<tool_call>{json.dumps({'name': c.name, 'arguments': c.arguments})}</tool_call>" for c in calls
    )
