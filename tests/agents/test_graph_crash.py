"""Crash test: a graph killed with SIGKILL at random points finishes on resume, exactly once.

A child process runs the payment graph of `crash_worker` on a real store; the test kills it
at a random moment, resumes the thread, and checks against an uninterrupted run: the same
final state, every committed step still there, and every charge made once.
"""

from __future__ import annotations

import contextlib
import json
import random
import signal
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from covey.store import CheckpointStore

from ..store.conftest import Backend, backend
from .crash_worker import PAYEES, ROUNDS, Ledger, Outbox, finish

__all__ = ["backend"]  # fixture, imported for pytest

TRIALS = 20


async def _child(backend: Backend, thread: str, outbox: Path, kill_after: float | None) -> Any:
    """Run the worker; kill it `kill_after` seconds after it is ready, or let it finish.

    Returns:
        What it printed when it finished (None when killed): the final state and its run time.
    """
    command = [sys.executable, "-m", "tests.agents.crash_worker", *backend.args(), thread]
    async with await anyio.open_process([*command, str(outbox)]) as process:
        assert process.stdout is not None
        buffer = b""
        with anyio.fail_after(60):
            while b"ready\n" not in buffer:
                buffer += await process.stdout.receive()
            if kill_after is not None:
                await anyio.sleep(kill_after)
                with contextlib.suppress(ProcessLookupError):  # it may have finished already
                    process.send_signal(signal.SIGKILL)
                await process.wait()
                return None
            async for chunk in process.stdout:
                buffer += chunk
            assert await process.wait() == 0
    return json.loads(buffer.decode().split("ready\n", 1)[1])


async def test_sigkill_at_random_points_then_resume_gives_the_same_result_once(
    backend: Backend, tmp_path: Path
) -> None:
    rng = random.Random(20261122)
    # The uninterrupted run's length only spreads the kill points; nothing asserts on it.
    reference = await _child(backend, "reference", tmp_path / "ref.db", kill_after=None)
    expected, duration = reference["state"], reference["seconds"]
    charges = ROUNDS * PAYEES
    assert len(expected["receipts"]) == charges
    killed_mid_run = 0
    async with backend.store() as store:
        checkpoints = CheckpointStore(store)
        for trial in range(TRIALS):
            thread, outbox_path = f"crash-{trial}", tmp_path / f"outbox-{trial}.db"
            await _child(backend, thread, outbox_path, kill_after=rng.uniform(0, duration))
            before = await checkpoints.history(thread)
            outbox = Outbox(outbox_path)
            state = await finish(store, outbox, thread)
            after = await checkpoints.history(thread)
            sent, attempts = outbox.counts()

            assert state == Ledger.model_validate(expected), f"trial {trial}"
            steps = sorted(c.step for c in after)
            assert steps == list(range(len(steps))), f"trial {trial}: a step is missing"
            assert {c.id for c in before} <= {c.id for c in after}, f"trial {trial}: lost a step"
            assert len(sent) == charges and set(sent.values()) == {1}, f"trial {trial}"
            # Only a kill between a charge and its journal record makes a second attempt (one
            # per `pay` task in flight), and the provider's idempotency key absorbs it.
            assert charges <= attempts <= charges + PAYEES, f"trial {trial}"
            killed_mid_run += 0 < len(before) < len(after)
    # The kill points spread over the run: most trials really were cut off mid-way.
    assert killed_mid_run >= TRIALS // 2, killed_mid_run


@pytest.fixture(autouse=True)
def _long_timeout(request: pytest.FixtureRequest) -> None:
    request.node.add_marker(pytest.mark.timeout(600))
