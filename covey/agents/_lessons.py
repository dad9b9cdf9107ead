"""Reflection across runs (the Reflexion idea): lessons from failures, read by later runs.

When a task fails (the caller says so, or an eval scorer does), a model writes a short
lesson from the task, the answer, the tool results and why it failed: what went wrong and
what to do next time. The lesson is kept in a namespace of long-term memory, and later runs
whose task it matches get it in their instructions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._errors import RunError
from ..models import (
    ModelClient,
    ModelSettings,
    SystemMessage,
    ToolResultMessage,
    UserMessage,
)

if TYPE_CHECKING:
    from ..store import Embedder, LongTermMemory, Store
    from ._agent import RunResult

__all__ = ["LESSONS_HEADING", "Lessons", "lessons_section"]

LESSONS_HEADING = "Lessons from earlier attempts at tasks like this one:\n"

WRITE_LESSON = (
    "You write lessons for an agent that failed a task. In one or two sentences, say what "
    "went wrong and what to do differently next time. Be concrete; no preamble."
)


def lessons_section(lessons: Sequence[str]) -> str:
    """The lessons as a part of an agent's instructions ('' when there are none)."""
    if not lessons:
        return ""
    return LESSONS_HEADING + "\n".join(f"- {lesson}" for lesson in lessons)


class Lessons:
    """Lessons learned from failed tasks, in a namespace of the store's long-term memory.

    Give it to an agent (`Agent(..., lessons=Lessons(store, "lessons:triage"))`): every run
    gets the lessons most relevant to its task in the instructions, and
    `await agent.learn(task, result, feedback)` writes a new one after a failure.

    Example:
        ```python
        lessons = Lessons(store, "lessons:support")
        agent = Agent("support", model, "Answer customers.", lessons=lessons)
        result = await agent.run(task)
        if not good_enough(result.output):
            await agent.learn(task, result, "It quoted last year's prices.")
        ```
    """

    def __init__(
        self,
        store: Store,
        namespace: str = "lessons",
        *,
        limit: int = 3,
        embedder: Embedder | None = None,
    ) -> None:
        """Lessons in `namespace` of `store`; runs get at most `limit` of them."""
        from ..store import LongTermMemory  # loads SQLAlchemy, which agents without memory skip

        self.memory: LongTermMemory = LongTermMemory(store, namespace, embedder=embedder)
        """Where the lessons are kept (agents sharing a namespace share their lessons)."""
        self.limit = limit
        """At most this many lessons are placed in a run's instructions."""

    async def relevant(self, task: str, limit: int | None = None) -> list[str]:
        """The lessons most relevant to `task`, best first."""
        if not task.strip():
            return []
        found = await self.memory.recall(task, limit=limit or self.limit)
        return [m.text for m in found]

    async def write(
        self,
        model: ModelClient,
        task: str,
        *,
        answer: str,
        why: str,
        tool_results: Sequence[str] = (),
        about: str = "lessons",
    ) -> str:
        """Have `model` write a lesson about a failed attempt at `task`, keep it, return it.

        Args:
            model: writes the lesson.
            task: what was asked.
            answer: what the attempt answered ('' for none).
            why: why it failed: a person's feedback, a scorer's explanation, an error.
            tool_results: what the attempt's tools returned, one line each.
            about: what the lesson is about (e.g. a case id), kept with it.
        """
        report = "\n".join(
            [
                f"Task: {task}",
                f"Answer given: {answer or '(none)'}",
                "Tool results:\n" + ("\n".join(tool_results) or "(none)"),
                f"Why it failed:\n{why or '(unknown)'}",
            ]
        )
        settings = ModelSettings(max_tokens=120, temperature=0.0)
        response = await model.complete(
            [SystemMessage(content=WRITE_LESSON), UserMessage(content=report)], settings=settings
        )
        lesson = response.text.strip() or f"An earlier attempt failed: {why[:300]}"
        # The task leads the memory, so later runs of similar tasks find the lesson.
        await self.memory.remember(f"{task[:200]} -- {lesson}", about=about)
        return lesson

    async def learn(
        self,
        model: ModelClient,
        task: str,
        result: RunResult[Any] | RunError | None,
        feedback: str,
    ) -> str:
        """Write a lesson from a failed agent run: its result, or the error it raised."""
        messages: Sequence[object] = () if result is None else result.messages
        if isinstance(result, RunError):
            answer, feedback = "", f"{feedback}\nThe run failed: {result}".strip()
        else:
            answer = "" if result is None else str(result.output)
        return await self.write(
            model, task, answer=answer, why=feedback, tool_results=_tool_results(messages)
        )


def _tool_results(messages: Sequence[object]) -> list[str]:
    return [f"{m.name}: {m.content[:200]}" for m in messages if isinstance(m, ToolResultMessage)]
