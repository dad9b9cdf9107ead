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
    Row,
    info_of,
    replay,
    replay_rows,
)
from ._engine import Store
from ._errors import CheckpointConflict, CheckpointNotFound
from ._ops import FieldOpLike, dumps, encode_ops, fold
from ._tables import CHECKPOINTS, checkpoints, effects, threads

__all__ = ["CheckpointStore"]


class CheckpointStore:
    """Checkpoints of graph threads in a `Store`: commit, resume, history, fork, prune.

    Each commit stores only the step's delta (field operations), so its cost does not grow
    with the thread's history; every `snapshot_every` steps a commit also stores the full
    state, so loading replays at most that many deltas. With a `prune` policy, each commit
    also deletes the thread's checkpoints that the policy no longer keeps.

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
            prune: Delete what this policy does not keep in each commit's transaction;
                default keep every checkpoint (`prune()` still deletes on demand).

        Raises:
            UsageError: `snapshot_every` is below 1.
        """
        if snapshot_every < 1:
            raise UsageError(f"snapshot_every must be at least 1, got {snapshot_every!r}.")
        self.store = store
        """The database."""
        self.snapshot_every = snapshot_every
        """A full state is stored at least every this many steps."""
        self.prune_policy = prune
        """What each commit keeps of its thread, or None to keep everything."""

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
        head = (
            await conn.execute(
                sa.select(threads.c.head_id, threads.c.head_step, threads.c.base_step)
                .where(threads.c.thread_id == thread_id)
                .with_for_update()
            )
        ).first()
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
        if self.prune_policy is not None:
            await _prune(conn, thread_id, self.prune_policy, row["base_step"])

    async def latest(self, thread_id: str) -> Checkpoint | None:
        """The thread's last committed checkpoint with its full state, or None if no thread."""
        await self.store.migrate(CHECKPOINTS)
        head = sa.select(threads.c.head_id).where(threads.c.thread_id == thread_id)
        async with self.store.read() as conn:
            rows = await replay_rows(conn, head.scalar_subquery())
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
            raise _not_found(checkpoint_id)
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
                    raise _not_found(checkpoint_id)
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
        """Delete all but the thread's newest `keep_last` checkpoints.

        The oldest kept checkpoint gets a full snapshot (the pruned deltas folded into it),
        so every kept checkpoint still loads with the same state. To prune on every commit,
        pass `CheckpointStore(store, prune=KeepLast(n))` instead.

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
            return await _prune(conn, thread_id, KeepLast(keep_last), int(head.base_step))

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


async def _prune(conn: AsyncConnection, thread_id: str, policy: KeepLast, base_step: int) -> int:
    """Delete the thread's checkpoints older than the oldest `policy` keeps; how many went.

    `base_step` is the thread's latest snapshot step, locked by the caller's transaction.
    """
    oldest = await _oldest_kept(conn, thread_id, policy)
    if oldest is None:
        return 0
    mine, keep = checkpoints.c.thread_id == thread_id, int(oldest.step)
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


async def _oldest_kept(conn: AsyncConnection, thread_id: str, policy: KeepLast) -> Row | None:
    """The oldest checkpoint `policy` keeps (id, step, whole), or None when it keeps them all."""
    mine = checkpoints.c.thread_id == thread_id
    query = sa.select(
        checkpoints.c.id,
        checkpoints.c.step,
        checkpoints.c.snapshot.is_not(None).label("whole"),
    ).where(mine)
    newest = query.order_by(checkpoints.c.step.desc()).offset(policy.count - 1).limit(1)
    oldest = (await conn.execute(newest)).first()
    if oldest is None or policy.newer_than is None:
        return oldest
    cutoff = time.time() - policy.newer_than.total_seconds()
    recent = query.where(checkpoints.c.created_at >= cutoff, checkpoints.c.step < oldest.step)
    return (await conn.execute(recent.order_by(checkpoints.c.step).limit(1))).first() or oldest


def _conflict(thread_id: str, step: int, head: int | None = None) -> CheckpointConflict:
    where = f" (its latest is step {head})" if head is not None else ""
    return CheckpointConflict(
        f"Thread {thread_id!r} already has a checkpoint at step {step} or later{where}: "
        "another writer got there first. Reload it with latest() before going on.",
        thread_id=thread_id,
        step=step,
    )


def _not_found(checkpoint_id: str) -> CheckpointNotFound:
    return CheckpointNotFound(
        f"No checkpoint has id {checkpoint_id!r}: it was pruned, its thread deleted, or the "
        "id is wrong. history(thread_id) lists a thread's checkpoints.",
        checkpoint_id=checkpoint_id,
    )
