"""The raw `openai` side of `benchmarks/peers.py`: the agent loop written by hand.

Run: `.venv/bin/python benchmarks/_peer_raw.py BASE_URL SEQUENTIAL CONCURRENT`
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import _peer_harness as harness  # before the framework: it notes the time
import openai


@asynccontextmanager
async def open_runner(base_url: str) -> AsyncIterator[harness.Run]:
    timeout = openai.Timeout(harness.TIMEOUT_S, connect=harness.CONNECT_S)
    client = openai.AsyncOpenAI(base_url=base_url, api_key="x", max_retries=0, timeout=timeout)
    async with client:
        yield partial(harness.raw_loop, client)


if __name__ == "__main__":
    harness.main(open_runner, openai.__version__)
