"""A supervisor team: a lead agent routes the task to specialists until it is done.

The supervisor answers with a `Routing` (who works next and what they should do, or FINISH
with the final answer); each specialist's answer goes back to the supervisor. Run from the
repository root: `python -m examples.team_supervisor`. Uses COVEY_BASE_URL / COVEY_MODEL
when set (any OpenAI-compatible server), else the embedded model.
"""

from __future__ import annotations

from covey import ModelClient, ModelSettings, open_model
from covey.agents import Agent, Routing, TeamState, supervisor
from examples._run import run

TASK = "Write a short FAQ entry: can I take my e-bike battery on a plane?"

LEAD = (
    "You lead a team: 'researcher' finds facts, 'writer' drafts text for customers. "
    "Read the task and the work so far, then pick who works next (next = their name) and "
    "say what they should do (instruction). When the work is done, answer next = FINISH "
    "with the final text as instruction."
)
RESEARCHER = "You are a researcher. State the relevant facts and rules briefly."
WRITER = "You are a writer. Turn the researcher's facts into a friendly FAQ answer."


async def main(model: ModelClient | None = None) -> TeamState:
    """Run the team on TASK, print who said what and the result, and return the final state."""
    if model is None:  # run as a program: the configured server, else the embedded model
        async with open_model() as opened:
            return await main(opened)
    settings = ModelSettings(temperature=0.2, max_tokens=200)
    lead = Agent("lead", model, LEAD, output_type=Routing, settings=settings)
    specialists = {
        "researcher": Agent("researcher", model, RESEARCHER, settings=settings),
        "writer": Agent("writer", model, WRITER, settings=settings),
    }
    team = supervisor(lead, specialists, max_rounds=5)
    result = await team.run(TeamState(task=TASK))
    for turn in result.state.transcript:
        print(f"[{turn.agent}] {turn.content}")
    print(f"result: {result.state.result}")
    return result.state


if __name__ == "__main__":
    run(main)
