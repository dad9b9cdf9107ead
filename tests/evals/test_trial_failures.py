"""One trial's trouble stays that trial's: a failed set-up, a slow scorer."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from covey import ModelClient, ModelConfig
from covey.evals import Case, ContainsScorer, FunctionScorer, Suite, TrialContext, WorldSetup
from covey.evals._results import RunResults
from covey.evals._runner import EvalOptions, run_eval
from covey.store import Store
from covey.testing import ChatRequest, Reply, ScriptedModelServer


def _done(request: ChatRequest) -> Reply:
    return Reply(text="done")


async def _run(suite: Suite, db: Path, options: EvalOptions) -> RunResults:
    async with (
        ScriptedModelServer(policy=_done) as server,
        ModelClient(ModelConfig(base_url=server.base_url, model="m", max_retries=0)) as model,
        Store(f"sqlite:///{db}") as store,
    ):
        return await run_eval(suite, model, store=store, run_id="r", label="m", options=options)


def _locked_suite(shared: Path) -> Suite:
    """Four plain cases and one whose set-up writes to a database another program holds."""
    plain = [
        Case(id=f"plain-{i}", input=f"Task {i}.", scorers=[ContainsScorer(value="done")])
        for i in range(4)
    ]
    script = f"ATTACH DATABASE '{shared}' AS shared; INSERT INTO shared.log VALUES ('trial');"
    locked = Case(
        id="writes-shared",
        input="Task 4.",
        setup=WorldSetup(sql=[script]),
        scorers=[ContainsScorer(value="done")],
    )
    return Suite(name="locks", cases=[*plain, locked])


async def test_a_set_up_failure_is_that_trials_error_and_the_run_resumes(tmp_path: Path) -> None:
    shared, db = tmp_path / "shared.db", tmp_path / "evals.db"
    with sqlite3.connect(shared) as conn:
        conn.execute("CREATE TABLE log (who TEXT)")
    holder = sqlite3.connect(shared, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another program holds the file: set-up waits, then fails
    suite = _locked_suite(shared)
    options = EvalOptions(trials=2, concurrency=4, attempts=2, retry_delay=0.01)
    try:
        first = await _run(suite, db, options)
    finally:
        holder.rollback()
        holder.close()
    assert first.run.finished_at is not None
    status = {(t.case_id, t.trial): t.status for t in first.trials}
    assert status == {
        **{(f"plain-{i}", k): "passed" for i in range(4) for k in range(2)},
        ("writes-shared", 0): "error",
        ("writes-shared", 1): "error",
    }
    failed = next(t for t in first.trials if t.status == "error")
    assert failed.attempts == 2 and failed.error is not None
    assert "Infrastructure failed on all 2 attempt(s): The trial's set-up failed:" in failed.error
    assert "database is locked" in failed.error
    done = {(t.case_id, t.trial): t.finished_at for t in first.trials if t.status == "passed"}

    again = await _run(suite, db, options)  # the lock is gone: only the errors run again
    assert {t.status for t in again.trials} == {"passed"} and len(again.trials) == 10
    kept = {(t.case_id, t.trial): t.finished_at for t in again.trials}
    assert {key: kept[key] for key in done} == done  # finished trials did not run again
    with sqlite3.connect(shared) as conn:
        assert conn.execute("SELECT COUNT(*) FROM log").fetchone() == (2,)


def _meets_the_other(barrier: threading.Barrier) -> FunctionScorer:
    def meets(trial: TrialContext) -> bool:
        # Blocks its thread until the other trial's scorer runs too: on the event loop, the
        # first would stall the loop and the second never start.
        barrier.wait()
        return True

    return FunctionScorer(meets)


async def test_a_blocking_sync_scorer_does_not_stall_the_other_trials(tmp_path: Path) -> None:
    barrier = threading.Barrier(2, timeout=30)
    cases = [
        Case(id=name, input=f"Task {name}.", scorers=[_meets_the_other(barrier)])
        for name in ("one", "two")
    ]
    results = await _run(Suite(name="sync", cases=cases), tmp_path / "e.db", EvalOptions())
    scores = {t.case_id: (t.status, t.scores[0].explanation) for t in results.trials}
    both = ("passed", "meets returned True.")
    assert scores == {"one": both, "two": both}
