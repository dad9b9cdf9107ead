"""The embedded model's prompt: chat messages and tools rendered as the model's turns.

llama-cpp-python's `chatml-function-calling` format HTML-escapes every message (`'` became
`&#39;`, `<` became `&lt;`), so tool results, JSON and SQL reached the model mangled, and it
could not answer in text once tools were offered. covey renders the prompt itself instead:
the model family's own turn markers, tools described in the system turn, and calls written as
`<tool_call>{...}</tool_call>` text (the Hermes form, which covey's dialect parser reads back
into typed tool calls). Text goes into the prompt byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

__all__ = ["ChatFamily", "render_prompt", "family_for", "FAMILIES", "OWN_TEMPLATE"]


@dataclass(kw_only=True, slots=True, frozen=True)
class ChatFamily:
    """How one model family marks its turns."""

    name: str
    """Family name (`gemma`, `chatml`)."""
    begin: str
    """Opens a turn; `{role}` is replaced by the role's name in this family."""
    end: str
    """Closes a turn."""
    roles: Mapping[str, str]
    """covey's roles (`system`, `user`, `assistant`) as this family names them."""
    system_turn: bool
    """Whether the family has a system turn (else system text opens the first user turn)."""
    stop: tuple[str, ...]
    """Text that ends the model's turn."""


FAMILIES: dict[str, ChatFamily] = {
    "gemma": ChatFamily(
        name="gemma",
        begin="<start_of_turn>{role}\n",
        end="<end_of_turn>\n",
        roles={"user": "user", "assistant": "model"},
        system_turn=False,
        stop=("<end_of_turn>",),
    ),
    "chatml": ChatFamily(
        name="chatml",
        begin="<|im_start|>{role}\n",
        end="<|im_end|>\n",
        roles={"system": "system", "user": "user", "assistant": "assistant"},
        system_turn=True,
        stop=("<|im_end|>",),
    ),
}

OWN_TEMPLATE = ChatFamily(
    name="own-template",
    begin="",
    end="",
    roles={},
    system_turn=True,
    stop=(),
)
"""A model of no family covey knows, prompted through its own chat template only."""


def family_for(architecture: str, chat_template: str) -> ChatFamily:
    """The family of a GGUF model, from its architecture and its own chat template.

    Raises:
        ValueError: no family covey knows matches; the message names what was seen.
    """
    if "<|im_start|>" in chat_template:
        return FAMILIES["chatml"]
    if "<start_of_turn>" in chat_template or architecture.startswith("gemma"):
        return FAMILIES["gemma"]
    raise ValueError(
        f"covey's embedded server does not know the chat format of this model "
        f"(architecture {architecture!r}); it knows {', '.join(FAMILIES)}. Pass "
        "--chat-family NAME, or serve the model with a server of your own and set "
        "COVEY_BASE_URL."
    )


_TOOLS_INTRO = (
    "You can call tools. To call one, reply with only\n"
    '<tool_call>{"name": "TOOL_NAME", "arguments": {...}}</tool_call>\n'
    "(one such line per call) and nothing else; the results come back in "
    "<tool_response> blocks. When you have the answer, reply with the answer in plain "
    "text, without <tool_call>. The tools, as JSON schemas:\n<tools>\n"
)


def _tools_text(tools: Sequence[Mapping[str, Any]]) -> str:
    lines = [json.dumps(t.get("function", t), ensure_ascii=False) for t in tools]
    return _TOOLS_INTRO + "\n".join(lines) + "\n</tools>"


def _content_text(content: object) -> str:
    """Message content as text: a string, or the text parts of a content list."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = cast(list[object], content)
        texts: list[str] = []
        for part in parts:
            if isinstance(part, dict):
                text = cast(dict[str, object], part).get("text")
                if isinstance(text, str):
                    texts.append(text)
        return "".join(texts)
    raise ValueError(f"message content must be text, got {type(content).__name__}")


def _calls_text(calls: object) -> str:
    lines: list[str] = []
    for call in cast(list[dict[str, Any]], calls or []):
        function = cast(dict[str, Any], call.get("function", {}))
        arguments: object = function.get("arguments", "{}")
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments)
            except json.JSONDecodeError:
                pass  # the model wrote it so; show it back as it was
        body = {"name": function.get("name", ""), "arguments": arguments}
        lines.append(f"<tool_call>{json.dumps(body, ensure_ascii=False)}</tool_call>")
    return "\n".join(lines)


def _turns(
    messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]]
) -> list[tuple[str, str]]:
    """(role, text) turns with system, user and assistant roles only, merged when adjacent."""
    turns: list[tuple[str, str]] = []
    system: list[str] = []
    for message in messages:
        role = message.get("role")
        if role in ("system", "developer"):
            system.append(_content_text(message.get("content")))
            continue
        if role == "tool":
            role, text = (
                "user",
                (f"<tool_response>\n{_content_text(message.get('content'))}\n</tool_response>"),
            )
        elif role == "assistant":
            parts = [_content_text(message.get("content")), _calls_text(message.get("tool_calls"))]
            text = "\n".join(p for p in parts if p)
        elif role == "user":
            text = _content_text(message.get("content"))
        else:
            raise ValueError(f"unknown message role {role!r}: use system, user, assistant or tool")
        if turns and turns[-1][0] == role:
            turns[-1] = (role, f"{turns[-1][1]}\n\n{text}")
        else:
            turns.append((role, text))
    if tools:
        system.append(_tools_text(tools))
    if system:
        turns.insert(0, ("system", "\n\n".join(system)))
    return turns


def render_prompt(
    family: ChatFamily,
    messages: Sequence[Mapping[str, Any]],
    tools: Sequence[Mapping[str, Any]] = (),
    *,
    bos: str = "",
) -> str:
    """The prompt text for `messages` (and `tools`), ending where the model's turn begins.

    Raises:
        ValueError: a message the format cannot carry (unknown role, non-text content).
    """
    turns = _turns(messages, tools)
    if not family.system_turn and turns and turns[0][0] == "system":
        system, rest = turns[0][1], turns[1:]
        if rest and rest[0][0] == "user":
            turns = [("user", f"{system}\n\n{rest[0][1]}"), *rest[1:]]
        else:
            turns = [("user", system), *rest]
    out = [bos]
    for role, text in turns:
        out.append(family.begin.format(role=family.roles[role]) + text + family.end)
    out.append(family.begin.format(role=family.roles["assistant"]))
    return "".join(out)
