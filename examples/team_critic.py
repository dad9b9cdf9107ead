"""A critic-reviser team: a writer drafts, a critic reviews, and the writer revises.

The critic answers with a `Review` (approved, and feedback); the loop ends when it approves
or after `max_rounds` reviews, and the latest draft is the result. Run from the repository
root: `python -m examples.team_critic`. Uses COVEY_BASE_URL / COVEY_MODEL when set (any
OpenAI-compatible server), else the embedded model.
"""

from __future__ import annotations

from covey import ModelClient, ModelSettings, open_model
from covey.agents import Agent, Review, TeamState, critic_loop
from examples._run import run

TASK = "Write a slogan for a solar bike lamp: at most eight words, and it must mention the sun."

WRITER = "You write slogans. Give only the slogan; if a critic gave feedback, follow it."
CRITIC = (
    "You review slogans against the task's rules. Approve only a slogan that follows "
    "every rule; otherwise say exactly what to change in the feedback."
)


async def main(model: ModelClient | None = None) -> TeamState:
    """Run the team on TASK, print who said what and the result, and return the final state."""
    if model is None:  # run as a program: the configured server, else the embedded model
        async with open_model() as opened:
            return await main(opened)
    settings = ModelSettings(temperature=0.2, max_tokens=200)
    writer = Agent("writer", model, WRITER, settings=settings)
    critic = Agent("critic", model, CRITIC, output_type=Review, settings=settings)
    team = critic_loop(writer, critic, max_rounds=3)
    result = await team.run(TeamState(task=TASK))
    for turn in result.state.transcript:
        print(f"[{turn.agent}] {turn.content}")
    print(f"result after {result.state.rounds} review(s): {result.state.result}")
    return result.state


if __name__ == "__main__":
    run(main)
