"""Graphs checkpointed in covey.store (SQLite and PostgreSQL), resumed by another process."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import anyio
import pytest

from covey import UsageError
from covey.agents import START, Graph, MemoryCheckpointer, NodeContext, NodeFailed
from covey.store import CheckpointStore, EffectJournal

from ..store.conftest import Backend, backend
from .graph_worker import Review, review_graph, review_graph_on

__all__ = ["backend"]  # a fixture, imported for pytest

REPO = Path(__file__).resolve().parents[2]


async def test_an_interrupted_thread_is_resumed_by_another_process(backend: Backend) -> None:
    async with backend.store() as store:
        paused = await review_graph(CheckpointStore(store)).run(Review(), thread_id="t1")
    assert paused.status == "interrupted"
    assert paused.question == "Publish 'v1'?"

    command = [sys.executable, "-m", "tests.agents.graph_worker", *backend.args(), "t1", "yes"]
    with anyio.fail_after(60):
        done = await anyio.run_process(command, cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr.decode()
    result = json.loads(done.stdout)
    assert result["status"] == "done"
    assert result["state"]["log"] == ["wrote v1", "review: yes", "published v1"]

    async with backend.store() as store:
        checkpoints = CheckpointStore(store)
        latest = await checkpoints.latest("t1")
        assert latest is not None and latest.next_nodes == []
        assert latest.state["log"] == result["state"]["log"]
        steps = [info.step for info in await checkpoints.history("t1")]
        assert steps == sorted(steps, reverse=True) and steps[-1] == 0


async def test_run_refuses_a_thread_that_has_checkpoints(backend: Backend) -> None:
    async with backend.store() as store:
        app = review_graph(CheckpointStore(store))
        await app.run(Review(), thread_id="t1")
        with pytest.raises(UsageError, match=r"Thread 't1' already has checkpoints.*resume"):
            await app.run(Review(), thread_id="t1")
        resumed = await app.resume("t1", "no")
    assert resumed.state.log == ["wrote v1", "review: no", "published v1"]


async def test_a_failed_node_resumes_from_the_last_committed_step(backend: Backend) -> None:
    calls: list[str] = []

    def flaky(state: Review) -> dict[str, object]:
        calls.append("flaky")
        if calls.count("flaky") == 1:
            raise ValueError("disk full")
        return {"log": ["flaky ok"]}

    def first(state: Review) -> dict[str, object]:
        calls.append("first")
        return {"log": ["first"]}

    graph = Graph(Review)
    graph.add_node("first", first).add_node("flaky", flaky)
    graph.add_edge(START, "first").add_edge("first", "flaky")
    async with backend.store() as store:
        with pytest.raises(NodeFailed, match="disk full"):
            await graph.compile(checkpointer=CheckpointStore(store)).run(Review(), thread_id="f")
    async with backend.store() as store:  # a new connection, as after a restart
        result = await graph.compile(checkpointer=CheckpointStore(store)).resume("f")
    assert result.state.log == ["first", "flaky ok"]
    assert calls == ["first", "flaky", "flaky"]  # the committed step did not run again


async def test_fork_branches_a_thread_at_an_earlier_step(backend: Backend) -> None:
    async with backend.store() as store:
        checkpoints = CheckpointStore(store)
        app = review_graph(checkpoints)
        await app.run(Review(), thread_id="main")
        await app.resume("main", "yes")
        history = await checkpoints.history("main")
        paused_at = next(c.step for c in history if c.next_nodes == ["review"])
        branch = await app.fork("main", step=paused_at, new_thread_id="branch")
        assert branch == "branch"
        other = await app.resume("branch", "after edits")
        assert other.state.log == ["wrote v1", "review: after edits", "published v1"]
        original = await checkpoints.latest("main")
        assert original is not None
        assert original.state["log"] == ["wrote v1", "review: yes", "published v1"]
        with pytest.raises(UsageError, match=r"no checkpoint at step 99; its steps are \[0, "):
            await app.fork("main", step=99)


async def test_fork_works_in_memory_and_needs_history() -> None:
    memory = MemoryCheckpointer()
    app = review_graph_on(memory)
    await app.run(Review(), thread_id="m")
    fresh = await app.fork("m", step=0)
    result = await app.resume(fresh)
    assert result.status == "interrupted" and result.state.log == ["wrote v1"]
    with pytest.raises(UsageError, match="fork\\(\\) needs a checkpointer with history"):
        await review_graph_on(None).fork("m", step=0)


def payment_graph(charges: list[str], failures: list[int]) -> Graph[Review]:
    """pay: charges a card through `ctx.effect`, then fails while `failures` has items."""

    async def pay(state: Review, payload: object, ctx: NodeContext) -> dict[str, object]:
        receipt = await ctx.effect("charge", lambda key: charges.append(key) or f"receipt {key}")
        if failures:
            failures.pop()
            raise ConnectionError("the shipping service is down")
        return {"log": [receipt]}

    graph = Graph(Review)
    graph.add_node("pay", pay).add_edge(START, "pay")
    return graph


async def test_an_effect_is_not_done_again_when_its_step_runs_again(backend: Backend) -> None:
    charges: list[str] = []
    graph = payment_graph(charges, failures=[1])
    async with backend.store() as store:
        app = graph.compile(checkpointer=CheckpointStore(store))
        with pytest.raises(NodeFailed, match="shipping service is down"):
            await app.run(Review(), thread_id="order-1")
        result = await app.resume("order-1")
        journal = await EffectJournal(store).get("order-1", charges[0])
    assert charges == ["order-1/0/pay/0/charge"]  # charged once, though `pay` ran twice
    assert result.state.log == ["receipt order-1/0/pay/0/charge"]
    assert journal is not None and journal.result == result.state.log[0]


async def test_a_memory_checkpointer_keeps_effects_for_its_threads_too() -> None:
    charges: list[str] = []
    app = payment_graph(charges, failures=[1]).compile(checkpointer=MemoryCheckpointer())
    with pytest.raises(NodeFailed):
        await app.run(Review(), thread_id="t")
    result = await app.resume("t")
    assert charges == ["t/0/pay/0/charge"]
    assert result.state.log == ["receipt t/0/pay/0/charge"]
