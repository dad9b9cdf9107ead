"""Critique-and-revise on an agent: it stops when the criteria pass, and at the round limit."""

from __future__ import annotations

import json

import pytest

from covey import ModelClient, ModelConfig, UsageError
from covey.agents import Agent, Critique, Reflected, Reflection
from covey.testing import ChatRequest, Reply, ScriptedModelServer

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
