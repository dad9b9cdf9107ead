"""Checkpoints kept in memory: for tests and for runs that need no durability."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from .._errors import UsageError
from ..store._ops import FieldOp, apply_ops, dumps, loads

__all__ = ["MemoryCheckpoint", "MemoryCheckpointer", "MemoryEffect", "MemoryEffects"]


@dataclass(kw_only=True, slots=True, frozen=True)
class MemoryCheckpoint:
    """One committed superstep."""

    id: str
    """`thread:step`, for `fork()`."""
    step: int
    """Supersteps committed."""
    state: dict[str, Any]
    """The full state after it."""
    next_nodes: list[str]
    """Nodes of the next superstep."""
    interrupt: dict[str, Any] | None
    """The pending question, if any."""
    metadata: dict[str, Any]
    """The engine's bookkeeping."""


@dataclass(kw_only=True, slots=True, frozen=True)
class MemoryEffect:
    """A recorded side effect."""

    result: Any
    """What it returned, as JSON data."""


@dataclass(kw_only=True, slots=True)
class MemoryEffects:
    """An effect journal in memory (the `EffectLog` of a graph on a `MemoryCheckpointer`)."""

    recorded: dict[tuple[str, str], MemoryEffect] = field(default_factory=lambda: {})
    """Effects by thread and key."""

    async def get(self, thread_id: str, key: str) -> MemoryEffect | None:
        """The effect recorded under `key`, or None."""
        return self.recorded.get((thread_id, key))

    async def record(self, thread_id: str, key: str, result: Any) -> MemoryEffect:
        """Record an effect (as JSON, like the store does); the first record of a key wins.

        Raises:
            UsageError: `result` is not JSON data.
        """
        effect = MemoryEffect(result=loads(dumps(result, "An effect's result")))
        return self.recorded.setdefault((thread_id, key), effect)


@dataclass(kw_only=True, slots=True)
class MemoryCheckpointer:
    """Keeps every thread's checkpoints, and its nodes' effects, in this process's memory."""

    threads: dict[str, list[MemoryCheckpoint]] = field(default_factory=lambda: {})
    """Checkpoints per thread, oldest first."""
    effects: MemoryEffects = field(default_factory=MemoryEffects)
    """The effect journal of graphs compiled with this checkpointer."""

    async def commit(
        self,
        thread_id: str,
        *,
        step: int,
        delta: list[FieldOp],
        next_nodes: list[str],
        interrupt: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> str:
        """Record one superstep."""
        history = self.threads.setdefault(thread_id, [])
        if step == 0:
            history.clear()
        elif history and history[-1].step >= step:
            raise UsageError(f"Thread {thread_id!r} already has a checkpoint at step {step}.")
        base = history[-1].state if history else {}
        history.append(
            MemoryCheckpoint(
                id=f"{thread_id}:{step}",
                step=step,
                state=apply_ops(base, delta),
                next_nodes=list(next_nodes),
                interrupt=interrupt,
                metadata=copy.deepcopy(metadata or {}),
            )
        )
        return f"{thread_id}:{step}"

    async def latest(self, thread_id: str) -> MemoryCheckpoint | None:
        """The last checkpoint of the thread."""
        history = self.threads.get(thread_id)
        return history[-1] if history else None

    async def history(self, thread_id: str) -> list[MemoryCheckpoint]:
        """The thread's checkpoints, newest first."""
        return list(reversed(self.threads.get(thread_id, [])))

    async def fork(self, checkpoint_id: str, new_thread_id: str) -> str:
        """Start `new_thread_id` from a checkpoint (`thread:step`); returns the new id.

        Raises:
            UsageError: no such checkpoint, or the new thread exists.
        """
        thread, _, step = checkpoint_id.rpartition(":")
        found = [c for c in self.threads.get(thread, []) if str(c.step) == step]
        if not found:
            raise UsageError(f"No checkpoint {checkpoint_id!r} to fork.")
        if self.threads.get(new_thread_id):
            raise UsageError(f"Thread {new_thread_id!r} exists: fork into a new thread id.")
        source = found[0]
        copy_id = f"{new_thread_id}:{source.step}"
        fork = MemoryCheckpoint(
            id=copy_id,
            step=source.step,
            state=copy.deepcopy(source.state),
            next_nodes=list(source.next_nodes),
            interrupt=source.interrupt,
            metadata=copy.deepcopy(source.metadata),
        )
        self.threads[new_thread_id] = [fork]
        return copy_id
