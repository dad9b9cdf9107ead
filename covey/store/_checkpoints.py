"""`CheckpointStore`: a graph thread's supersteps, committed as deltas with periodic snapshots."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection

from .._errors import UsageError
from ._checkpoint_types import (
    INFO_COLUMNS,
    Checkpoint,
    CheckpointInfo,
    KeepLast,
    check_missing_head,
    info_of,
    keep_from,
    not_found,
    prune_probe,
    replay,
    replay_rows,
)
from ._engine import Store
from ._errors import CheckpointConflict
from ._ops import FieldOpLike, dumps, encode_ops, fold
from ._tables import CHECKPOINTS, checkpoints, effects, threads

__all__ = ["CheckpointStore"]


class CheckpointStore:
    """Checkpoints of graph threads in a `Store`: commit, resume, history, fork, prune.

    Each commit stores only the step's delta (field operations), so its cost does not grow
    with the thread's history; every `snapshot_every` steps a commit also stores the full
    state, so loading replays at most that many deltas. With a `prune` policy, commits also
    delete the thread's old checkpoints, a whole snapshot period at a time (see `KeepLast`).

    Example:
        ```python
        async with Store.from_env() as store:
            checkpoints = CheckpointStore(store)
            await checkpoints.commit(
                "t1", step=0, delta=[FieldOp(field="messages", op="set", value=[])],
                next_nodes=["agent"],
            )
            saved = await checkpoints.latest("t1")
        ```
    """

    def __init__(
        self, store: Store, *, snapshot_every: int = 50, prune: KeepLast | None = None
    ) -> None:
        """Use the checkpoint tables of `store` (created on first use).

        Args:
            store: The database.
            snapshot_every: Store a full state at least every this many steps.
            prune: In each commit's transaction, delete the snapshot periods older than
                the checkpoints this policy keeps (it keeps at least its `count`, up to
                `snapshot_every - 1` more); default keep every checkpoint (`prune()` still
                deletes on demand).

        Raises:
            UsageError: `snapshot_every` is below 1.
        """
        if snapshot_every < 1:
            raise UsageError(f"snapshot_every must be at least 1, got {snapshot_every!r}.")
        self.store = store
        """The database."""
        self.snapshot_every = snapshot_every
        """A full state is stored at least every this many steps."""
        self._prune = prune
        # Built once, with the policy's columns: building a statement costs more than
        # running it (its compiled form is cached).
        self._head_read = (
            sa.select(
                threads.c.head_id,
                threads.c.head_step,
                threads.c.base_step,
                *(prune_probe(prune) if prune is not None else ()),
            )
            .where(threads.c.thread_id == sa.bindparam("thread"))
            .with_for_update()
        )

    async def commit(
        self,
        thread_id: str,
        *,
        step: int,
        delta: Sequence[FieldOpLike],
        next_nodes: Sequence[str],
        interrupt: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        parent: str | None = None,
    ) -> str:
        """Record one superstep of a thread, in one transaction.

        The thread's first commit (usually step 0) carries the initial state as `set` ops.

        Args:
            thread_id: The thread.
            step: Supersteps committed so far including this one; above the thread's last.
            delta: The state change, applied in order to the previous checkpoint's state.
            next_nodes: Nodes of the next superstep.
            interrupt: The pending question, when the run pauses for input.
            metadata: Bookkeeping to keep with it (JSON).
            parent: The checkpoint it follows; default the thread's latest.

        Returns:
            The new checkpoint's id.

        Raises:
            CheckpointConflict: the thread already has a checkpoint at this step or later.
        """
        if not thread_id or step < 0:
            raise UsageError(
                f"commit() needs a thread id and a step >= 0, got {thread_id!r}, {step!r}."
            )
        ops, delta_json = encode_ops(delta)
        row: dict[str, Any] = {
            "id": uuid.uuid4().hex,
            "thread_id": thread_id,
            "step": step,
            "delta": delta_json,
            "next_nodes": dumps(list(next_nodes), "next_nodes"),
            "interrupt": dumps(interrupt, "interrupt") if interrupt is not None else None,
            "meta": dumps(metadata or {}, "metadata"),
            "created_at": time.time(),
        }
        await self.store.migrate(CHECKPOINTS)
        try:
            async with self.store.write() as conn:
                await self._commit(conn, row, ops, parent)
        except sa_exc.IntegrityError as e:
            raise _conflict(thread_id, step) from e
        return row["id"]

    async def _commit(
        self,
        conn: AsyncConnection,
        row: dict[str, Any],
        ops: list[dict[str, Any]],
        parent: str | None,
    ) -> None:
        thread_id, step, now = row["thread_id"], row["step"], row["created_at"]
        policy = self._prune
        params: dict[str, Any] = {"thread": thread_id}
        if policy is not None and policy.newer_than is not None:
            params["cutoff"] = time.time() - policy.newer_than.total_seconds()
        head = (await conn.execute(self._head_read, params)).first()
        if head is None:
            row.update(parent_id=parent, base_step=step, snapshot=dumps(fold({}, ops)))
            await conn.execute(
                threads.insert().values(
                    thread_id=thread_id,
                    head_id=row["id"],
                    head_step=step,
                    base_step=step,
                    created_at=now,
                    updated_at=now,
                )
            )
            await conn.execute(checkpoints.insert().values(**row))
            return
        if step <= head.head_step:
            raise _conflict(thread_id, step, head.head_step)
        row.update(parent_id=parent or head.head_id, base_step=head.base_step, snapshot=None)
        if step - head.base_step >= self.snapshot_every:
            state = replay(await replay_rows(conn, head.head_id)).state
            row.update(base_step=step, snapshot=dumps(fold(state, ops)))
        await conn.execute(checkpoints.insert().values(**row))
        await conn.execute(
            threads.update()
            .where(threads.c.thread_id == thread_id)
            .values(head_id=row["id"], head_step=step, base_step=row["base_step"], updated_at=now)
        )
        keep = keep_from(policy, head, row["base_step"]) if policy is not None else None
        if keep is not None:
            await conn.execute(
                checkpoints.delete().where(
                    checkpoints.c.thread_id == thread_id, checkpoints.c.step < keep
                )
            )

    async def latest(self, thread_id: str) -> Checkpoint | None:
        """The thread's last committed checkpoint with its full state, or None if no thread.

        Raises:
            StoreError: the checkpoint is corrupt or missing; the message says how to recover.
        """
        await self.store.migrate(CHECKPOINTS)
        head = sa.select(threads.c.head_id).where(threads.c.thread_id == thread_id)
        async with self.store.read() as conn:
            rows = await replay_rows(conn, head.scalar_subquery())
            if not rows:
                await check_missing_head(conn, thread_id)
        return replay(rows) if rows else None

    async def get(self, checkpoint_id: str) -> Checkpoint:
        """A checkpoint with its full state.

        Raises:
            CheckpointNotFound: no checkpoint has this id.
        """
        await self.store.migrate(CHECKPOINTS)
        async with self.store.read() as conn:
            rows = await replay_rows(conn, checkpoint_id)
        if not rows:
            raise not_found(checkpoint_id)
        return replay(rows)

    async def history(self, thread_id: str, limit: int | None = None) -> list[CheckpointInfo]:
        """The thread's checkpoints, newest first, without their states.

        Args:
            thread_id: The thread.
            limit: At most this many (the newest).
        """
        await self.store.migrate(CHECKPOINTS)
        query = (
            sa.select(*INFO_COLUMNS)
            .where(checkpoints.c.thread_id == thread_id)
            .order_by(checkpoints.c.step.desc())
            .limit(limit)
        )
        async with self.store.read() as conn:
            rows = (await conn.execute(query)).all()
        return [info_of(row) for row in rows]

    async def fork(self, checkpoint_id: str, new_thread_id: str) -> str:
        """Start a new thread from a checkpoint's full state (its step, nodes and metadata).

        The new thread's first checkpoint has the source as parent. Effects recorded in the
        source thread's journal are not copied: the fork runs its tools again.

        Returns:
            The new thread's first checkpoint id.

        Raises:
            CheckpointNotFound: no checkpoint has this id.
            CheckpointConflict: `new_thread_id` already exists.
        """
        await self.store.migrate(CHECKPOINTS)
        new_id = uuid.uuid4().hex
        try:
            async with self.store.write() as conn:
                rows = await replay_rows(conn, checkpoint_id)
                if not rows:
                    raise not_found(checkpoint_id)
                source, now = replay(rows), time.time()
                await conn.execute(
                    threads.insert().values(
                        thread_id=new_thread_id,
                        head_id=new_id,
                        head_step=source.step,
                        base_step=source.step,
                        created_at=now,
                        updated_at=now,
                    )
                )
                await conn.execute(
                    checkpoints.insert().values(
                        id=new_id,
                        thread_id=new_thread_id,
                        step=source.step,
                        base_step=source.step,
                        parent_id=source.id,
                        delta="[]",
                        snapshot=dumps(source.state),
                        next_nodes=dumps(source.next_nodes),
                        interrupt=dumps(source.interrupt) if source.interrupt is not None else None,
                        meta=dumps(source.metadata),
                        created_at=now,
                    )
                )
        except sa_exc.IntegrityError as e:
            raise CheckpointConflict(
                f"Cannot fork into thread {new_thread_id!r}: it already exists. Pick a new "
                "thread id, or delete_thread() it first.",
                thread_id=new_thread_id,
            ) from e
        return new_id

    async def prune(self, thread_id: str, keep_last: int) -> int:
        """Delete all but the thread's newest `keep_last` checkpoints, exactly.

        Unlike a `KeepLast` policy, which keeps whole snapshot periods (at least its count),
        this keeps exactly `keep_last`: when the oldest kept checkpoint is not a snapshot, it
        gets one (the pruned deltas folded into it), so every kept checkpoint still loads with
        the same state. That costs a replay and a full-state write, fine on demand but not on
        every commit: to prune as a thread grows, pass `CheckpointStore(store,
        prune=KeepLast(n))` instead.

        Returns:
            How many checkpoints were deleted.

        Raises:
            UsageError: `keep_last` is below 1 (use `delete_thread()` to remove all).
        """
        if keep_last < 1:
            raise UsageError(
                f"prune() keeps at least 1 checkpoint, got keep_last={keep_last!r}: use "
                "delete_thread() to remove a whole thread."
            )
        await self.store.migrate(CHECKPOINTS)
        async with self.store.write() as conn:
            head = (
                await conn.execute(
                    sa.select(threads.c.base_step)
                    .where(threads.c.thread_id == thread_id)
                    .with_for_update()
                )
            ).first()
            if head is None:
                return 0
            return await _prune_exact(conn, thread_id, keep_last, int(head.base_step))

    async def delete_thread(self, thread_id: str) -> None:
        """Delete a thread: its checkpoints and its effect journal. No error if it is absent."""
        await self.store.migrate(CHECKPOINTS)
        async with self.store.write() as conn:
            await conn.execute(checkpoints.delete().where(checkpoints.c.thread_id == thread_id))
            await conn.execute(effects.delete().where(effects.c.thread_id == thread_id))
            await conn.execute(threads.delete().where(threads.c.thread_id == thread_id))

    async def threads(self) -> list[str]:
        """Every thread id, in sorted order."""
        await self.store.migrate(CHECKPOINTS)
        async with self.store.read() as conn:
            rows = await conn.execute(sa.select(threads.c.thread_id).order_by(threads.c.thread_id))
            return [str(thread_id) for (thread_id,) in rows]


async def _prune_exact(conn: AsyncConnection, thread_id: str, count: int, base_step: int) -> int:
    """Delete all but the thread's newest `count` checkpoints; how many went.

    `base_step` is the thread's latest snapshot step, locked by the caller's transaction.
    """
    mine = checkpoints.c.thread_id == thread_id
    newest = (
        sa.select(
            checkpoints.c.id,
            checkpoints.c.step,
            checkpoints.c.snapshot.is_not(None).label("whole"),
        )
        .where(mine)
        .order_by(checkpoints.c.step.desc())
        .offset(count - 1)
        .limit(1)
    )
    oldest = (await conn.execute(newest)).first()
    if oldest is None:
        return 0
    keep = int(oldest.step)
    if not oldest.whole:
        # The steps it replays from are about to go: fold them into a snapshot of its own,
        # and replay the steps up to the next snapshot from it.
        state = replay(await replay_rows(conn, oldest.id)).state
        await conn.execute(
            checkpoints.update()
            .where(checkpoints.c.id == oldest.id)
            .values(snapshot=dumps(state), base_step=keep)
        )
        await conn.execute(
            checkpoints.update()
            .where(mine, checkpoints.c.step > keep, checkpoints.c.base_step < keep)
            .values(base_step=keep)
        )
        if base_step < keep:
            await conn.execute(
                threads.update().where(threads.c.thread_id == thread_id).values(base_step=keep)
            )
    deleted = await conn.execute(checkpoints.delete().where(mine, checkpoints.c.step < keep))
    return int(deleted.rowcount)


def _conflict(thread_id: str, step: int, head: int | None = None) -> CheckpointConflict:
    where = f" (its latest is step {head})" if head is not None else ""
    return CheckpointConflict(
        f"Thread {thread_id!r} already has a checkpoint at step {step} or later{where}: "
        "another writer got there first. Reload it with latest() before going on.",
        thread_id=thread_id,
        step=step,
    )
