"""covey's model client against a raw `AsyncOpenAI` call, and the embedded model's start-up.

Run: `.venv/bin/python benchmarks/model_client.py [--calls 2000] [--skip-embedded]`

The scripted model server runs in its own process (so it does not share the event loop
being measured). Calls alternate between covey and raw in small blocks so that drift in
machine load hits both equally. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time
from contextlib import aclosing

import anyio
import openai

from covey import (
    EmbeddedModel,
    ModelClient,
    ModelConfig,
    ModelSettings,
    TextDelta,
    UserMessage,
)
from covey.testing import scripted_server_process

BLOCK = 50


async def _client_overhead(calls: int) -> None:
    async with scripted_server_process() as base_url:
        await _measure(base_url, calls)


async def _measure(base_url: str, calls: int) -> None:
    messages = [UserMessage(content="hello, how are you today?")]
    wire = [{"role": "user", "content": "hello, how are you today?"}]
    async with (
        ModelClient(ModelConfig(base_url=base_url, model="scripted")) as covey_client,
        openai.AsyncOpenAI(base_url=base_url, api_key="x", max_retries=0) as raw,
    ):
        for _ in range(BLOCK):  # warm both connection pools
            await covey_client.complete(messages)
            await raw.chat.completions.create(model="scripted", messages=wire)  # type: ignore[arg-type]
        covey_times: list[float] = []
        raw_times: list[float] = []
        for _ in range(calls // BLOCK):
            start = time.perf_counter()
            for _ in range(BLOCK):
                await raw.chat.completions.create(model="scripted", messages=wire)  # type: ignore[arg-type]
            raw_times.append((time.perf_counter() - start) / BLOCK)
            start = time.perf_counter()
            for _ in range(BLOCK):
                await covey_client.complete(messages)
            covey_times.append((time.perf_counter() - start) / BLOCK)
    covey_ms = statistics.median(covey_times) * 1000
    raw_ms = statistics.median(raw_times) * 1000
    print(f"scripted server, {calls} sequential calls each (median of {BLOCK}-call blocks):")
    print(f"  raw AsyncOpenAI      {raw_ms:8.3f} ms/call")
    print(f"  covey ModelClient    {covey_ms:8.3f} ms/call")
    print(f"  ratio covey/raw      {covey_ms / raw_ms:8.3f}x   (aim: <= 1.10x)")


async def _embedded() -> None:
    start = time.perf_counter()
    async with EmbeddedModel(n_ctx=2048) as embedded:
        started = time.perf_counter() - start
        async with embedded.client() as client:
            prompt = [UserMessage(content="Say hello.")]
            settings = ModelSettings(temperature=0.0, max_tokens=24)
            await client.complete(prompt, settings=settings)  # warms caches; not counted
            begin = time.perf_counter()
            first: float | None = None
            async with aclosing(client.stream(prompt, settings=settings)) as events:
                async for event in events:
                    if isinstance(event, TextDelta) and first is None:
                        first = time.perf_counter() - begin
    print("embedded model (llama.cpp, gemma3-270m Q4_K_M):")
    print(f"  start until /v1/models answers  {started:8.2f} s")
    if first is not None:
        print(f"  time to first token             {first * 1000:8.1f} ms")


async def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--skip-embedded", action="store_true")
    args = parser.parse_args()
    await _client_overhead(args.calls)
    if not args.skip_embedded:
        await _embedded()


if __name__ == "__main__":
    anyio.run(main)
