"""Eval results in the store: runs, their cases and every finished trial.

Each trial is written as soon as it finishes, so a run interrupted at any point keeps what
it did, and running it again with the same run id skips the trials already recorded.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from .._errors import UsageError
from ..store import Component, Migration, Store
from ._results import CaseInfo, RunInfo, RunResults, TrialResult

__all__ = [
    "EVALS",
    "finished_trials",
    "latest_run_id",
    "list_runs",
    "load_run",
    "record_trial",
    "start_run",
    "finish_run",
]

metadata = sa.MetaData()

runs = sa.Table(
    "covey_eval_runs",
    metadata,
    sa.Column("run_id", sa.String, primary_key=True),
    sa.Column("suite", sa.String, nullable=False),
    sa.Column("model", sa.String, nullable=False),
    sa.Column("trials_per_case", sa.Integer, nullable=False),
    sa.Column("started_at", sa.String, nullable=False),  # ISO 8601, UTC
    sa.Column("finished_at", sa.String, nullable=True),
    sa.Column("config", sa.Text, nullable=False),  # JSON
)

cases = sa.Table(
    "covey_eval_cases",
    metadata,
    sa.Column("run_id", sa.String, primary_key=True),
    sa.Column("case_id", sa.String, primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("data", sa.Text, nullable=False),  # CaseInfo as JSON
)

trials = sa.Table(
    "covey_eval_trials",
    metadata,
    sa.Column("run_id", sa.String, primary_key=True),
    sa.Column("case_id", sa.String, primary_key=True),
    sa.Column("trial", sa.Integer, primary_key=True),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("finished_at", sa.String, nullable=False),
    sa.Column("data", sa.Text, nullable=False),  # TrialResult as JSON
)


def _v1(conn: sa.Connection) -> None:
    metadata.create_all(conn, tables=[runs, cases, trials])


EVALS = Component(
    name="evals",
    migrations=(Migration(version=1, description="eval runs, cases and trials", apply=_v1),),
)
"""The store component holding eval results."""


def _insert(store: Store, table: sa.Table) -> Any:
    return postgresql.insert(table) if store.dialect == "postgresql" else sqlite.insert(table)


def _run_info(row: Any) -> RunInfo:
    return RunInfo(
        run_id=row.run_id,
        suite=row.suite,
        model=row.model,
        trials_per_case=row.trials_per_case,
        started_at=datetime.fromisoformat(row.started_at),
        finished_at=datetime.fromisoformat(row.finished_at) if row.finished_at else None,
        config=json.loads(row.config),
    )


async def start_run(store: Store, run: RunInfo, case_infos: Sequence[CaseInfo]) -> RunInfo:
    """Record a run and its cases, or return the run already recorded under its id.

    Raises:
        UsageError: the id names a recorded run of another suite, model or k.
    """
    await store.migrate(EVALS)
    async with store.write() as conn:
        row = (await conn.execute(sa.select(runs).where(runs.c.run_id == run.run_id))).first()
        if row is not None:
            old = _run_info(row)
            if (old.suite, old.model, old.trials_per_case) != (
                run.suite,
                run.model,
                run.trials_per_case,
            ):
                raise UsageError(
                    f"Run {run.run_id!r} was recorded for suite {old.suite!r}, model "
                    f"{old.model!r}, {old.trials_per_case} trials per case; it cannot resume "
                    f"as suite {run.suite!r}, model {run.model!r}, {run.trials_per_case} "
                    "trials. Pass another --run-id, or the same suite, model and trials."
                )
            await conn.execute(
                runs.update().where(runs.c.run_id == run.run_id).values(finished_at=None)
            )
            run = old.model_copy(update={"finished_at": None})
        else:
            await conn.execute(
                runs.insert().values(
                    run_id=run.run_id,
                    suite=run.suite,
                    model=run.model,
                    trials_per_case=run.trials_per_case,
                    started_at=run.started_at.isoformat(),
                    finished_at=None,
                    config=json.dumps(run.config),
                )
            )
        for position, case in enumerate(case_infos):
            values = {
                "run_id": run.run_id,
                "case_id": case.id,
                "position": position,
                "data": case.model_dump_json(),
            }
            upsert = _insert(store, cases).values(**values)
            await conn.execute(
                upsert.on_conflict_do_update(
                    index_elements=["run_id", "case_id"],
                    set_={"position": position, "data": values["data"]},
                )
            )
    return run


async def finish_run(store: Store, run_id: str, finished_at: datetime) -> None:
    """Mark a run finished."""
    async with store.write() as conn:
        await conn.execute(
            runs.update().where(runs.c.run_id == run_id).values(finished_at=finished_at.isoformat())
        )


async def record_trial(store: Store, result: TrialResult) -> None:
    """Record a finished trial, replacing an earlier record of the same trial."""
    await store.migrate(EVALS)
    values = {
        "run_id": result.run_id,
        "case_id": result.case_id,
        "trial": result.trial,
        "status": result.status,
        "score": result.score,
        "finished_at": result.finished_at.isoformat(),
        "data": result.model_dump_json(),
    }
    keys = ("run_id", "case_id", "trial")
    upsert = _insert(store, trials).values(**values)
    async with store.write() as conn:
        await conn.execute(
            upsert.on_conflict_do_update(
                index_elements=list(keys),
                set_={k: v for k, v in values.items() if k not in keys},
            )
        )


async def finished_trials(store: Store, run_id: str) -> dict[tuple[str, int], TrialResult]:
    """The run's recorded trials that need no re-run (passed or failed), by (case, trial)."""
    await store.migrate(EVALS)
    query = sa.select(trials.c.data).where(trials.c.run_id == run_id, trials.c.status != "error")
    async with store.read() as conn:
        rows = (await conn.execute(query)).all()
    found = [TrialResult.model_validate_json(row.data) for row in rows]
    return {(t.case_id, t.trial): t for t in found}


async def load_run(store: Store, run_id: str) -> RunResults:
    """Everything recorded about a run.

    Raises:
        UsageError: no run has this id.
    """
    await store.migrate(EVALS)
    async with store.read() as conn:
        row = (await conn.execute(sa.select(runs).where(runs.c.run_id == run_id))).first()
        if row is None:
            raise UsageError(
                f"No eval run {run_id!r} in the store at {store.url}. "
                "Check the run id and the --db URL (`covey report latest` shows the newest run)."
            )
        case_rows = (
            await conn.execute(
                sa.select(cases.c.data).where(cases.c.run_id == run_id).order_by(cases.c.position)
            )
        ).all()
        trial_rows = (
            await conn.execute(
                sa.select(trials.c.data)
                .where(trials.c.run_id == run_id)
                .order_by(trials.c.case_id, trials.c.trial)
            )
        ).all()
    return RunResults(
        run=_run_info(row),
        cases=[CaseInfo.model_validate_json(r.data) for r in case_rows],
        trials=[TrialResult.model_validate_json(r.data) for r in trial_rows],
    )


async def list_runs(store: Store) -> list[RunInfo]:
    """Every recorded run, newest first."""
    await store.migrate(EVALS)
    async with store.read() as conn:
        rows = (await conn.execute(sa.select(runs))).all()
    infos = [_run_info(row) for row in rows]
    return sorted(infos, key=lambda r: r.started_at, reverse=True)


async def latest_run_id(store: Store) -> str | None:
    """The id of the newest run, or None when the store has none."""
    found = await list_runs(store)
    return found[0].run_id if found else None
