"""OpenTelemetry tracing of agents, model calls, tool calls, graphs and evals.

covey's spans follow the GenAI semantic conventions (`gen_ai.*`). Nothing is recorded or
sent until a tracer provider is configured: `covey.tracing.configure(store=True)` writes
spans to covey's store for `covey view`; `configure(otlp_endpoint=...)` or the standard
`OTEL_EXPORTER_OTLP_*` variables send them to any OpenTelemetry collector. `configure`,
`StoreSpanExporter` and the OTLP export need `pip install "covey[otel]"`; reading stored
spans does not.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._switch import CAPTURE_ENV, capture_content, set_capture_content

if TYPE_CHECKING:
    from ._configure import configure
    from ._exporter import StoreSpanExporter
    from ._spans_table import SPANS, SpanRecord, TraceSummary, load_trace, recent_traces

__all__ = [
    "CAPTURE_ENV",
    "SPANS",
    "SpanRecord",
    "StoreSpanExporter",
    "TraceSummary",
    "capture_content",
    "configure",
    "load_trace",
    "recent_traces",
    "set_capture_content",
]

# The hooks import this package on the agent loop's path: keep it free of SQLAlchemy and
# the SDK, which load on first use of these names.
_SDK_NAMES = {"configure": "._configure", "StoreSpanExporter": "._exporter"}
_STORE_NAMES: dict[str, str] = dict.fromkeys(
    ("SPANS", "SpanRecord", "TraceSummary", "load_trace", "recent_traces"), "._spans_table"
)


def __getattr__(name: str) -> Any:
    module = _SDK_NAMES.get(name) or _STORE_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'covey.tracing' has no attribute {name!r}")
    try:
        return getattr(importlib.import_module(module, __name__), name)
    except ImportError as exc:
        if name not in _SDK_NAMES:
            raise
        raise ImportError(
            f'covey.tracing.{name} needs the OpenTelemetry SDK: pip install "covey[otel]"'
        ) from exc
