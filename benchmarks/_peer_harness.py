"""The half every agent-loop side of `benchmarks/peers.py` shares: timing, memory, the check.

A side script imports this module before its framework (it needs only the standard library
and anyio, which `openai` requires, so it runs in every framework's venv), then calls
`main(open_runner, version)`. That prints one JSON object: import time and RSS after the
import, then ms per run (wall and CPU) and peak RSS for runs one after another and for
`concurrent` runs at once.

Every run is the same agent loop: the model (the fake server) asks for `add(1, 2)`, the
framework runs the tool and sends its result back, the model answers `ANSWER`.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import anyio

STARTED = time.perf_counter()  # before the side imports its framework
QUESTION = "add 1 and 2"
ANSWER = "The answer is 3."
WARM_UP = 5
TIMEOUT_S, CONNECT_S = 120.0, 60.0
"""Every side's client timeouts: 200 connections opening at once on a loaded 2-core machine
can take longer than the SDKs' 5 s connect timeout."""
ADD_TOOL = {
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

Run = Callable[[str], Awaitable[str]]
"""One agent run: the question in, the final answer out."""


async def raw_loop(client: Any, question: str) -> str:
    """What a user writes by hand with `openai.AsyncOpenAI`: call, run tools, feed back."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": question}]
    while True:
        completion = await client.chat.completions.create(
            model="scripted", messages=messages, tools=[ADD_TOOL]
        )
        message = completion.choices[0].message
        if not message.tool_calls:
            return message.content or ""
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            args = json.loads(call.function.arguments)
            messages.append(
                {"role": "tool", "tool_call_id": call.id, "content": str(args["a"] + args["b"])}
            )


def rss_mib() -> float:
    """Resident memory now, in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_mib() -> float:
    """Peak resident memory so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _check(answer: str) -> None:
    if answer != ANSWER:
        raise SystemExit(f"wrong answer {answer!r}, expected {ANSWER!r}")


async def _one(run: Run) -> None:
    _check(await run(QUESTION))


async def _concurrent(run: Run, runs: int) -> tuple[float, float]:
    """Wall and CPU ms per run of `runs` runs started at once."""
    wall, cpu = time.perf_counter(), time.process_time()
    async with anyio.create_task_group() as group:
        for _ in range(runs):
            group.start_soon(_one, run)
    return (time.perf_counter() - wall) / runs * 1000, (time.process_time() - cpu) / runs * 1000


async def measure(run: Run, sequential: int, concurrent: int) -> dict[str, float]:
    """The figures of `sequential` runs one by one, then `concurrent` at once."""
    for _ in range(WARM_UP):
        await _one(run)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(sequential):
        await _one(run)
    seq_ms = (time.perf_counter() - wall) / sequential * 1000
    seq_cpu = (time.process_time() - cpu) / sequential * 1000
    seq_peak = peak_mib()
    conc_ms, conc_cpu = await _concurrent(run, concurrent)
    return {
        "seq_ms": seq_ms,
        "seq_cpu_ms": seq_cpu,
        "seq_peak_mib": seq_peak,
        "conc_ms": conc_ms,
        "conc_cpu_ms": conc_cpu,
        "conc_peak_mib": peak_mib(),
    }


def main(open_runner: Callable[[str], AbstractAsyncContextManager[Run]], version: str) -> None:
    """Measure and print the JSON line; argv: BASE_URL SEQUENTIAL CONCURRENT."""
    imported = {"import_s": time.perf_counter() - STARTED, "import_rss_mib": rss_mib()}
    base_url, sequential, concurrent = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

    async def go() -> dict[str, float]:
        async with open_runner(base_url) as run:
            return await measure(run, sequential, concurrent)

    figures = anyio.run(go)
    print(json.dumps({**imported, **figures, "version": version}))
