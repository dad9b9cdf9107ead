"""`StoreSpanExporter`: finished spans into covey's store, so `covey view` needs no collector.

The SDK calls `export()` from its batch processor's thread; the exporter keeps its own event
loop in a thread of its own (an anyio blocking portal) with its own `Store`, since an async
engine belongs to the loop that opened it.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from contextlib import ExitStack
from typing import Any

from anyio.from_thread import BlockingPortal, start_blocking_portal
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import format_span_id, format_trace_id

from ..store import Store
from ._spans_table import insert_spans

__all__ = ["StoreSpanExporter", "span_row"]

_log = logging.getLogger("covey.tracing")


class StoreSpanExporter(SpanExporter):
    """Writes spans to the `covey_spans` table of a store (SQLite or PostgreSQL).

    Example:
        ```python
        provider.add_span_processor(BatchSpanProcessor(StoreSpanExporter("sqlite:///runs.db")))
        ```
    """

    def __init__(self, url: str | None = None, *, timeout: float = 30.0) -> None:
        """Create an exporter; the database is opened on the first export.

        Args:
            url: the store's URL (default: `COVEY_DB`, else `.covey/covey.db`).
            timeout: seconds any database wait may take.
        """
        self._url = url
        self._timeout = timeout
        self._lock = threading.Lock()
        self._stack = ExitStack()
        self._portal: BlockingPortal | None = None
        self._store: Store | None = None
        self._closed = False

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Write a batch; a failure is logged and reported to the SDK, never raised."""
        rows = [span_row(s) for s in spans]
        try:
            with self._lock:
                if self._closed:
                    return SpanExportResult.FAILURE
                portal, store = self._open()
                portal.call(insert_spans, store, rows)
        except Exception as exc:
            _log.warning("covey could not write %d spans to the store: %s", len(rows), exc)
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def _open(self) -> tuple[BlockingPortal, Store]:
        if self._portal is None or self._store is None:
            portal = self._stack.enter_context(start_blocking_portal())
            self._portal = portal
            self._store = self._make_store()
            self._stack.callback(portal.call, self._store.close)
        return self._portal, self._store

    def _make_store(self) -> Store:
        if self._url is None:
            return Store.from_env(timeout=self._timeout)
        return Store(self._url, timeout=self._timeout)

    def shutdown(self) -> None:
        """Close the store and stop the exporter's thread."""
        with self._lock:
            self._closed = True
            self._stack.close()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing is buffered here: every `export()` writes before it returns."""
        return True


def span_row(span: ReadableSpan) -> dict[str, Any]:
    """A finished span as a row of `covey_spans`."""
    context = span.get_span_context()
    assert context is not None, "a finished SDK span has a context"
    parent = span.parent
    return {
        "trace_id": format_trace_id(context.trace_id),
        "span_id": format_span_id(context.span_id),
        "parent_id": format_span_id(parent.span_id) if parent is not None else None,
        "name": span.name,
        "kind": span.kind.name.lower(),
        "start_ns": span.start_time or 0,
        "end_ns": span.end_time or span.start_time or 0,
        "status": span.status.status_code.name.lower(),
        "status_message": span.status.description,
        "service": str(span.resource.attributes.get("service.name", "")),
        "attributes": json.dumps(dict(span.attributes or {}), default=list),
        "events": json.dumps(
            [
                {"name": e.name, "time_ns": e.timestamp, "attributes": dict(e.attributes or {})}
                for e in span.events
            ],
            default=list,
        ),
    }
