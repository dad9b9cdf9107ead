"""Streaming a graph shows what the agents inside its nodes (and subgraphs' nodes) do."""

from __future__ import annotations

import pydantic

from covey import ModelClient
from covey.agents import (
    START,
    Agent,
    CompiledGraph,
    Graph,
    GraphEvent,
    GraphFinished,
    GraphResult,
    ModelResponded,
    NodeEvent,
    NodeFinished,
    NodeStarted,
    RunFinished,
    ToolFinished,
    ToolStarted,
)
from covey.testing import Reply, ScriptedModelServer

from .test_agent import add, call, config


class Sums(pydantic.BaseModel):
    answer: str = ""


def adder(model: ModelClient) -> Agent:
    return Agent("adder", model, tools=[add])


def script() -> list[Reply]:
    return [Reply(tool_calls=[call("add", "c1", a=2, b=40)]), Reply(text="42")]


async def streamed(app: CompiledGraph[Sums]) -> tuple[list[GraphEvent], GraphResult[Sums]]:
    """Every event of a run, and how it ended."""
    events: list[GraphEvent] = []
    async with app.stream(Sums()) as stream:
        async for event in stream:
            events.append(event)
    return events, stream.result


def inner_kinds(events: list[GraphEvent], node: str) -> list[str]:
    """The names of the agent events that arrived wrapped for `node`."""
    return [type(e.event).__name__ for e in events if isinstance(e, NodeEvent) and e.node == node]


async def test_streaming_a_graph_shows_its_agent_nodes_tool_calls_and_answers() -> None:
    async with (
        ScriptedModelServer(script()) as server,
        ModelClient(config(server.base_url)) as model,
    ):
        graph = Graph(Sums)
        graph.add_node("sum", adder(model), input=lambda s: "2 + 40?", output="answer")
        graph.add_edge(START, "sum")
        events, result = await streamed(graph.compile())
    assert result.state.answer == "42"
    inner = [e.event for e in events if isinstance(e, NodeEvent)]
    started = next(e for e in inner if isinstance(e, ToolStarted))
    finished = next(e for e in inner if isinstance(e, ToolFinished))
    answered = [e for e in inner if isinstance(e, ModelResponded)]
    assert (started.agent, started.call.name, started.call.arguments) == (
        "adder",
        "add",
        {"a": 2, "b": 40},
    )
    assert finished.result.content == "42"
    assert [e.response.text for e in answered] == ["", "42"]
    kinds = inner_kinds(events, "sum")
    assert kinds.index("ToolStarted") < kinds.index("ToolFinished") < kinds.index("RunFinished")
    # The agent's events come between its node's start and end.
    node_events = [i for i, e in enumerate(events) if isinstance(e, NodeEvent)]
    start = next(i for i, e in enumerate(events) if isinstance(e, NodeStarted))
    end = next(i for i, e in enumerate(events) if isinstance(e, NodeFinished))
    assert start < min(node_events) and max(node_events) < end
    assert isinstance(events[-1], GraphFinished)


async def test_a_subgraphs_agent_events_arrive_wrapped_for_both_nodes() -> None:
    async with (
        ScriptedModelServer(script()) as server,
        ModelClient(config(server.base_url)) as model,
    ):
        inner = Graph(Sums, name="inner")
        inner.add_node("sum", adder(model), input=lambda s: "2 + 40?", output="answer")
        inner.add_edge(START, "sum")
        outer = Graph(Sums)
        outer.add_node("team", inner.compile()).add_edge(START, "team")
        events, result = await streamed(outer.compile())
    assert result.state.answer == "42"
    from_sub = [e.event for e in events if isinstance(e, NodeEvent) and e.node == "team"]
    assert any(isinstance(e, NodeStarted) and e.node == "sum" for e in from_sub)
    agent_events = [e.event for e in from_sub if isinstance(e, NodeEvent) and e.node == "sum"]
    kinds = [type(e).__name__ for e in agent_events]
    assert kinds.count("ToolStarted") == kinds.count("ToolFinished") == 1
    assert kinds.count("ModelResponded") == 2
    finished = next(e for e in agent_events if isinstance(e, RunFinished))
    assert (finished.agent, finished.output) == ("adder", "42")
