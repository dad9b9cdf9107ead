"""A map-reduce team: one agent reads every customer review in parallel, another sums up.

The mapper runs once per item, all at the same time, and sees only its item; the reducer
sees the task and every mapper's answer, in the order of the items. Run from the repository
root: `python -m examples.team_map_reduce`. Uses COVEY_BASE_URL / COVEY_MODEL when set (any
OpenAI-compatible server), else the embedded model.
"""

from __future__ import annotations

from covey import ModelClient, ModelSettings, open_model
from covey.agents import Agent, TeamState, map_reduce
from examples._run import run

TASK = "What should we improve in the bike lamp, according to its reviews?"
REVIEWS = [
    "Bright enough for country roads, but the mount cracked after a month.",
    "Love the solar charging. The mount is flimsy and rattles on cobblestones.",
    "Battery lasts all week. Wish it had a brighter flashing mode.",
]

READER = "Read one customer review. Answer in one line: sentiment, then the main complaint."
ANALYST = "You are a product analyst. From the review notes, list what to improve, top first."


async def main(model: ModelClient | None = None) -> TeamState:
    """Run the team on REVIEWS, print what each agent said, and return the final state."""
    if model is None:  # run as a program: the configured server, else the embedded model
        async with open_model() as opened:
            return await main(opened)
    settings = ModelSettings(temperature=0.2, max_tokens=200)
    reader = Agent("reader", model, READER, settings=settings)
    team = map_reduce(reader, Agent("analyst", model, ANALYST, settings=settings))
    result = await team.run(TeamState(task=TASK, items=REVIEWS))
    for review, note in zip(REVIEWS, result.state.partials, strict=True):
        print(f"[reader] {review!r} -> {note}")
    for turn in result.state.transcript:
        print(f"[{turn.agent}] {turn.content}")
    print(f"result: {result.state.result}")
    return result.state


if __name__ == "__main__":
    run(main)
