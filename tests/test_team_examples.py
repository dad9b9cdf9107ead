"""The team-pattern examples, each run against the scripted model server.

Every agent of an example is told apart by its instructions (the system prompt), and the
scripted model answers as that agent would, from what the request shows it.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest

from covey import ModelClient, ModelConfig
from covey.testing import ChatRequest, Reply, ScriptedModelServer
from examples import team_critic, team_handoff, team_map_reduce, team_pipeline, team_supervisor

ROOT = Path(__file__).resolve().parents[1]

Answer = Callable[[ChatRequest], str | Awaitable[str]]


def by_role(answers: dict[str, Answer]) -> Callable[[ChatRequest], Awaitable[Reply]]:
    """A policy answering each request as the agent whose instructions it carries."""

    async def policy(request: ChatRequest) -> Reply:
        system = request.messages[0]["content"] if request.messages else ""
        if system not in answers:
            raise AssertionError(f"no scripted agent has the instructions {system!r}")
        text = answers[system](request)
        return Reply(text=text if isinstance(text, str) else await text)

    return policy


@asynccontextmanager
async def scripted(
    answers: dict[str, Answer],
) -> AsyncGenerator[tuple[ScriptedModelServer, ModelClient]]:
    async with (
        ScriptedModelServer(policy=by_role(answers)) as server,
        ModelClient(ModelConfig(base_url=server.base_url, model="scripted")) as model,
    ):
        yield server, model


def asked(server: ScriptedModelServer, instructions: str) -> list[str]:
    """What each request to the agent with these instructions asked, in order."""
    return [
        r.last_user_text
        for r in server.requests
        if r.messages and r.messages[0]["content"] == instructions
    ]


def routing(next: str, instruction: str) -> str:
    return json.dumps({"next": next, "instruction": instruction})


# --- pipeline -------------------------------------------------------------------------------

FACTS = "- solar charged\n- 300 lumens\n- 20 hours of light\n- EUR 39"
DRAFT = "Meet our solar bike lamp: 300 lumens and 20 hours of light. Yours for just EUR 39."
EDITED = "Meet our solar bike lamp: 300 lumens, 20 hours of light, EUR 39."


def write_from_facts(request: ChatRequest) -> str:
    assert "[researcher] - solar charged" in request.last_user_text
    return DRAFT


def edit_draft(request: ChatRequest) -> str:
    draft = request.last_user_text.split("[writer] ", 1)[1]
    return draft.replace(" and 20", ", 20").replace(". Yours for just", ",")


PIPELINE: dict[str, Answer] = {
    team_pipeline.RESEARCHER: lambda r: FACTS,
    team_pipeline.WRITER: write_from_facts,
    team_pipeline.EDITOR: edit_draft,
}


async def test_pipeline_passes_each_agents_work_to_the_next(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with scripted(PIPELINE) as (server, model):
        state = await team_pipeline.main(model)
    assert state.result == EDITED
    assert [(t.agent, t.content) for t in state.transcript] == [
        ("researcher", FACTS),
        ("writer", DRAFT),
        ("editor", EDITED),
    ]
    (editor_prompt,) = asked(server, team_pipeline.EDITOR)
    assert editor_prompt.startswith(f"Task: {team_pipeline.TASK}\n[researcher] - solar")
    assert capsys.readouterr().out.endswith(f"[editor] {EDITED}\nresult: {EDITED}\n")


async def test_pipeline_runs_as_a_program_against_a_configured_server() -> None:
    async with ScriptedModelServer(policy=by_role(PIPELINE)) as server:
        env = {**os.environ, "COVEY_BASE_URL": server.base_url, "COVEY_MODEL": "scripted"}
        command = [sys.executable, "-m", "examples.team_pipeline"]
        with anyio.fail_after(60):
            done = await anyio.run_process(command, cwd=ROOT, env=env, check=False)
    assert done.returncode == 0, done.stderr.decode()
    lines = done.stdout.decode().splitlines()
    assert lines[0] == "[researcher] - solar charged"
    assert lines[-2:] == [f"[editor] {EDITED}", f"result: {EDITED}"]
    assert len(server.requests) == 3


# --- supervisor -----------------------------------------------------------------------------

RULES = "Airlines ban lithium batteries over 160 Wh; e-bike batteries hold 400-700 Wh."
FAQ = "No: e-bike batteries (400-700 Wh) exceed the 160 Wh airline limit. Ship it instead."


def lead(request: ChatRequest) -> str:
    work = request.last_user_text
    if "[researcher]" not in work:
        return routing("researcher", "Find the airline rules for lithium batteries.")
    if "[writer]" not in work:
        return routing("writer", "Write the FAQ answer from these facts.")
    return routing("FINISH", work.split("[writer] ", 1)[1])


def write_faq(request: ChatRequest) -> str:
    assert f"[researcher] {RULES}" in request.last_user_text
    return FAQ


async def test_supervisor_routes_to_two_specialists_then_finishes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    answers: dict[str, Answer] = {
        team_supervisor.LEAD: lead,
        team_supervisor.RESEARCHER: lambda r: RULES,
        team_supervisor.WRITER: write_faq,
    }
    async with scripted(answers) as (server, model):
        state = await team_supervisor.main(model)
    assert state.result == FAQ
    assert [t.agent for t in state.transcript] == ["lead", "researcher", "lead", "writer", "lead"]
    assert state.transcript[0].content == (
        "-> researcher: Find the airline rules for lithium batteries."
    )
    assert state.rounds == 3
    (researcher_prompt,) = asked(server, team_supervisor.RESEARCHER)
    assert researcher_prompt.endswith(
        "[lead] -> researcher: Find the airline rules for lithium batteries."
    )
    assert capsys.readouterr().out.endswith(f"result: {FAQ}\n")


# --- handoff --------------------------------------------------------------------------------

TO_TECH = "Charging broke after the firmware update; also a double charge for billing."
TO_BILLING = "Told the customer to reinstall firmware 2.1. Please refund the double charge."
REPLY = "Reinstall firmware 2.1 to fix charging; we refunded the duplicate EUR 39."


def billing(request: ChatRequest) -> str:
    assert f"[tech] {TO_BILLING}" in request.last_user_text
    return routing("FINISH", REPLY)


async def test_handoff_passes_control_from_agent_to_agent(
    capsys: pytest.CaptureFixture[str],
) -> None:
    answers: dict[str, Answer] = {
        team_handoff.TRIAGE: lambda r: routing("tech", TO_TECH),
        team_handoff.TECH: lambda r: routing("billing", TO_BILLING),
        team_handoff.BILLING: billing,
    }
    async with scripted(answers) as (server, model):
        state = await team_handoff.main(model)
    assert state.result == REPLY
    assert [(t.agent, t.content) for t in state.transcript] == [
        ("triage", TO_TECH),
        ("tech", TO_BILLING),
        ("billing", REPLY),
    ]
    assert [len(asked(server, a)) for a in answers] == [1, 1, 1]
    assert capsys.readouterr().out.endswith(f"reply to the customer: {REPLY}\n")


# --- map-reduce -----------------------------------------------------------------------------

NOTES = {
    team_map_reduce.REVIEWS[0]: "positive; complaint: the mount cracked",
    team_map_reduce.REVIEWS[1]: "positive; complaint: flimsy mount",
    team_map_reduce.REVIEWS[2]: "positive; complaint: wants a brighter flashing mode",
}


def analyse(request: ChatRequest) -> str:
    notes = [line for line in request.last_user_text.splitlines() if line.startswith("- ")]
    mount = sum("mount" in note for note in notes)
    flashing = sum("flashing" in note for note in notes)
    return f"1. A sturdier mount ({mount} of {len(notes)})\n2. Brighter flashing ({flashing})"


async def test_map_reduce_reads_every_review_at_once_then_sums_up(
    capsys: pytest.CaptureFixture[str],
) -> None:
    reviews = team_map_reduce.REVIEWS
    all_arrived = anyio.Event()
    arrived: list[str] = []

    async def read(request: ChatRequest) -> str:
        # Each reader answers only once every reader has asked: they must run concurrently.
        arrived.append(request.last_user_text)
        if len(arrived) == len(reviews):
            all_arrived.set()
        with anyio.fail_after(30):
            await all_arrived.wait()
        return NOTES[request.last_user_text]

    answers: dict[str, Answer] = {team_map_reduce.READER: read, team_map_reduce.ANALYST: analyse}
    async with scripted(answers) as (server, model):
        state = await team_map_reduce.main(model)
    assert sorted(arrived) == sorted(reviews)
    assert state.partials == [NOTES[r] for r in reviews]
    assert state.result == "1. A sturdier mount (2 of 3)\n2. Brighter flashing (1)"
    assert [t.agent for t in state.transcript] == ["analyst"]
    (analyst_prompt,) = asked(server, team_map_reduce.ANALYST)
    assert analyst_prompt.startswith(f"Task: {team_map_reduce.TASK}\nParts:\n- positive")
    out = capsys.readouterr().out
    assert f"[reader] {reviews[2]!r} -> {NOTES[reviews[2]]}\n" in out


# --- critic-reviser -------------------------------------------------------------------------

FIRST = "Ride bright, day or night."
SECOND = "Charged by the sun, bright all night."


def write_slogan(request: ChatRequest) -> str:
    if "[critic]" not in request.last_user_text:
        return FIRST
    assert "[critic] revise: Mention the sun." in request.last_user_text
    return SECOND


def review(request: ChatRequest) -> str:
    draft = request.last_user_text.rsplit("[writer] ", 1)[1]
    if "sun" in draft and len(draft.split()) <= 8:
        return json.dumps({"approved": True, "feedback": "Short, and it mentions the sun."})
    return json.dumps({"approved": False, "feedback": "Mention the sun."})


async def test_critic_rejects_once_then_approves_the_revision(
    capsys: pytest.CaptureFixture[str],
) -> None:
    answers: dict[str, Answer] = {team_critic.WRITER: write_slogan, team_critic.CRITIC: review}
    async with scripted(answers) as (_, model):
        state = await team_critic.main(model)
    assert state.result == SECOND
    assert state.rounds == 2
    assert [(t.agent, t.content) for t in state.transcript] == [
        ("writer", FIRST),
        ("critic", "revise: Mention the sun."),
        ("writer", SECOND),
        ("critic", "approved: Short, and it mentions the sun."),
    ]
    assert capsys.readouterr().out.endswith(f"result after 2 review(s): {SECOND}\n")
