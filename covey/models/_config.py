"""How to reach a model server: set in code, or read from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, cast, get_args

from .._errors import UsageError

__all__ = ["ModelConfig", "ToolMode"]

ToolMode = Literal["auto", "native", "constrained"]
_TOOL_MODES = get_args(ToolMode)
"""How tools reach the model: probe the server (`auto`), always the API's `tools` field
(`native`), or always the prompt plus a forced JSON envelope (`constrained`)."""


def _first(environ: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = environ.get(name, "").strip()
        if value:
            return value
    return None


@dataclass(kw_only=True, slots=True, frozen=True)
class ModelConfig:
    """Where a model server is and how covey talks to it."""

    base_url: str
    """OpenAI-compatible base URL, for example `http://127.0.0.1:8000/v1`."""
    model: str | None = None
    """Model name; `None` asks the server's `/v1/models` and takes the first one."""
    api_key: str = "not-needed"
    """API key; most local servers ignore it."""
    timeout: float = 120.0
    """Seconds one request may take in all (streamed requests: between two chunks)."""
    connect_timeout: float = 5.0
    """Seconds to open a connection."""
    max_retries: int = 3
    """Retries on 429, 5xx, unreadable answers and connection errors."""
    backoff_base: float = 0.25
    """First retry delay in seconds; doubled each retry, with jitter."""
    backoff_max: float = 8.0
    """Cap on one retry delay, also on a server's `Retry-After`."""
    tool_mode: ToolMode = "auto"
    """How tools are passed to the model (see `ToolMode`)."""

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise UsageError(
                f"Model base URL {self.base_url!r} is not an http(s) URL: "
                "pass something like base_url='http://127.0.0.1:8000/v1'."
            )
        if self.max_retries < 0 or self.timeout <= 0 or self.connect_timeout <= 0:
            raise UsageError(
                "ModelConfig needs max_retries >= 0 and positive timeouts, got "
                f"max_retries={self.max_retries}, timeout={self.timeout}, "
                f"connect_timeout={self.connect_timeout}."
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ModelConfig | None:
        """Read `COVEY_BASE_URL`, `COVEY_MODEL`, `COVEY_API_KEY` (else the `OPENAI_*` ones).

        `COVEY_TOOL_MODE` (`auto`, `native`, `constrained`) and `COVEY_TIMEOUT` (seconds per
        request) are read too.

        Returns:
            The configuration, or `None` when no base URL is set (covey then uses the
            embedded model).

        Raises:
            UsageError: `COVEY_TOOL_MODE` or `COVEY_TIMEOUT` holds something unusable.
        """
        env = os.environ if environ is None else environ
        base_url = _first(env, "COVEY_BASE_URL", "OPENAI_BASE_URL")
        if base_url is None:
            return None
        return cls.from_url(base_url, _first(env, "COVEY_MODEL", "OPENAI_MODEL"), environ=env)

    @classmethod
    def from_url(
        cls, base_url: str, model: str | None = None, *, environ: Mapping[str, str] | None = None
    ) -> ModelConfig:
        """A configuration for `base_url`, with the key, tool mode and timeout of the environment.

        Raises:
            UsageError: `COVEY_TOOL_MODE` or `COVEY_TIMEOUT` holds something unusable.
        """
        env = os.environ if environ is None else environ
        mode = _first(env, "COVEY_TOOL_MODE") or "auto"
        if mode not in _TOOL_MODES:
            raise UsageError(
                f"COVEY_TOOL_MODE={mode!r} is not a tool mode: use auto, native or constrained."
            )
        timeout = _first(env, "COVEY_TIMEOUT") or "120"
        try:
            seconds = float(timeout)
        except ValueError:
            seconds = 0.0
        if not seconds > 0:
            raise UsageError(f"COVEY_TIMEOUT={timeout!r} is not a number of seconds above 0.")
        return cls(
            base_url=base_url.rstrip("/"),
            model=model or None,
            api_key=_first(env, "COVEY_API_KEY", "OPENAI_API_KEY") or "not-needed",
            tool_mode=cast(ToolMode, mode),
            timeout=seconds,
        )
