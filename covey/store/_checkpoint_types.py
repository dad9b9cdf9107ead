"""Checkpoints as read back (the dataclasses, rebuilding a state from its rows), and `KeepLast`."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .._errors import UsageError
from ._errors import CheckpointNotFound, StoreError
from ._ops import fold, loads
from ._tables import checkpoints, threads

__all__ = [
    "Checkpoint",
    "CheckpointInfo",
    "KeepLast",
    "Row",
    "check_missing_head",
    "corrupt",
    "info_of",
    "keep_from",
    "not_found",
    "prune_probe",
    "replay",
    "replay_rows",
    "INFO_COLUMNS",
]

Row = sa.Row[*tuple[Any, ...]]

INFO_COLUMNS = (
    checkpoints.c.id,
    checkpoints.c.thread_id,
    checkpoints.c.step,
    checkpoints.c.parent_id,
    checkpoints.c.next_nodes,
    checkpoints.c.interrupt,
    checkpoints.c.meta,
    checkpoints.c.created_at,
)
_REPLAY = (*INFO_COLUMNS, checkpoints.c.delta, checkpoints.c.snapshot)


@dataclass(kw_only=True, slots=True, frozen=True)
class CheckpointInfo:
    """One committed superstep of a thread, without its state (see `CheckpointStore.history`)."""

    id: str
    """The checkpoint's id, for `get()` and `fork()`."""
    thread_id: str
    """The thread it belongs to."""
    step: int
    """Supersteps committed in the thread up to and including this one (0: initial state)."""
    next_nodes: list[str]
    """Nodes of the next superstep; empty when the run had finished."""
    interrupt: dict[str, Any] | None
    """The pending question when the run paused for input, else None."""
    metadata: dict[str, Any]
    """The engine's bookkeeping, stored as given."""
    parent: str | None
    """The checkpoint before it: the thread's previous one, or the source of a fork."""
    created_at: datetime
    """When it was committed (UTC)."""


@dataclass(kw_only=True, slots=True, frozen=True)
class Checkpoint:
    """One committed superstep of a thread, with the full state after it."""

    id: str
    """The checkpoint's id, for `get()` and `fork()`."""
    thread_id: str
    """The thread it belongs to."""
    step: int
    """Supersteps committed in the thread up to and including this one (0: initial state)."""
    state: dict[str, Any]
    """The full state after this step, as JSON data."""
    next_nodes: list[str]
    """Nodes of the next superstep; empty when the run had finished."""
    interrupt: dict[str, Any] | None
    """The pending question when the run paused for input, else None."""
    metadata: dict[str, Any]
    """The engine's bookkeeping, stored as given."""
    parent: str | None
    """The checkpoint before it: the thread's previous one, or the source of a fork."""
    created_at: datetime
    """When it was committed (UTC)."""


@dataclass(slots=True, frozen=True)
class KeepLast:
    """A prune policy: keep at least a thread's newest `count` checkpoints, and recent ones.

    `CheckpointStore(store, prune=KeepLast(100))` applies it in each commit's transaction,
    in whole snapshot periods: it deletes only the checkpoints older than the snapshot that
    the oldest kept one replays from. So pruning never writes a state, every kept checkpoint
    still loads, resumes and forks with its exact state, and a thread keeps from `count` up
    to `count + snapshot_every - 1` checkpoints (more with `newer_than`). Most commits delete
    nothing: only those after which the oldest kept checkpoint is in a new snapshot period.
    `CheckpointStore.prune()` is the exact alternative, run on demand.

    Example:
        ```python
        KeepLast(100)  # at least the newest 100 of each thread
        KeepLast(20, newer_than=timedelta(days=7))  # the newest 20 or more, and the last week
        KeepLast(1, newer_than=timedelta(hours=1))  # the last hour's (and always the latest)
        ```

    Raises:
        UsageError: `count` is below 1, or `newer_than` is negative.
    """

    count: int
    """Keep at least this many of the newest checkpoints (1 or more: resume needs the latest)."""
    _: KW_ONLY
    newer_than: timedelta | None = None
    """Also keep every checkpoint committed less than this long ago."""

    def __post_init__(self) -> None:
        if self.count < 1:
            raise UsageError(
                f"KeepLast keeps at least the latest checkpoint, got count={self.count!r}: "
                "pass 1 or more, or delete_thread() to remove a whole thread."
            )
        if self.newer_than is not None and self.newer_than < timedelta(0):
            raise UsageError(
                f"KeepLast(newer_than=...) is an age, got {self.newer_than!r}: pass a "
                "positive timedelta such as timedelta(days=7)."
            )


def prune_probe(policy: KeepLast) -> list[sa.Label[Any]]:
    """Columns for a commit's head read: what `keep_from` needs, with no statement of its own.

    Their parameters are `thread` and, with `newer_than`, `cutoff` (a `created_at`). They
    are read before the commit's row goes in. Once it is in, the `count`-th newest is the
    `count - 1`-th newest of these (the row itself when `count` is 1, left to `keep_from`),
    and the oldest recent one is among these or else no older than that.
    """
    mine = checkpoints.c.thread_id == sa.bindparam("thread")
    base = sa.select(checkpoints.c.base_step).where(mine)
    counted: sa.ColumnElement[Any] = sa.null()
    if policy.count > 1:
        newest = base.order_by(checkpoints.c.step.desc()).offset(policy.count - 2).limit(1)
        counted = newest.scalar_subquery()
    recent: sa.ColumnElement[Any] = sa.null()
    if policy.newer_than is not None:
        oldest_recent = base.where(checkpoints.c.created_at >= sa.bindparam("cutoff"))
        recent = oldest_recent.order_by(checkpoints.c.step).limit(1).scalar_subquery()
    first = sa.select(sa.func.min(checkpoints.c.step)).where(mine).scalar_subquery()
    return [counted.label("counted"), recent.label("recent"), first.label("first")]


def keep_from(policy: KeepLast, probe: Row, new_base: int) -> int | None:
    """The step before which a commit deletes, or None when it keeps everything.

    The oldest checkpoint `policy` keeps replays from its `base_step` snapshot, as does
    every later one from that snapshot or a newer one: so what is older goes, and no state
    is written. It moves only when the oldest kept one enters a new snapshot period, so
    most commits delete nothing. `probe` is the head read with `prune_probe`'s columns;
    `new_base` the commit's own `base_step`.
    """
    counted = new_base if policy.count == 1 else probe.counted
    if counted is None:  # fewer than `count` checkpoints: all are kept
        return None
    keep = int(counted)
    if probe.recent is not None:  # base_step grows with step: the lower one is the older
        keep = min(keep, int(probe.recent))
    return keep if int(probe.first) < keep else None


_UNREADABLE = (ValueError, TypeError, KeyError, AttributeError, StoreError)
"""What decoding or replaying a damaged row raises."""
_SHOWN_DETAIL = 200


def corrupt(row: Row, problem: str, good: Row | None = None) -> StoreError:
    """The error for a checkpoint row that cannot be read, saying how to recover.

    `good` is the latest step known to load, if any.
    """
    thread, step = row.thread_id, int(row.step)
    if good is not None:
        recover = (
            f"fork from the last good step, {int(good.step)}: "
            f"CheckpointStore.fork({good.id!r}, new_thread_id), or "
            f"Graph.fork({thread!r}, step={int(good.step)})"
        )
    else:
        recover = (
            f"fork from a step before {step} (history({thread!r}) lists them) with "
            f"CheckpointStore.fork(checkpoint_id, new_thread_id) or Graph.fork({thread!r}, "
            "step=...)"
        )
    return StoreError(
        f"Checkpoint {row.id!r} of thread {thread!r}, step {step}, is corrupt: {problem}. "
        f"To recover, {recover}."
    )


def _detail(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= _SHOWN_DETAIL else text[:_SHOWN_DETAIL] + "..."


def info_of(row: Row) -> CheckpointInfo:
    """A row's checkpoint without its state.

    Raises:
        StoreError: its next nodes, interrupt or metadata are not readable JSON.
    """
    try:
        return CheckpointInfo(
            id=row.id,
            thread_id=row.thread_id,
            step=int(row.step),
            next_nodes=loads(row.next_nodes),
            interrupt=loads(row.interrupt) if row.interrupt is not None else None,
            metadata=loads(row.meta),
            parent=row.parent_id,
            created_at=datetime.fromtimestamp(row.created_at, UTC),
        )
    except _UNREADABLE as e:
        raise corrupt(row, f"its details cannot be read ({_detail(e)})") from e


def _base_state(row: Row) -> dict[str, Any]:
    if row.snapshot is None:
        raise corrupt(row, "the snapshot its state is rebuilt from is missing")
    try:
        state = loads(row.snapshot)
    except _UNREADABLE as e:
        raise corrupt(row, f"its snapshot cannot be read ({_detail(e)})") from e
    if not isinstance(state, dict):
        raise corrupt(row, f"its snapshot is a {type(state).__name__}, not a state object")
    return cast(dict[str, Any], state)


def replay(rows: Sequence[Row]) -> Checkpoint:
    """The checkpoint of the last row; rows run from a snapshot to it, in step order.

    Raises:
        StoreError: a row is corrupt; the message names it and how to recover.
    """
    state = _base_state(rows[0])
    for before, row in itertools.pairwise(rows):
        try:
            fold(state, loads(row.delta))
        except _UNREADABLE as e:
            raise corrupt(row, f"its change cannot be applied ({_detail(e)})", before) from e
    info = info_of(rows[-1])
    return Checkpoint(
        id=info.id,
        thread_id=info.thread_id,
        step=info.step,
        state=state,
        next_nodes=info.next_nodes,
        interrupt=info.interrupt,
        metadata=info.metadata,
        parent=info.parent,
        created_at=info.created_at,
    )


async def replay_rows(
    conn: AsyncConnection, checkpoint_id: str | sa.ScalarSelect[Any]
) -> Sequence[Row]:
    """Rows from the checkpoint's snapshot to the checkpoint itself, in step order."""
    # One statement, so PostgreSQL's read committed sees one consistent snapshot.
    target = checkpoints.alias("target")
    query = (
        sa.select(*_REPLAY)
        .join(target, target.c.thread_id == checkpoints.c.thread_id)
        .where(
            target.c.id == checkpoint_id,
            checkpoints.c.step >= target.c.base_step,
            checkpoints.c.step <= target.c.step,
        )
        .order_by(checkpoints.c.step)
    )
    return (await conn.execute(query)).all()


async def check_missing_head(conn: AsyncConnection, thread_id: str) -> None:
    """Nothing when the thread does not exist; an error when its head checkpoint is gone."""
    head = (
        await conn.execute(
            sa.select(threads.c.head_id, threads.c.head_step).where(
                threads.c.thread_id == thread_id
            )
        )
    ).first()
    if head is None:
        return
    last = (
        await conn.execute(
            sa.select(checkpoints.c.id, checkpoints.c.step)
            .where(checkpoints.c.thread_id == thread_id)
            .order_by(checkpoints.c.step.desc())
            .limit(1)
        )
    ).first()
    if last is None:
        recover = f"delete_thread({thread_id!r}) and start the thread again with run()"
    else:
        recover = (
            f"fork from the last step it has, {last.step}: CheckpointStore.fork({last.id!r}, "
            f"new_thread_id), or Graph.fork({thread_id!r}, step={last.step})"
        )
    raise StoreError(
        f"Thread {thread_id!r} is corrupt: its latest checkpoint {head.head_id!r} (step "
        f"{head.head_step}) is missing from the checkpoints table. To recover, {recover}."
    )


def not_found(checkpoint_id: str) -> CheckpointNotFound:
    return CheckpointNotFound(
        f"No checkpoint has id {checkpoint_id!r}: it was pruned, its thread deleted, or the "
        "id is wrong. history(thread_id) lists a thread's checkpoints.",
        checkpoint_id=checkpoint_id,
    )
