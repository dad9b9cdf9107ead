"""Damaged checkpoint rows fail with an error naming the thread and step, and how to recover."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from covey.store import CheckpointStore, Store, StoreError
from covey.store._tables import checkpoints

from .test_checkpoints import expected, grow


async def damage(store: Store, thread: str, step: int, **values: Any) -> None:
    """Change a stored checkpoint row behind the store's back, as a bad disk or hand edit."""
    where = (checkpoints.c.thread_id == thread) & (checkpoints.c.step == step)
    async with store.write() as conn:
        if values:
            await conn.execute(sa.update(checkpoints).where(where).values(**values))
        else:
            await conn.execute(sa.delete(checkpoints).where(where))


async def latest_error(saved: CheckpointStore, thread: str) -> str:
    with pytest.raises(StoreError) as caught:
        await saved.latest(thread)
    return str(caught.value)


async def test_garbage_in_a_delta_names_the_step_and_the_last_good_one(store: Store) -> None:
    saved = CheckpointStore(store)
    ids = await grow(saved, "t", 6)
    await damage(store, "t", 4, delta="not json at all")
    message = await latest_error(saved, "t")
    assert f"Checkpoint {ids[4]!r} of thread 't', step 4, is corrupt" in message
    assert "expected ident" in message  # what the decoder said
    assert f"fork from the last good step, 3: CheckpointStore.fork({ids[3]!r}" in message
    assert "Graph.fork('t', step=3)" in message
    # The advice works: the fork loads with step 3's state, and the thread's history lists.
    assert [c.step for c in await saved.history("t")] == [5, 4, 3, 2, 1, 0]
    await saved.fork(ids[3], "t-recovered")
    recovered = await saved.latest("t-recovered")
    assert recovered is not None and recovered.state == expected(3)


async def test_garbage_in_a_snapshot_says_so(store: Store) -> None:
    saved = CheckpointStore(store, snapshot_every=3)  # snapshots at steps 0, 3 and 6
    ids = await grow(saved, "t", 8)
    await damage(store, "t", 6, snapshot='{"messages": [')
    message = await latest_error(saved, "t")
    assert f"Checkpoint {ids[6]!r} of thread 't', step 6, is corrupt" in message
    assert "its snapshot cannot be read" in message
    assert "fork from a step before 6 (history('t') lists them)" in message
    with pytest.raises(StoreError, match="step 6, is corrupt"):
        await saved.get(ids[7])  # replays from the same snapshot
    await saved.fork(ids[5], "t-recovered")
    recovered = await saved.latest("t-recovered")
    assert recovered is not None and recovered.state == expected(5)


@pytest.mark.parametrize(
    ("column", "value"),
    [("snapshot", "[1, 2]"), ("snapshot", None), ("delta", '[{"field": "count"}]')],
    ids=["snapshot-not-a-state", "snapshot-missing", "delta-op-incomplete"],
)
async def test_other_damage_is_reported_the_same_way(
    store: Store, column: str, value: str | None
) -> None:
    saved = CheckpointStore(store)
    ids = await grow(saved, "t", 3)
    step = 0 if column == "snapshot" else 2
    await damage(store, "t", step, **{column: value})
    with pytest.raises(StoreError, match=rf"thread 't', step {step}, is corrupt"):
        await saved.get(ids[2])


async def test_a_head_pointing_to_a_missing_checkpoint_is_corrupt_not_absent(
    store: Store,
) -> None:
    saved = CheckpointStore(store)
    ids = await grow(saved, "t", 5)
    await damage(store, "t", 4)
    message = await latest_error(saved, "t")
    assert f"Thread 't' is corrupt: its latest checkpoint {ids[4]!r} (step 4) is missing" in message
    assert f"fork from the last step it has, 3: CheckpointStore.fork({ids[3]!r}" in message
    assert "start it with run()" not in message
    # With every checkpoint gone, the thread can only be deleted and started again.
    for step in range(4):
        await damage(store, "t", step)
    with pytest.raises(StoreError, match=r"delete_thread\('t'\) and start the thread again"):
        await saved.latest("t")
    await saved.delete_thread("t")
    assert await saved.latest("t") is None
