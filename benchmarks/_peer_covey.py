"""covey's side of `benchmarks/peers.py`: the agent loop as a covey `Agent`.

Run: `.venv/bin/python benchmarks/_peer_covey.py BASE_URL SEQUENTIAL CONCURRENT`
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

import _peer_harness as harness  # before the framework: it notes the time

from covey import ModelClient, ModelConfig
from covey.agents import Agent
from covey.tools import tool


@tool
async def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@asynccontextmanager
async def open_runner(base_url: str) -> AsyncIterator[harness.Run]:
    config = ModelConfig(
        base_url=base_url,
        model="scripted",
        timeout=harness.TIMEOUT_S,
        connect_timeout=harness.CONNECT_S,
    )
    async with ModelClient(config) as model:
        agent = Agent("bench", model, tools=[add])

        async def run(question: str) -> str:
            return (await agent.run(question)).output

        yield run


if __name__ == "__main__":
    harness.main(open_runner, version("covey"))
