"""Property: whatever the ops, snapshots, prunes (by hand or by policy) and forks, a loaded state
equals a plain fold."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from covey.store import CheckpointStore, FieldOp, KeepLast, OpName, Store, apply_ops

from .test_checkpoint_prune import as_committed, stored_rows

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(codec="utf-8"), max_size=8)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
NUMBER = st.integers(min_value=-1000, max_value=1000) | st.floats(
    min_value=-1e6, max_value=1e6, allow_nan=False
)


def ops(field: str, kind: OpName, values: st.SearchStrategy[Any]) -> st.SearchStrategy[FieldOp]:
    return values.map(lambda value: FieldOp(field=field, op=kind, value=value))


DICTS = st.dictionaries(st.text(max_size=3), JSON, max_size=3)
# Each field keeps one kind, so every op fits the field it changes (as a graph's reducers do).
OPS = st.one_of(
    ops("items", "set", st.lists(JSON, max_size=3)),
    ops("items", "append", st.lists(JSON, max_size=3)),
    ops("map", "set", DICTS),
    ops("map", "merge", DICTS),
    ops("num", "set", NUMBER),
    ops("num", "add", NUMBER),
    ops("any", "set", JSON),
)


def fold(state: dict[str, Any], delta: list[FieldOp]) -> dict[str, Any]:
    """The oracle: the ops' meaning, written out plainly."""
    state = dict(state)
    for change in delta:
        old = state.get(change.field)
        if change.op == "set":
            state[change.field] = change.value
        elif change.op == "append":
            state[change.field] = [*(old or []), *change.value]
        elif change.op == "merge":
            state[change.field] = {**(old or {}), **change.value}
        else:
            state[change.field] = (old or 0) + change.value
    return state


# Each example commits to a fresh thread of the one per-test store.
EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
DELTAS = st.lists(st.lists(OPS, max_size=4), min_size=1, max_size=16)
SNAPSHOT_EVERY = st.integers(min_value=1, max_value=6)


@EXAMPLES
@given(
    deltas=DELTAS,
    snapshot_every=SNAPSHOT_EVERY,
    keep_last=st.integers(min_value=1, max_value=18),
    fork_at=st.integers(min_value=0, max_value=15),
)
async def test_loaded_state_equals_a_fold_of_all_ops(
    store: Store,
    deltas: list[list[FieldOp]],
    snapshot_every: int,
    keep_last: int,
    fork_at: int,
) -> None:
    checkpoints = CheckpointStore(store, snapshot_every=snapshot_every)
    thread = uuid.uuid4().hex
    states: list[dict[str, Any]] = []
    ids: list[str] = []
    state: dict[str, Any] = {}
    for step, delta in enumerate(deltas):
        state = fold(state, delta)
        assert apply_ops(states[-1] if states else {}, delta) == state
        states.append(state)
        ids.append(await checkpoints.commit(thread, step=step, delta=delta, next_nodes=["n"]))

    latest = await checkpoints.latest(thread)
    assert latest is not None and latest.state == states[-1]
    for step, checkpoint_id in enumerate(ids):
        assert (await checkpoints.get(checkpoint_id)).state == states[step]

    fork_at = min(fork_at, len(ids) - 1)
    forked = await checkpoints.fork(ids[fork_at], f"{thread}-fork")
    assert (await checkpoints.get(forked)).state == states[fork_at]

    await checkpoints.prune(thread, keep_last=keep_last)
    kept = await checkpoints.history(thread)
    assert [c.step for c in kept] == list(range(len(ids) - 1, -1, -1))[:keep_last]
    for info in kept:
        assert (await checkpoints.get(info.id)).state == states[info.step]


@EXAMPLES
@given(
    deltas=DELTAS,
    snapshot_every=SNAPSHOT_EVERY,
    count=st.integers(min_value=1, max_value=10),
)
async def test_a_prune_policy_keeps_every_kept_state_exact(
    store: Store, deltas: list[list[FieldOp]], snapshot_every: int, count: int
) -> None:
    checkpoints = CheckpointStore(store, snapshot_every=snapshot_every, prune=KeepLast(count))
    thread = uuid.uuid4().hex
    states: list[dict[str, Any]] = []
    for step, delta in enumerate(deltas):
        states.append(fold(states[-1] if states else {}, delta))
        await checkpoints.commit(thread, step=step, delta=delta, next_nodes=["n"])
        history = await checkpoints.history(thread)
        kept = [c.step for c in history]
        # The newest `count` (or all), back to the snapshot the oldest of them replays from.
        assert kept[: min(count, step + 1)] == list(range(step, -1, -1))[:count]
        assert kept == list(range(step, kept[-1] - 1, -1))
        assert kept[-1] == max(0, step - count + 1) // snapshot_every * snapshot_every
        assert len(kept) <= count + snapshot_every - 1
        # Pruning wrote no snapshot and rewrote no row: all is as the commits stored it.
        assert await stored_rows(store, thread) == as_committed(
            range(kept[-1], step + 1), snapshot_every
        )
        for info in history:
            assert (await checkpoints.get(info.id)).state == states[info.step]
    oldest = (await checkpoints.history(thread))[-1]
    forked = await checkpoints.fork(oldest.id, f"{thread}-fork")
    assert (await checkpoints.get(forked)).state == states[oldest.step]
