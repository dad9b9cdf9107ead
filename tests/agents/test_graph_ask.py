"""Nodes that ask a person mid-run (`ctx.ask`), and agents whose tools need approval in a graph."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import anyio

from covey import ModelClient
from covey.agents import (
    START,
    Agent,
    Graph,
    GraphInterrupted,
    MemoryCheckpointer,
    NodeContext,
)
from covey.models import ToolCall
from covey.store import CheckpointStore
from covey.testing import Reply, ScriptedModelServer
from covey.tools import FunctionTool, tool

from ..store.conftest import Backend, backend
from .graph_worker import REPO, Trip, errand_graph, errand_policy
from .test_agent import call, config

__all__ = ["backend"]  # fixture, imported for pytest


def booking_graph(bookings: list[str]) -> Graph[Trip]:
    """book: holds a seat (an effect), then asks for the class and the meal."""

    async def book(state: Trip, payload: object, ctx: NodeContext) -> dict[str, object]:
        hold = await ctx.effect("hold", lambda key: bookings.append(key) or "seat 12A")
        seat_class = await ctx.ask("Economy or business?")
        meal = await ctx.ask(f"Meal for {seat_class}?")
        return {"log": [f"{hold}, {seat_class}, {meal}"]}

    graph = Graph(Trip)
    graph.add_node("book", book).add_edge(START, "book")
    return graph


async def test_a_node_asks_twice_and_resumes_in_another_store_session(backend: Backend) -> None:
    bookings: list[str] = []
    async with backend.store() as store:
        first = (
            await booking_graph(bookings)
            .compile(checkpointer=CheckpointStore(store))
            .run(Trip(), thread_id="trip")
        )
    async with backend.store() as store:  # a later process, as far as the graph can tell
        app = booking_graph(bookings).compile(checkpointer=CheckpointStore(store))
        still = await app.resume("trip")  # no answer: the question stands, nothing runs
        second = await app.resume("trip", "business")
        done = await app.resume("trip", "vegetarian")
    assert (first.status, first.question) == ("interrupted", "Economy or business?")
    assert (still.status, still.question) == ("interrupted", "Economy or business?")
    assert (second.status, second.question) == ("interrupted", "Meal for business?")
    assert done.status == "done"
    assert done.state.log == ["seat 12A, business, vegetarian"]
    assert bookings == ["trip/0/book/0/hold"]  # the node ran three times, the hold happened once


async def test_parallel_questions_are_asked_one_at_a_time_and_reach_their_node() -> None:
    async def ask_a(state: Trip, payload: object, ctx: NodeContext) -> dict[str, object]:
        return {"log": [f"a got {await ctx.ask('Question for a?')}"]}

    async def ask_b(state: Trip, payload: object, ctx: NodeContext) -> dict[str, object]:
        return {"log": [f"b got {await ctx.ask('Question for b?')}"]}

    graph = Graph(Trip)
    graph.add_node("a", ask_a).add_node("b", ask_b)
    graph.add_edge(START, "a").add_edge(START, "b")
    events: list[GraphInterrupted] = []

    async def keep(event: object) -> None:
        if isinstance(event, GraphInterrupted):
            events.append(event)

    app = graph.compile(checkpointer=MemoryCheckpointer())
    first = await app.run(Trip(), thread_id="t", emit=keep)
    second = await app.resume("t", "one", emit=keep)
    done = await app.resume("t", "two")
    assert [first.question, second.question] == ["Question for a?", "Question for b?"]
    assert [e.node for e in events] == ["a", "b"]
    assert sorted(done.state.log) == ["a got one", "b got two"]


def mailer(sent: list[str]) -> FunctionTool:
    @tool(requires_approval=True)
    def send_email(to: str, body: str) -> str:
        """Send an email."""
        sent.append(to)
        return f"sent to {to}"

    return send_email


def _agent_graph(model: ModelClient, sent: list[str]) -> Graph[Trip]:
    agent = Agent("assistant", model, tools=[mailer(sent)])
    graph = Graph(Trip)
    graph.add_node("assistant", agent, input=lambda s: "Tell Ada we land at 9.", output="answer")
    graph.add_edge(START, "assistant")
    return graph


async def test_a_tool_needing_approval_stops_the_graph_until_a_person_answers() -> None:
    email = call("send_email", "c1", to="ada@example.org", body="We land at 9.")
    script = [Reply(tool_calls=[email]), Reply(tool_calls=[email]), Reply(text="Ada knows.")]
    sent: list[str] = []
    async with ScriptedModelServer(script) as server, ModelClient(config(server.base_url)) as model:
        app = _agent_graph(model, sent).compile(checkpointer=MemoryCheckpointer())
        asked = await app.run(Trip(), thread_id="mail")
        assert sent == []  # nothing is sent before the person answers
        done = await app.resume("mail", "yes")
    assert asked.status == "interrupted" and asked.question is not None
    assert "'send_email'" in asked.question and "ada@example.org" in asked.question
    assert sent == ["ada@example.org"]
    assert done.state.answer == "Ada knows."


async def test_a_refusal_with_a_reason_reaches_the_model() -> None:
    email = call("send_email", "c1", to="everyone@example.org", body="Hi")
    script = [Reply(tool_calls=[email]), Reply(tool_calls=[email]), Reply(text="Not sent.")]
    sent: list[str] = []
    async with ScriptedModelServer(script) as server, ModelClient(config(server.base_url)) as model:
        app = _agent_graph(model, sent).compile(checkpointer=MemoryCheckpointer())
        await app.run(Trip(), thread_id="mail")
        done = await app.resume("mail", "no: never mail everyone")
        fed_back = server.requests[2].body["messages"][-1]["content"]
    assert sent == []
    assert "never mail everyone" in fed_back and "refused" in fed_back
    assert done.state.answer == "Not sent."


async def _resume_in_a_process(backend: Backend, model_url: str, calls: Path, answer: str) -> Any:
    command = [sys.executable, "-m", "tests.agents.graph_worker", "errand", *backend.args()]
    command += ["errand", answer, model_url, str(calls)]
    with anyio.fail_after(60):
        done = await anyio.run_process(command, cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


async def test_an_agent_needing_two_approvals_makes_each_tool_call_once(
    backend: Backend, tmp_path: Path
) -> None:
    calls = tmp_path / "calls.txt"
    async with ScriptedModelServer(policy=errand_policy) as server:
        async with ModelClient(config(server.base_url)) as model, backend.store() as store:
            first = await errand_graph(model, CheckpointStore(store), calls).run(
                Trip(), thread_id="errand"
            )
        # Each answer is given by another process, which runs the agent node again.
        second = await _resume_in_a_process(backend, server.base_url, calls, "yes")
        done = await _resume_in_a_process(backend, server.base_url, calls, "yes")
    assert first.status == second["status"] == "interrupted"
    assert first.question is not None and '"to": "ada"' in first.question
    assert '"to": "bob"' in second["question"]
    assert done["status"] == "done"
    assert done["state"]["answer"] == "Done: sent to bob"
    assert done["state"]["log"] == ["after: Done: sent to bob"]
    # The node ran three times; each tool call happened once.
    assert calls.read_text().splitlines() == ["lookup ada", "send ada", "send bob"]


async def test_an_approval_belongs_to_its_call_when_the_model_reorders_calls() -> None:
    ada = ToolCall(id="c1", name="send_email", arguments={"to": "ada", "body": "Hi"})
    bob = ToolCall(id="c2", name="send_email", arguments={"to": "bob", "body": "Hi"})
    # One turn with both calls; when the node runs again the model lists them the other way.
    both, swapped = Reply(tool_calls=[ada, bob]), Reply(tool_calls=[bob, ada])
    script = [both, swapped, swapped, Reply(text="Bob only.")]
    sent: list[str] = []
    async with ScriptedModelServer(script) as server, ModelClient(config(server.base_url)) as model:
        app = _agent_graph(model, sent).compile(checkpointer=MemoryCheckpointer())
        first = await app.run(Trip(), thread_id="mail")
        second = await app.resume("mail", "no: not Ada")
        done = await app.resume("mail", "yes")
        fed_back = [m for m in server.requests[3].body["messages"] if m.get("role") == "tool"]
    assert first.question is not None and '"to": "ada"' in first.question
    assert second.question is not None and '"to": "bob"' in second.question
    assert sent == ["bob"]  # neither ran before both were decided; Ada's "no" stayed Ada's
    assert "sent to bob" in fed_back[0]["content"] and "not Ada" in fed_back[1]["content"]
    assert done.state.answer == "Bob only."
