"""Graphs: reducers, fan-out and fan-in, conflicts, step limits, subgraphs, interrupts."""

from __future__ import annotations

from typing import Annotated

import anyio
import pydantic
import pytest

from covey import UsageError
from covey.agents import (
    END,
    START,
    Graph,
    GraphStepLimit,
    MemoryCheckpointer,
    NodeFailed,
    NodeFinished,
    NodeStarted,
    Send,
    StateUpdated,
    add,
    append,
    merge,
    reducer,
)


class State(pydantic.BaseModel):
    log: Annotated[list[str], append] = []
    total: Annotated[int, add] = 0
    notes: Annotated[dict[str, str], merge] = {}
    items: list[int] = []
    answer: str = ""
    longest: Annotated[str, reducer(lambda a, b: a if len(a) >= len(b) else b)] = ""


async def test_a_chain_runs_in_order_and_reducers_merge() -> None:
    graph = Graph(State)
    graph.add_node("a", lambda s: {"log": ["a"], "total": 1})
    graph.add_node("b", lambda s: {"log": ["b"], "total": 2, "notes": {"b": "seen"}})
    graph.add_edge(START, "a").add_edge("a", "b").add_edge("b", END)
    result = await graph.compile().run(State(log=["start"]))
    assert result.status == "done"
    assert result.state.log == ["start", "a", "b"]
    assert result.state.total == 3
    assert result.state.notes == {"b": "seen"}
    assert result.steps == 2


async def test_parallel_branches_run_in_one_superstep_and_fan_in() -> None:
    both = anyio.Event()
    arrived: list[str] = []

    async def branch(state: State, payload: object, ctx: object) -> dict[str, object]:
        name = "left" if not arrived else "right"
        arrived.append(name)
        if len(arrived) == 2:
            both.set()
        with anyio.fail_after(5):
            await both.wait()
        return {"log": [name], "longest": name}

    graph = Graph(State)
    graph.add_node("left", branch).add_node("right", branch)
    graph.add_node("join", lambda s: {"answer": "+".join(sorted(s.log))})
    graph.add_edge(START, "left").add_edge(START, "right")
    graph.add_edge(["left", "right"], "join").add_edge("join", END)
    result = await graph.compile().run(State())
    assert result.state.answer == "left+right"
    assert result.state.longest == "right"
    assert result.steps == 2


async def test_dynamic_fan_out_runs_one_node_per_payload() -> None:
    async def square(state: State, payload: int) -> dict[str, object]:
        return {"log": [f"{payload}^2={payload * payload}"], "total": payload * payload}

    graph = Graph(State)
    graph.add_node("plan", lambda s: {"items": [1, 2, 3]})
    graph.add_node("square", square)
    graph.add_node("sum", lambda s: {"answer": str(s.total)})
    graph.add_edge(START, "plan")
    graph.add_router("plan", lambda s: [Send("square", i) for i in s.items])
    graph.add_edge("square", "sum")
    result = await graph.compile().run(State())
    assert sorted(result.state.log) == ["1^2=1", "2^2=4", "3^2=9"]
    assert result.state.answer == "14"


async def test_two_writers_of_a_plain_field_are_refused_at_compile_time() -> None:
    graph = Graph(State)
    graph.add_node("x", lambda s: {"answer": "x"}, writes=["answer"])
    graph.add_node("y", lambda s: {"answer": "y"}, writes=["answer"])
    graph.add_edge(START, "x").add_edge(START, "y")
    with pytest.raises(UsageError, match=r"'x' and 'y' both run after '__start__'.*answer"):
        graph.compile()


async def test_two_writers_found_at_run_time_are_named() -> None:
    graph = Graph(State)
    graph.add_node("x", lambda s: {"answer": "x"})
    graph.add_node("y", lambda s: {"answer": "y"})
    graph.add_edge(START, "x").add_edge(START, "y")
    with pytest.raises(UsageError, match=r"Nodes 'x' and 'y' both wrote state field 'answer'"):
        await graph.compile().run(State())


async def test_unknown_fields_and_nodes_are_refused() -> None:
    graph = Graph(State)
    graph.add_node("x", lambda s: {"nope": 1})
    graph.add_edge(START, "x")
    with pytest.raises(UsageError, match="unknown state field"):
        await graph.compile().run(State())
    broken = Graph(State).add_node("x", lambda s: None).add_edge(START, "x").add_edge("x", "z")
    with pytest.raises(UsageError, match="'z' is not a node"):
        broken.compile()
    with pytest.raises(UsageError, match="no edge from START"):
        Graph(State).add_node("x", lambda s: None).compile()


async def test_cycles_end_at_the_step_limit_with_a_clear_error() -> None:
    graph = Graph(State)
    graph.add_node("again", lambda s: {"total": 1})
    graph.add_edge(START, "again")
    graph.add_router("again", lambda s: "again" if s.total < 3 else END)
    assert (await graph.compile().run(State())).state.total == 3
    with pytest.raises(GraphStepLimit, match=r"step limit \(5\)"):
        forever = Graph(State).add_node("loop", lambda s: {"total": 1}).add_edge(START, "loop")
        await forever.add_router("loop", lambda s: "loop").compile(step_limit=5).run(State())


class Inner(pydantic.BaseModel):
    log: Annotated[list[str], append] = []
    total: int = 0


async def test_a_subgraph_is_a_node_with_its_own_state() -> None:
    inner = Graph(Inner, name="inner")
    inner.add_node("double", lambda s: {"total": s.total * 2, "log": ["doubled"]})
    inner.add_edge(START, "double")
    outer = Graph(State)
    outer.add_node("seed", lambda s: {"total": 5})
    outer.add_node("sub", inner.compile(), output=lambda s, sub: {"answer": str(sub.total)})
    outer.add_edge(START, "seed").add_edge("seed", "sub")
    result = await outer.compile().run(State())
    assert result.state.answer == "10"
    assert result.state.total == 5


async def test_a_failing_node_names_itself_and_the_thread_can_resume() -> None:
    attempts: list[int] = []

    def flaky(state: State) -> dict[str, object]:
        attempts.append(1)
        if len(attempts) == 1:
            raise ValueError("disk full")
        return {"log": ["flaky ok"]}

    checkpoints = MemoryCheckpointer()
    graph = Graph(State)
    graph.add_node("first", lambda s: {"log": ["first"]}).add_node("flaky", flaky)
    graph.add_edge(START, "first").add_edge("first", "flaky")
    app = graph.compile(checkpointer=checkpoints)
    with pytest.raises(NodeFailed, match=r"Node 'flaky'.*disk full.*resume"):
        await app.run(State(), thread_id="t1")
    result = await app.resume("t1")
    assert result.state.log == ["first", "flaky ok"]
    assert result.status == "done"


async def test_a_human_node_interrupts_and_resume_applies_the_answer() -> None:
    checkpoints = MemoryCheckpointer()
    graph = Graph(State)
    graph.add_node("draft", lambda s: {"answer": "draft v1"})
    graph.add_human(
        "review",
        ask=lambda s: f"Approve {s.answer!r}?",
        apply=lambda s, answer: {"log": [f"review: {answer}"]},
    )
    graph.add_node("publish", lambda s: {"log": ["published"]})
    graph.add_edge(START, "draft").add_edge("draft", "review").add_edge("review", "publish")
    app = graph.compile(checkpointer=checkpoints)
    paused = await app.run(State(), thread_id="t2")
    assert paused.status == "interrupted"
    assert paused.question == "Approve 'draft v1'?"
    done = await app.resume("t2", "yes")
    assert done.status == "done"
    assert done.state.log == ["review: yes", "published"]


async def test_stream_shows_nodes_and_state_updates() -> None:
    graph = Graph(State)
    graph.add_node("a", lambda s: {"total": 1}).add_edge(START, "a")
    async with graph.compile().stream(State()) as events:
        seen = [e async for e in events]
    kinds = [type(e) for e in seen]
    assert kinds[:3] == [NodeStarted, NodeFinished, StateUpdated]
    assert events.result.state.total == 1
