"""`EffectJournal`: results of side effects by idempotency key, so a resumed step skips them."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ._engine import Store
from ._ops import dumps, loads
from ._tables import CHECKPOINTS, effects

__all__ = ["EffectJournal", "Effect"]


@dataclass(kw_only=True, slots=True, frozen=True)
class Effect:
    """A recorded side effect."""

    thread_id: str
    """The thread whose step ran it."""
    key: str
    """Its idempotency key, unique in the thread (for example `step:node:tool_call_id`)."""
    result: Any
    """What it returned, as JSON data (may be None: check for the `Effect`, not the result)."""
    recorded_at: datetime
    """When it was first recorded (UTC)."""


class EffectJournal:
    """Idempotency keys to recorded results, per thread, in a `Store`.

    Before running a side effect (a tool call that writes, sends or pays), look its key up;
    if it is recorded, use the recorded result instead of running it again. After running
    it, record the result. An effect that ran but crashed before `record()` runs again on
    resume: pick keys the effect itself can also deduplicate when that matters.

    Example:
        ```python
        journal = EffectJournal(store)
        done = await journal.get(thread_id, key)
        if done is None:
            result = await send_email(...)
            done = await journal.record(thread_id, key, result)
        return done.result
        ```
    """

    def __init__(self, store: Store) -> None:
        """Use the journal table of `store` (created on first use)."""
        self.store = store
        """The database."""

    async def get(self, thread_id: str, key: str) -> Effect | None:
        """The effect recorded under `key` in the thread, or None if it never ran."""
        await self.store.migrate(CHECKPOINTS)
        async with self.store.read() as conn:
            row = (await conn.execute(_select(thread_id, key))).first()
        return _effect(row) if row is not None else None

    async def record(self, thread_id: str, key: str, result: Any) -> Effect:
        """Record an effect's result; if the key is already recorded, keep the first.

        Returns:
            The effect now recorded: this one, or the earlier one when the key was taken
            (say, by another worker that ran the same step).

        Raises:
            UsageError: `result` is not JSON data.
        """
        text = dumps(result, "An effect's result")
        await self.store.migrate(CHECKPOINTS)
        values = {"thread_id": thread_id, "key": key, "result": text, "created_at": time.time()}
        insert = (
            postgresql.insert(effects)
            if self.store.dialect == "postgresql"
            else sqlite.insert(effects)
        )
        async with self.store.write() as conn:
            await conn.execute(insert.values(**values).on_conflict_do_nothing())
            row = (await conn.execute(_select(thread_id, key))).one()
        return _effect(row)


def _select(thread_id: str, key: str) -> sa.Select[Any]:
    return sa.select(effects).where(effects.c.thread_id == thread_id, effects.c.key == key)


def _effect(row: sa.Row[*tuple[Any, ...]]) -> Effect:
    return Effect(
        thread_id=row.thread_id,
        key=row.key,
        result=loads(row.result),
        recorded_at=datetime.fromtimestamp(row.created_at, UTC),
    )
