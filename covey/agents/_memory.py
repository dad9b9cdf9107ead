"""Long-term memory for agents: `remember` and `recall` tools, and memories in the prompt.

`Agent(..., memory=LongTermMemory(store, "user:ada"))` gives the agent the two tools; with
`recall_into_prompt=k` the k memories most relevant to each task are also placed in its
instructions before the run. Agents of one team share memory by sharing a namespace.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import pydantic

from ..tools import FunctionTool, Tool

if TYPE_CHECKING:
    from ..store import LongTermMemory

__all__ = ["memory_tools", "memories_section"]

MEMORIES_HEADING = "Relevant memories from earlier runs:\n"
ABOUT_MAX = 64
"""Longest subject (`about`) the `remember` tool takes."""


def memory_tools(memory: LongTermMemory) -> list[Tool]:
    """The `remember` and `recall` tools over `memory`."""

    # A short subject keeps small models from writing essays into it (the limit reaches the
    # model's grammar on servers that constrain arguments, such as llama.cpp).
    async def remember(
        fact: str, about: Annotated[str, pydantic.Field(max_length=ABOUT_MAX)] = "notes"
    ) -> str:
        """Keep a fact for later runs (a preference, a decision, something learned).

        Args:
            fact: The fact, as one self-contained sentence.
            about: Who or what it is about, e.g. a person's name (default: notes).
        """
        kept = await memory.remember(fact, about=about)
        return f"Remembered (memory {kept.id}, about {kept.about})."

    async def recall(query: str, limit: int = 5) -> str:
        """Look up facts kept in earlier runs.

        Args:
            query: What to look for, in a few words.
            limit: At most this many memories (1-20).
        """
        found = await memory.recall(query, limit=max(1, min(limit, 20)))
        if not found:
            return "No memories match."
        return "\n".join(f"- {m.text} (about {m.about})" for m in found)

    return [FunctionTool(remember), FunctionTool(recall)]


async def memories_section(memory: LongTermMemory, task: str, limit: int) -> str:
    """The memories most relevant to `task`, as a part of the instructions ('' for none)."""
    found = await memory.recall(task, limit=limit) if task.strip() else []
    if not found:
        return ""
    return MEMORIES_HEADING + "\n".join(f"- {m.text} (about {m.about})" for m in found)
