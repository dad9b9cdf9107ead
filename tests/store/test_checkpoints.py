"""CheckpointStore conformance: the same behaviour on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio
import pydantic
import pytest
import sqlalchemy as sa

from covey import UsageError
from covey.store import (
    CheckpointConflict,
    CheckpointStore,
    FieldOp,
    Store,
    StoreError,
)

from .conftest import Backend


def op(field: str, kind: Any, value: Any) -> FieldOp:
    return FieldOp(field=field, op=kind, value=value)


INITIAL = [
    op("messages", "set", []),
    op("facts", "set", {}),
    op("count", "set", 0),
    op("title", "set", "start"),
]


async def grow(checkpoints: CheckpointStore, thread: str, steps: int) -> list[str]:
    """Step 0 is the initial state; step i appends message i, counts it and notes a fact."""
    ids = [await checkpoints.commit(thread, step=0, delta=INITIAL, next_nodes=["agent"])]
    for i in range(1, steps):
        delta = [
            op("messages", "append", [{"role": "user", "content": f"m{i}"}]),
            op("count", "add", 1),
            op("facts", "merge", {f"k{i % 3}": i}),
        ]
        ids.append(
            await checkpoints.commit(
                thread, step=i, delta=delta, next_nodes=["agent"], metadata={"i": i}
            )
        )
    return ids


def expected(step: int) -> dict[str, Any]:
    facts = {f"k{i % 3}": i for i in range(1, step + 1)}
    messages = [{"role": "user", "content": f"m{i}"} for i in range(1, step + 1)]
    return {"messages": messages, "facts": facts, "count": step, "title": "start"}


async def test_commit_and_latest_round_trip_every_op(store: Store) -> None:
    checkpoints = CheckpointStore(store)
    assert await checkpoints.latest("t") is None
    first = await checkpoints.commit("t", step=0, delta=INITIAL, next_nodes=["plan"])
    delta = [
        op("messages", "append", [{"role": "user", "content": "hi"}, "two"]),
        op("facts", "merge", {"a": 1, "b": [1, 2]}),
        op("count", "add", 2.5),
        op("title", "set", None),
        op("extra", "append", [1]),  # missing fields start empty
        op("tally", "add", 3),
        op("facts", "merge", {"a": 2}),  # ops apply in order
    ]
    interrupt = {"node": "human", "question": "OK?"}
    second = await checkpoints.commit(
        "t",
        step=1,
        delta=delta,
        next_nodes=["human", "tools"],
        interrupt=interrupt,
        metadata={"tasks": [{"node": "human", "payload": None}], "joins": {}},
    )
    saved = await checkpoints.latest("t")
    assert saved is not None
    assert saved.id == second and saved.parent == first
    assert (saved.thread_id, saved.step) == ("t", 1)
    assert saved.state == {
        "messages": [{"role": "user", "content": "hi"}, "two"],
        "facts": {"a": 2, "b": [1, 2]},
        "count": 2.5,
        "title": None,
        "extra": [1],
        "tally": 3,
    }
    assert saved.next_nodes == ["human", "tools"]
    assert saved.interrupt == interrupt
    assert saved.metadata == {"tasks": [{"node": "human", "payload": None}], "joins": {}}
    assert saved.created_at.tzinfo is UTC
    assert abs((datetime.now(UTC) - saved.created_at).total_seconds()) < 60
    assert (await checkpoints.get(first)).state == {
        "messages": [],
        "facts": {},
        "count": 0,
        "title": "start",
    }


async def test_state_loads_the_same_across_snapshots(store: Store) -> None:
    checkpoints = CheckpointStore(store, snapshot_every=4)
    ids = await grow(checkpoints, "t", 23)
    for step, checkpoint_id in enumerate(ids):
        got = await checkpoints.get(checkpoint_id)
        assert (got.step, got.state) == (step, expected(step))
        assert got.metadata == ({"i": step} if step else {})
    latest = await checkpoints.latest("t")
    assert latest is not None and latest.state == expected(22)
    async with store.read() as conn:
        snapshots = await conn.execute(
            sa.text("SELECT step FROM covey_checkpoints WHERE snapshot IS NOT NULL ORDER BY step")
        )
        assert [s for (s,) in snapshots] == [0, 4, 8, 12, 16, 20]


async def test_values_may_be_pydantic_models(store: Store) -> None:
    class Message(pydantic.BaseModel):
        role: str
        content: str

    checkpoints = CheckpointStore(store)
    await checkpoints.commit(
        "t",
        step=0,
        delta=[op("messages", "set", [Message(role="user", content="hi")])],
        next_nodes=[],
    )
    saved = await checkpoints.latest("t")
    assert saved is not None and saved.state == {"messages": [{"role": "user", "content": "hi"}]}


async def test_any_object_with_field_op_value_is_an_op(store: Store) -> None:
    @dataclass(frozen=True)
    class EngineOp:  # positional, like the graph engine's own
        field: str
        op: str
        value: Any

    checkpoints = CheckpointStore(store)
    await checkpoints.commit("t", step=0, delta=[EngineOp("n", "set", 1)], next_nodes=[])
    await checkpoints.commit("t", step=1, delta=[EngineOp("n", "add", 1)], next_nodes=[])
    saved = await checkpoints.latest("t")
    assert saved is not None and saved.state == {"n": 2}


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (op("m", "append", 1), "append takes a list"),
        (op("m", "merge", [1]), "merge takes a dict"),
        (op("m", "add", "1"), "add takes a number"),
        (op("m", "add", True), "add takes a number"),
        (op("m", "pop", 1), "use set, append, merge or add"),
        (op("", "set", 1), "non-empty string"),
        (op("m", "set", object()), "JSON data or pydantic models"),
    ],
)
async def test_bad_deltas_are_refused_before_writing(
    store: Store, bad: FieldOp, message: str
) -> None:
    checkpoints = CheckpointStore(store)
    with pytest.raises(UsageError, match=message):
        await checkpoints.commit("t", step=0, delta=[bad], next_nodes=[])
    assert await checkpoints.threads() == []


async def test_history_is_newest_first_without_state(store: Store) -> None:
    checkpoints = CheckpointStore(store)
    ids = await grow(checkpoints, "t", 6)
    await grow(checkpoints, "other", 2)
    history = await checkpoints.history("t")
    assert [h.step for h in history] == [5, 4, 3, 2, 1, 0]
    assert [h.id for h in history] == ids[::-1]
    assert [h.parent for h in history] == [*ids[-2::-1], None]
    assert not hasattr(history[0], "state")
    assert [h.step for h in await checkpoints.history("t", limit=2)] == [5, 4]
    assert await checkpoints.history("nobody") == []


async def test_a_taken_step_is_a_conflict(store: Store) -> None:
    checkpoints = CheckpointStore(store)
    await grow(checkpoints, "t", 3)
    for step in (2, 1, 0):
        with pytest.raises(CheckpointConflict, match=r"'t' already has a checkpoint at step") as e:
            await checkpoints.commit("t", step=step, delta=[op("count", "add", 1)], next_nodes=[])
        assert (e.value.thread_id, e.value.step) == ("t", step)
        assert isinstance(e.value, StoreError)
    saved = await checkpoints.latest("t")
    assert saved is not None and saved.state == expected(2)


async def test_two_workers_writing_one_step_one_wins(backend: Backend, store: Store) -> None:
    async with backend.store() as twin:  # a second connection pool, like a second worker
        workers = [CheckpointStore(store), CheckpointStore(twin)]
        outcomes: list[str] = []

        async def write(checkpoints: CheckpointStore, step: int) -> None:
            try:
                await checkpoints.commit(
                    "t", step=step, delta=[op("who", "set", id(checkpoints))], next_nodes=[]
                )
                outcomes.append("won")
            except CheckpointConflict:
                outcomes.append("conflict")

        for step in range(5):  # the thread's first commit, then later ones
            async with anyio.create_task_group() as group:
                for checkpoints in workers:
                    group.start_soon(write, checkpoints, step)
        assert sorted(outcomes) == ["conflict"] * 5 + ["won"] * 5
        assert [h.step for h in await workers[1].history("t")] == [4, 3, 2, 1, 0]
