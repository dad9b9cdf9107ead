"""Agents with long-term memory: a fact remembered in one run is recalled in a later one."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from covey import ModelClient, ModelConfig, UsageError
from covey.agents import END, START, Agent, Graph
from covey.models import ToolCall
from covey.store import LongTermMemory, Store
from covey.testing import ChatRequest, Reply, ScriptedModelServer

from ..store.conftest import Backend, backend

__all__ = ["backend"]  # a fixture, imported for pytest


def config(url: str) -> ModelConfig:
    return ModelConfig(base_url=url, model="scripted", max_retries=0)


def policy(request: ChatRequest) -> Reply:
    """Remember when told a fact; answer from the instructions' memories when asked."""
    task = request.last_user_text
    if task.startswith("Note:"):
        if any(m["role"] == "tool" for m in request.messages):
            return Reply(text="Noted.")
        fact = task.removeprefix("Note:").strip()
        call = ToolCall(id="c1", name="remember", arguments={"fact": fact, "about": "Ada"})
        return Reply(tool_calls=[call])
    system = request.messages[0]["content"]
    return Reply(text="teal" if "teal" in system else "I do not know.")


async def test_a_fact_remembered_in_one_run_is_in_the_next_runs_prompt(tmp_path: Path) -> None:
    async with Store(f"sqlite:///{tmp_path / 'memory.db'}") as store:
        async with ScriptedModelServer(policy=policy) as server:
            async with ModelClient(config(server.base_url)) as model:
                first = Agent(
                    "assistant", model, "Be helpful.", memory=LongTermMemory(store, "ada")
                )
                await first.run("Note: Ada's favourite colour is teal")
                later = Agent(
                    "assistant",
                    model,
                    "Be helpful.",
                    memory=LongTermMemory(store, "ada"),
                    recall_into_prompt=3,
                )
                answer = await later.run("What is Ada's favourite colour?")
                stranger = Agent(
                    "assistant",
                    model,
                    "Be helpful.",
                    memory=LongTermMemory(store, "bob"),
                    recall_into_prompt=3,
                )
                other = await stranger.run("What is Ada's favourite colour?")
            tools = [t["function"]["name"] for t in server.requests[0].body["tools"]]
        kept = await LongTermMemory(store, "ada").recall("colour")
    assert {"remember", "recall"} <= set(tools)
    assert kept[0].text == "Ada's favourite colour is teal" and kept[0].about == "Ada"
    assert answer.output == "teal"
    assert other.output == "I do not know."  # another namespace knows nothing of it


def test_recall_into_prompt_needs_a_memory() -> None:
    with pytest.raises(UsageError, match="needs memory"):
        Agent("a", ModelClient(config("http://127.0.0.1:9/v1")), recall_into_prompt=2)


class Trip(pydantic.BaseModel):
    request: str = ""
    notes: str = ""
    plan: str = ""


SCOUT = "You are the scout: remember what the traveller says, for the team."
PLANNER = "You are the planner: recall what the team knows, then plan."


def team(request: ChatRequest) -> Reply:
    """The scout keeps the traveller's constraint; the planner looks it up, then plans."""
    system = request.messages[0]["content"]
    result = request.last_tool_result
    if system.startswith(SCOUT):
        if result is not None:
            return Reply(text="Kept it.")
        fact = {"fact": "Ada cannot fly: trips must go by train", "about": "Ada"}
        return Reply(tool_calls=[ToolCall(id="s", name="remember", arguments=fact)])
    if result is None:
        query = {"query": "how Ada travels"}
        return Reply(tool_calls=[ToolCall(id="p", name="recall", arguments=query)])
    return Reply(text="Train to Lyon." if "by train" in result else "Flight to Lyon.")


async def test_agents_in_one_graph_share_a_namespace(backend: Backend) -> None:
    async with backend.store() as store, ScriptedModelServer(policy=team) as server:
        async with ModelClient(config(server.base_url)) as model:
            scout = Agent("scout", model, SCOUT, memory=LongTermMemory(store, "team:trip"))
            planner = Agent("planner", model, PLANNER, memory=LongTermMemory(store, "team:trip"))
            graph = Graph(Trip)
            graph.add_node("scout", scout, input=lambda s: s.request, output="notes")
            graph.add_node("planner", planner, input=lambda s: s.request, output="plan")
            graph.add_edge(START, "scout").add_edge("scout", "planner").add_edge("planner", END)
            result = await graph.compile().run(Trip(request="Plan Ada's trip to Lyon."))
        outsider = await LongTermMemory(store, "team:other").recall("how Ada travels")
    assert result.state.plan == "Train to Lyon."
    planned = [r for r in server.requests if r.messages[0]["content"] == PLANNER]
    assert "- Ada cannot fly: trips must go by train (about Ada)" in str(planned[-1].messages)
    assert outsider == []  # the team's namespace is its own
