"""Critique-and-revise on an agent: it stops when the criteria pass, and at the round limit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from covey import ModelClient, ModelConfig, UsageError
from covey.agents import Agent, ContextBudget, Critique, Reflected, Reflection
from covey.models import ToolCall
from covey.store import LongTermMemory, Store
from covey.testing import ChatRequest, Reply, ScriptedModelServer
from covey.tools import tool

CRITERIA = ["Names the capital of France", "Is under ten words"]


def config(url: str) -> ModelConfig:
    return ModelConfig(base_url=url, model="scripted", max_retries=0)


def writer_and_critic(drafts: list[str]) -> tuple[list[str], object]:
    """A policy: the writer answers with the next draft; the critic passes drafts with Paris."""
    reviewed: list[str] = []

    def policy(request: ChatRequest) -> Reply:
        system = request.messages[0]["content"]
        if system.startswith("You review answers"):
            draft = request.messages[-1]["content"].split("Answer to check:\n", 1)[1]
            reviewed.append(draft)
            ok = "Paris" in draft and len(draft.split()) < 10
            verdict = Critique(
                passed=ok,
                failed_criteria=[] if ok else ["Names the capital of France"],
                feedback="" if ok else "Say which city is the capital.",
            )
            return Reply(text=json.dumps(verdict.model_dump()))
        return Reply(text=drafts.pop(0))

    return reviewed, policy


async def run(drafts: list[str], max_rounds: int) -> tuple[str, list[Reflected], list[str], object]:
    reviewed, policy = writer_and_critic(drafts)
    events: list[Reflected] = []

    async def keep(event: object) -> None:
        if isinstance(event, Reflected):
            events.append(event)

    async with ScriptedModelServer(policy=policy) as server:  # type: ignore[arg-type]
        async with ModelClient(config(server.base_url)) as model:
            agent = Agent(
                "geographer",
                model,
                "Answer geography questions.",
                reflection=Reflection(criteria=CRITERIA, max_rounds=max_rounds),
            )
            result = await agent.run("What is the capital of France?", on_event=keep)
        writer_requests = [
            r for r in server.requests if not r.messages[0]["content"].startswith("You review")
        ]
    return result.output, events, reviewed, writer_requests


async def test_the_agent_revises_until_the_critic_passes_the_draft() -> None:
    output, events, reviewed, writer = await run(
        ["France is lovely.", "It is a big city.", "Paris.", "unused"], max_rounds=5
    )
    assert output == "Paris."
    assert [e.passed for e in events] == [False, False, True]  # stopped once it passed
    assert reviewed == ["France is lovely.", "It is a big city.", "Paris."]
    revision = writer[1].messages  # type: ignore[index]
    assert "France is lovely." in json.dumps(revision)  # it revises in the same conversation
    assert "Say which city is the capital." in revision[-1]["content"]


async def test_revision_stops_at_the_round_limit_with_the_last_draft() -> None:
    output, events, reviewed, _ = await run(["Lyon.", "Marseille.", "Paris."], max_rounds=2)
    assert output == "Marseille."
    assert [e.round for e in events] == [1, 2] and not any(e.passed for e in events)
    assert reviewed == ["Lyon.", "Marseille."]


def test_reflection_needs_criteria_and_rounds() -> None:
    with pytest.raises(UsageError, match="at least one criterion"):
        Reflection(criteria=[])
    with pytest.raises(UsageError, match="max_rounds must be at least 1"):
        Reflection(criteria=["x"], max_rounds=0)


async def test_a_revision_keeps_the_compaction_summary_of_the_draft() -> None:
    @tool
    def lookup(page: int) -> str:
        """Read a page of the ledger."""
        return f"page {page}: " + "entry " * 60

    pages: list[int] = []

    def policy(request: ChatRequest) -> Reply:
        system = request.messages[0]["content"]
        if system.startswith("Summarise"):
            return Reply(text="The ledger has 8 pages.")
        if system.startswith("You review"):
            ok = "8 pages" in request.messages[-1]["content"]
            verdict = Critique(passed=ok, failed_criteria=[] if ok else ["Counts the pages"])
            return Reply(text=verdict.model_dump_json())
        if request.last_user_text.startswith("A reviewer"):
            summary = system.partition("so far:\n")[2]
            return Reply(text=summary or "I no longer know.")
        pages.append(len(pages))
        if len(pages) > 6:
            return Reply(text="Many pages.")
        page = pages[-1]
        return Reply(tool_calls=[ToolCall(id=f"c{page}", name="lookup", arguments={"page": page})])

    async with ScriptedModelServer(policy=policy) as server:
        async with ModelClient(config(server.base_url)) as model:
            agent = Agent(
                "bookkeeper",
                model,
                "Count the ledger's pages.",
                tools=[lookup],
                max_turns=12,
                context=ContextBudget(max_tokens=400, summary_tokens=40),
                reflection=Reflection(criteria=["Counts the pages"], max_rounds=2),
            )
            result = await agent.run("How many pages has the ledger?")
    assert result.output == "The ledger has 8 pages."


async def test_a_revision_recalls_memories_for_the_task_not_the_feedback(tmp_path: Path) -> None:
    def policy(request: ChatRequest) -> Reply:
        system = request.messages[0]["content"]
        if system.startswith("You review"):
            ok = "Teal" in request.messages[-1]["content"]
            verdict = Critique(
                passed=ok,
                failed_criteria=[] if ok else ["Is correct"],
                feedback="" if ok else "Check the memories.",
            )
            return Reply(text=verdict.model_dump_json())
        if not request.last_user_text.startswith("A reviewer"):
            return Reply(text="Blue.")  # the first draft ignores what it was told
        return Reply(text="Teal." if "teal" in system else "I do not know.")

    async with Store(f"sqlite:///{tmp_path / 'memory.db'}") as store:
        memory = LongTermMemory(store, "ada")
        await memory.remember("Ada's favourite colour is teal", about="Ada")
        async with ScriptedModelServer(policy=policy) as server:
            async with ModelClient(config(server.base_url)) as model:
                agent = Agent(
                    "assistant",
                    model,
                    "Answer from memory.",
                    memory=memory,
                    recall_into_prompt=3,
                    reflection=Reflection(criteria=["Is correct"], max_rounds=2),
                )
                result = await agent.run("What is Ada's favourite colour?")
    assert result.output == "Teal."
