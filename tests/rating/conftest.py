"""Rating fixtures: fixture servers by defect, and ratings made once per module."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio

from covey.rating import RateOptions, Rating, rate_server

NOTES_SERVER = Path(__file__).parent / "fixtures" / "notes_server.py"

FAST = RateOptions(call_timeout=10, start_timeout=60, malformed_calls=8, budget=240)
"""Options for tests: few malformed calls; a call that takes 10 s counts as a hang."""


def notes_command(defect: str) -> list[str]:
    """The command line of the notes fixture server with `defect` ("none": correct)."""
    return [sys.executable, str(NOTES_SERVER), "--defect", defect]


def rate_all(jobs: dict[str, Callable[[], Awaitable[Rating]]]) -> dict[str, Rating]:
    """Run every rating job at once (they mostly wait), in a fresh event loop."""
    ratings: dict[str, Rating] = {}

    async def one(name: str, job: Callable[[], Awaitable[Rating]]) -> None:
        ratings[name] = await job()

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for name, job in jobs.items():
                group.start_soon(one, name, job)

    anyio.run(main)
    return ratings


def rate_notes(defect: str, options: RateOptions = FAST) -> Callable[[], Awaitable[Rating]]:
    return lambda: rate_server(notes_command(defect), options=options)
