"""CheckpointStore(prune=KeepLast(...)): each commit deletes what the policy does not keep."""

from __future__ import annotations

import time
from datetime import timedelta

import anyio
import pytest
import sqlalchemy as sa

from covey import UsageError
from covey.store import CheckpointNotFound, CheckpointStore, KeepLast, Store

from .test_checkpoints import expected, grow, op


async def stored_rows(store: Store, thread: str) -> int:
    async with store.read() as conn:
        query = sa.text("SELECT count(*) FROM covey_checkpoints WHERE thread_id = :t")
        return int((await conn.execute(query, {"t": thread})).scalar_one())


@pytest.mark.parametrize(("snapshot_every", "count"), [(50, 20), (4, 20), (50, 75), (7, 1)])
async def test_keep_last_prunes_on_every_commit(
    store: Store, snapshot_every: int, count: int
) -> None:
    checkpoints = CheckpointStore(store, snapshot_every=snapshot_every, prune=KeepLast(count))
    ids = await grow(checkpoints, "t", 300)
    history = await checkpoints.history("t")
    assert [h.id for h in history] == ids[::-1][:count]
    assert [h.step for h in history] == list(range(299, 299 - count, -1))
    assert await stored_rows(store, "t") == count  # nothing kept out of sight
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
    for gone in (ids[0], ids[150], ids[299 - count]):
        with pytest.raises(CheckpointNotFound):
            await checkpoints.get(gone)
    # A store without the policy (another process, say) loads the same states.
    plain = CheckpointStore(store)
    assert (await plain.get(history[-1].id)).state == expected(300 - count)


async def test_fork_from_the_oldest_kept_step(store: Store) -> None:
    checkpoints = CheckpointStore(store, prune=KeepLast(20))
    ids = await grow(checkpoints, "t", 300)
    oldest = (await checkpoints.history("t"))[-1]
    assert (oldest.id, oldest.step) == (ids[280], 280)
    fork_id = await checkpoints.fork(oldest.id, "t-fork")
    forked = await checkpoints.latest("t-fork")
    assert forked is not None
    assert (forked.id, forked.step, forked.parent) == (fork_id, 280, oldest.id)
    assert forked.state == expected(280) and forked.metadata == {"i": 280}
    for step in range(281, 331):  # the fork is pruned by the same policy as it grows
        await checkpoints.commit(
            "t-fork", step=step, delta=[op("count", "add", 10)], next_nodes=["agent"]
        )
    after = await checkpoints.latest("t-fork")
    assert after is not None and after.state == {**expected(280), "count": 280 + 500}
    assert [h.step for h in await checkpoints.history("t-fork")] == list(range(330, 310, -1))
    source = await checkpoints.latest("t")
    assert source is not None and source.state == expected(299)  # untouched by the fork


async def test_threads_are_pruned_separately(store: Store) -> None:
    checkpoints = CheckpointStore(store, prune=KeepLast(5))
    await grow(checkpoints, "short", 3)
    await grow(checkpoints, "long", 12)
    assert [h.step for h in await checkpoints.history("short")] == [2, 1, 0]
    assert [h.step for h in await checkpoints.history("long")] == [11, 10, 9, 8, 7]


async def test_newer_than_also_keeps_recent_checkpoints(store: Store) -> None:
    writer = CheckpointStore(store)
    await grow(writer, "t", 10)
    await anyio.sleep(0.3)  # an age gap between steps 0-9 and steps 10-14
    for step in range(10, 15):
        await writer.commit("t", step=step, delta=[op("count", "add", 1)], next_nodes=[])
    at = {h.step: h.created_at.timestamp() for h in await writer.history("t")}
    age = timedelta(seconds=time.time() - (at[9] + at[10]) / 2)

    recent = CheckpointStore(store, prune=KeepLast(3, newer_than=age))
    await recent.commit("t", step=15, delta=[op("count", "add", 1)], next_nodes=[])
    assert [h.step for h in await recent.history("t")] == list(range(15, 9, -1))
    saved = await recent.get((await recent.history("t"))[-1].id)
    assert saved.state == {**expected(9), "count": 10}

    counted = CheckpointStore(store, prune=KeepLast(3))
    await counted.commit("t", step=16, delta=[op("count", "add", 1)], next_nodes=[])
    assert [h.step for h in await counted.history("t")] == [16, 15, 14]
    latest = await counted.latest("t")
    assert latest is not None and latest.state == {**expected(9), "count": 16}


def test_policy_refuses_nonsense() -> None:
    with pytest.raises(UsageError, match="count=0: pass 1 or more, or delete_thread"):
        KeepLast(0)
    with pytest.raises(UsageError, match="is an age"):
        KeepLast(5, newer_than=timedelta(seconds=-1))
    assert KeepLast(5, newer_than=timedelta(days=1)).newer_than == timedelta(days=1)
