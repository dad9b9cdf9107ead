"""Whether tracing is on: a cached answer, so a run with tracing off pays one attribute read.

covey never configures OpenTelemetry by itself. Tracing is on once a real tracer provider is
set globally (by `covey.tracing.configure()`, by `opentelemetry-instrument`, or by the
user's own `trace.set_tracer_provider(...)`); until then every hook returns at once, and
`opentelemetry` is not even imported unless something else imported it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer

__all__ = ["CAPTURE_ENV", "active_tracer", "capture_content", "set_capture_content"]

CAPTURE_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
"""The GenAI conventions' switch for recording prompts, completions, tool arguments and results."""

_VERSION = "0.1.0"


@dataclass(slots=True)
class _State:
    tracer: Tracer | None = None
    content: bool | None = None
    api: Mapping[str, object] | None = None
    """The globals of `opentelemetry.trace`, once something imported it."""


_state = _State()
_NAMED_PROVIDER = "OTEL_PYTHON_TRACER_PROVIDER" in os.environ


def active_tracer() -> Tracer | None:
    """The covey tracer when a real tracer provider is configured, else None (tracing off).

    With tracing off this costs two dictionary look-ups: `get_tracer_provider()` reads
    `os.environ` on every call, which the agent loop should not pay for each model call.
    """
    found = _state.tracer
    if found is not None:
        return found
    api = _state.api
    if api is None:
        if "opentelemetry.trace" not in sys.modules and not _NAMED_PROVIDER:
            return None  # nothing imported OpenTelemetry, so nobody can have configured it
        from opentelemetry import trace

        trace.get_tracer_provider()  # loads a provider named in OTEL_PYTHON_TRACER_PROVIDER
        _state.api = api = vars(trace)
    # The API keeps None there until a provider is set (a missing name: ask the API itself).
    if api.get("_TRACER_PROVIDER", api) is None:
        return None
    from opentelemetry.trace import NoOpTracerProvider, ProxyTracerProvider, get_tracer_provider

    current = get_tracer_provider()
    if isinstance(current, ProxyTracerProvider | NoOpTracerProvider):
        return None
    # A global provider can be set only once, so the answer never changes after this.
    _state.tracer = current.get_tracer("covey", _VERSION)
    return _state.tracer


def capture_content() -> bool:
    """Whether spans record message contents, tool arguments and results (opt-in)."""
    content = _state.content
    if content is None:
        content = os.environ.get(CAPTURE_ENV, "").strip().lower() in ("true", "1", "yes")
        _state.content = content
    return content


def set_capture_content(enabled: bool | None) -> None:
    """Turn content capture on or off; None goes back to the environment variable."""
    _state.content = enabled
