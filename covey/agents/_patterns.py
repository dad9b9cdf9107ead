"""Team patterns, each a small function that builds an ordinary graph.

Every pattern runs on `TeamState`: the task, a transcript of who said what, and the result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

import pydantic

from .._errors import UsageError
from ._agent import Agent
from ._graph import END, START, Graph, Send
from ._graph_run import Checkpointer, CompiledGraph
from ._graph_state import add, append
from ._reflection import Critique, Reflection, critic_for, review_prompt, revision_prompt

__all__ = [
    "TeamState",
    "Turn",
    "Review",
    "Routing",
    "pipeline",
    "supervisor",
    "handoff",
    "map_reduce",
    "critic_loop",
    "reflect_loop",
]


class Turn(pydantic.BaseModel):
    """One contribution to a team's work."""

    agent: str
    content: str


class TeamState(pydantic.BaseModel):
    """The state every team pattern runs on."""

    task: str = ""
    transcript: Annotated[list[Turn], append] = []
    result: str = ""
    next: str = ""
    rounds: Annotated[int, add] = 0
    items: list[str] = []
    partials: Annotated[list[str], append] = []


class Review(pydantic.BaseModel):
    """A critic's verdict on a draft."""

    approved: bool
    feedback: str = ""


class Routing(pydantic.BaseModel):
    """A supervisor's (or a handing-off agent's) decision."""

    next: str
    """A specialist's name, or `FINISH`."""
    instruction: str = ""
    """What the chosen agent should do (or the final answer, with FINISH)."""


def _context(state: TeamState) -> str:
    lines = [f"Task: {state.task}"]
    lines += [f"[{t.agent}] {t.content}" for t in state.transcript]
    return "\n".join(lines)


def _said(agent: Agent[Any], *, result: bool = False) -> Any:
    def update(state: TeamState, output: Any) -> dict[str, Any]:
        text = (
            output
            if isinstance(output, str)
            else pydantic.TypeAdapter(Any).dump_json(output).decode()
        )
        out: dict[str, Any] = {"transcript": [Turn(agent=agent.name, content=text)]}
        if result:
            out["result"] = text
        return out

    return update


def pipeline(
    agents: Sequence[Agent[Any]], *, checkpointer: Checkpointer | None = None
) -> CompiledGraph[TeamState]:
    """Each agent works on the previous one's output, in order; the last one's is the result."""
    if not agents:
        raise UsageError("pipeline() needs at least one agent.")
    graph = Graph(TeamState, name="pipeline")
    previous = START
    for i, agent in enumerate(agents):
        last = i == len(agents) - 1
        graph.add_node(agent.name, agent, input=_context, output=_said(agent, result=last))
        graph.add_edge(previous, agent.name)
        previous = agent.name
    return graph.compile(checkpointer=checkpointer)


def supervisor(
    boss: Agent[Routing],
    specialists: Mapping[str, Agent[Any]],
    *,
    max_rounds: int = 8,
    checkpointer: Checkpointer | None = None,
) -> CompiledGraph[TeamState]:
    """A supervisor agent routes the task to specialists until it answers FINISH."""
    graph = Graph(TeamState, name="supervisor")

    def decide(state: TeamState, routing: Routing) -> dict[str, Any]:
        chosen = routing.next if routing.next in specialists else "FINISH"
        update: dict[str, Any] = {"next": chosen, "rounds": 1}
        update["transcript"] = [
            Turn(agent=boss.name, content=f"-> {chosen}: {routing.instruction}")
        ]
        if chosen == "FINISH":
            update["result"] = routing.instruction or (
                state.transcript[-1].content if state.transcript else ""
            )
        return update

    graph.add_node("supervisor", boss, input=_context, output=decide)
    graph.add_edge(START, "supervisor")
    for name, agent in specialists.items():
        graph.add_node(name, agent, input=_context, output=_said(agent))
        graph.add_edge(name, "supervisor")

    def route(state: TeamState) -> str:
        if state.next == "FINISH" or state.rounds >= max_rounds:
            return END
        return state.next

    graph.add_router("supervisor", route)
    return graph.compile(checkpointer=checkpointer, step_limit=2 * max_rounds + 2)


def handoff(
    agents: Sequence[Agent[Routing]],
    *,
    max_handoffs: int = 8,
    checkpointer: Checkpointer | None = None,
) -> CompiledGraph[TeamState]:
    """The first agent starts; each one answers (FINISH) or hands off to another by name."""
    if not agents:
        raise UsageError("handoff() needs at least one agent.")
    names = {a.name for a in agents}
    graph = Graph(TeamState, name="handoff")

    def took(agent: Agent[Routing]) -> Any:
        def update(state: TeamState, routing: Routing) -> dict[str, Any]:
            target = routing.next if routing.next in names - {agent.name} else "FINISH"
            out: dict[str, Any] = {"next": target, "rounds": 1}
            out["transcript"] = [Turn(agent=agent.name, content=routing.instruction)]
            if target == "FINISH":
                out["result"] = routing.instruction
            return out

        return update

    def route(state: TeamState) -> str:
        return END if state.next == "FINISH" or state.rounds >= max_handoffs else state.next

    for agent in agents:
        graph.add_node(agent.name, agent, input=_context, output=took(agent))
        graph.add_router(agent.name, route)
    graph.add_edge(START, agents[0].name)
    return graph.compile(checkpointer=checkpointer, step_limit=max_handoffs + 1)


def map_reduce(
    mapper: Agent[Any],
    reducer: Agent[Any],
    *,
    checkpointer: Checkpointer | None = None,
) -> CompiledGraph[TeamState]:
    """`mapper` runs once per item of `state.items`, in parallel; `reducer` combines them."""
    graph = Graph(TeamState, name="map_reduce")

    def keep(state: TeamState, output: Any) -> dict[str, Any]:
        return {"partials": [str(output)]}

    def combine(state: TeamState) -> str:
        return f"Task: {state.task}\nParts:\n" + "\n".join(f"- {p}" for p in state.partials)

    def split(state: TeamState) -> None:
        return None

    graph.add_node("split", split)
    graph.add_node("map", mapper, output=keep)
    graph.add_node("reduce", reducer, input=combine, output=_said(reducer, result=True))
    graph.add_edge(START, "split")
    graph.add_router("split", lambda s: [Send("map", item) for item in s.items] or "reduce")
    graph.add_edge("map", "reduce")
    return graph.compile(checkpointer=checkpointer)


def critic_loop(
    writer: Agent[Any],
    critic: Agent[Review],
    *,
    max_rounds: int = 3,
    checkpointer: Checkpointer | None = None,
) -> CompiledGraph[TeamState]:
    """The writer drafts, the critic reviews; revise until approved or `max_rounds`."""
    graph = Graph(TeamState, name="critic_loop")

    def judged(state: TeamState, review: Review) -> dict[str, Any]:
        verdict: Literal["approved", "revise"] = "approved" if review.approved else "revise"
        return {
            "transcript": [Turn(agent=critic.name, content=f"{verdict}: {review.feedback}")],
            "next": verdict,
            "rounds": 1,
        }

    graph.add_node("write", writer, input=_context, output=_said(writer, result=True))
    graph.add_node("review", critic, input=_context, output=judged)
    graph.add_edge(START, "write").add_edge("write", "review")
    graph.add_router(
        "review", lambda s: END if s.next == "approved" or s.rounds >= max_rounds else "write"
    )
    return graph.compile(checkpointer=checkpointer, step_limit=2 * max_rounds + 1)


def reflect_loop(
    writer: Agent[Any],
    reflection: Reflection,
    *,
    checkpointer: Checkpointer | None = None,
) -> CompiledGraph[TeamState]:
    """Critique-and-revise as a graph: revise until every criterion passes or `max_rounds`.

    The critic (`reflection.critic`, else the writer's model asked for a `Critique`) checks
    each draft against `reflection.criteria`; the writer gets the failed criteria and the
    feedback and revises. `state.result` is the last draft, `state.rounds` the reviews.

    Example:
        ```python
        checked = Reflection(criteria=["Mentions the sun", "At most eight words"])
        result = await reflect_loop(writer, checked).run(TeamState(task="A slogan"))
        ```
    """
    critic = reflection.critic or critic_for(writer)
    graph = Graph(TeamState, name="reflect_loop")

    def review(state: TeamState) -> str:
        return review_prompt(state.task, state.result, reflection.criteria)

    def judged(state: TeamState, critique: Critique) -> dict[str, Any]:
        said = "passed" if critique.passed else revision_prompt(critique)
        return {
            "transcript": [Turn(agent=critic.name, content=said)],
            "next": "passed" if critique.passed else "revise",
            "rounds": 1,
        }

    def done(state: TeamState) -> str:
        return END if state.next == "passed" or state.rounds >= reflection.max_rounds else "write"

    graph.add_node("write", writer, input=_context, output=_said(writer, result=True))
    graph.add_node("review", critic, input=review, output=judged)
    graph.add_edge(START, "write").add_edge("write", "review")
    graph.add_router("review", done)
    return graph.compile(checkpointer=checkpointer, step_limit=2 * reflection.max_rounds + 1)
