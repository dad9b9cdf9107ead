"""Reflection across trials (the Reflexion idea): lessons from failures, read by later tries.

With `--reflect`, the trials of a case run in order. After a failed trial the model writes
a short lesson (what went wrong, what to do next time) from the task, its answer, its tool
calls and the scorers' explanations; the lesson is kept in long-term memory, and later
trials whose task it matches get it in their instructions. The lessons themselves are
`covey.agents.Lessons`, the same an agent gets across runs.
"""

from __future__ import annotations

from ..agents import Lessons as AgentLessons
from ..agents._lessons import lessons_section
from ..models import ModelClient
from ..store import Store
from ._results import TrialResult

__all__ = ["Lessons", "with_lessons"]


class Lessons:
    """The lessons of one evaluation run, in a namespace of the store's memory."""

    def __init__(self, store: Store, run_id: str) -> None:
        """Lessons of run `run_id` (namespace `lessons:<run_id>`)."""
        self.lessons = AgentLessons(store, f"lessons:{run_id}")
        self.memory = self.lessons.memory

    async def for_task(self, task: str, limit: int = 3) -> list[str]:
        """The lessons most relevant to `task`."""
        return await self.lessons.relevant(task, limit)

    async def learn(self, model: ModelClient, case_id: str, task: str, trial: TrialResult) -> str:
        """Have the model write a lesson from a failed trial, and keep it."""
        calls = [
            f"{m.get('name', 'tool')}: {str(m.get('content', ''))[:200]}"
            for m in trial.transcript
            if m.get("role") == "tool"
        ]
        failed = "\n".join(f"{s.name}: {s.explanation}" for s in trial.scores if not s.passed)
        return await self.lessons.write(
            model,
            task,
            answer=trial.output or "",
            why=failed or trial.error or "",
            tool_results=calls,
            about=case_id,
        )


def with_lessons(instructions: str, lessons: list[str]) -> str:
    """Instructions with the lessons appended (unchanged when there are none)."""
    section = lessons_section(lessons)
    return "\n\n".join(part for part in (instructions, section) if part)
