"""What a scripted model server answers with (replies and faults), and the requests it sees."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from .._errors import CoveyError, UsageError
from ..models._dialects import DIALECTS, Dialect
from ..models._types import ToolCall

__all__ = [
    "ChatRequest",
    "DisconnectFault",
    "Fault",
    "GarbageFault",
    "Reply",
    "ScriptError",
    "StatusFault",
    "Step",
]


class ScriptError(CoveyError):
    """The scripted server was used differently from its script.

    Steps were left unused, a request came after the script was used up, or a policy
    failed; the server raises it when its `async with` block ends.
    """


def _check_delay(delay: float) -> None:
    if delay < 0:
        raise UsageError(f"delay must be >= 0 seconds, got {delay!r}.")


@dataclass(kw_only=True, slots=True, frozen=True)
class Reply:
    """One answer of the scripted model.

    Example:
        ```python
        Reply(tool_calls=[ToolCall(id="c1", name="add", arguments={"a": 1})], dialect="hermes")
        ```
    """

    text: str = ""
    """Answer text (`content`)."""
    tool_calls: Sequence[ToolCall] = ()
    """Tool calls, sent in the native `tool_calls` field unless `dialect` is set."""
    reasoning: str = ""
    """Sent as `reasoning_content`, as vLLM and llama.cpp do."""
    finish_reason: str | None = None
    """Default: `tool_calls` when native calls are sent, else `stop`."""
    delay: float = 0.0
    """Seconds to wait before answering (a slow model; pair with client timeouts)."""
    dialect: Dialect | None = None
    """Write the tool calls into the text as this model family would (`hermes`, `llama3`,
    `python_tag`, `mistral`, `pythonic`) instead of the `tool_calls` field. Only `hermes`
    and `mistral` can carry `text` along with the calls."""
    malformed_arguments: bool = False
    """Send native tool-call arguments that are not valid JSON."""
    cut_after_chunks: int | None = None
    """Streaming: close the connection after this many SSE events, never sending `[DONE]`.
    Not streaming: send half the JSON body under a `Content-Length` promising all of it,
    then close."""
    usage: tuple[int, int] | None = None
    """`(prompt_tokens, completion_tokens)` to report. Default: prompt tokens are the
    whitespace-separated words of all message contents; completion tokens the words of the
    content, reasoning and tool-call arguments sent."""
    model: str | None = None
    """Model name to report; default: the server's."""

    def __post_init__(self) -> None:
        _check_delay(self.delay)
        if self.dialect is not None and self.dialect not in DIALECTS:
            raise UsageError(f"Unknown dialect {self.dialect!r}: use one of {DIALECTS}.")
        if self.cut_after_chunks is not None and self.cut_after_chunks < 0:
            raise UsageError(f"cut_after_chunks must be >= 0, got {self.cut_after_chunks}.")


@dataclass(kw_only=True, slots=True, frozen=True)
class Fault:
    """A failure instead of an answer. Build one with `Fault.status`, `.garbage`, `.disconnect`.

    The kinds form the closed union `StatusFault | GarbageFault | DisconnectFault`.
    """

    delay: float = 0.0
    """Seconds to wait before failing."""

    def __post_init__(self) -> None:
        if type(self) is Fault:
            raise UsageError("Build a fault with Fault.status(), .garbage() or .disconnect().")
        _check_delay(self.delay)

    @staticmethod
    def status(
        code: int,
        message: str = "scripted failure",
        *,
        retry_after: float | None = None,
        delay: float = 0.0,
    ) -> StatusFault:
        """An HTTP error status with an OpenAI-style JSON error body.

        Args:
            code: The HTTP status (e.g. 429, 500, 503).
            message: The error message in the body.
            retry_after: Seconds to send in a `Retry-After` header.
            delay: Seconds to wait before answering.
        """
        return StatusFault(code=code, message=message, retry_after=retry_after, delay=delay)

    @staticmethod
    def garbage(
        body: bytes = b"<html>502 Bad Gateway</html>", *, delay: float = 0.0
    ) -> GarbageFault:
        """HTTP 200 with a `Content-Type: application/json` body that is not JSON."""
        return GarbageFault(body=body, delay=delay)

    @staticmethod
    def disconnect(*, delay: float = 0.0) -> DisconnectFault:
        """Close the connection without answering."""
        return DisconnectFault(delay=delay)


@dataclass(kw_only=True, slots=True, frozen=True)
class StatusFault(Fault):
    """An HTTP error status with an OpenAI-style JSON error body."""

    code: int
    """The HTTP status."""
    message: str = "scripted failure"
    """`error.message` in the body."""
    retry_after: float | None = None
    """Value of the `Retry-After` header, in seconds (none when `None`)."""

    def __post_init__(self) -> None:
        Fault.__post_init__(self)
        if not 400 <= self.code <= 599:
            raise UsageError(f"Fault.status takes an error status (400-599), got {self.code}.")


@dataclass(kw_only=True, slots=True, frozen=True)
class GarbageFault(Fault):
    """HTTP 200 that claims JSON but is not."""

    body: bytes = b"<html>502 Bad Gateway</html>"
    """The bytes sent."""


@dataclass(kw_only=True, slots=True, frozen=True)
class DisconnectFault(Fault):
    """The connection closes with no answer."""


Step = Reply | StatusFault | GarbageFault | DisconnectFault
"""One scripted answer; a policy returns one per request."""


def content_text(content: object) -> str:
    """The text of a message `content`: a string, or the text parts of a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = cast(list[object], content)
        texts = [cast(dict[str, Any], p).get("text") for p in parts if isinstance(p, dict)]
        return " ".join(t for t in texts if isinstance(t, str))
    return ""


@dataclass(kw_only=True, slots=True)
class ChatRequest:
    """A request the server received: its path, headers and parsed JSON body."""

    path: str
    """Request path, e.g. `/v1/chat/completions`."""
    body: dict[str, Any]
    """The parsed JSON body, as sent."""
    headers: dict[str, str] = field(default_factory=lambda: {})
    """Request headers (lower-case names)."""

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The `messages` of the request."""
        return list(self.body.get("messages") or [])

    @property
    def tools(self) -> list[dict[str, Any]]:
        """The `tools` of the request (empty when none)."""
        return list(self.body.get("tools") or [])

    @property
    def tool_names(self) -> list[str]:
        """Names of the `tools` offered."""
        return [str(tool.get("function", {}).get("name")) for tool in self.tools]

    @property
    def tool_choice(self) -> str | dict[str, Any] | None:
        """The `tool_choice` field, when sent."""
        return self.body.get("tool_choice")

    @property
    def response_format(self) -> dict[str, Any] | None:
        """The `response_format` field, when sent."""
        return self.body.get("response_format")

    @property
    def model(self) -> str:
        """The `model` the client asked for."""
        return str(self.body.get("model", ""))

    @property
    def stream(self) -> bool:
        """Whether the client asked for a stream."""
        return bool(self.body.get("stream"))

    @property
    def is_probe(self) -> bool:
        """Whether this is a one-token probe (`max_tokens` or `max_completion_tokens` is 1)."""
        body = self.body
        return body.get("max_tokens") == 1 or body.get("max_completion_tokens") == 1

    @property
    def last_user_text(self) -> str:
        """Text of the last user message ('' when none)."""
        return self._last_text("user")

    @property
    def last_tool_result(self) -> str | None:
        """Text of the last message, when it is a tool result (`None` otherwise).

        An oracle policy reads it to answer from what the tool returned.
        """
        messages = self.messages
        if not messages or messages[-1].get("role") != "tool":
            return None
        return content_text(messages[-1].get("content"))

    def _last_text(self, role: str) -> str:
        for message in reversed(self.messages):
            if message.get("role") == role:
                return content_text(message.get("content"))
        return ""
