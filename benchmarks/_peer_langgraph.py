"""LangGraph's side of `benchmarks/peers.py`: the agent loop as its prebuilt ReAct agent.

Run: `.bench/langgraph-venv/bin/python benchmarks/_peer_langgraph.py BASE_URL SEQ CONCURRENT`

`create_react_agent` over `langchain_openai.ChatOpenAI` (Chat Completions), one model
object shared by every run, as LangGraph's docs build an agent.
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

import _peer_harness as harness  # before the framework: it notes the time
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from langgraph.prebuilt import create_react_agent
from openai import Timeout


@tool
async def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@asynccontextmanager
async def open_runner(base_url: str) -> AsyncIterator[harness.Run]:
    timeout = Timeout(harness.TIMEOUT_S, connect=harness.CONNECT_S)
    model = ChatOpenAI(
        model="scripted", base_url=base_url, api_key="x", max_retries=0, timeout=timeout
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # prebuilt agents moved to `langchain` in 1.0
        agent = create_react_agent(model, [add])

    async def run(question: str) -> str:
        out = await agent.ainvoke({"messages": [("user", question)]})
        return str(out["messages"][-1].content)

    yield run


if __name__ == "__main__":
    harness.main(open_runner, f"langgraph {version('langgraph')}")
