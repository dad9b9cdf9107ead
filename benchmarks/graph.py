"""covey graphs: per-node overhead against plain asyncio and LangGraph, and checkpoint cost.

Run: `.venv/bin/python -m benchmarks.graph [--quick]`

1. A 50-node chain of async nodes (each adds 1 to a counter with the `add` reducer) against
   awaiting the same 50 functions in a loop.
2. One node fanning out with `Send` to 200 workers (results merged by `append`), then a join,
   against `anyio` task-group calls of the same 200 functions. Per node divides by the 202
   nodes the graph runs (plan, 200 workers, join); plain by its 200 calls.
3. The same two in LangGraph (pinned in `benchmarks/_venv.py`), installed in its own venv
   under `.bench/langgraph-venv` (made on first use from PyPI) and run there by
   `benchmarks/_langgraph_side.py`.
4. Checkpoints of one thread whose state grows by one message a step, run by the graph runner
   (a one-node cycle) with a checkpointer that times each commit: the mean and p95 commit time
   over one snapshot period early (steps 1-50) and late (951-1000), each window holding one
   full-state snapshot commit (also shown alone); the time to load a step's state as
   `resume()` does (from the store, then validated) at steps 10 and 1000, and at steps 49 and
   999 (the most deltas to replay after a snapshot); and the commit means again with
   `prune=KeepLast(100)`. SQLite, and PostgreSQL when `COVEY_BENCH_POSTGRES_URL` or
   `COVEY_TEST_POSTGRES_URL` is set.

Prints figures and a table of aims; asserts nothing.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import anyio
import pydantic

from covey.agents import END, START, FieldOp, Graph, SavedCheckpoint, Send, add, append
from covey.store import CheckpointStore, KeepLast, Store

from ._venv import BENCH, ROOT, peer_python
from ._venv import LANGGRAPH as LANGGRAPH_PINS

VENV = BENCH / "langgraph-venv"
SIDE = Path(__file__).resolve().parent / "_langgraph_side.py"
CHAIN, WIDTH = 50, 200
FAN_NODES = WIDTH + 2  # plan, the workers, join: in covey and in LangGraph alike
EVERY = 50  # CheckpointStore's snapshot_every: each window below spans one period


class Chain(pydantic.BaseModel):
    total: Annotated[int, add] = 0


class Fan(pydantic.BaseModel):
    results: Annotated[list[int], append] = []
    total: int = 0


class Thread(pydantic.BaseModel):
    messages: Annotated[list[str], append] = []


async def bump(state: Chain) -> dict[str, int]:
    return {"total": 1}


RAN: list[str] = []  # node runs of the fan-out graph, to check FAN_NODES


async def work(state: Fan, payload: int) -> dict[str, list[int]]:
    RAN.append("work")
    return {"results": [payload]}


async def median_us(run: Callable[[], Awaitable[None]], repeats: int, per: int) -> float:
    """Median wall time of `run` over `repeats` (after one warm-up), in µs per node."""
    await run()
    times: list[float] = []
    for _ in range(repeats):
        begin = time.perf_counter()
        await run()
        times.append(time.perf_counter() - begin)
    return statistics.median(times) / per * 1e6


async def covey_figures(repeats: int) -> dict[str, float]:
    chain = Graph(Chain)
    names = [f"n{i}" for i in range(CHAIN)]
    for name in names:
        chain.add_node(name, bump)
    chain.add_edge(START, names[0])
    for a, b in itertools.pairwise(names):
        chain.add_edge(a, b)
    chain.add_edge(names[-1], END)
    chain_app = chain.compile(step_limit=CHAIN + 10)

    async def plan(state: Fan) -> None:
        RAN.append("plan")

    async def join(state: Fan) -> dict[str, int]:
        RAN.append("join")
        return {"total": len(state.results)}

    fan = Graph(Fan)
    fan.add_node("plan", plan).add_node("work", work).add_node("join", join)
    fan.add_edge(START, "plan")
    fan.add_router("plan", lambda s: [Send("work", i) for i in range(WIDTH)])
    fan.add_edge("work", "join").add_edge("join", END)
    fan_app = fan.compile()

    async def covey_chain() -> None:
        assert (await chain_app.run(Chain())).state.total == CHAIN

    async def covey_fan() -> None:
        assert (await fan_app.run(Fan())).state.total == WIDTH

    RAN.clear()
    await covey_fan()
    assert len(RAN) == FAN_NODES, RAN

    async def plain_chain() -> None:
        state = Chain()
        for _ in range(CHAIN):
            state.total += (await bump(state))["total"]

    async def plain_fan() -> None:
        state, done = Fan(), list[dict[str, list[int]]]()

        async def one(i: int) -> None:
            done.append(await work(state, i))

        async with anyio.create_task_group() as tg:
            for i in range(WIDTH):
                tg.start_soon(one, i)
        assert len(done) == WIDTH

    return {
        "chain_us": await median_us(covey_chain, repeats, CHAIN),
        "chain_plain_us": await median_us(plain_chain, repeats, CHAIN),
        "fan_us": await median_us(covey_fan, repeats, FAN_NODES),
        "fan_plain_us": await median_us(plain_fan, repeats, WIDTH),
    }


def langgraph_figures(repeats: int) -> dict[str, Any] | str:
    """LangGraph's figures from its own venv, or why there are none."""
    python = peer_python("langgraph", LANGGRAPH_PINS)
    if isinstance(python, str):
        return python
    try:
        done = subprocess.run(
            [python, SIDE, str(CHAIN), str(WIDTH), str(repeats)],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as e:
        return f"LangGraph side failed: {e}"
    if done.returncode != 0:
        return f"LangGraph side failed: {done.stderr.strip()[-500:]}"
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    # The side divides by the workers alone; its graph also runs plan and join.
    figures["fan_us"] *= WIDTH / FAN_NODES
    return figures


class TimedCheckpoints:
    """A `Checkpointer` that passes commits to a `CheckpointStore` and times each one."""

    def __init__(self, inner: CheckpointStore) -> None:
        self.inner = inner
        self.seconds: dict[int, float] = {}
        self.refs: dict[int, str] = {}

    async def commit(
        self,
        thread_id: str,
        *,
        step: int,
        delta: list[FieldOp],
        next_nodes: list[str],
        interrupt: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> str:
        begin = time.perf_counter()
        ref = await self.inner.commit(
            thread_id,
            step=step,
            delta=delta,
            next_nodes=next_nodes,
            interrupt=interrupt,
            metadata=metadata,
        )
        self.seconds[step] = time.perf_counter() - begin
        self.refs[step] = ref
        return ref

    async def latest(self, thread_id: str) -> SavedCheckpoint | None:
        return await self.inner.latest(thread_id)


@dataclass(kw_only=True, slots=True, frozen=True)
class Commits:
    """Commit times (ms) over one snapshot period, with the snapshot commit in it."""

    mean: float
    p95: float
    snapshot: float


@dataclass(kw_only=True, slots=True, frozen=True)
class ThreadFigures:
    """One backend's checkpoint figures, in ms."""

    early: Commits
    late: Commits
    load: dict[int, float]
    pruned: tuple[float, float]


def commits(timed: TimedCheckpoints, first: int, last: int, snapshot: int) -> Commits:
    picked = [timed.seconds[s] * 1000 for s in range(first, last + 1)]
    return Commits(
        mean=statistics.mean(picked),
        p95=statistics.quantiles(picked, n=20)[-1],
        snapshot=timed.seconds[snapshot] * 1000,
    )


async def grow_thread(checkpoints: CheckpointStore, steps: int) -> TimedCheckpoints:
    """Run a one-node cycle for `steps` supersteps, timing each checkpoint commit."""

    async def say(state: Thread) -> dict[str, list[str]]:
        return {"messages": [f"message {len(state.messages)}: " + "x" * 80]}

    graph = Graph(Thread)
    graph.add_node("say", say).add_edge(START, "say")
    graph.add_router("say", lambda s: END if len(s.messages) >= steps else "say")
    timed = TimedCheckpoints(checkpoints)
    result = await graph.compile(checkpointer=timed, step_limit=steps + 10).run(
        Thread(), thread_id=uuid.uuid4().hex
    )
    assert len(result.state.messages) == steps and max(timed.seconds) == steps
    return timed


async def load_ms(checkpoints: CheckpointStore, ref: str, repeats: int = 20) -> float:
    """Median time to load a checkpoint's state the way `resume()` does, in ms."""
    times: list[float] = []
    for _ in range(repeats):
        begin = time.perf_counter()
        Thread.model_validate((await checkpoints.get(ref)).state)
        times.append(time.perf_counter() - begin)
    return statistics.median(times) * 1000


async def checkpoint_figures(store: Store, steps: int) -> ThreadFigures:
    """Commit and load times early and late in a `steps`-step thread (a multiple of EVERY)."""
    checkpoints = CheckpointStore(store, snapshot_every=EVERY)
    timed = await grow_thread(checkpoints, steps)
    early = commits(timed, 1, EVERY, EVERY)
    late = commits(timed, steps - EVERY + 1, steps, steps)
    load = {s: await load_ms(checkpoints, timed.refs[s]) for s in (10, EVERY - 1, steps - 1, steps)}
    pruning = await grow_thread(
        CheckpointStore(store, snapshot_every=EVERY, prune=KeepLast(100)), steps
    )
    pruned = (
        commits(pruning, 1, EVERY, EVERY).mean,
        commits(pruning, steps - EVERY + 1, steps, steps).mean,
    )
    return ThreadFigures(early=early, late=late, load=load, pruned=pruned)


async def stores(steps: int) -> dict[str, ThreadFigures]:
    out: dict[str, ThreadFigures] = {}
    with tempfile.TemporaryDirectory() as tmp:
        async with Store.from_url(f"sqlite:///{Path(tmp) / 'bench.db'}") as store:
            out["sqlite"] = await checkpoint_figures(store, steps)
    url = os.environ.get("COVEY_BENCH_POSTGRES_URL") or os.environ.get("COVEY_TEST_POSTGRES_URL")
    if not url:
        print("PostgreSQL skipped: set COVEY_BENCH_POSTGRES_URL (or COVEY_TEST_POSTGRES_URL).")
        return out
    schema = f"covey_bench_{uuid.uuid4().hex[:12]}"
    try:
        async with Store.from_url(url, schema=schema) as store:
            out["postgresql"] = await checkpoint_figures(store, steps)
    finally:
        async with Store.from_url(url) as admin, admin.write() as conn:
            await conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    return out


def print_checkpoints(figures: dict[str, ThreadFigures], steps: int) -> None:
    print(
        f"checkpoint commit, ms, over one snapshot period (graph runner + CheckpointStore, "
        f"{steps}-step thread, a full snapshot every {EVERY} steps):"
    )
    head = f"{'mean':>7} {'p95':>7} {'snapshot':>9}  {'mean, KeepLast(100)':>20}"
    print(f"  {'':<10} {'steps':<9} {head}")
    for name, f in figures.items():
        for label, c, pruned in (
            (f"1-{EVERY}", f.early, f.pruned[0]),
            (f"{steps - EVERY + 1}-{steps}", f.late, f.pruned[1]),
        ):
            print(
                f"  {name:<10} {label:<9} {c.mean:7.2f} {c.p95:7.2f} {c.snapshot:9.2f}  "
                f"{pruned:20.2f}"
            )
    print("load a step's state as resume() does, ms (median of 20):")
    for name, f in figures.items():
        print(f"  {name:<10} " + "   ".join(f"step {s} {ms:6.2f}" for s, ms in f.load.items()))


def row(label: str, value: str, aim: str, met: bool | None) -> None:
    verdict = {True: "yes", False: "NO", None: "n/a"}[met]
    print(f"  {label:<48} {value:>10}  {aim:>8}  {verdict}")


async def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    args = parser.parse_args()
    repeats, steps = (5, 200) if args.quick else (30, 1000)

    print(f"per-node time, µs (median of {repeats} runs):")
    covey = await covey_figures(repeats)
    lg = langgraph_figures(repeats)
    over: dict[str, dict[str, float]] = {"covey": {}, "langgraph": {}}
    sides = [("covey", covey)] + ([("langgraph", lg)] if isinstance(lg, dict) else [])
    print(
        f"  {'':<10} {'chain':>8} {'plain':>8} {'overhead':>9}   {'fan-out':>8} {'plain':>8} "
        f"{'overhead':>9}"
    )
    for name, f in sides:
        over[name] = {k: f[f"{k}_us"] - f[f"{k}_plain_us"] for k in ("chain", "fan")}
        print(
            f"  {name:<10} {f['chain_us']:8.1f} {f['chain_plain_us']:8.2f} "
            f"{over[name]['chain']:9.1f}   {f['fan_us']:8.1f} {f['fan_plain_us']:8.2f} "
            f"{over[name]['fan']:9.1f}"
        )
    if isinstance(lg, str):
        print(f"  LangGraph: {lg}")
    else:
        print(f"  (LangGraph {lg['version']}, in {VENV.relative_to(ROOT)})")

    figures = await stores(steps)
    print_checkpoints(figures, steps)

    print("\naims:")
    for kind, label in (("chain", "50-node chain"), ("fan", "200-way fan-out")):
        if isinstance(lg, dict) and over["langgraph"][kind] > 0:
            ratio = over["covey"][kind] / over["langgraph"][kind]
            row(f"{label}: covey / LangGraph overhead", f"{ratio:.3f}", "<= 0.2", ratio <= 0.2)
        else:
            row(f"{label}: covey / LangGraph overhead", "-", "<= 0.2", None)
    for name, f in figures.items():
        ratio = f.late.mean / f.early.mean
        row(
            f"{name}: mean commit, steps {steps - EVERY + 1}-{steps} / 1-{EVERY}",
            f"{ratio:.2f}x",
            "<= 1.5x",
            ratio <= 1.5,
        )
        ratio = f.load[steps] / f.load[10]
        row(f"{name}: load at step {steps} / 10", f"{ratio:.2f}x", "-", None)


if __name__ == "__main__":
    anyio.run(main)
