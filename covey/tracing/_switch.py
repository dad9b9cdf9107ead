"""Whether tracing is on: a cached answer, so a run with tracing off pays one attribute read.

covey never configures OpenTelemetry by itself. Tracing is on once a real tracer provider is
set globally (by `covey.tracing.configure()`, by `opentelemetry-instrument`, or by the
user's own `trace.set_tracer_provider(...)`); until then every hook returns at once, and
`opentelemetry` is not even imported unless something else imported it.
"""

from __future__ import annotations

import os
import sys
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


_state = _State()


def active_tracer() -> Tracer | None:
    """Covey's tracer when a real tracer provider is configured, else None (tracing off)."""
    found = _state.tracer
    if found is not None:
        return found
    if "opentelemetry.trace" not in sys.modules and "OTEL_PYTHON_TRACER_PROVIDER" not in os.environ:
        return None  # nothing imported OpenTelemetry, so nobody can have configured it
    from opentelemetry import trace

    provider = trace.get_tracer_provider()
    if isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider):
        return None
    # A global provider can be set only once, so the answer never changes after this.
    _state.tracer = provider.get_tracer("covey", _VERSION)
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
