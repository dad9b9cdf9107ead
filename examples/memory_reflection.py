"""Memory and reflection: an agent remembers across runs, checks its answers, learns a lesson.

1. Long-term memory: one run is told a fact and keeps it with the `remember` tool; a later
   run, of a new agent, finds it in its instructions (`recall_into_prompt`).
2. Reflection inside a run: a critic checks each answer against criteria, and the agent
   revises until they hold or the rounds run out.
3. Reflection across runs: the program checks an answer, reports the failure with
   `agent.learn(...)`, and the next run gets the lesson the model wrote.

Run from the repository root: `python -m examples.memory_reflection`. Uses COVEY_BASE_URL /
COVEY_MODEL when set, else the embedded model; the memories live in a temporary SQLite file.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from covey import open_model
from covey.agents import Agent, AgentEvent, Lessons, Reflected, Reflection
from covey.store import LongTermMemory, Store
from covey.tools import ToolEvent
from examples._run import run

ASSISTANT = "You are Ada's assistant. Keep facts you are told with remember; answer briefly."
WRITER = "You answer questions about Ada in one short sentence, from the memories given."
CRITERIA = ["Names Ada's favourite colour", "Is one sentence"]
OFFICE = "You answer questions about the office in a few words."
ROOM_TASK = "Which room is the Friday review in?"


async def show_reflection(event: AgentEvent | ToolEvent) -> None:
    """Print each critique as it happens."""
    if isinstance(event, Reflected):
        failed = list(event.failed_criteria)
        print(f"critique {event.round}: passed={event.passed} failed={failed}")


async def main() -> None:
    """Remember and recall, critique and revise, then learn from a failure."""
    with tempfile.TemporaryDirectory() as folder:
        async with open_model() as model, Store(f"sqlite:///{Path(folder) / 'm.db'}") as store:
            memory = LongTermMemory(store, "user:ada")
            teller = Agent("assistant", model, ASSISTANT, memory=memory, max_turns=3)
            await teller.run("Note: Ada's favourite colour is teal.")
            kept = [m.text for m in await memory.recall("Ada favourite colour")]
            print(f"remembered: {kept}")

            later = Agent("assistant", model, ASSISTANT, memory=memory, recall_into_prompt=3)
            answer = await later.run("What is Ada's favourite colour?")
            print(f"a later run answers: {answer.output}")

            writer = Agent(
                "writer",
                model,
                WRITER,
                memory=memory,
                recall_into_prompt=3,
                reflection=Reflection(criteria=CRITERIA, max_rounds=3),
            )
            checked = await writer.run("Describe Ada's taste.", on_event=show_reflection)
            print(f"after reflection: {checked.output}")

            office = Agent("office", model, OFFICE, lessons=Lessons(store, "lessons:office"))
            first = await office.run(ROOM_TASK)
            print(f"first try: {first.output}")
            if "Room 4" not in first.output:  # the caller knows the right answer
                feedback = "Wrong room: the Friday review is always in Room 4."
                print(f"lesson: {await office.learn(ROOM_TASK, first, feedback)}")
                second = await office.run(ROOM_TASK)
                print(f"with the lesson: {second.output}")


if __name__ == "__main__":
    run(main)
