"""Reflection across trials (the Reflexion idea): lessons from failures, read by later tries.

With `--reflect`, the trials of a case run in order. After a failed trial the model writes
a short lesson (what went wrong, what to do next time) from the task, its answer, its tool
calls and the scorers' explanations; the lesson is kept in long-term memory, and later
trials whose task it matches get it in their instructions.
"""

from __future__ import annotations

from ..models import ModelClient, ModelSettings, SystemMessage, UserMessage
from ..store import LongTermMemory, Store
from ._results import TrialResult

__all__ = ["LESSONS_HEADER", "Lessons"]

LESSONS_HEADER = "\n\nLessons from earlier attempts at tasks like this one:\n"

_WRITE = (
    "You write lessons for an agent that failed a task. In one or two sentences, say what "
    "went wrong and what to do differently next time. Be concrete; no preamble."
)


class Lessons:
    """The lessons of one evaluation run, in a namespace of the store's memory."""

    def __init__(self, store: Store, run_id: str) -> None:
        """Lessons of run `run_id` (namespace `lessons:<run_id>`)."""
        self.memory = LongTermMemory(store, f"lessons:{run_id}")

    async def for_task(self, task: str, limit: int = 3) -> list[str]:
        """The lessons most relevant to `task`."""
        return [m.text for m in await self.memory.recall(task, limit=limit)]

    async def learn(self, model: ModelClient, case_id: str, task: str, trial: TrialResult) -> str:
        """Have the model write a lesson from a failed trial, and keep it."""
        calls = [
            f"{m.get('name', 'tool')}: {str(m.get('content', ''))[:200]}"
            for m in trial.transcript
            if m.get("role") == "tool"
        ]
        failed = [f"{s.name}: {s.explanation}" for s in trial.scores if not s.passed]
        report = "\n".join(
            [
                f"Task: {task}",
                f"Answer given: {trial.output or '(none)'}",
                "Tool results:\n" + ("\n".join(calls) or "(none)"),
                "Why it failed:\n" + ("\n".join(failed) or trial.error or "(unknown)"),
            ]
        )
        settings = ModelSettings(max_tokens=120, temperature=0.0)
        response = await model.complete(
            [SystemMessage(content=_WRITE), UserMessage(content=report)], settings=settings
        )
        lesson = response.text.strip() or f"An earlier attempt failed: {'; '.join(failed)[:300]}"
        await self.memory.remember(f"{task[:200]} -- {lesson}", about=case_id)
        return lesson


def with_lessons(instructions: str, lessons: list[str]) -> str:
    """Instructions with the lessons appended (unchanged when there are none)."""
    if not lessons:
        return instructions
    return instructions + LESSONS_HEADER + "\n".join(f"- {lesson}" for lesson in lessons)
