"""Constrained tool mode, for servers that refuse the `tools` field.

The tools are described in the system prompt and the reply is forced, through whatever
structured-output form the server has, into one JSON envelope:
`{"tool_calls": [{"name": ..., "arguments": {...}}]}` or `{"final": ...}`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, cast

from ._dialect_calls import loads_repaired
from ._messages import (
    AssistantMessage,
    Message,
    SystemMessage,
    ToolResultMessage,
    UserMessage,
    to_openai_messages,
)
from ._types import MalformedToolCall, ToolCall, ToolDefinition, without_large_limits

__all__ = ["envelope_schema", "constrained_messages", "parse_envelope", "self_contained"]

_MAX_REF_DEPTH = 8
_BEGUN_CALLS = re.compile(r'\s*(?:```(?:json)?\s*)?\{\s*"tool_calls"')


def self_contained(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with its local `$ref`s (`#/$defs/X`) replaced by what they name.

    A tool's schema moves inside the envelope, where its `#/$defs/...` refs would point at
    the envelope's root: llama.cpp's grammar builder then fails the request. A recursive
    definition is cut to "any object" below a few levels.
    """
    defs = cast(dict[str, Any], schema.get("$defs") or schema.get("definitions") or {})
    if not defs:
        return schema

    def inline(node: Any, depth: int) -> Any:
        if isinstance(node, list):
            return [inline(item, depth) for item in cast(list[Any], node)]
        if not isinstance(node, dict):
            return node
        item = cast(dict[str, Any], node)
        ref = item.get("$ref")
        if isinstance(ref, str) and ref.split("/")[-1] in defs and "#/" in ref:
            if depth >= _MAX_REF_DEPTH:
                return {"type": "object"}  # not `{}`: llama.cpp reads empty items as a tuple
            rest = {k: v for k, v in item.items() if k != "$ref"}
            return {**inline(defs[ref.split("/")[-1]], depth + 1), **inline(rest, depth)}
        return {k: inline(v, depth) for k, v in item.items() if k not in ("$defs", "definitions")}

    result: dict[str, Any] = inline(schema, 0)
    return result


def envelope_schema(
    tools: Sequence[ToolDefinition], final_schema: dict[str, Any] | None = None
) -> dict[str, Any]:
    """JSON schema of the envelope: tool calls (one schema per tool) or a final answer."""
    call_schemas = [
        {
            "type": "object",
            "properties": {
                "name": {"const": t.name},
                "arguments": without_large_limits(self_contained(t.parameters)),
            },
            "required": ["name", "arguments"],
        }
        for t in tools
    ]
    calls = {
        "type": "object",
        "properties": {
            "tool_calls": {"type": "array", "items": {"anyOf": call_schemas}, "minItems": 1}
        },
        "required": ["tool_calls"],
    }
    final = {
        "type": "object",
        "properties": {"final": final_schema or {"type": "string"}},
        "required": ["final"],
    }
    return {"anyOf": [calls, final]}


def _tool_prompt(tools: Sequence[ToolDefinition]) -> str:
    lines = ["You can call these tools:"]
    for t in tools:
        lines.append(f"- {t.name}: {t.description}")
        lines.append(f"  arguments (JSON schema): {json.dumps(t.parameters)}")
    lines.append(
        "Reply with exactly one JSON object and nothing else. To call tools: "
        '{"tool_calls": [{"name": "<tool>", "arguments": {...}}]}. '
        'When you have the answer: {"final": <answer>}.'
    )
    return "\n".join(lines)


def constrained_messages(
    messages: Sequence[Message], tools: Sequence[ToolDefinition]
) -> list[dict[str, Any]]:
    """The conversation in a form any chat server takes: no `tool_calls`, no `tool` role."""
    prompt = _tool_prompt(tools)
    rewritten: list[Message] = []
    has_system = False
    for message in messages:
        match message:
            case SystemMessage() if not has_system:
                rewritten.append(SystemMessage(content=f"{message.content}\n\n{prompt}"))
                has_system = True
            case AssistantMessage() if message.tool_calls:
                calls = [{"name": c.name, "arguments": c.arguments} for c in message.tool_calls]
                rewritten.append(AssistantMessage(content=json.dumps({"tool_calls": calls})))
            case ToolResultMessage():
                status = "failed" if message.is_error else "returned"
                rewritten.append(
                    UserMessage(
                        content=f"Tool {message.name} {status}: {message.content}\n"
                        '(If you now have the answer, reply {"final": ...}.)'
                    )
                )
            case _:
                rewritten.append(message)
    if not has_system:
        rewritten.insert(0, SystemMessage(content=prompt))
    return to_openai_messages(rewritten)


def parse_envelope(
    text: str, *, id_prefix: str
) -> tuple[str, list[ToolCall], list[MalformedToolCall]] | None:
    """Read an envelope reply, repaired as text-dialect JSON is (code fence, trailing commas).

    Returns:
        `(final_text, calls, malformed)`, or `None` when the text is no envelope at all
        (the caller then reads it as plain text in any dialect).
    """
    try:
        data = loads_repaired(text)
    except ValueError as exc:
        if _BEGUN_CALLS.match(text):
            # The envelope was begun and broken (often cut off by max_tokens): tell the model.
            bad = MalformedToolCall(
                id=f"{id_prefix}_0",
                name=None,
                raw=text,
                error=f"Your reply was not one complete JSON object ({exc}): it was cut off "
                'or broken. Call fewer tools at once, or answer with {"final": ...}.',
                dialect="envelope",
            )
            return "", [], [bad]
        return None
    if not isinstance(data, dict):
        return None
    envelope: dict[str, Any] = data  # pyright: ignore[reportUnknownVariableType]
    if "tool_calls" in envelope and isinstance(envelope["tool_calls"], list):
        calls: list[ToolCall] = []
        malformed: list[MalformedToolCall] = []
        items = cast(list[Any], envelope["tool_calls"])
        for index, item in enumerate(items):
            call_id = f"{id_prefix}_{index}"
            name = item.get("name") if isinstance(item, dict) else None  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
            args = item.get("arguments", {}) if isinstance(item, dict) else None  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
            if isinstance(name, str) and isinstance(args, dict):
                arguments: dict[str, Any] = args  # pyright: ignore[reportUnknownVariableType]
                calls.append(
                    ToolCall(id=call_id, name=name, arguments=arguments, dialect="envelope")
                )
            else:
                malformed.append(
                    MalformedToolCall(
                        id=call_id,
                        name=name if isinstance(name, str) else None,
                        raw=json.dumps(item),
                        error='Each tool call must be {"name": "<tool>", "arguments": {...}} '
                        "with the arguments as a JSON object.",
                        dialect="envelope",
                    )
                )
        return "", calls, malformed
    if "final" in envelope:
        final = envelope["final"]
        return (final if isinstance(final, str) else json.dumps(final)), [], []
    return None
