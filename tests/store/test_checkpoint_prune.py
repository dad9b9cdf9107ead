"""CheckpointStore(prune=KeepLast(...)): commits delete whole snapshot periods the policy passed."""

from __future__ import annotations

import time
from datetime import timedelta

import anyio
import pytest
import sqlalchemy as sa

from covey import UsageError
from covey.store import CheckpointNotFound, CheckpointStore, KeepLast, Store

from .test_checkpoints import expected, grow, op


async def stored_rows(store: Store, thread: str) -> list[tuple[int, int, bool]]:
    """The thread's rows as stored, oldest first: (step, base_step, has a snapshot)."""
    async with store.read() as conn:
        query = sa.text(
            "SELECT step, base_step, snapshot IS NOT NULL FROM covey_checkpoints "
            "WHERE thread_id = :t ORDER BY step"
        )
        rows = (await conn.execute(query, {"t": thread})).all()
    return [(int(step), int(base), bool(whole)) for step, base, whole in rows]


def as_committed(steps: range, snapshot_every: int) -> list[tuple[int, int, bool]]:
    """Rows of a thread committed from step 0, one step at a time, as commits store them."""
    return [(s, s - s % snapshot_every, s % snapshot_every == 0) for s in steps]


@pytest.mark.parametrize(("snapshot_every", "count"), [(50, 20), (4, 20), (50, 75), (7, 1)])
async def test_keep_last_prunes_whole_snapshot_periods(
    store: Store, snapshot_every: int, count: int
) -> None:
    checkpoints = CheckpointStore(store, snapshot_every=snapshot_every, prune=KeepLast(count))
    ids = await grow(checkpoints, "t", 300)
    history = await checkpoints.history("t")
    assert count <= len(history) <= count + snapshot_every - 1
    assert [h.id for h in history] == ids[::-1][: len(history)]  # the newest, none missing
    oldest = history[-1].step
    # It starts at the snapshot that the oldest of the newest `count` replays from.
    assert oldest == (300 - count) // snapshot_every * snapshot_every
    # Only commits wrote snapshots, and no row was rewritten to replay from a new one.
    assert await stored_rows(store, "t") == as_committed(range(oldest, 300), snapshot_every)
    latest = await checkpoints.latest("t")
    assert latest is not None and (latest.step, latest.state) == (299, expected(299))
    for info in history:
        got = await checkpoints.get(info.id)
        assert (got.step, got.state, got.metadata) == (
            info.step,
            expected(info.step),
            info.metadata,
        )
        assert got.metadata == {"i": info.step} and got.next_nodes == ["agent"]
    for gone in (ids[0], ids[150], ids[oldest - 1]):
        with pytest.raises(CheckpointNotFound):
            await checkpoints.get(gone)
    # A store without the policy (another process, say) loads the same states.
    plain = CheckpointStore(store)
    assert (await plain.get(history[-1].id)).state == expected(oldest)


async def test_fork_from_the_oldest_kept_step(store: Store) -> None:
    checkpoints = CheckpointStore(store, prune=KeepLast(20))
    ids = await grow(checkpoints, "t", 300)
    oldest = (await checkpoints.history("t"))[-1]
    assert (oldest.id, oldest.step) == (ids[250], 250)  # the snapshot step 280 replays from
    fork_id = await checkpoints.fork(oldest.id, "t-fork")
    forked = await checkpoints.latest("t-fork")
    assert forked is not None
    assert (forked.id, forked.step, forked.parent) == (fork_id, 250, oldest.id)
    assert forked.state == expected(250) and forked.metadata == {"i": 250}
    for step in range(251, 331):  # the fork is pruned by the same policy as it grows
        await checkpoints.commit(
            "t-fork", step=step, delta=[op("count", "add", 10)], next_nodes=["agent"]
        )
    after = await checkpoints.latest("t-fork")
    assert after is not None and after.state == {**expected(250), "count": 250 + 800}
    # The fork's snapshots are at 250 (its start) and 300; 311, the 20th newest, needs 300.
    assert [h.step for h in await checkpoints.history("t-fork")] == list(range(330, 299, -1))
    assert await stored_rows(store, "t-fork") == [(s, 300, s == 300) for s in range(300, 331)]
    source = await checkpoints.latest("t")
    assert source is not None and source.state == expected(299)  # untouched by the fork


async def test_threads_are_pruned_separately(store: Store) -> None:
    checkpoints = CheckpointStore(store, snapshot_every=4, prune=KeepLast(5))
    await grow(checkpoints, "short", 3)
    await grow(checkpoints, "long", 12)
    assert [h.step for h in await checkpoints.history("short")] == [2, 1, 0]
    # Step 7, the 5th newest, replays from the snapshot at step 4.
    assert [h.step for h in await checkpoints.history("long")] == list(range(11, 3, -1))


async def test_a_policy_prunes_a_thread_grown_without_one(store: Store) -> None:
    await grow(CheckpointStore(store, snapshot_every=10), "t", 120)
    checkpoints = CheckpointStore(store, snapshot_every=10, prune=KeepLast(20))
    await checkpoints.commit("t", step=120, delta=[op("count", "add", 1)], next_nodes=[])
    assert [h.step for h in await checkpoints.history("t")] == list(range(120, 99, -1))
    assert await stored_rows(store, "t") == as_committed(range(100, 121), 10)
    oldest = await checkpoints.get((await checkpoints.history("t"))[-1].id)
    assert (oldest.step, oldest.state) == (100, expected(100))


async def test_newer_than_also_keeps_recent_checkpoints(store: Store) -> None:
    writer = CheckpointStore(store, snapshot_every=5)
    await grow(writer, "t", 10)
    await anyio.sleep(2)  # an age gap between steps 0-9 and steps 10-14
    for step in range(10, 15):
        await writer.commit("t", step=step, delta=[op("count", "add", 1)], next_nodes=[])
    at = {h.step: h.created_at.timestamp() for h in await writer.history("t")}
    # Just younger than step 9. By the next commit step 9 is a little older still, and the
    # cutoff stays before step 10 unless that commit comes 2 seconds later.
    age = timedelta(seconds=time.time() - at[9] - 0.001)

    # By count alone only step 15 would stay; by age steps 10-14 do too.
    recent = CheckpointStore(store, snapshot_every=5, prune=KeepLast(1, newer_than=age))
    await recent.commit("t", step=15, delta=[op("count", "add", 1)], next_nodes=[])
    assert [h.step for h in await recent.history("t")] == list(range(15, 9, -1))
    saved = await recent.get((await recent.history("t"))[-1].id)
    assert saved.state == {**expected(9), "count": 10}

    counted = CheckpointStore(store, snapshot_every=5, prune=KeepLast(3))
    await counted.commit("t", step=16, delta=[op("count", "add", 1)], next_nodes=[])
    # Step 14, the 3rd newest, still replays from the snapshot at step 10.
    assert [h.step for h in await counted.history("t")] == list(range(16, 9, -1))
    await counted.commit("t", step=17, delta=[op("count", "add", 1)], next_nodes=[])
    assert [h.step for h in await counted.history("t")] == [17, 16, 15]
    latest = await counted.latest("t")
    assert latest is not None and latest.state == {**expected(9), "count": 17}


def test_policy_refuses_nonsense() -> None:
    with pytest.raises(UsageError, match="count=0: pass 1 or more, or delete_thread"):
        KeepLast(0)
    with pytest.raises(UsageError, match="is an age"):
        KeepLast(5, newer_than=timedelta(seconds=-1))
    assert KeepLast(5, newer_than=timedelta(days=1)).newer_than == timedelta(days=1)
