"""Subgraphs that ask a person: the parent stops with the question and resumes into them."""

from __future__ import annotations

from typing import Annotated

import anyio
import pydantic
import pytest

from covey.agents import (
    START,
    Checkpointer,
    CompiledGraph,
    Graph,
    GraphResult,
    MemoryCheckpointer,
    NodeContext,
    NodeFailed,
    add,
    append,
    merge,
)
from covey.store import CheckpointStore

from ..store.conftest import Backend, backend

__all__ = ["backend"]  # fixture, imported for pytest


class Job(pydantic.BaseModel):
    log: Annotated[list[str], append] = []


def painting_graph(prepared: list[str], checkpointer: Checkpointer | None) -> CompiledGraph[Job]:
    """sub (prepare -> ask the colour -> a person confirms) -> after."""

    def prepare(state: Job) -> dict[str, object]:
        prepared.append("prepare")
        return {"log": ["prepared"]}

    async def colour(state: Job, payload: object, ctx: NodeContext) -> dict[str, object]:
        return {"log": [f"colour {await ctx.ask('Which colour?')}"]}

    inner = Graph(Job, name="painting")
    inner.add_node("prepare", prepare).add_node("colour", colour)
    inner.add_human(
        "confirm",
        ask=lambda s: f"Paint it {s.log[-1].removeprefix('colour ')}?",
        apply=lambda s, answer: {"log": [f"confirmed: {answer}"]},
    )
    inner.add_edge(START, "prepare").add_edge("prepare", "colour").add_edge("colour", "confirm")
    outer = Graph(Job)
    outer.add_node("sub", inner.compile()).add_node("after", lambda s: {"log": ["after"]})
    outer.add_edge(START, "sub").add_edge("sub", "after")
    return outer.compile(checkpointer=checkpointer)


async def test_a_question_in_a_subgraph_stops_the_parent_and_resume_continues_it(
    backend: Backend,
) -> None:
    prepared: list[str] = []
    results: list[GraphResult[Job]] = []
    for answer in (None, "red", "yes"):  # each in a new store session, as a new process
        async with backend.store() as store:
            app = painting_graph(prepared, CheckpointStore(store))
            if answer is None:
                results.append(await app.run(Job(), thread_id="paint"))
            else:
                results.append(await app.resume("paint", answer))
    first, second, done = results
    assert (first.status, first.question) == ("interrupted", "Which colour?")
    assert (second.status, second.question) == ("interrupted", "Paint it red?")
    assert first.state.log == second.state.log == []  # the parent's step has not finished
    assert done.status == "done"
    assert done.state.log == ["prepared", "colour red", "confirmed: yes", "after"]
    assert prepared == ["prepare"]  # the subgraph resumed its own thread, not started again


async def test_resume_without_an_answer_asks_the_subgraph_question_again() -> None:
    app = painting_graph([], MemoryCheckpointer())
    await app.run(Job(), thread_id="t")
    again = await app.resume("t")
    done = await app.resume("t", "blue")
    assert (again.status, again.question) == ("interrupted", "Which colour?")
    assert (done.status, done.question) == ("interrupted", "Paint it blue?")


async def test_a_finished_subgraph_is_not_run_again_when_its_step_runs_again() -> None:
    inner_runs: list[str] = []
    finished = anyio.Event()
    failures = [1]

    def work(state: Job) -> dict[str, object]:
        inner_runs.append("work")
        finished.set()
        return {"log": ["worked"]}

    async def flaky(state: Job) -> dict[str, object]:
        await finished.wait()  # fail only once the subgraph, in the same step, is done
        if failures:
            failures.pop()
            raise ConnectionError("the printer is offline")
        return {"log": ["printed"]}

    inner = Graph(Job, name="inner")
    inner.add_node("work", work).add_edge(START, "work")
    outer = Graph(Job)
    outer.add_node("sub", inner.compile(checkpointer=MemoryCheckpointer()))
    outer.add_node("print", flaky)
    outer.add_edge(START, "sub").add_edge(START, "print")
    app = outer.compile(checkpointer=MemoryCheckpointer())
    with pytest.raises(NodeFailed, match="printer is offline"):
        await app.run(Job(), thread_id="t")
    done = await app.resume("t")
    assert sorted(done.state.log) == ["printed", "worked"]
    assert inner_runs == ["work"]


class Ledger(pydantic.BaseModel):
    log: Annotated[list[str], append] = []
    total: Annotated[int, add] = 0
    tags: Annotated[dict[str, str], merge] = {}
    status: str = ""


async def test_a_subgraph_returns_only_what_it_changed_so_reducers_apply_it_once() -> None:
    inner = Graph(Ledger, name="inner")
    inner.add_node(
        "book", lambda s: {"log": ["booked"], "total": 5, "tags": {"by": "inner"}, "status": "ok"}
    )
    inner.add_edge(START, "book")
    outer = Graph(Ledger)
    outer.add_node("seed", lambda s: {"log": ["seeded"], "total": 10, "tags": {"from": "seed"}})
    outer.add_node("sub", inner.compile())
    outer.add_edge(START, "seed").add_edge("seed", "sub")
    done = await outer.compile().run(Ledger())
    assert done.state == Ledger(
        log=["seeded", "booked"], total=15, tags={"from": "seed", "by": "inner"}, status="ok"
    )
