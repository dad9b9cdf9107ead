"""A run whose events are read while it happens, owned by an `async with` block.

The run is a task in a task group that the block enters and exits in one task, so leaving
the block early cancels the run cleanly and nothing outlives it.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Generic, Self, TypeVar

import anyio
import anyio.abc
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .._errors import CoveyError, UsageError

__all__ = ["EventStream"]

E = TypeVar("E")
R = TypeVar("R")


class EventStream(Generic[E, R]):
    """Events of one run: `async with ... as events: async for event in events: ...`.

    `result` holds what the run returned once the events are read to the end; a
    `CoveyError` the run raised is raised by the iteration.
    """

    def __init__(
        self, start: Callable[[Callable[[E], Awaitable[None]], Callable[[E], None]], Awaitable[R]]
    ) -> None:
        """`start(emit, emit_nowait)` runs the whole thing and returns its result."""
        self._start = start
        self._group: anyio.abc.TaskGroup | None = None
        self._receive: MemoryObjectReceiveStream[E] | None = None
        self._result: R | None = None
        self._done = False
        self._error: BaseException | None = None

    @property
    def result(self) -> R:
        """The run's result, once the stream has ended.

        Raises:
            UsageError: the run has not finished.
        """
        if not self._done:
            raise UsageError("The run has not finished: read the whole stream first.")
        return self._result  # type: ignore[return-value]

    async def _drive(self, send: MemoryObjectSendStream[E]) -> None:
        async with send:
            try:
                self._result = await self._start(send.send, send.send_nowait)
                self._done = True
            except CoveyError as exc:
                self._error = exc

    async def __aenter__(self) -> Self:
        if self._group is not None:
            raise UsageError("This stream is already open; start the run again for a new one.")
        send, self._receive = anyio.create_memory_object_stream[E](math.inf)
        self._group = anyio.create_task_group()
        await self._group.__aenter__()
        self._group.start_soon(self._drive, send)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        assert self._group is not None and self._receive is not None
        if exc is not None or (not self._done and self._error is None):
            # Left early, or failing: stop the run rather than wait for it.
            self._group.cancel_scope.cancel()
        self._receive.close()
        return await self._group.__aexit__(exc_type, exc, tb)

    def __aiter__(self) -> AsyncIterator[E]:
        if self._receive is None:
            raise UsageError(
                "Iterate a stream inside its block: "
                "`async with thing.stream(...) as events: async for event in events: ...`."
            )
        return self._events(self._receive)

    async def _events(self, receive: MemoryObjectReceiveStream[E]) -> AsyncIterator[E]:
        async for event in receive:
            yield event
        if self._error is not None:
            raise self._error
