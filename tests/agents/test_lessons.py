"""Reflection across runs: a failure reported by the caller leaves a lesson later runs get."""

from __future__ import annotations

from pathlib import Path

import pytest

from covey import ModelClient, ModelConfig, UsageError
from covey._errors import MaxTurnsExceeded
from covey.agents import Agent, Lessons
from covey.models import ToolCall
from covey.store import Store
from covey.testing import ChatRequest, Reply, ScriptedModelServer
from covey.tools import tool

TASK = "Which door code opens the server room?"


def config(url: str) -> ModelConfig:
    return ModelConfig(base_url=url, model="scripted", max_retries=0)


def learner(request: ChatRequest) -> Reply:
    """Guesses wrong until a lesson about the code is in its instructions."""
    system = request.messages[0]["content"]
    if system.startswith("You write lessons"):
        why = request.last_user_text.split("Why it failed:\n", 1)[1]
        return Reply(text=f"Do not guess the code; {why}")
    if "Lessons from earlier attempts" in system and "4471" in system:
        return Reply(text="4471")
    return Reply(text="1234")


async def test_a_reported_failure_leaves_a_lesson_in_the_next_runs_prompt(
    tmp_path: Path,
) -> None:
    async with Store(f"sqlite:///{tmp_path / 'lessons.db'}") as store:
        async with ScriptedModelServer(policy=learner) as server:
            async with ModelClient(config(server.base_url)) as model:
                agent = Agent(
                    "porter", model, "Answer staff questions.", lessons=Lessons(store, "porter")
                )
                first = await agent.run(TASK)
                lesson = await agent.learn(
                    TASK, first, "the code is 4471, as the facilities log says"
                )
                second = await agent.run(TASK)
                unrelated = await agent.run("What is on the canteen menu today?")
                colleague = Agent(
                    "night-porter", model, "Answer staff.", lessons=Lessons(store, "porter")
                )
                shared = await colleague.run("What code opens the server room door?")
        requests = [r for r in server.requests if not r.messages[0]["content"].startswith("You")]
    assert first.output == "1234" and second.output == "4471"
    assert lesson == "Do not guess the code; the code is 4471, as the facilities log says"
    written = server.requests[1].last_user_text  # what the lesson was written from
    assert f"Task: {TASK}" in written and "Answer given: 1234" in written
    assert lesson in requests[1].messages[0]["content"]
    assert requests[1].messages[0]["content"].startswith("Answer staff questions.")
    assert "Lessons from earlier" not in requests[2].messages[0]["content"]  # unrelated task
    assert unrelated.output == "1234"
    assert shared.output == "4471"  # agents sharing the namespace share the lessons


async def test_a_lesson_is_written_from_a_run_that_raised(tmp_path: Path) -> None:
    @tool
    def look(place: str) -> str:
        """Look somewhere for the code."""
        return f"nothing in the {place}"

    def policy(request: ChatRequest) -> Reply:
        if request.messages[0]["content"].startswith("You write lessons"):
            return Reply(text="Stop searching after two places and ask.")
        return Reply(tool_calls=[ToolCall(id="c", name="look", arguments={"place": "drawer"})])

    async with Store(f"sqlite:///{tmp_path / 'lessons.db'}") as store:
        async with ScriptedModelServer(policy=policy) as server:
            async with ModelClient(config(server.base_url)) as model:
                lessons = Lessons(store, "searcher")
                agent = Agent("searcher", model, tools=[look], max_turns=2, lessons=lessons)
                with pytest.raises(MaxTurnsExceeded) as failed:
                    await agent.run(TASK)
                await agent.learn(TASK, failed.value, "It never answered.")
            kept = await lessons.relevant("server room door code")
        written = server.requests[-1].last_user_text
    assert kept == [f"{TASK} -- Stop searching after two places and ask."]
    assert "look: nothing in the drawer" in written and "max_turns=2" in written


async def test_learning_needs_lessons() -> None:
    async with ModelClient(config("http://127.0.0.1:9/v1")) as model:
        with pytest.raises(UsageError, match="lessons=Lessons"):
            await Agent("a", model).learn("x", None, "wrong")
