"""Trials per second of the eval runner on a suite, with the concurrency at 1 and at 16.

Run: `.venv/bin/python benchmarks/evals.py [--suite builtin] [--trials 1] [--concurrency 1 16]`

The model is covey's scripted server replaying each case's own solution (in this process),
so the figure is the harness's cost: a fresh world per trial (directory, SQLite files,
memory graph), its MCP server processes, the agent loop, scoring and recording in the
store. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import anyio

from covey import ModelClient, ModelConfig
from covey.evals import EvalOptions, load_suite, run_eval
from covey.evals._oracle import replay_policy
from covey.store import Store
from covey.testing import ScriptedModelServer


async def measure(suite_spec: str, trials: int, concurrency: int) -> tuple[int, float, int]:
    """(trials run, seconds, trials passed) for one full run."""
    suite = load_suite(suite_spec)
    policy = replay_policy(suite, "solution")
    with tempfile.TemporaryDirectory() as tmp:
        async with (
            ScriptedModelServer(policy=policy) as server,
            ModelClient(ModelConfig(base_url=server.base_url, model="scripted")) as model,
            Store(f"sqlite:///{Path(tmp) / 'bench.db'}") as store,
        ):
            options = EvalOptions(trials=trials, concurrency=concurrency, attempts=1)
            started = time.perf_counter()
            results = await run_eval(
                suite, model, store=store, run_id="bench", label="oracle", options=options
            )
            seconds = time.perf_counter() - started
    passed = sum(t.status == "passed" for t in results.trials)
    return len(results.trials), seconds, passed


async def main(args: argparse.Namespace) -> None:
    print(f"suite {args.suite}, {args.trials} trial(s) per case, scripted oracle model")
    print(f"{'concurrency':>11}  {'trials':>6}  {'seconds':>8}  {'trials/s':>8}  {'passed':>6}")
    for concurrency in args.concurrency:
        count, seconds, passed = await measure(args.suite, args.trials, concurrency)
        rate = count / seconds
        print(f"{concurrency:>11}  {count:>6}  {seconds:>8.1f}  {rate:>8.2f}  {passed:>6}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="builtin", help="suite to run (default builtin)")
    parser.add_argument("--trials", type=int, default=1, help="trials per case")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    anyio.run(main, parser.parse_args())
