"""Reflection inside a run: critique and revise until the criteria pass or a round limit.

After the agent's draft answer, a critic (the agent's own model by default, or any agent
with `Critique` output, possibly on another model) checks the draft against the criteria.
If a criterion fails, the agent gets the critique and revises, in the same conversation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pydantic

from .._errors import UsageError
from ..tracing._genai import span
from ._events import AgentEvent, Reflected

if TYPE_CHECKING:
    from ._agent import Agent, RunResult

__all__ = ["Critique", "Reflection", "critic_for", "reflect", "review_prompt", "revision_prompt"]

CRITIC_INSTRUCTIONS = (
    "You review answers. Check the answer against every criterion, strictly and only those. "
    "Set passed to true only if all criteria hold; otherwise list the failed criteria and "
    "say briefly what to change."
)


class Critique(pydantic.BaseModel):
    """A critic's verdict on a draft."""

    passed: bool
    """Whether every criterion holds."""
    failed_criteria: list[str] = []
    """The criteria that do not hold."""
    feedback: str = ""
    """What to change."""


@dataclass(kw_only=True, slots=True, frozen=True)
class Reflection:
    """Critique-and-revise for an agent: `Agent(..., reflection=Reflection(criteria=[...]))`.

    Example:
        ```python
        reflection = Reflection(criteria=["Names the capital", "Under 20 words"], max_rounds=2)
        agent = Agent("geographer", model, reflection=reflection)
        ```
    """

    criteria: Sequence[str]
    """What a good answer satisfies, each checkable on its own."""
    critic: Agent[Critique] | None = None
    """Checks drafts (default: an agent on the same model with `CRITIC_INSTRUCTIONS`)."""
    max_rounds: int = 3
    """Drafts at most (the first one included): revisions stop there, passed or not."""

    def __post_init__(self) -> None:
        if not self.criteria:
            raise UsageError("Reflection needs at least one criterion to check drafts against.")
        if self.max_rounds < 1:
            raise UsageError(f"Reflection max_rounds must be at least 1, got {self.max_rounds}.")


def critic_for(agent: Agent[Any]) -> Agent[Critique]:
    """The default critic: the agent's own model, asked for a `Critique`."""
    from ._agent import Agent

    return Agent(f"{agent.name}-critic", agent.model, CRITIC_INSTRUCTIONS, output_type=Critique)


def review_prompt(task: str, draft: Any, criteria: Sequence[str]) -> str:
    """What the critic is asked: the task, the criteria and the draft."""
    listed = "\n".join(f"- {c}" for c in criteria)
    return f"Task:\n{task}\n\nCriteria:\n{listed}\n\nAnswer to check:\n{draft}"


def revision_prompt(critique: Critique) -> str:
    """What the writer is told after a critique that did not pass."""
    failed = "; ".join(critique.failed_criteria) or "see the feedback"
    return (
        f"A reviewer checked your answer. Failed criteria: {failed}. Feedback: "
        f"{critique.feedback or 'none given'}. Revise your answer so every criterion holds, "
        "and reply with the revised answer only."
    )


Rerun = Callable[[str, Sequence[Any]], Awaitable["RunResult[Any]"]]


async def reflect(
    agent: Agent[Any],
    task: str,
    first: RunResult[Any],
    rerun: Rerun,
    emit: Callable[[AgentEvent], Awaitable[None]],
) -> RunResult[Any]:
    """Critique `first` and revise through `rerun(prompt, history)` until it passes."""
    reflection = agent.reflection
    assert reflection is not None
    critic = reflection.critic or critic_for(agent)
    result = first
    for number in range(1, reflection.max_rounds + 1):
        with span(
            f"reflection {agent.name}",
            {"covey.reflection.round": number, "gen_ai.agent.name": agent.name},
        ) as round_span:
            review = await critic.run(review_prompt(task, result.output, reflection.criteria))
            critique: Critique = review.output
            if round_span is not None:
                round_span.set_attribute("covey.reflection.passed", critique.passed)
        await emit(
            Reflected(
                agent=agent.name,
                round=number,
                passed=critique.passed,
                failed_criteria=tuple(critique.failed_criteria),
                feedback=critique.feedback,
            )
        )
        if critique.passed or number == reflection.max_rounds:
            return result
        result = await rerun(revision_prompt(critique), result.messages)
    return result
