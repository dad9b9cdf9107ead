"""Reading the tool calls of each text dialect from the text that carries them.

Parsers here return `Draft`s without ids: the stream parser numbers them in the order the
model wrote them, so full and streamed parses give the same ids.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, cast

__all__ = [
    "PYTHON_TAG",
    "Draft",
    "bad_call",
    "parse_hermes",
    "parse_mistral",
    "parse_json_calls",
    "loads_repaired",
    "strip_fence",
]

PYTHON_TAG = "<|python_tag|>"

# Shown to the model in error texts: the form its own family documents. ARGS stands for
# the arguments; no literal example, which small models copied as if it were the call.
_FORMS = {
    "hermes": '<tool_call>{"name": "NAME", "arguments": ARGS}</tool_call>',
    "llama3": '{"name": "NAME", "parameters": ARGS}',
    "python_tag": '<|python_tag|>{"name": "NAME", "parameters": ARGS}',
    "mistral": '[TOOL_CALLS] [{"name": "NAME", "arguments": ARGS}]',
    "pythonic": "[NAME(ARGS)]",
}
_NAME_IN_JSON = re.compile(r'"name"\s*:\s*"([^"\\]+)"')
_LLAMA_CALL_START = re.compile(
    r'[\[\s]*\{\s*(?:"type"\s*:\s*"function"\s*,\s*)?"name"\s*:\s*"([^"\\]+)"\s*,'
    r'\s*"(?:parameters|arguments)"\s*:'
)
_ARGS_KEY = re.compile(r'"(?:parameters|arguments)"\s*:')
_MISTRAL_V11 = re.compile(
    r"([\w.\-]+)\s*(?:\[CALL_ID\]\s*[A-Za-z0-9]*\s*)?(?:\[ARGS\])?\s*(.*)\Z", re.DOTALL
)


@dataclass(kw_only=True, slots=True, frozen=True)
class Draft:
    """A call as read from the text, before it gets an id and a dialect."""

    name: str | None
    """Tool name, when it could be read."""
    arguments: dict[str, Any] | None
    """The arguments, or `None` when the call is malformed."""
    raw: str
    """The call as the model wrote it."""
    error: str = ""
    """What is wrong with a malformed call, phrased for the model."""


def bad_call(name: str | None, raw: str, problem: str, dialect: str) -> Draft:
    who = f"Your call to tool {name!r}" if name else "Your tool call"
    form = _FORMS[dialect].replace("NAME", name or "tool_name")
    how = (
        ", where ARGS is the arguments as key=value pairs"
        if dialect == "pythonic"
        else ", where ARGS is the arguments as one JSON object"
    )
    return Draft(
        name=name, arguments=None, raw=raw, error=f"{who} {problem} Write it as {form}{how}."
    )


def _json_problem(exc: json.JSONDecodeError) -> str:
    return f"was not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})."


def strip_fence(text: str) -> str:
    """Remove a markdown code fence around the whole text, if there is one."""
    text = text.strip()
    if not text.startswith("```"):
        return text
    body = text.split("\n", 1)[1] if "\n" in text else ""
    return body.rstrip().removesuffix("```").strip()


def _drop_trailing_commas(text: str) -> str:
    # Valid JSON never has a comma before `}` or `]` outside a string, so dropping one
    # cannot change the meaning of a text that parses afterwards.
    out: list[str] = []
    in_string = escaped = False
    for i, ch in enumerate(text):
        if in_string:
            in_string = escaped or ch != '"'
            escaped = not escaped and ch == "\\"
        elif ch == '"':
            in_string = True
        elif ch == "," and text[i + 1 :].lstrip()[:1] in ("}", "]"):
            continue
        out.append(ch)
    return "".join(out)


def loads_repaired(text: str) -> Any:
    """Parse JSON after the only safe repairs: a code fence removed, trailing commas dropped."""
    return json.loads(_drop_trailing_commas(strip_fence(text)))


def _object_call(value: Any, raw: str, dialect: str) -> Draft:
    """A call written as `{"name": ..., "arguments": {...}}` after an explicit marker."""
    if not isinstance(value, dict):
        return bad_call(None, raw, "was not a JSON object.", dialect)
    item = cast(dict[str, Any], value)
    name = item.get("name")
    if not isinstance(name, str) or not name:
        return bad_call(None, raw, 'has no "name" (a string).', dialect)
    arguments = item.get("arguments", item.get("parameters", {}))
    if not isinstance(arguments, dict):
        got = type(arguments).__name__
        return bad_call(
            name, raw, f"had arguments that are not a JSON object (got {got}).", dialect
        )
    return Draft(name=name, arguments=cast(dict[str, Any], arguments), raw=raw)


def parse_hermes(payload: str, *, closed: bool) -> Draft:
    """Read the inside of one `<tool_call>...</tool_call>` block."""
    raw = payload.strip()
    try:
        value = loads_repaired(raw)
    except json.JSONDecodeError as exc:
        match = _NAME_IN_JSON.search(raw)
        problem = _json_problem(exc)
        if not closed:
            problem += " The <tool_call> block was not closed with </tool_call>."
        return bad_call(match.group(1) if match else None, raw, problem, "hermes")
    return _object_call(value, raw, "hermes")


def parse_mistral(segment: str) -> list[Draft]:
    """Read what follows one `[TOOL_CALLS]` marker, in the list or the v11+ `[ARGS]` form."""
    text = strip_fence(segment)
    if not text:
        return [bad_call(None, segment, "had nothing after [TOOL_CALLS].", "mistral")]
    if text[0] in "[{":
        try:
            value = loads_repaired(text)
        except json.JSONDecodeError as exc:
            match = _NAME_IN_JSON.search(text)
            return [
                bad_call(match.group(1) if match else None, text, _json_problem(exc), "mistral")
            ]
        items = cast(list[Any], value) if isinstance(value, list) else [value]
        if not items:
            return [bad_call(None, text, "was an empty list.", "mistral")]
        return [_object_call(item, json.dumps(item), "mistral") for item in items]
    match = _MISTRAL_V11.match(text)
    if match is None:
        return [bad_call(None, text, "did not start with a tool name.", "mistral")]
    name, args = match.group(1), match.group(2).strip()
    try:
        value: Any = loads_repaired(args) if args else {}
    except json.JSONDecodeError as exc:
        return [bad_call(name, text, _json_problem(exc), "mistral")]
    return [_object_call({"name": name, "arguments": value}, text, "mistral")]


def _json_sequence(text: str) -> list[Any]:
    """Values separated by `;` (as Llama 3.2 writes several calls) or one per line (Qwen)."""
    text = _drop_trailing_commas(strip_fence(text))
    decoder = json.JSONDecoder()
    values: list[Any] = []
    pos = _skip_space(text, 0)
    while pos < len(text):
        value, end = decoder.raw_decode(text, pos)
        values.append(value)
        pos = _skip_space(text, end)
        if pos < len(text):
            if text[pos] == ";":
                pos = _skip_space(text, pos + 1)
            elif "\n" not in text[end:pos]:
                raise json.JSONDecodeError("Expecting ';' or a new line between calls", text, pos)
    return values


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def parse_json_calls(
    body: str, tool_names: Collection[str] | None, dialect: str
) -> list[Draft] | None:
    """Read a whole message of Llama 3 JSON calls (one, a list, or several split by `;`).

    Returns:
        The calls, or `None` when the message is not calls of the tools named.
    """
    try:
        values = _json_sequence(body)
    except json.JSONDecodeError as exc:
        name = _attempted_call(body, tool_names)
        if name is None:
            return None
        return [bad_call(name, body.strip(), _json_problem(exc), dialect)]
    if len(values) == 1 and isinstance(values[0], list):
        values = cast(list[Any], values[0])
    drafts = [_llama_call(value, tool_names, dialect) for value in values]
    if not drafts or any(d is None for d in drafts):
        return None
    return [d for d in drafts if d is not None]


def _attempted_call(body: str, tool_names: Collection[str] | None) -> str | None:
    """The tool a broken whole-message JSON call names, or None when it is no call.

    A message that is one brace-delimited block naming an offered tool with its arguments
    (`{{"name": "list_tables", "arguments": {}}}}`, as a 1.5B model wrote it) is a call the
    model got wrong, not an answer: it is reported so the model can write it again.
    """
    start = _LLAMA_CALL_START.match(body)
    if start is not None:
        name: str | None = start.group(1)
    else:
        text = strip_fence(body)
        found = _NAME_IN_JSON.search(text)
        shaped = text[:1] in "{[" and text[-1:] in "}]" and _ARGS_KEY.search(text) is not None
        name = found.group(1) if found and shaped and tool_names is not None else None
    if name is None or (tool_names is not None and name not in tool_names):
        return None
    return name


def _llama_call(value: Any, tool_names: Collection[str] | None, dialect: str) -> Draft | None:
    # Only the exact call shape counts, so that ordinary JSON answers stay answers.
    if not isinstance(value, dict):
        return None
    item = cast(dict[str, Any], value)
    arg_keys = item.keys() & {"parameters", "arguments"}
    if len(arg_keys) != 1 or item.keys() - arg_keys - {"name", "type"}:
        return None
    name = item.get("name")
    if item.get("type", "function") != "function" or not isinstance(name, str) or not name:
        return None
    if tool_names is not None and name not in tool_names:
        return None
    return _object_call(
        {"name": name, "arguments": item[arg_keys.pop()]}, json.dumps(item), dialect
    )
