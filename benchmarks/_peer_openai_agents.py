"""The OpenAI Agents SDK's side of `benchmarks/peers.py`: the agent loop as its `Agent`.

Run: `.bench/openai-agents-venv/bin/python benchmarks/_peer_openai_agents.py BASE_URL SEQ CONC`

`OpenAIChatCompletionsModel` over one `AsyncOpenAI` shared by every run; tracing is off (its
default exporter would send spans to OpenAI's platform).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

import _peer_harness as harness  # before the framework: it notes the time
from agents import (
    Agent,
    OpenAIChatCompletionsModel,
    Runner,
    function_tool,
    set_tracing_disabled,
)
from openai import AsyncOpenAI, Timeout


@function_tool
async def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@asynccontextmanager
async def open_runner(base_url: str) -> AsyncIterator[harness.Run]:
    set_tracing_disabled(True)
    timeout = Timeout(harness.TIMEOUT_S, connect=harness.CONNECT_S)
    client = AsyncOpenAI(base_url=base_url, api_key="x", max_retries=0, timeout=timeout)
    async with client:
        model = OpenAIChatCompletionsModel(model="scripted", openai_client=client)
        agent = Agent(name="bench", model=model, tools=[add])

        async def run(question: str) -> str:
            return str((await Runner.run(agent, question)).final_output)

        yield run


if __name__ == "__main__":
    harness.main(open_runner, f"openai-agents {version('openai-agents')}")
