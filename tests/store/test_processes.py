"""Real OS processes: concurrent writers on one database, and a writer killed mid-run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import anyio
import anyio.abc
from anyio.streams.buffered import BufferedByteReceiveStream

from covey.store import CheckpointStore, EffectJournal, FieldOp

from .conftest import Backend

WRITER = str(Path(__file__).with_name("writer.py"))
COUNT = 200


async def start_writer(backend: Backend, thread: str, count: int) -> anyio.abc.Process:
    """A writer process, started and imported, waiting for `go()`."""
    process = await anyio.open_process(
        [sys.executable, WRITER, *backend.args(), thread, str(count)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    with anyio.fail_after(60):
        line = await BufferedByteReceiveStream(process.stdout).receive_until(b"\n", 100)
    assert line == b"ready", await output(process)
    return process


async def go(process: anyio.abc.Process) -> None:
    assert process.stdin is not None
    await process.stdin.send(b"go\n")


async def output(process: anyio.abc.Process) -> str:
    """What the process wrote (after it exited): stdout then stderr."""
    texts: list[str] = []
    for stream in (process.stdout, process.stderr):
        assert stream is not None
        texts.append(b"".join([chunk async for chunk in stream]).decode())
    return "\n".join(texts)


async def test_two_processes_write_one_fresh_database_at_once(backend: Backend) -> None:
    # Both start on an empty database, so they also race to create the tables.
    writers = {thread: await start_writer(backend, thread, COUNT) for thread in ("a", "b")}
    for process in writers.values():
        await go(process)
    for thread, process in writers.items():
        with anyio.fail_after(90):
            await process.wait()
        text = await output(process)
        await process.aclose()
        assert "database is locked" not in text
        assert process.returncode == 0, text
        assert text.strip() == f"done {thread} {COUNT}"
    async with backend.store() as store:
        checkpoints = CheckpointStore(store)
        for thread in ("a", "b"):
            saved = await checkpoints.latest(thread)
            assert saved is not None and saved.step == COUNT - 1
            assert [m["content"] for m in saved.state["messages"]] == [
                f"m{i}" for i in range(1, COUNT)
            ]
            assert len(await checkpoints.history(thread)) == COUNT


async def test_a_killed_writer_resumes_from_its_last_commit(backend: Backend) -> None:
    process = await start_writer(backend, "t", 0)
    await go(process)
    async with backend.store() as store:
        checkpoints = CheckpointStore(store)
        with anyio.fail_after(60):
            while (saved := await checkpoints.latest("t")) is None or saved.step < 60:
                assert process.returncode is None, await output(process)
                await anyio.sleep(0.02)
        process.kill()  # SIGKILL, mid-write
        await process.wait()
        await process.aclose()

    async with backend.store() as store:  # a fresh worker picks the thread up
        checkpoints, journal = CheckpointStore(store), EffectJournal(store)
        saved = await checkpoints.latest("t")
        assert saved is not None and saved.step >= 60
        step = saved.step
        assert [m["content"] for m in saved.state["messages"]] == [
            f"m{i}" for i in range(1, step + 1)
        ]
        for done in range(1, step + 1):
            assert await journal.get("t", f"effect:{done}") is not None
        delta = [FieldOp(field="messages", op="append", value=[{"content": "resumed"}])]
        await checkpoints.commit("t", step=step + 1, delta=delta, next_nodes=[])
        resumed = await checkpoints.latest("t")
        assert resumed is not None and len(resumed.state["messages"]) == step + 1
