"""covey's agent loop against a hand-written raw `AsyncOpenAI` tool loop, memory at 1,000
concurrent runs, and MCP tool calls per second against the raw `mcp` client.

Run: `.venv/bin/python benchmarks/agent_loop.py [--runs 300] [--tracing]`

With `--tracing`, the loop is measured again after `covey.tracing.configure(store=...)`:
every run then records its agent, model-call and tool-call spans into a SQLite store.

The scripted model server runs in its own process: each run is one tool call then an answer.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
import mcp
import openai
from mcp.client.stdio import StdioServerParameters

from covey import ModelClient, ModelConfig
from covey.agents import Agent
from covey.testing import scripted_server_process
from covey.tools import MCPToolset, tool

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = str(ROOT / "tests" / "tools" / "mcp_fixture_server.py")
BLOCK = 20
POLICY = "benchmarks.policies:add_then_answer"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "add",
            "description": "Add two integers.",
            "parameters": {
                "type": "object",
                "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                "required": ["a", "b"],
            },
        },
    }
]


@tool
async def add(a: int, b: int) -> int:
    """Add two integers (async: a sync tool would run in a worker thread, for safety)."""
    return a + b


async def raw_loop(client: openai.AsyncOpenAI, question: str) -> str:
    """What a user would write by hand: model, tools, feed back, until an answer."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": question}]
    create: Any = client.chat.completions.create
    while True:
        completion = await create(model="scripted", messages=messages, tools=TOOLS)
        message = completion.choices[0].message
        if not message.tool_calls:
            return message.content or ""
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            args = json.loads(call.function.arguments)
            messages.append(
                {"role": "tool", "tool_call_id": call.id, "content": str(args["a"] + args["b"])}
            )


async def loop_overhead(base_url: str, runs: int, label: str = "") -> None:
    async with (
        ModelClient(ModelConfig(base_url=base_url, model="scripted")) as model,
        openai.AsyncOpenAI(base_url=base_url, api_key="x", max_retries=0) as raw,
    ):
        agent = Agent("bench", model, tools=[add])
        for _ in range(BLOCK):
            await agent.run("add 1 and 2")
            await raw_loop(raw, "add 1 and 2")
        covey_times: list[float] = []
        raw_times: list[float] = []
        for _ in range(max(1, runs // BLOCK)):
            start = time.perf_counter()
            for _ in range(BLOCK):
                await raw_loop(raw, "add 1 and 2")
            raw_times.append((time.perf_counter() - start) / BLOCK)
            start = time.perf_counter()
            for _ in range(BLOCK):
                await agent.run("add 1 and 2")
            covey_times.append((time.perf_counter() - start) / BLOCK)
    covey_ms = statistics.median(covey_times) * 1000
    raw_ms = statistics.median(raw_times) * 1000
    print(f"agent run = tool call + answer, {runs} sequential runs each{label}:")
    print(f"  raw AsyncOpenAI loop   {raw_ms:8.3f} ms/run")
    print(f"  covey Agent.run        {covey_ms:8.3f} ms/run")
    print(f"  ratio covey/raw        {covey_ms / raw_ms:8.3f}x   (aim: <= 1.10x)")


async def concurrent_memory(base_url: str, runs: int) -> None:
    async with ModelClient(ModelConfig(base_url=base_url, model="scripted")) as model:
        agent = Agent("bench", model, tools=[add])
        await agent.run("warm up")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        async with anyio.create_task_group() as group:
            for _ in range(runs):
                group.start_soon(agent.run, "add 1 and 2")
        elapsed = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"{runs} concurrent agent runs: {elapsed:.2f} s; peak RSS {peak / 1024:.0f} MiB "
        f"(+{(peak - before) / 1024:.0f} MiB over the warmed-up process)"
    )


async def mcp_rate(calls: int) -> None:
    params = StdioServerParameters(command=sys.executable, args=[FIXTURE])
    async with mcp.Client(params, read_timeout_seconds=30) as client:
        await client.call_tool("add", {"a": 1, "b": 2})
        start = time.perf_counter()
        for _ in range(calls):
            await client.call_tool("add", {"a": 1, "b": 2})
        raw = calls / (time.perf_counter() - start)
    async with MCPToolset.stdio(sys.executable, [FIXTURE]) as toolset:
        await toolset.call_tool("add", {"a": 1, "b": 2})
        start = time.perf_counter()
        for _ in range(calls):
            await toolset.call_tool("add", {"a": 1, "b": 2})
        ours = calls / (time.perf_counter() - start)
    print(f"MCP tool calls over stdio, {calls} sequential:")
    print(f"  raw mcp.Client   {raw:8.1f} calls/s")
    print(f"  covey MCPToolset {ours:8.1f} calls/s")
    print(f"  ratio covey/raw  {ours / raw:8.3f}x   (aim: >= 0.9x)")


async def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--concurrent", type=int, default=1000)
    parser.add_argument("--mcp-calls", type=int, default=500)
    parser.add_argument("--tracing", action="store_true", help="also measure with tracing on")
    args = parser.parse_args()
    async with scripted_server_process(POLICY, cwd=str(ROOT)) as base_url:
        await loop_overhead(base_url, args.runs, ", tracing off")
        if args.tracing:
            await traced_overhead(base_url, args.runs)
        if args.concurrent:
            await concurrent_memory(base_url, args.concurrent)
    if args.mcp_calls:
        await mcp_rate(args.mcp_calls)


async def traced_overhead(base_url: str, runs: int) -> None:
    """The same loop with every span written to a SQLite store (batched, in its thread)."""
    import covey.tracing

    with tempfile.TemporaryDirectory() as folder:
        provider = covey.tracing.configure(store=f"sqlite:///{folder}/spans.db")
        await loop_overhead(base_url, runs, ", tracing on (store exporter)")
        provider.shutdown()


if __name__ == "__main__":
    anyio.run(main)
