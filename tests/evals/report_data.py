"""A small hand-made run whose figures the report tests compute by hand.

Four cases, three trials each (P = passed, F = failed, E = infrastructure error):

    read-file     files,easy   P P P   stable pass
    sum-rows      sql          P F P   flaky
    recall-fact   memory       F F F   stable fail
    convert-time  time,easy    P E P   stable pass (the error is not counted)

So 7 passed, 4 failed, 1 error; success 7/11; pass^3 over the three cases with three
counted trials = (1 + 0 + 0) / 3; pass^2 over all four = (1 + 1/3 + 0 + 1) / 4.
Every trial makes one valid tool call; the four failed ones got a tool error back.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from covey.evals._results import (
    CaseInfo,
    ProtocolStats,
    RunInfo,
    RunResults,
    ScoreResult,
    TrialResult,
    TrialStatus,
)

MODEL = "http://127.0.0.1:8000/v1#tiny"
START = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)
OUTCOMES: dict[str, tuple[list[str], str]] = {
    "read-file": (["files", "easy"], "PPP"),
    "sum-rows": (["sql"], "PFP"),
    "recall-fact": (["memory"], "FFF"),
    "convert-time": (["time", "easy"], "PEP"),
}
STATUS: dict[str, TrialStatus] = {"P": "passed", "F": "failed", "E": "error"}
HOSTILE = "<script>alert('x')</script> & <b>bold</b>"


def make_trial(run_id: str, case_id: str, index: int, status: TrialStatus, n: int) -> TrialResult:
    passed = status == "passed"
    started = START + timedelta(seconds=10 * n)
    transcript: list[dict[str, Any]] = [
        {"role": "user", "content": f"do {case_id} {HOSTILE}"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"id": "c1", "name": "files_read", "arguments": {"path": "a.txt"}}],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "file text"},
        {"role": "assistant", "content": "done" if passed else "gave up"},
    ]
    return TrialResult(
        run_id=run_id,
        case_id=case_id,
        trial=index,
        model=MODEL,
        seed=1000 + n,
        status=status,
        score=1.0 if passed else 0.0,
        scores=[
            ScoreResult(
                name="contains",
                value=1.0 if passed else 0.0,
                passed=passed,
                explanation="found 'done'" if passed else f"no 'done' in {HOSTILE}",
            )
        ]
        if status != "error"
        else [],
        output=("done" if passed else "gave up") if status != "error" else None,
        error="model server refused the connection" if status == "error" else None,
        limit_hit="turns" if status == "failed" and case_id == "recall-fact" else None,
        input_tokens=100 * (n + 1),
        output_tokens=10 * (n + 1),
        latency_s=0.5 * (n + 1),
        turns=2,
        started_at=started,
        finished_at=started + timedelta(seconds=0.5 * (n + 1)),
        protocol=ProtocolStats(
            tool_calls=1,
            valid_tool_names=1,
            schema_valid_arguments=1,
            tool_errors=int(status == "failed"),
        ),
        transcript=transcript,
    )


def make_run(
    run_id: str = "run-a", outcomes: dict[str, tuple[list[str], str]] | None = None
) -> RunResults:
    outcomes = OUTCOMES if outcomes is None else outcomes
    cases = [CaseInfo(id=cid, input=f"do {cid}", tags=tags) for cid, (tags, _) in outcomes.items()]
    trials: list[TrialResult] = []
    for cid, (_, letters) in outcomes.items():
        for index, letter in enumerate(letters):
            trials.append(make_trial(run_id, cid, index, STATUS[letter], len(trials)))
    trials_per_case = max(len(letters) for _, letters in outcomes.values())
    run = RunInfo(
        run_id=run_id,
        suite="demo",
        model=MODEL,
        trials_per_case=trials_per_case,
        started_at=START,
        finished_at=START + timedelta(minutes=5),
    )
    return RunResults(run=run, cases=cases, trials=trials)
