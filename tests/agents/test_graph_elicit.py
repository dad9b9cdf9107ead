"""An MCP server's elicitation inside a graph's agent node becomes the graph's question."""

from __future__ import annotations

import sys
from pathlib import Path

import pydantic

from covey import ModelClient
from covey.agents import (
    START,
    Agent,
    Checkpointer,
    CompiledGraph,
    Graph,
    GraphResult,
    MemoryCheckpointer,
)
from covey.models import ToolCall
from covey.store import CheckpointStore
from covey.testing import ChatRequest, Reply, ScriptedModelServer
from covey.tools import (
    ElicitationHandler,
    ElicitationRequest,
    ElicitationResponse,
    MCPToolset,
)
from tests.tools.conftest import FIXTURE_SERVER

from ..store.conftest import Backend, backend
from .test_agent import config

__all__ = ["backend"]  # fixture, imported for pytest


class Desk(pydantic.BaseModel):
    answer: str = ""


def register_policy(request: ChatRequest) -> Reply:
    """Register the visitor, then report what the tool said."""
    results = [m for m in request.body["messages"] if m.get("role") == "tool"]
    if not results:
        return Reply(tool_calls=[ToolCall(id="c1", name="register_visitor", arguments={})])
    return Reply(text=f"Done: {results[-1]['content']}")


def fixture_server(calls: Path, elicitation: ElicitationHandler | None = None) -> MCPToolset:
    env = {"FIXTURE_CALLS_FILE": str(calls)}
    return MCPToolset.stdio(
        sys.executable, [FIXTURE_SERVER], env=env, name="desk", elicitation=elicitation
    )


def desk_graph(
    model: ModelClient, server: MCPToolset, checkpointer: Checkpointer
) -> CompiledGraph[Desk]:
    graph = Graph(Desk)
    agent = Agent("receptionist", model, tools=[server])
    graph.add_node("desk", agent, input=lambda s: "Register the visitor.", output="answer")
    graph.add_edge(START, "desk")
    return graph.compile(checkpointer=checkpointer)


def registrations(calls: Path) -> list[str]:
    return calls.read_text().splitlines() if calls.exists() else []


async def test_a_server_question_stops_the_graph_and_the_answer_reaches_it_after_a_restart(
    backend: Backend, tmp_path: Path
) -> None:
    calls = tmp_path / "calls.txt"
    results: list[GraphResult[Desk]] = []
    async with ScriptedModelServer(policy=register_policy) as scripted:
        async with ModelClient(config(scripted.base_url)) as model:
            for answer in (None, "Ada"):  # a new server process and store session each time
                async with fixture_server(calls) as server, backend.store() as store:
                    app = desk_graph(model, server, CheckpointStore(store))
                    if answer is None:
                        results.append(await app.run(Desk(), thread_id="visit"))
                        assert registrations(calls) == []  # nothing done before the answer
                    else:
                        results.append(await app.resume("visit", answer))
    asked, done = results
    assert (asked.status, asked.question) == ("interrupted", "Who is visiting?")
    assert done.status == "done"
    assert done.state.answer == "Done: registered Ada"
    assert registrations(calls) == ["register Ada"]


async def test_no_for_an_answer_declines_the_server_question(tmp_path: Path) -> None:
    calls = tmp_path / "calls.txt"
    async with (
        ScriptedModelServer(policy=register_policy) as scripted,
        ModelClient(config(scripted.base_url)) as model,
        fixture_server(calls) as server,
    ):
        app = desk_graph(model, server, MemoryCheckpointer())
        await app.run(Desk(), thread_id="visit")
        done = await app.resume("visit", "no")
    assert done.state.answer == "Done: not registered (decline)"
    assert registrations(calls) == []


async def test_a_toolset_with_its_own_handler_answers_without_stopping_the_graph(
    tmp_path: Path,
) -> None:
    async def front_desk(request: ElicitationRequest) -> ElicitationResponse:
        return ElicitationResponse(action="accept", content={"name": "Grace"})

    calls = tmp_path / "calls.txt"
    async with (
        ScriptedModelServer(policy=register_policy) as scripted,
        ModelClient(config(scripted.base_url)) as model,
        fixture_server(calls, elicitation=front_desk) as server,
    ):
        done = await desk_graph(model, server, MemoryCheckpointer()).run(Desk())
    assert (done.status, done.state.answer) == ("done", "Done: registered Grace")
