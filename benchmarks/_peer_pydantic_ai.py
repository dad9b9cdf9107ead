"""PydanticAI's side of `benchmarks/peers.py`: the agent loop as a PydanticAI `Agent`.

Run: `.bench/pydantic-ai-venv/bin/python benchmarks/_peer_pydantic_ai.py BASE_URL SEQ CONCURRENT`

`OpenAIChatModel` (Chat Completions) over one `AsyncOpenAI` shared by every run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

import _peer_harness as harness  # before the framework: it notes the time
from openai import AsyncOpenAI, Timeout
from pydantic_ai import Agent
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider


async def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@asynccontextmanager
async def open_runner(base_url: str) -> AsyncIterator[harness.Run]:
    timeout = Timeout(harness.TIMEOUT_S, connect=harness.CONNECT_S)
    async with AsyncOpenAI(
        base_url=base_url, api_key="x", max_retries=0, timeout=timeout
    ) as client:
        model = OpenAIChatModel("scripted", provider=OpenAIProvider(openai_client=client))
        agent = Agent(model, tools=[add])

        async def run(question: str) -> str:
            return (await agent.run(question)).output

        yield run


if __name__ == "__main__":
    harness.main(open_runner, f"pydantic-ai-slim {version('pydantic-ai-slim')}")
