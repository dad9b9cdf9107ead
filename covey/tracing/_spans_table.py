"""The `covey_spans` table: finished spans, written by `StoreSpanExporter`, read by `covey view`.

Reading needs no OpenTelemetry SDK, so a viewer can show traces that another process wrote.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..store import Component, Migration, Store

__all__ = ["SPANS", "SpanRecord", "TraceSummary", "insert_spans", "load_trace", "recent_traces"]

metadata = sa.MetaData()

spans = sa.Table(
    "covey_spans",
    metadata,
    sa.Column("trace_id", sa.String(32), primary_key=True),
    sa.Column("span_id", sa.String(16), primary_key=True),
    sa.Column("parent_id", sa.String(16), nullable=True),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("kind", sa.String, nullable=False),
    sa.Column("start_ns", sa.BigInteger, nullable=False),
    sa.Column("end_ns", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String, nullable=False),  # unset, ok, error
    sa.Column("status_message", sa.Text, nullable=True),
    sa.Column("service", sa.String, nullable=False),
    sa.Column("attributes", sa.Text, nullable=False),  # JSON object
    sa.Column("events", sa.Text, nullable=False),  # JSON list of {name, time_ns, attributes}
    sa.Index("ix_covey_spans_start", "start_ns"),
)


def _v1(conn: sa.Connection) -> None:
    metadata.create_all(conn, tables=[spans])


SPANS = Component(
    name="spans",
    migrations=(Migration(version=1, description="finished OpenTelemetry spans", apply=_v1),),
)
"""The store component holding exported spans."""


@dataclass(kw_only=True, slots=True, frozen=True)
class SpanRecord:
    """One finished span as the store keeps it."""

    trace_id: str
    """32 hex digits."""
    span_id: str
    """16 hex digits."""
    parent_id: str | None
    """The parent span's id, None for a trace's root (or a span whose parent is elsewhere)."""
    name: str
    """For example `invoke_agent planner`, `chat scripted`, `execute_tool add`."""
    kind: str
    """`internal`, `client`, `server`, `producer` or `consumer`."""
    start_ns: int
    """Start, nanoseconds since the epoch."""
    end_ns: int
    """End, nanoseconds since the epoch."""
    status: str
    """`unset`, `ok` or `error`."""
    status_message: str | None
    """The error's description, if any."""
    service: str
    """The resource's `service.name`."""
    attributes: dict[str, Any]
    """The span's attributes (`gen_ai.*`, `covey.*`, ...)."""
    events: list[dict[str, Any]]
    """The span's events (exceptions among them)."""

    @property
    def seconds(self) -> float:
        """How long the span lasted."""
        return (self.end_ns - self.start_ns) / 1e9


@dataclass(kw_only=True, slots=True, frozen=True)
class TraceSummary:
    """A trace in a list: its root span and size."""

    root: SpanRecord
    """The earliest span without a parent."""
    span_count: int
    """How many spans the trace has in the store."""


async def insert_spans(store: Store, rows: Sequence[dict[str, Any]]) -> None:
    """Write spans (rows as `spans` columns); a span already stored is kept as it is."""
    if not rows:
        return
    await store.migrate(SPANS)
    insert: Any = (postgresql if store.dialect == "postgresql" else sqlite).insert(spans)
    async with store.write() as conn:
        await conn.execute(insert.on_conflict_do_nothing(), list(rows))


async def load_trace(store: Store, trace_id: str) -> list[SpanRecord]:
    """Every stored span of a trace, in start order (empty for an unknown trace)."""
    await store.migrate(SPANS)
    query = sa.select(spans).where(spans.c.trace_id == trace_id).order_by(spans.c.start_ns)
    async with store.read() as conn:
        return [_record(row) for row in (await conn.execute(query)).mappings()]


async def recent_traces(store: Store, *, limit: int = 100) -> list[TraceSummary]:
    """The latest traces, newest first, by their root spans."""
    await store.migrate(SPANS)
    counts = (
        sa.select(spans.c.trace_id, sa.func.count().label("n"))
        .group_by(spans.c.trace_id)
        .subquery()
    )
    query = (
        sa.select(spans, counts.c.n)
        .join(counts, counts.c.trace_id == spans.c.trace_id)
        .where(spans.c.parent_id.is_(None))
        .order_by(spans.c.start_ns.desc())
        .limit(limit)
    )
    async with store.read() as conn:
        rows = (await conn.execute(query)).mappings().all()
    return [TraceSummary(root=_record(row), span_count=int(row["n"])) for row in rows]


def _record(row: sa.RowMapping) -> SpanRecord:
    return SpanRecord(
        trace_id=row["trace_id"],
        span_id=row["span_id"],
        parent_id=row["parent_id"],
        name=row["name"],
        kind=row["kind"],
        start_ns=int(row["start_ns"]),
        end_ns=int(row["end_ns"]),
        status=row["status"],
        status_message=row["status_message"],
        service=row["service"],
        attributes=json.loads(row["attributes"]),
        events=json.loads(row["events"]),
    )
