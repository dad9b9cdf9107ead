"""Team patterns on the scripted model server: each agent is told apart by its instructions."""

from __future__ import annotations

import json
from collections.abc import Callable

from covey import ModelClient, ModelConfig
from covey.agents import (
    Agent,
    Critique,
    Reflection,
    Review,
    Routing,
    TeamState,
    critic_loop,
    handoff,
    map_reduce,
    pipeline,
    reflect_loop,
    supervisor,
)
from covey.testing import ChatRequest, Reply, ScriptedModelServer

Answer = Callable[[ChatRequest], str]


def by_role(answers: dict[str, Answer]) -> Callable[[ChatRequest], Reply]:
    def policy(request: ChatRequest) -> Reply:
        system = request.messages[0]["content"] if request.messages else ""
        for role, answer in answers.items():
            if system.startswith(role):
                return Reply(text=answer(request))
        raise AssertionError(f"no answer for {system!r}")

    return policy


def config(url: str) -> ModelConfig:
    return ModelConfig(base_url=url, model="scripted")


def count(request: ChatRequest, word: str) -> int:
    return request.last_user_text.count(word)


async def test_pipeline_passes_work_along() -> None:
    policy = by_role(
        {
            "RESEARCH": lambda r: "facts: the sky is blue",
            "WRITE": lambda r: "Article using " + r.last_user_text.splitlines()[-1],
        }
    )
    async with (
        ScriptedModelServer(policy=policy) as server,
        ModelClient(config(server.base_url)) as m,
    ):
        team = pipeline([Agent("research", m, "RESEARCH"), Agent("write", m, "WRITE")])
        result = await team.run(TeamState(task="sky"))
    assert result.state.result == "Article using [research] facts: the sky is blue"
    assert [t.agent for t in result.state.transcript] == ["research", "write"]


async def test_supervisor_routes_to_specialists_until_finish() -> None:
    def boss(request: ChatRequest) -> str:
        if "[math]" in request.last_user_text:
            return json.dumps({"next": "FINISH", "instruction": "The answer is 42."})
        return json.dumps({"next": "math", "instruction": "compute 6*7"})

    policy = by_role({"BOSS": boss, "MATH": lambda r: "6*7=42"})
    async with (
        ScriptedModelServer(policy=policy) as server,
        ModelClient(config(server.base_url)) as m,
    ):
        team = supervisor(
            Agent("boss", m, "BOSS", output_type=Routing), {"math": Agent("math", m, "MATH")}
        )
        result = await team.run(TeamState(task="6 times 7?"))
    assert result.state.result == "The answer is 42."
    assert [t.agent for t in result.state.transcript] == ["boss", "math", "boss"]


async def test_handoff_passes_the_conversation_to_another_agent() -> None:
    policy = by_role(
        {
            "TRIAGE": lambda r: json.dumps({"next": "billing", "instruction": "refund question"}),
            "BILLING": lambda r: json.dumps({"next": "FINISH", "instruction": "Refund sent."}),
        }
    )
    async with (
        ScriptedModelServer(policy=policy) as server,
        ModelClient(config(server.base_url)) as m,
    ):
        team = handoff(
            [
                Agent("triage", m, "TRIAGE", output_type=Routing),
                Agent("billing", m, "BILLING", output_type=Routing),
            ]
        )
        result = await team.run(TeamState(task="I want my money back"))
    assert result.state.result == "Refund sent."
    assert [t.agent for t in result.state.transcript] == ["triage", "billing"]


async def test_map_reduce_maps_each_item_in_parallel_then_reduces() -> None:
    policy = by_role(
        {
            "UPPER": lambda r: r.last_user_text.upper(),
            "JOIN": lambda r: ",".join(
                sorted(line[2:] for line in r.last_user_text.splitlines() if line.startswith("- "))
            ),
        }
    )
    async with (
        ScriptedModelServer(policy=policy) as server,
        ModelClient(config(server.base_url)) as m,
    ):
        team = map_reduce(Agent("upper", m, "UPPER"), Agent("join", m, "JOIN"))
        result = await team.run(TeamState(task="shout", items=["a", "b", "c"]))
    assert result.state.result == "A,B,C"


async def test_critic_loop_revises_until_approved() -> None:
    def critic(request: ChatRequest) -> str:
        approved = count(request, "[writer]") >= 2
        return json.dumps({"approved": approved, "feedback": "ok" if approved else "too short"})

    policy = by_role({"WRITER": lambda r: f"draft {count(r, '[writer]') + 1}", "CRITIC": critic})
    async with (
        ScriptedModelServer(policy=policy) as server,
        ModelClient(config(server.base_url)) as m,
    ):
        team = critic_loop(
            Agent("writer", m, "WRITER"), Agent("critic", m, "CRITIC", output_type=Review)
        )
        result = await team.run(TeamState(task="a poem"))
    assert result.state.result == "draft 2"
    assert result.state.rounds == 2


SLOGAN_RULES = ["Mentions the sun", "At most eight words"]


def slogan_critic(request: ChatRequest) -> str:
    """Checks the draft against the rules the request lists."""
    prompt = request.last_user_text
    assert "- Mentions the sun\n- At most eight words" in prompt  # the criteria are checked
    draft = prompt.split("Answer to check:\n", 1)[1]
    failed = [] if "sun" in draft.lower() else ["Mentions the sun"]
    return Critique(
        passed=not failed, failed_criteria=failed, feedback="Say sun."
    ).model_dump_json()


async def reflected(drafts: list[str], max_rounds: int) -> tuple[TeamState, list[str]]:
    """Run reflect_loop with a writer giving `drafts` in order; also what it was told."""
    told: list[str] = []

    def writer(request: ChatRequest) -> str:
        told.append(request.last_user_text)
        return drafts.pop(0)

    policy = by_role({"WRITER": writer, "You review answers": slogan_critic})
    async with (
        ScriptedModelServer(policy=policy) as server,
        ModelClient(config(server.base_url)) as m,
    ):
        checks = Reflection(criteria=SLOGAN_RULES, max_rounds=max_rounds)
        team = reflect_loop(Agent("writer", m, "WRITER"), checks)
        result = await team.run(TeamState(task="A slogan for a solar lamp"))
    return result.state, told


async def test_reflect_loop_stops_once_the_criteria_pass() -> None:
    state, told = await reflected(["Bright nights.", "Sun by day, light by night.", "x"], 5)
    assert state.result == "Sun by day, light by night." and state.rounds == 2
    assert "Failed criteria: Mentions the sun" in told[1] and "Say sun." in told[1]
    assert [t.agent for t in state.transcript] == ["writer", "writer-critic"] * 2


async def test_reflect_loop_stops_at_the_round_limit_with_the_last_draft() -> None:
    state, told = await reflected(["Bright nights.", "Glow on.", "unused"], 2)
    assert state.result == "Glow on." and state.rounds == 2 and len(told) == 2
    assert state.transcript[-1].content.startswith("A reviewer checked your answer.")
