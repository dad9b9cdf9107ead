"""A handoff team: support agents pass a customer's request to whoever can handle it.

The first agent starts. Each agent answers with a `Routing`: the name of a colleague to
hand off to and a note for them, or FINISH with the reply to the customer. Run from the
repository root: `python -m examples.team_handoff`. Uses COVEY_BASE_URL / COVEY_MODEL when
set (any OpenAI-compatible server), else the embedded model.
"""

from __future__ import annotations

from covey import ModelClient, ModelSettings, open_model
from covey.agents import Agent, Routing, TeamState, handoff
from examples._run import run

TASK = "My lamp stopped charging after the firmware update, and I was charged twice for it."

COLLEAGUES = "Colleagues: 'triage', 'tech' (devices, firmware), 'billing' (payments, refunds)."
HOW = (
    "Hand off with next = a colleague's name and a note for them as instruction; when "
    "everything is handled, answer next = FINISH with the reply to the customer."
)
TRIAGE = f"You are the first-line support agent. {COLLEAGUES} {HOW}"
TECH = f"You are the device and firmware expert. {COLLEAGUES} {HOW}"
BILLING = f"You handle payments and refunds. {COLLEAGUES} {HOW}"


async def main(model: ModelClient | None = None) -> TeamState:
    """Run the team on TASK, print who said what and the result, and return the final state."""
    if model is None:  # run as a program: the configured server, else the embedded model
        async with open_model() as opened:
            return await main(opened)
    settings = ModelSettings(temperature=0.2, max_tokens=200)
    team = handoff(
        [
            Agent("triage", model, TRIAGE, output_type=Routing, settings=settings),
            Agent("tech", model, TECH, output_type=Routing, settings=settings),
            Agent("billing", model, BILLING, output_type=Routing, settings=settings),
        ],
        max_handoffs=6,
    )
    result = await team.run(TeamState(task=TASK))
    for turn in result.state.transcript:
        print(f"[{turn.agent}] {turn.content}")
    print(f"reply to the customer: {result.state.result}")
    return result.state


if __name__ == "__main__":
    run(main)
