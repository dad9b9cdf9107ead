"""What `covey view` reads from the store: eval runs, traces, threads and memories.

Each function opens no store of its own: the app holds one `Store` for its lifetime.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ..evals._recording import EVALS, list_runs, load_run, trials
from ..evals._results import RunInfo, RunResults, TrialResult
from ..store import CHECKPOINTS, MEMORY, Checkpoint, CheckpointInfo, CheckpointStore, Store
from ..store._knowledge_tables import observations
from ..store._tables import checkpoints
from ..tracing._spans_table import SPANS, SpanRecord, TraceSummary, load_trace, recent_traces
from ..tracing._spans_table import spans as spans_table

__all__ = [
    "RunResults",
    "RunRow",
    "SpanRecord",
    "TraceSummary",
    "checkpoint",
    "eval_trace_ids",
    "find_trial",
    "load_run",
    "load_trace",
    "memory_namespaces",
    "prepare",
    "recent_traces",
    "run_rows",
    "stamp",
    "thread_list",
    "thread_steps",
]

_COMPONENTS = (EVALS, SPANS, CHECKPOINTS, MEMORY)


async def prepare(store: Store) -> None:
    """Create the tables the view reads, so an empty store shows empty lists."""
    for component in _COMPONENTS:
        await store.migrate(component)


async def stamp(store: Store) -> str:
    """A short text that changes whenever trials, spans, checkpoints or memories are added."""
    counts = [
        sa.select(sa.func.count()).select_from(table).scalar_subquery()
        for table in (trials, spans_table, checkpoints, observations)
    ]
    async with store.read() as conn:
        row = (await conn.execute(sa.select(*counts))).one()
    return "-".join(str(value) for value in row)


@dataclass(kw_only=True, slots=True, frozen=True)
class RunRow:
    """A run in the runs list, with its trial counts."""

    run: RunInfo
    """The run."""
    passed: int
    """Trials that passed."""
    failed: int
    """Trials that failed."""
    errors: int
    """Trials that ended in an infrastructure error."""


async def run_rows(store: Store) -> list[RunRow]:
    """Every run, newest first, with how its trials ended so far."""
    runs = await list_runs(store)
    query = sa.select(trials.c.run_id, trials.c.status, sa.func.count()).group_by(
        trials.c.run_id, trials.c.status
    )
    async with store.read() as conn:
        counted = {(r, s): int(n) for r, s, n in (await conn.execute(query)).all()}
    return [
        RunRow(
            run=run,
            passed=counted.get((run.run_id, "passed"), 0),
            failed=counted.get((run.run_id, "failed"), 0),
            errors=counted.get((run.run_id, "error"), 0),
        )
        for run in runs
    ]


async def find_trial(store: Store, run_id: str, case_id: str, trial: int) -> TrialResult | None:
    """One recorded trial, or None."""
    query = sa.select(trials.c.data).where(
        trials.c.run_id == run_id, trials.c.case_id == case_id, trials.c.trial == trial
    )
    async with store.read() as conn:
        data = (await conn.execute(query)).scalar()
    return None if data is None else TrialResult.model_validate_json(data)


async def eval_trace_ids(store: Store, run_id: str) -> dict[tuple[str, int], str]:
    """The trace of each traced trial of a run, by (case, trial)."""
    attributes = spans_table.c.attributes
    query = sa.select(spans_table.c.trace_id, attributes).where(
        spans_table.c.name.like("eval_trial %"), attributes.contains(run_id)
    )
    async with store.read() as conn:
        rows = (await conn.execute(query)).all()
    found: dict[tuple[str, int], str] = {}
    for trace_id, text in rows:
        record = _attributes(text)
        if record.get("covey.eval.run_id") == run_id:
            key = (str(record.get("covey.eval.case_id")), int(record.get("covey.eval.trial", 0)))
            found[key] = str(trace_id)
    return found


def _attributes(text: str) -> dict[str, Any]:
    import json

    value = json.loads(text)
    return value if isinstance(value, dict) else {}  # pyright: ignore[reportUnknownVariableType]


async def thread_list(store: Store) -> list[tuple[str, CheckpointInfo | None]]:
    """Every thread with its newest checkpoint."""
    saved = CheckpointStore(store)
    found: list[tuple[str, CheckpointInfo | None]] = []
    for thread_id in await saved.threads():
        newest = await saved.history(thread_id, limit=1)
        found.append((thread_id, newest[0] if newest else None))
    return found


async def thread_steps(store: Store, thread_id: str) -> list[CheckpointInfo]:
    """A thread's checkpoints, oldest first."""
    return list(reversed(await CheckpointStore(store).history(thread_id)))


async def checkpoint(store: Store, checkpoint_id: str) -> Checkpoint:
    """A checkpoint with its full state."""
    return await CheckpointStore(store).get(checkpoint_id)


async def memory_namespaces(store: Store) -> list[tuple[str, int]]:
    """Every memory namespace and how many observations it holds."""
    query = (
        sa.select(observations.c.namespace, sa.func.count())
        .group_by(observations.c.namespace)
        .order_by(observations.c.namespace)
    )
    async with store.read() as conn:
        return [(str(ns), int(n)) for ns, n in (await conn.execute(query)).all()]
