"""The one error hierarchy of covey.

Every error a user can catch derives from `CoveyError`. Messages say what failed, the
offending value, and how to fix it.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "CoveyError",
    "UsageError",
    "ModelError",
    "ModelConnectionError",
    "ModelHTTPError",
    "ModelResponseError",
    "EmbeddedModelError",
    "RunError",
    "MaxTurnsExceeded",
    "ToolRetriesExhausted",
    "OutputValidationError",
]


class CoveyError(Exception):
    """Root of every error covey raises on purpose."""


class UsageError(CoveyError):
    """A developer mistake: wrong arguments, wrong order of calls, missing configuration."""


class ModelError(CoveyError):
    """Talking to a model server failed."""


class ModelConnectionError(ModelError):
    """No model server answered at the configured address (after retries)."""

    def __init__(self, message: str, *, base_url: str) -> None:
        super().__init__(message)
        self.base_url = base_url


class ModelHTTPError(ModelError):
    """The model server answered with an HTTP error status (after retries, if retryable)."""

    def __init__(self, message: str, *, status_code: int, base_url: str, body: str = "") -> None:
        super().__init__(message)
        self.status_code = status_code
        self.base_url = base_url
        self.body = body


class ModelResponseError(ModelError):
    """The model server answered, but the answer cannot be used (garbage, cut stream)."""


class EmbeddedModelError(ModelError):
    """The embedded llama.cpp model server could not be started or stopped."""


class RunError(CoveyError):
    """An agent run failed. Carries what the run had done, so it can be inspected or resumed."""

    def __init__(self, message: str, *, agent: str, messages: Sequence[object] = ()) -> None:
        super().__init__(message)
        self.agent = agent
        self.messages = list(messages)


class MaxTurnsExceeded(RunError):
    """The agent did not reach a final answer within `max_turns` model calls."""


class ToolRetriesExhausted(RunError):
    """The model kept making invalid tool calls past the agent's retry budget."""


class OutputValidationError(RunError):
    """The model's final answer never matched the agent's output type."""
