"""CheckpointStore conformance for whole threads: fork, prune, delete, list."""

from __future__ import annotations

import pytest

from covey import UsageError
from covey.store import (
    CheckpointConflict,
    CheckpointNotFound,
    CheckpointStore,
    EffectJournal,
    Store,
)

from .test_checkpoints import expected, grow, op


async def test_get_of_an_unknown_id_is_not_found(store: Store) -> None:
    checkpoints = CheckpointStore(store)
    with pytest.raises(CheckpointNotFound, match="No checkpoint has id 'nope'") as info:
        await checkpoints.get("nope")
    assert info.value.checkpoint_id == "nope"
    assert isinstance(info.value, LookupError)


async def test_fork_starts_a_new_thread_from_a_checkpoint(store: Store) -> None:
    checkpoints = CheckpointStore(store, snapshot_every=4)
    ids = await grow(checkpoints, "t", 12)
    fork_id = await checkpoints.fork(ids[6], "t-fork")
    forked = await checkpoints.latest("t-fork")
    assert forked is not None
    assert (forked.id, forked.thread_id, forked.step, forked.parent) == (
        fork_id,
        "t-fork",
        6,
        ids[6],
    )
    assert forked.state == expected(6)
    assert forked.metadata == {"i": 6} and forked.next_nodes == ["agent"]
    await checkpoints.commit("t-fork", step=7, delta=[op("title", "set", "forked")], next_nodes=[])
    after = await checkpoints.latest("t-fork")
    assert after is not None and after.state == {**expected(6), "title": "forked"}
    source = await checkpoints.latest("t")
    assert source is not None and source.state == expected(11)  # untouched
    assert [h.step for h in await checkpoints.history("t-fork")] == [7, 6]


async def test_fork_refuses_an_existing_thread_and_unknown_ids(store: Store) -> None:
    checkpoints = CheckpointStore(store)
    ids = await grow(checkpoints, "t", 3)
    await grow(checkpoints, "taken", 1)
    with pytest.raises(CheckpointConflict, match="'taken': it already exists"):
        await checkpoints.fork(ids[1], "taken")
    with pytest.raises(CheckpointNotFound):
        await checkpoints.fork("nope", "new")
    assert await checkpoints.threads() == ["t", "taken"]


@pytest.mark.parametrize("keep_last", [1, 3, 7, 10, 50])
async def test_prune_keeps_the_newest_and_their_states(store: Store, keep_last: int) -> None:
    checkpoints = CheckpointStore(store, snapshot_every=4)
    ids = await grow(checkpoints, "t", 20)
    deleted = await checkpoints.prune("t", keep_last=keep_last)
    kept = min(keep_last, 20)
    assert deleted == 20 - kept
    history = await checkpoints.history("t")
    assert [h.id for h in history] == ids[::-1][:kept]
    for info in history:
        assert (await checkpoints.get(info.id)).state == expected(info.step)
    for gone in ids[: 20 - kept]:
        with pytest.raises(CheckpointNotFound):
            await checkpoints.get(gone)
    # the thread goes on: commits, snapshots and loads still agree
    for step in range(20, 30):
        await checkpoints.commit(
            "t", step=step, delta=[op("count", "add", 1)], next_nodes=[], metadata={"i": step}
        )
    latest = await checkpoints.latest("t")
    assert latest is not None and latest.state == {**expected(19), "count": 29}
    assert await checkpoints.prune("t", keep_last=keep_last) == max(0, kept + 10 - keep_last)


async def test_prune_of_nothing_and_bad_arguments(store: Store) -> None:
    checkpoints = CheckpointStore(store)
    assert await checkpoints.prune("nobody", keep_last=5) == 0
    with pytest.raises(UsageError, match="delete_thread"):
        await checkpoints.prune("t", keep_last=0)
    with pytest.raises(UsageError, match="snapshot_every"):
        CheckpointStore(store, snapshot_every=0)


async def test_delete_thread_removes_checkpoints_and_journal(store: Store) -> None:
    checkpoints, journal = CheckpointStore(store), EffectJournal(store)
    ids = await grow(checkpoints, "t", 3)
    await grow(checkpoints, "keep", 2)
    await journal.record("t", "k", 1)
    await journal.record("keep", "k", 2)
    assert await checkpoints.threads() == ["keep", "t"]
    await checkpoints.delete_thread("t")
    await checkpoints.delete_thread("t")  # absent: no error
    assert await checkpoints.threads() == ["keep"]
    assert await checkpoints.latest("t") is None
    assert await checkpoints.history("t") == []
    with pytest.raises(CheckpointNotFound):
        await checkpoints.get(ids[0])
    assert await journal.get("t", "k") is None
    kept = await journal.get("keep", "k")
    assert kept is not None and kept.result == 2
    # the id can be used again from step 0
    await checkpoints.commit("t", step=0, delta=[op("n", "set", 1)], next_nodes=[])
    again = await checkpoints.latest("t")
    assert again is not None and again.state == {"n": 1}
