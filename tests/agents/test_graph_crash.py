"""Crash test: a graph killed with SIGKILL at random points finishes on resume, exactly once.

A child process runs the payment graph of `crash_worker` on a real store; the test kills it
at a random moment, resumes the thread, and checks against an uninterrupted run: the same
final state, every committed step still there, and every charge the effect journal recorded
made exactly once (only a charge the kill cut off from its record may run twice).
"""

from __future__ import annotations

import contextlib
import json
import random
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import anyio
import pytest

from covey.store import CheckpointStore, EffectJournal

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


async def _unjournaled(journal: EffectJournal, thread: str, charged: Counter[str]) -> set[str]:
    """The keys charged but not journaled: a kill fell between the charge and its record."""
    return {key for key in charged if await journal.get(thread, key) is None}


async def _committed_receipts(checkpoints: CheckpointStore, thread: str) -> int:
    latest = await checkpoints.latest(thread)
    return 0 if latest is None else len(latest.state["receipts"])


@pytest.mark.timeout(600)  # 21 worker processes, each a few seconds on a loaded machine
async def test_sigkill_at_random_points_then_resume_gives_the_same_result_once(
    backend: Backend, tmp_path: Path
) -> None:
    rng = random.Random(20261122)
    # The uninterrupted run's length only spreads the kill points; nothing asserts on it.
    reference = await _child(backend, "reference", tmp_path / "ref.db", kill_after=None)
    expected, duration = reference["state"], reference["seconds"]
    charges = ROUNDS * PAYEES
    assert len(expected["receipts"]) == charges
    killed_mid_run = journal_used = 0
    async with backend.store() as store:
        checkpoints, journal = CheckpointStore(store), EffectJournal(store)
        for trial in range(TRIALS):
            thread, outbox_path = f"crash-{trial}", tmp_path / f"outbox-{trial}.db"
            await _child(backend, thread, outbox_path, kill_after=rng.uniform(0, duration))
            before = await checkpoints.history(thread)
            outbox = Outbox(outbox_path)
            at_kill = outbox.charges()
            in_the_gap = await _unjournaled(journal, thread, at_kill)
            journaled = len(at_kill) - len(in_the_gap)
            journal_used += journaled > await _committed_receipts(checkpoints, thread)
            state = await finish(store, outbox, thread)
            after = await checkpoints.history(thread)
            charged = outbox.charges()

            assert state == Ledger.model_validate(expected), f"trial {trial}"
            steps = sorted(c.step for c in after)
            assert steps == list(range(len(steps))), f"trial {trial}: a step is missing"
            assert {c.id for c in before} <= {c.id for c in after}, f"trial {trial}: lost a step"
            # Every charge the journal had recorded ran once in all; only a charge the kill cut
            # off from its record (one per `pay` task in flight) ran a second time.
            assert len(in_the_gap) <= PAYEES, f"trial {trial}: {in_the_gap}"
            assert charged == {k: 1 + (k in in_the_gap) for k in charged}, f"trial {trial}"
            assert len(charged) == charges, f"trial {trial}"
            receipts = [(await journal.get(thread, key)) for key in charged]
            assert sorted(r.result for r in receipts if r) == sorted(expected["receipts"])
            killed_mid_run += 0 < len(before) < len(after)
    # The kill points spread over the run: most trials really were cut off mid-way, and some
    # after a charge was journaled but before its step was committed, so the resumed step ran
    # that charge again through the journal.
    assert killed_mid_run >= TRIALS // 2, killed_mid_run
    assert journal_used >= 1, journal_used
