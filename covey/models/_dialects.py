"""Tool calls that open models write as text, in each family's dialect, read and written.

Reading is done by `StreamingTextParser` (in `_dialect_stream`), for whole responses too;
the payload of each dialect is read in `_dialect_calls`.
"""

from __future__ import annotations

import json
import keyword
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from .._errors import UsageError
from ._dialect_calls import PYTHON_TAG
from ._dialect_stream import StreamingTextParser, TextEvent
from ._types import (
    MalformedToolCall,
    ReasoningDelta,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolDefinition,
)

__all__ = [
    "DIALECTS",
    "Dialect",
    "ParsedText",
    "StreamingTextParser",
    "TextEvent",
    "parse_text",
    "parse_tool_calls",
    "render_tool_calls",
]

Dialect = Literal["hermes", "llama3", "python_tag", "mistral", "pythonic"]

DIALECTS: tuple[str, ...] = ("hermes", "llama3", "python_tag", "mistral", "pythonic")
"""Names of the text dialects, as set in `ToolCall.dialect`."""


@dataclass(kw_only=True, slots=True)
class ParsedText:
    """A whole model message, split into answer, reasoning and tool calls."""

    text: str
    """The answer, with tool-call markup and reasoning removed, stripped."""
    reasoning: str
    """The text of `<think>` blocks, stripped."""
    tool_calls: list[ToolCall]
    """Calls read from the text, in order."""
    malformed: list[MalformedToolCall]
    """Calls the model tried to write but that could not be read safely."""


def parse_text(
    text: str,
    *,
    tool_names: Collection[str] | None = None,
    id_prefix: str = "call",
    starts_in_reasoning: bool | None = None,
) -> ParsedText:
    """Read a whole model message in any text dialect.

    Args:
        text: The message content.
        tool_names: Names of the tools offered. When given, a whole-message Llama 3 JSON
            call counts only if it names one of them; a pythonic list naming none of them is
            reported as malformed calls (when every item is a keyword call) or stays text;
            a bare `name(key=value)` reply is a call when `name` is offered.
        id_prefix: Prefix of the generated call ids: `{id_prefix}_0`, `{id_prefix}_1`, ...
        starts_in_reasoning: Whether the template opened a `<think>` block before the text.
            `None` decides from the text: a `</think>` before any `<think>`, `<tool_call>`
            or `[TOOL_CALLS]` means everything before it is reasoning.

    Returns:
        The answer text, reasoning, tool calls and malformed calls.

    Example:
        ```python
        parsed = parse_text('<tool_call>{"name": "add", "arguments": {"a": 1}}</tool_call>')
        assert parsed.tool_calls[0].arguments == {"a": 1}
        ```
    """
    if starts_in_reasoning is None:
        end = text.find("</think>")
        opened = [
            i for tag in ("<think>", "<tool_call>", "[TOOL_CALLS]") if (i := text.find(tag)) >= 0
        ]
        starts_in_reasoning = end >= 0 and all(end < i for i in opened)
    parser = StreamingTextParser(
        tool_names=tool_names, id_prefix=id_prefix, starts_in_reasoning=starts_in_reasoning
    )
    parsed = ParsedText(text="", reasoning="", tool_calls=[], malformed=[])
    for event in [*parser.feed(text), *parser.finish()]:
        match event:
            case TextDelta():
                parsed.text += event.text
            case ReasoningDelta():
                parsed.reasoning += event.text
            case ToolCallDelta():
                parsed.tool_calls.append(event.call)
            case MalformedToolCall():
                parsed.malformed.append(event)
    return parsed


ToolLike = ToolDefinition | str | Mapping[str, Any]
"""A tool as `parse_tool_calls` takes it: a definition, a name, or an OpenAI `tools` entry."""


def _tool_name(tool: ToolLike) -> str:
    if isinstance(tool, ToolDefinition):
        return tool.name
    if isinstance(tool, str):
        return tool
    function: object = tool.get("function", tool)
    name = (
        cast("Mapping[str, object]", function).get("name")
        if isinstance(function, Mapping)
        else None
    )
    if not isinstance(name, str):
        raise UsageError(
            f"Cannot read a tool name from {tool!r}: pass ToolDefinitions, names, or OpenAI "
            'tools entries ({"type": "function", "function": {"name": ...}}).'
        )
    return name


def parse_tool_calls(text: str, tools: Iterable[ToolLike] | None = None) -> ParsedText:
    """Read the tool calls an open model wrote in its text, in any dialect covey knows.

    The same parser `ModelClient` uses on replies (Hermes `<tool_call>`, Llama 3 JSON and
    `<|python_tag|>`, Mistral `[TOOL_CALLS]`, pythonic `[f(x=1)]`, `<think>` reasoning), for
    text that did not come through it: a log, another client's reply, a batch job's output.

    Args:
        text: The model's message content.
        tools: The tools the model was offered (ToolDefinitions, names, or OpenAI `tools`
            entries). With them, a whole-message JSON or bare `name(...)` call counts only
            when it names one of them; None (or empty) accepts any name.

    Returns:
        The answer text without the calls, the reasoning, the calls, and the calls that
        could not be read (each with an error to send back to the model).

    Raises:
        UsageError: a tool whose name cannot be read.

    Example:
        ```python
        parsed = parse_tool_calls('[get_weather(city="Paris")]', ["get_weather"])
        assert parsed.tool_calls[0].arguments == {"city": "Paris"}
        ```
    """
    names = {_tool_name(tool) for tool in tools or ()}
    return parse_text(text, tool_names=names or None)


_MISTRAL_TAG = "[TOOL_CALLS]"


def _json(value: object) -> str:
    # `</` and `[TOOL_CALLS]` inside strings would end the call early for a reader;
    # both escapes are plain JSON.
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("</", "<\\/").replace(_MISTRAL_TAG, "\\u005bTOOL_CALLS]")


def _python(value: object) -> str:
    if value is None or isinstance(value, bool | int | float | str):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_python(v) for v in cast(Sequence[object], value)) + "]"
    if isinstance(value, dict):
        items = cast(dict[object, object], value).items()
        return "{" + ", ".join(f"{_python(k)}: {_python(v)}" for k, v in items) + "}"
    raise UsageError(f"Cannot write {value!r} as a pythonic tool-call argument: use JSON values.")


def _pythonic(call: ToolCall) -> str:
    # A tool name may be dotted or hyphenated (`ns.f`, `files-read`): readers take the chain.
    for name in (*re.split(r"[.-]", call.name), *call.arguments):
        if not name.isidentifier() or keyword.iskeyword(name):
            raise UsageError(
                f"{name!r} (in the call of tool {call.name!r}) is not a Python identifier, so "
                "the pythonic dialect cannot write it: use another dialect."
            )
    args = ", ".join(f"{k}={_python(v)}" for k, v in call.arguments.items())
    return f"{call.name}({args})"


def render_tool_calls(calls: Sequence[ToolCall], dialect: Dialect, *, text: str = "") -> str:
    """Write tool calls as a model of the given family writes them in its text.

    Args:
        calls: The calls to write (ids are not written: no text dialect carries them).
        dialect: One of `DIALECTS`.
        text: Answer text before the calls (`hermes` and `mistral` only: in the other
            dialects the calls are the whole message).

    Returns:
        The message content.

    Raises:
        UsageError: when `text` is given for a whole-message dialect, or a pythonic call
            has an argument name or value Python cannot write.
    """
    if text and dialect not in ("hermes", "mistral"):
        raise UsageError(
            f"The {dialect!r} dialect writes tool calls as the whole message, so it cannot "
            "carry text=...: use 'hermes' or 'mistral', or drop the text."
        )
    if not calls:
        return text
    llama: list[dict[str, Any]] = [{"name": c.name, "parameters": c.arguments} for c in calls]
    match dialect:
        case "hermes":
            blocks = [
                f"<tool_call>\n{_json({'name': c.name, 'arguments': c.arguments})}\n</tool_call>"
                for c in calls
            ]
            return "\n".join([text, *blocks] if text else blocks)
        case "llama3":
            return "; ".join(_json(call) for call in llama)
        case "python_tag":
            return PYTHON_TAG + "; ".join(_json(call) for call in llama)
        case "mistral":
            items = ", ".join(_json({"name": c.name, "arguments": c.arguments}) for c in calls)
            return f"{text}[TOOL_CALLS] [{items}]"
        case "pythonic":
            return "[" + ", ".join(_pythonic(call) for call in calls) + "]"
