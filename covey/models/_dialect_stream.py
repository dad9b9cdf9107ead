"""The streaming reader of text-dialect tool calls and `<think>` reasoning.

`parse_text` runs this same parser over the whole text at once, so a full parse and a
streamed one cannot disagree, however the stream was cut into chunks.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

from .._errors import UsageError
from ._dialect_calls import (
    PYTHON_TAG,
    Draft,
    bad_call,
    parse_hermes,
    parse_json_calls,
    parse_mistral,
    strip_fence,
)
from ._dialect_pythonic import bare_call_start, parse_pythonic
from ._types import MalformedToolCall, ReasoningDelta, TextDelta, ToolCall, ToolCallDelta

__all__ = ["StreamingTextParser", "TextEvent"]

TextEvent = TextDelta | ReasoningDelta | ToolCallDelta | MalformedToolCall

_THINK, _END_THINK = "<think>", "</think>"
_CALL, _END_CALL = "<tool_call>", "</tool_call>"
_MISTRAL = "[TOOL_CALLS]"
# Llama 4 may wrap its pythonic calls in these special tokens.
_PYTHON_START, _PYTHON_END = "<|python_start|>", "<|python_end|>"
_CALL_TOKENS = (PYTHON_TAG, _PYTHON_START)
_ANSWER_TAGS = (_THINK, _END_THINK, _CALL, _MISTRAL, *_CALL_TOKENS)
_THINK_TAGS = (_END_THINK, _THINK)

_State = Literal["start", "answer", "think", "call", "mistral", "whole"]
_Verdict = Literal["yes", "no", "maybe"]


def _first_tag(text: str, tags: tuple[str, ...]) -> tuple[int, str]:
    found = [(i, tag) for tag in tags if (i := text.find(tag)) >= 0]
    return min(found) if found else (-1, "")


def _partial_tag(text: str, tags: tuple[str, ...]) -> int:
    """Length of the longest end of `text` that could still grow into one of `tags`."""
    for size in range(min(len(text), max(map(len, tags)) - 1), 0, -1):
        if any(tag.startswith(text[-size:]) for tag in tags):
            return size
    return 0


def _whole_message_start(text: str, tool_names: frozenset[str] | None) -> _Verdict:
    """Whether a message starting with `text` (no leading space) may be all tool calls.

    A verdict of "yes" or "no" holds for every longer text, which keeps chunking irrelevant.
    """
    if text.startswith(_MISTRAL):
        return "no"
    if any(tag.startswith(text) for tag in (_MISTRAL, *_CALL_TOKENS)):
        return "maybe"
    if text[0] in "{[" or text.startswith(_CALL_TOKENS):
        return "yes"
    if tool_names and text[0] != "`":
        return bare_call_start(text, tool_names)
    if not text.startswith("```"):
        return "maybe" if "```".startswith(text) else "no"
    rest = text[3:]
    if "json".startswith(rest):
        return "maybe"
    rest = rest.removeprefix("json").lstrip()
    if not rest:
        return "maybe"
    return "yes" if rest[0] in "{[" else "no"


def _read_whole(message: str, tool_names: frozenset[str] | None) -> tuple[str, list[Draft]] | None:
    """Read a message that is tool calls from start to end (Llama 3 JSON, python_tag, pythonic).

    Returns:
        `(dialect, drafts)`, or `None` when the message is an ordinary answer.
    """
    text = message.strip()
    if text.startswith(PYTHON_TAG):
        return "python_tag", _python_tag_calls(text, tool_names)
    if text.startswith(_PYTHON_START):
        return "pythonic", _python_start_calls(text, tool_names)
    body = strip_fence(text)
    drafts: list[Draft] | None = None
    if body.startswith("["):
        drafts = parse_pythonic(body, tool_names, bracketed=True)
    elif tool_names and bare_call_start(body, tool_names) == "yes":
        drafts = parse_pythonic(body, tool_names, bracketed=False)
    if drafts is not None:
        return "pythonic", drafts
    drafts = parse_json_calls(body, tool_names, "llama3")
    return None if drafts is None else ("llama3", drafts)


def _python_tag_calls(text: str, tool_names: frozenset[str] | None) -> list[Draft]:
    # The tag says the model meant a call, so anything after it that fails is malformed.
    body = text.removeprefix(PYTHON_TAG).strip()
    drafts = parse_json_calls(body, None, "python_tag")
    if drafts is None and tool_names:
        # Llama 3.1 writes its built-in tools as Python calls after the tag.
        drafts = parse_pythonic(body, tool_names, bracketed=body.startswith("["))
    tools = f" of one of your tools ({', '.join(sorted(tool_names))})" if tool_names else ""
    problem = f"after <|python_tag|> was not a JSON call object{tools}."
    return drafts or [bad_call(None, body, problem, "python_tag")]


def _python_start_calls(text: str, tool_names: frozenset[str] | None) -> list[Draft]:
    body = text.removeprefix(_PYTHON_START).strip().removesuffix(_PYTHON_END).strip()
    drafts = parse_pythonic(body, tool_names, bracketed=body.startswith("["))
    problem = f"after {_PYTHON_START} was not a list of calls."
    return drafts or [bad_call(None, body, problem, "pythonic")]


class _Channel:
    """Answer or reasoning text, emitted stripped: outer whitespace is held back, then dropped."""

    __slots__ = ("_held", "_started")

    def __init__(self) -> None:
        self._started = False
        self._held = ""

    def push(self, text: str) -> str:
        if not self._started:
            text = text.lstrip()
            self._started = bool(text)
        text = self._held + text
        body = text.rstrip()
        self._held = text[len(body) :]
        return body


class StreamingTextParser:
    """Reads a model's text as it streams: answer text, reasoning and tool calls.

    Answer text is emitted as soon as it cannot be the start of a tag; each tool call when
    its block closes. A message that starts like a whole-message dialect (`{`, `[`, a code
    fence, `<|python_tag|>`, `<|python_start|>`, or `name(` for an offered tool) is held
    back until `finish()`, since only the whole message tells a Llama 3 or pythonic call
    from an ordinary JSON or list answer. `<|python_tag|>` or `<|python_start|>` after
    answer text starts a call all the same: those special tokens mean nothing else.

    Example:
        ```python
        parser = StreamingTextParser(tool_names={"add"})
        events = parser.feed('Sure.<tool_')
        events += parser.feed('call>{"name": "add", "arguments": {"a": 1}}</tool_call>')
        events += parser.finish()
        ```
    """

    def __init__(
        self,
        *,
        tool_names: Collection[str] | None = None,
        id_prefix: str = "call",
        starts_in_reasoning: bool = False,
    ) -> None:
        """Create a parser for one response.

        Args:
            tool_names: Names of the tools offered. When given, a whole-message Llama 3 JSON
                call counts only if it names one of them; a pythonic list naming none of them is
                reported as malformed calls (when every item is a keyword call) or stays text;
                a bare `name(key=value)` reply is a call when `name` is offered.
            id_prefix: Prefix of the generated call ids (`{id_prefix}_0`, `{id_prefix}_1`, ...).
                Pass a prefix unique to the response.
            starts_in_reasoning: The chat template already opened a `<think>` block (as
                DeepSeek-R1 and Qwen3 thinking templates do), so text up to `</think>` is
                reasoning. A stream cannot find this out alone without holding back every
                answer until it ends; `parse_text` can, and does by default.
        """
        self._tool_names = None if tool_names is None else frozenset(tool_names)
        self._id_prefix = id_prefix
        self._state: _State = "think" if starts_in_reasoning else "start"
        self._pending = ""
        self._answer = _Channel()
        self._reasoning = _Channel()
        self._answered = False
        self._calls = 0
        self._finished = False

    def feed(self, chunk: str) -> list[TextEvent]:
        """Take the next piece of the model's text; return what it completes.

        Raises:
            UsageError: when called after `finish()`.
        """
        if self._finished:
            raise UsageError(
                "StreamingTextParser.feed() was called after finish(): use a new parser."
            )
        self._pending += chunk
        return self._run(final=False)

    def finish(self) -> list[TextEvent]:
        """End of the text: return everything still held back.

        Raises:
            UsageError: when called twice.
        """
        if self._finished:
            raise UsageError("StreamingTextParser.finish() was called twice: use a new parser.")
        self._finished = True
        return self._run(final=True)

    def _run(self, *, final: bool) -> list[TextEvent]:
        out: list[TextEvent] = []
        steps = {
            "start": self._start,
            "answer": self._answer_text,
            "think": self._think,
            "call": self._call,
            "mistral": self._mistral_call,
            "whole": self._whole,
        }
        while steps[self._state](out, final):
            pass
        return out

    def _start(self, out: list[TextEvent], final: bool) -> bool:
        text = self._pending.lstrip()
        verdict = _whole_message_start(text, self._tool_names) if text else "maybe"
        if verdict == "maybe" and not final:
            return False
        self._state = "answer" if verdict == "no" or not text else "whole"
        return True

    def _answer_text(self, out: list[TextEvent], final: bool) -> bool:
        index, tag = _first_tag(self._pending, _ANSWER_TAGS)
        if not tag:
            keep = 0 if final else _partial_tag(self._pending, _ANSWER_TAGS)
            self._emit_text(out, self._pending[: len(self._pending) - keep])
            self._pending = self._pending[len(self._pending) - keep :]
            return False
        self._emit_text(out, self._pending[:index])
        self._pending = self._pending[index + len(tag) :]
        if tag == _THINK:
            self._state = "think"
        elif tag == _CALL:
            self._state = "call"
        elif tag == _MISTRAL:
            self._state = "mistral"
        elif tag in _CALL_TOKENS:
            # A special token that only starts a call: the rest of the message is calls.
            self._pending = tag + self._pending
            self._state = "whole"
        # A stray `</think>` is markup all the same: it is dropped.
        return True

    def _think(self, out: list[TextEvent], final: bool) -> bool:
        index, tag = _first_tag(self._pending, _THINK_TAGS)
        if not tag:
            keep = 0 if final else _partial_tag(self._pending, _THINK_TAGS)
            self._emit_reasoning(out, self._pending[: len(self._pending) - keep])
            self._pending = self._pending[len(self._pending) - keep :]
            return False
        self._emit_reasoning(out, self._pending[:index])
        self._pending = self._pending[index + len(tag) :]
        if tag == _END_THINK:
            # After reasoning, the answer may still be a whole-message call.
            self._state = "answer" if self._answered else "start"
        return True

    def _call(self, out: list[TextEvent], final: bool) -> bool:
        index = self._pending.find(_END_CALL)
        if index < 0 and not final:
            return False
        payload = self._pending if index < 0 else self._pending[:index]
        self._pending = "" if index < 0 else self._pending[index + len(_END_CALL) :]
        self._emit_calls(out, [parse_hermes(payload, closed=index >= 0)], "hermes")
        self._state = "answer"
        return True

    def _mistral_call(self, out: list[TextEvent], final: bool) -> bool:
        # Each `[TOOL_CALLS]` opens a new call (v11+); the last one ends with the message.
        index = self._pending.find(_MISTRAL)
        if index < 0 and not final:
            return False
        segment = self._pending if index < 0 else self._pending[:index]
        self._pending = "" if index < 0 else self._pending[index + len(_MISTRAL) :]
        self._emit_calls(out, parse_mistral(segment), "mistral")
        return index >= 0

    def _whole(self, out: list[TextEvent], final: bool) -> bool:
        if not final:
            return False
        parsed = _read_whole(self._pending, self._tool_names)
        self._state = "answer"
        if parsed is None:
            # An ordinary answer after all: read it again as text, tags included.
            self._answered = True
            return True
        self._pending = ""
        self._emit_calls(out, parsed[1], parsed[0])
        return False

    def _emit_text(self, out: list[TextEvent], text: str) -> None:
        self._answered = self._answered or bool(text.strip())
        if piece := self._answer.push(text):
            out.append(TextDelta(text=piece))

    def _emit_reasoning(self, out: list[TextEvent], text: str) -> None:
        if piece := self._reasoning.push(text):
            out.append(ReasoningDelta(text=piece))

    def _emit_calls(self, out: list[TextEvent], drafts: list[Draft], dialect: str) -> None:
        self._answered = True
        for draft in drafts:
            call_id = f"{self._id_prefix}_{self._calls}"
            self._calls += 1
            if draft.arguments is None:
                out.append(
                    MalformedToolCall(
                        id=call_id,
                        name=draft.name,
                        raw=draft.raw,
                        error=draft.error,
                        dialect=dialect,
                    )
                )
            else:
                call = ToolCall(
                    id=call_id, name=draft.name or "", arguments=draft.arguments, dialect=dialect
                )
                out.append(ToolCallDelta(call=call))
