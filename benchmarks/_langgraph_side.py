"""LangGraph's half of `benchmarks/graph.py`, run inside LangGraph's own virtual environment.

Run: `.bench/langgraph-venv/bin/python benchmarks/_langgraph_side.py CHAIN FANOUT REPEATS`

Builds the same two workloads as the covey side (a chain of async nodes incrementing a counter
with an `add` reducer; one node fanning out with `Send` to workers whose results an append
reducer merges, then a join) and prints one JSON object of microseconds per node, for LangGraph
and for plain asyncio measured in this same interpreter.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import operator
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import Send


class Chain(TypedDict):
    total: Annotated[int, operator.add]


class Fan(TypedDict):
    results: Annotated[list[int], operator.add]
    total: int


async def bump(state: Chain) -> dict[str, int]:
    return {"total": 1}


async def work(payload: int) -> dict[str, list[int]]:
    return {"results": [payload]}


def chain_app(length: int) -> Any:
    builder = StateGraph(Chain)
    names = [f"n{i}" for i in range(length)]
    for name in names:
        builder.add_node(name, bump)
    builder.add_edge(START, names[0])
    for a, b in itertools.pairwise(names):
        builder.add_edge(a, b)
    builder.add_edge(names[-1], END)
    return builder.compile()


def fan_app(width: int) -> Any:
    async def plan(state: Fan) -> dict[str, Any]:
        return {}

    async def join(state: Fan) -> dict[str, int]:
        return {"total": len(state["results"])}

    builder = StateGraph(Fan)
    builder.add_node("plan", plan)
    builder.add_node("work", work)
    builder.add_node("join", join)
    builder.add_edge(START, "plan")
    builder.add_conditional_edges("plan", lambda s: [Send("work", i) for i in range(width)])
    builder.add_edge("work", "join")
    builder.add_edge("join", END)
    return builder.compile()


async def median_us(run: Callable[[], Awaitable[None]], repeats: int, per: int) -> float:
    await run()  # warm up
    times: list[float] = []
    for _ in range(repeats):
        begin = time.perf_counter()
        await run()
        times.append(time.perf_counter() - begin)
    return statistics.median(times) / per * 1e6


async def main(chain: int, width: int, repeats: int) -> dict[str, float]:
    capp, fapp = chain_app(chain), fan_app(width)
    config = {"recursion_limit": chain + 10}

    async def lg_chain() -> None:
        out = await capp.ainvoke({"total": 0}, config=config)
        assert out["total"] == chain

    async def lg_fan() -> None:
        out = await fapp.ainvoke({"results": [], "total": 0})
        assert out["total"] == width

    async def plain_chain() -> None:
        state: Chain = {"total": 0}
        for _ in range(chain):
            state["total"] += (await bump(state))["total"]

    async def plain_fan() -> None:
        async with asyncio.TaskGroup() as tg:  # what LangGraph itself runs on
            done = [tg.create_task(work(i)) for i in range(width)]
        assert len(done) == width

    return {
        "chain_us": await median_us(lg_chain, repeats, chain),
        "chain_plain_us": await median_us(plain_chain, repeats, chain),
        "fan_us": await median_us(lg_fan, repeats, width),
        "fan_plain_us": await median_us(plain_fan, repeats, width),
    }


if __name__ == "__main__":
    import langgraph  # noqa: F401  (fails early, with a clear message, outside its venv)

    chain_n, width_n, repeats_n = (int(a) for a in sys.argv[1:4])
    figures = asyncio.run(main(chain_n, width_n, repeats_n))
    from importlib.metadata import version

    print(json.dumps({**figures, "version": version("langgraph")}))
