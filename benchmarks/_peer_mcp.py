"""MCP tool calls per second over stdio, for `benchmarks/peers.py`, in a fresh process.

Run: `.venv/bin/python benchmarks/_peer_mcp.py covey|mcp CALLS`

Sequential `calculate` calls to covey's bundled calc server (`python -m covey.servers.calc`),
through covey's `MCPToolset` or the official `mcp.Client` directly. Prints one JSON object.
"""

from __future__ import annotations

import json
import sys
import time

import anyio

ARGS = {"expression": "1 + 2"}
SERVER = [sys.executable, "-m", "covey.servers.calc"]


async def covey_rate(calls: int) -> float:
    from covey.tools import MCPToolset

    async with MCPToolset.stdio(SERVER[0], SERVER[1:]) as toolset:
        await toolset.call_tool("calculate", ARGS)
        start = time.perf_counter()
        for _ in range(calls):
            assert not (await toolset.call_tool("calculate", ARGS)).is_error
        return calls / (time.perf_counter() - start)


async def mcp_rate(calls: int) -> float:
    import mcp
    from mcp.client.stdio import StdioServerParameters

    params = StdioServerParameters(command=SERVER[0], args=SERVER[1:])
    async with mcp.Client(params, read_timeout_seconds=30) as client:
        await client.call_tool("calculate", ARGS)
        start = time.perf_counter()
        for _ in range(calls):
            assert not (await client.call_tool("calculate", ARGS)).is_error
        return calls / (time.perf_counter() - start)


if __name__ == "__main__":
    side, count = sys.argv[1], int(sys.argv[2])
    rate = anyio.run({"covey": covey_rate, "mcp": mcp_rate}[side], count)
    print(json.dumps({"calls_per_s": rate}))
