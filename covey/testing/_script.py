"""What a scripted model server answers with: replies, faults, and the requests it saw."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .._errors import CoveyError
from ..models import ToolCall

__all__ = ["Reply", "Fault", "ChatRequest", "ScriptError", "Step"]


class ScriptError(CoveyError):
    """The scripted server was used differently from its script (steps left, or too many)."""


@dataclass(kw_only=True, slots=True, frozen=True)
class Reply:
    """One answer of the scripted model."""

    text: str = ""
    """Answer text."""
    tool_calls: Sequence[ToolCall] = ()
    """Tool calls, sent natively unless `dialect` is set."""
    reasoning: str = ""
    """Sent as `reasoning_content`, as vLLM and llama.cpp do."""
    finish_reason: str | None = None
    """Default: `tool_calls` when there are native calls, else `stop`."""
    delay: float = 0.0
    """Seconds to wait before answering."""
    dialect: str | None = None
    """Write the tool calls into the text as this model family would (`hermes`, ...)."""
    malformed_arguments: bool = False
    """Send tool-call arguments that are not valid JSON."""
    cut_after_chunks: int | None = None
    """Close the connection after this many stream chunks (or a truncated body)."""
    usage: tuple[int, int] | None = None
    """`(prompt_tokens, completion_tokens)`; default: word counts."""
    model: str | None = None
    """Model name to report; default the server's."""


@dataclass(kw_only=True, slots=True, frozen=True)
class Fault:
    """A failure instead of an answer."""

    kind: Literal["status", "garbage", "disconnect"]
    """What goes wrong."""
    code: int = 500
    """HTTP status code, for `status`."""
    message: str = "scripted failure"
    """Error message, for `status`."""
    retry_after: float | None = None
    """`Retry-After` header, for `status`."""
    delay: float = 0.0
    """Seconds to wait first."""

    @classmethod
    def status(
        cls, code: int, message: str = "scripted failure", *, retry_after: float | None = None
    ) -> Fault:
        """An HTTP error with an OpenAI-style error body."""
        return cls(kind="status", code=code, message=message, retry_after=retry_after)

    @classmethod
    def garbage(cls) -> Fault:
        """HTTP 200 with a body that is not JSON."""
        return cls(kind="garbage")

    @classmethod
    def disconnect(cls) -> Fault:
        """Close the connection without answering."""
        return cls(kind="disconnect")


Step = Reply | Fault


@dataclass(kw_only=True, slots=True)
class ChatRequest:
    """A request the server received."""

    path: str
    """Request path, e.g. `/v1/chat/completions`."""
    body: dict[str, Any]
    """The parsed JSON body."""
    headers: dict[str, str] = field(default_factory=lambda: {})
    """Request headers (lower-case names)."""

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The `messages` of the request."""
        return list(self.body.get("messages") or [])

    @property
    def tools(self) -> list[dict[str, Any]]:
        """The `tools` of the request."""
        return list(self.body.get("tools") or [])

    @property
    def stream(self) -> bool:
        """Whether the client asked for a stream."""
        return bool(self.body.get("stream"))

    @property
    def last_user_text(self) -> str:
        """Content of the last user message ('' when none)."""
        for message in reversed(self.messages):
            if message.get("role") == "user":
                content = message.get("content")
                return content if isinstance(content, str) else str(content or "")
        return ""
