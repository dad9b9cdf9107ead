"""Running several coroutines at once and failing with the first error as itself.

A task group wraps errors in an `ExceptionGroup`; users of covey should see the error that
happened (`NodeFailed`, `UsageError`, ...), not a group of one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import anyio

__all__ = ["run_all"]


async def run_all(jobs: Sequence[Callable[[], Awaitable[None]]]) -> None:
    """Run `jobs` concurrently; on the first failure, cancel the others and raise it."""
    if len(jobs) == 1:
        await jobs[0]()
        return
    errors: list[Exception] = []
    async with anyio.create_task_group() as group:

        async def guarded(job: Callable[[], Awaitable[None]]) -> None:
            try:
                await job()
            except Exception as exc:
                errors.append(exc)
                group.cancel_scope.cancel()

        for job in jobs:
            group.start_soon(guarded, job)
    if errors:
        raise errors[0]
