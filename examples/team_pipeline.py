"""A pipeline team: a researcher, a writer and an editor work on a task one after another.

Each agent sees the task and everything said before it; the last agent's answer is the
result. Run from the repository root: `python -m examples.team_pipeline`. Uses COVEY_BASE_URL
/ COVEY_MODEL when set (any OpenAI-compatible server), else the embedded model.
"""

from __future__ import annotations

from covey import ModelClient, ModelSettings, open_model
from covey.agents import Agent, TeamState, pipeline
from examples._run import run

TASK = "Announce the new bike lamp: solar charged, 300 lumens, 20 hours of light, EUR 39."

RESEARCHER = "You are a researcher. List the key facts of the task as short bullet points."
WRITER = "You are a copywriter. Write a two-sentence announcement from the researcher's facts."
EDITOR = "You are an editor. Return the writer's announcement, corrected and tightened."


async def main(model: ModelClient | None = None) -> TeamState:
    """Run the team on TASK, print who said what and the result, and return the final state."""
    if model is None:  # run as a program: the configured server, else the embedded model
        async with open_model() as opened:
            return await main(opened)
    settings = ModelSettings(temperature=0.2, max_tokens=200)
    team = pipeline(
        [
            Agent("researcher", model, RESEARCHER, settings=settings),
            Agent("writer", model, WRITER, settings=settings),
            Agent("editor", model, EDITOR, settings=settings),
        ]
    )
    result = await team.run(TeamState(task=TASK))
    for turn in result.state.transcript:
        print(f"[{turn.agent}] {turn.content}")
    print(f"result: {result.state.result}")
    return result.state


if __name__ == "__main__":
    run(main)
