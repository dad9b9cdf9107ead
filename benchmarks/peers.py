"""covey against LangGraph, PydanticAI, the OpenAI Agents SDK and a raw `openai` loop, in one run.

Run: `.venv/bin/python -m benchmarks.peers [--quick]`

1. Agent loop: the model asks for `add(1, 2)`, the framework runs the tool and sends the
   result back, the model answers (2 model calls + 1 tool call). One fake server for all:
   covey's scripted model server with `benchmarks.policies:add_then_answer`, in its own
   process. Each implementation runs in a fresh process (`benchmarks/_peer_*.py`, peers in
   their own pinned venvs under `.bench/`, made on first use from PyPI), `--repeats` times,
   in a rotating order so that drift in machine load hits all alike: runs one after another,
   then `--concurrent` runs at once. Wall ms per run, CPU ms per run of the framework's
   process (what the framework costs, less sensitive to other load on the machine), ratio
   to the raw loop, peak RSS, and the framework's import time and RSS.
2. Graph per-node cost, covey against LangGraph (`benchmarks/graph.py`'s workloads, each in
   a fresh process).
3. MCP tool calls per second over stdio to covey's calc server: covey's `MCPToolset`
   against the official `mcp.Client` (`benchmarks/_peer_mcp.py`, fresh processes).
4. Import time and RSS of `import covey` and `from covey.agents import Agent` against
   `import openai` (`benchmarks/imports.py`).

Medians over the repeats, with [min-max]. Prints figures and the aims; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from covey.testing import scripted_server_process

from ._venv import LANGGRAPH, OPENAI_AGENTS, PYDANTIC_AI, ROOT, peer_python
from .graph import CHAIN, FAN_NODES, WIDTH, langgraph_figures
from .imports import print_imports

HERE = Path(__file__).resolve().parent
POLICY = "benchmarks.policies:add_then_answer"
SAVED = ROOT / ".bench" / "peers-agent-loop.json"
"""The last run's agent-loop figures, one object per process."""


@dataclass(kw_only=True, slots=True, frozen=True)
class Side:
    """One implementation of the agent loop."""

    name: str
    script: str
    venv: str | None = None
    """`.bench/VENV-venv`, or None for covey's own environment."""
    pins: dict[str, str] | None = None
    extras: str = ""


SIDES = [
    Side(name="raw openai", script="_peer_raw.py"),
    Side(name="covey", script="_peer_covey.py"),
    Side(name="LangGraph", script="_peer_langgraph.py", venv="langgraph", pins=LANGGRAPH),
    Side(
        name="PydanticAI",
        script="_peer_pydantic_ai.py",
        venv="pydantic-ai",
        pins=PYDANTIC_AI,
        extras="[openai]",
    ),
    Side(
        name="OpenAI Agents SDK",
        script="_peer_openai_agents.py",
        venv="openai-agents",
        pins=OPENAI_AGENTS,
    ),
]


def run_json(command: list[str | Path], timeout: float = 900) -> dict[str, Any] | str:
    """The last stdout line of `command` as JSON, or why there is none."""
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False, cwd=ROOT
        )
    except (OSError, subprocess.SubprocessError) as e:
        return f"{command[1]} failed: {e}"
    if done.returncode != 0:
        return f"{command[1]} failed: {done.stderr.strip()[-500:]}"
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def spread(values: list[float], scale: float = 1.0, digits: int = 1) -> str:
    """`median [min-max]`."""
    m, lo, hi = (x * scale for x in (statistics.median(values), min(values), max(values)))
    return f"{m:.{digits}f} [{lo:.{digits}f}-{hi:.{digits}f}]"


def agent_loop(sequential: int, concurrent: int, repeats: int) -> dict[str, list[dict[str, Any]]]:
    """Each side's figures, one dict per fresh process."""
    pythons: dict[str, Path | str] = {}
    for side in SIDES:
        if side.venv is None or side.pins is None:
            pythons[side.name] = Path(sys.executable)
        else:
            pythons[side.name] = peer_python(side.venv, side.pins, side.extras)
    runs: dict[str, list[dict[str, Any]]] = {s.name: [] for s in SIDES}

    async def measure() -> None:
        async with scripted_server_process(POLICY, cwd=str(ROOT)) as base_url:
            for r in range(repeats):
                for side in SIDES[r % len(SIDES) :] + SIDES[: r % len(SIDES)]:
                    python = pythons[side.name]
                    if isinstance(python, str):
                        continue
                    command = [python, HERE / side.script, base_url, str(sequential)]
                    got = await anyio.to_thread.run_sync(run_json, [*command, str(concurrent)])
                    if isinstance(got, str):
                        print(f"  {side.name}: {got}")
                    else:
                        runs[side.name].append(got)
                print(f"  repeat {r + 1}/{repeats} done", flush=True)

    anyio.run(measure)
    for side in SIDES:
        if isinstance(reason := pythons[side.name], str):
            print(f"  {side.name}: {reason}")
    return runs


def print_agent_loop(runs: dict[str, list[dict[str, Any]]], concurrent: int) -> None:
    raw = runs["raw openai"]
    numbers = [k for k in raw[0] if k != "version"] if raw else []
    base = {k: statistics.median(r[k] for r in raw) for k in numbers}
    print(
        f"\n{'':<18} {'sequential ms/run':>19} {'CPU ms/run':>16} {'x raw':>10}"
        f"  {concurrent} at once: {'ms/run':>14} {'CPU ms/run':>16} {'x raw':>10}"
        f" {'peak RSS MiB':>18}  {'import s':>14} {'MiB':>6}"
    )
    for name, got in runs.items():
        if not got:
            continue

        def col(key: str) -> list[float]:
            return [r[key] for r in got]  # noqa: B023  (used within the iteration)

        def ratio(key: str) -> str:
            if not base:
                return "-"
            return f"{statistics.median(col(key)) / base[key]:.2f}"

        print(
            f"{name:<18} {spread(col('seq_ms')):>19} {spread(col('seq_cpu_ms'), digits=2):>16} "
            f"{ratio('seq_ms'):>4}/{ratio('seq_cpu_ms'):<5}"
            f"  {'':>{len(str(concurrent)) + 10}}{spread(col('conc_ms')):>14} "
            f"{spread(col('conc_cpu_ms'), digits=2):>16} "
            f"{ratio('conc_ms'):>4}/{ratio('conc_cpu_ms'):<5} "
            f"{spread(col('conc_peak_mib'), digits=0):>18}  "
            f"{spread(col('import_s'), digits=2):>14} "
            f"{statistics.median(col('import_rss_mib')):6.0f}"
        )
    versions = ", ".join(f"{got[0]['version']}" for got in runs.values() if got)
    print(f"(x raw: wall/CPU ratio of medians; versions: {versions})")


def graph_cost(repeats: int, inner: int) -> None:
    """Per-node overhead over plain asyncio, covey against LangGraph, fresh processes."""
    probe = (
        "import anyio, json; from benchmarks.graph import covey_figures; "
        f"print(json.dumps(anyio.run(covey_figures, {inner})))"
    )
    sides: dict[str, list[dict[str, Any]]] = {"covey": [], "LangGraph": []}
    for _ in range(repeats):
        got = run_json([sys.executable, "-c", probe])
        if isinstance(got, dict):
            sides["covey"].append(got)
        lg = langgraph_figures(inner)
        if isinstance(lg, dict):
            sides["LangGraph"].append(lg)
        else:
            print(f"  LangGraph: {lg}")
    print(
        f"\ngraph per-node overhead over plain async calls, µs: {CHAIN}-node chain, "
        f"{WIDTH}-way fan-out ({FAN_NODES} nodes)"
    )
    for name, got in sides.items():
        if got:
            chain = [g["chain_us"] - g["chain_plain_us"] for g in got]
            fan = [g["fan_us"] - g["fan_plain_us"] for g in got]
            print(f"  {name:<10} chain {spread(chain):>20}   fan-out {spread(fan):>20}")


def mcp_rate(repeats: int, calls: int) -> None:
    """MCP calls per second over stdio, covey against the official client, fresh processes."""
    rates: dict[str, list[float]] = {"mcp": [], "covey": []}
    for _ in range(repeats):
        for side in rates:
            got = run_json([sys.executable, HERE / "_peer_mcp.py", side, str(calls)])
            if isinstance(got, dict):
                rates[side].append(got["calls_per_s"])
            else:
                print(f"  {side}: {got}")
    print(f"\nMCP calls/s over stdio to covey's calc server ({calls} sequential calls):")
    labels = {"mcp": "official mcp.Client", "covey": "covey MCPToolset"}
    for side, got in rates.items():
        if got:
            print(f"  {labels[side]:<20} {spread(got, digits=0):>20}")
    if rates["mcp"] and rates["covey"]:
        ratio = statistics.median(rates["covey"]) / statistics.median(rates["mcp"])
        print(f"  ratio covey/mcp      {ratio:8.2f}x")


def print_aims(runs: dict[str, list[dict[str, Any]]], concurrent: int) -> None:
    covey, raw = runs["covey"], runs["raw openai"]
    if not covey or not raw:
        return

    def med(got: list[dict[str, Any]], key: str) -> float:
        return statistics.median(r[key] for r in got)

    print("\naims:")
    for key, label in (("seq_cpu_ms", "sequential, CPU"), ("conc_cpu_ms", "concurrent, CPU")):
        ratio = med(covey, key) / med(raw, key)
        print(f"  covey / raw, {label:<18} {ratio:6.2f}x   <= 1.10x  {ratio <= 1.10}")
    peak = med(covey, "conc_peak_mib")
    print(f"  covey peak RSS, {concurrent} at once   {peak:6.1f} MiB  <= 80     {peak <= 80}")
    for name, got in runs.items():
        if name in ("covey", "raw openai") or not got:
            continue
        faster = med(covey, "conc_cpu_ms") < med(got, "conc_cpu_ms")
        smaller = med(covey, "conc_peak_mib") < med(got, "conc_peak_mib")
        print(f"  covey ahead of {name:<20} CPU/run {faster}, peak RSS {smaller}")


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--concurrent", type=int, default=200)
    args = parser.parse_args()
    repeats = args.repeats or (2 if args.quick else 5)
    sequential = 10 if args.quick else 30
    print(
        f"agent loop, 2 model calls + 1 tool: {sequential} runs one after another, then "
        f"{args.concurrent} at once; {repeats} fresh processes each:",
        flush=True,
    )
    runs = agent_loop(sequential, args.concurrent, repeats)
    SAVED.write_text(json.dumps(runs))
    print_agent_loop(runs, args.concurrent)
    graph_cost(repeats, 3 if args.quick else 10)
    mcp_rate(repeats, 50 if args.quick else 200)
    print()
    print_imports(3 if args.quick else 7)
    print_aims(runs, args.concurrent)


if __name__ == "__main__":
    main()
