"""The runner: k trials of every case, each in a fresh world, recorded as they finish.

Trials run concurrently up to a limit, and up to a limit per model endpoint that the runs
of several models can share (`EndpointLimits`). A trial takes its endpoint before its
overall slot and before its time limit starts: waiting in a queue is never charged to the
model. A run is resumable: every finished trial is in the store, and running the same
run id again skips them. One trial's own steps (world, agent, scorers, retries) are in
`_trial_runner`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata

import anyio

from ..models import ModelClient
from ..store import Store
from ._case import Case, Suite
from ._lessons import Lessons
from ._options import EndpointLimits, EvalOptions
from ._recording import finish_run, finished_trials, load_run, record_trial, start_run
from ._report_terminal import Progress
from ._results import CaseInfo, RunInfo, RunResults
from ._trial_runner import InfraError, TrialRunner, trial_seed

__all__ = ["EndpointLimits", "EvalOptions", "InfraError", "run_eval", "trial_seed"]


def _covey_version() -> str:
    try:
        return metadata.version("covey")
    except metadata.PackageNotFoundError:
        return "0"


async def _set_up(
    store: Store, suite: Suite, info: RunInfo, options: EvalOptions
) -> list[tuple[Case, int]]:
    """Record the run (or find it again) and return the trials it still lacks."""
    cases = [
        CaseInfo(id=c.id, input=c.input, tags=c.tags, metadata=c.metadata) for c in suite.cases
    ]
    await start_run(store, info, cases)
    done = await finished_trials(store, info.run_id)
    return [
        (case, index)
        for case in suite.cases
        for index in range(options.trials)
        if (case.id, index) not in done
    ]


def _run_info(
    suite: Suite, run_id: str, label: str, model_name: str | None, options: EvalOptions
) -> RunInfo:
    limits = {"time_limit": options.time_limit, "max_turns": options.max_turns}
    return RunInfo(
        run_id=run_id,
        suite=suite.name,
        model=label,
        trials_per_case=options.trials,
        started_at=datetime.now(UTC),
        config={
            "concurrency": options.concurrency,
            "seed": options.seed,
            "temperature": options.temperature,
            "reflect": options.reflect,
            "model_name": model_name,
            "covey": _covey_version(),
            **{name: value for name, value in limits.items() if value is not None},
            **options.config,
        },
    )


@dataclass(kw_only=True, slots=True)
class _Schedule:
    """Runs trials under the overall and endpoint limits, and records each as it ends."""

    runner: TrialRunner
    store: Store
    run_id: str
    limiter: anyio.CapacityLimiter
    endpoint: anyio.CapacityLimiter
    lessons: Lessons | None
    progress: Progress | None

    async def one(self, case: Case, index: int) -> None:
        # The endpoint first: a trial waiting for its endpoint holds no overall slot.
        async with self.endpoint, self.limiter:
            if self.progress is not None:
                self.progress.begin(case.id, index)
            lessons = self.lessons
            learned = await lessons.for_task(case.input) if lessons else []
            result = await self.runner.trial(self.run_id, case, index, learned)
            if lessons is not None and result.status == "failed":
                await lessons.learn(self.runner.model, case.id, case.input, result)
        await record_trial(self.store, result)
        if self.progress is not None:
            self.progress.advance(result)

    async def in_order(self, case: Case, indexes: list[int]) -> None:
        for index in indexes:
            await self.one(case, index)

    async def run(self, todo: Sequence[tuple[Case, int]], cases: Sequence[Case]) -> None:
        if self.progress is not None:
            self.progress.start(len(todo))
        try:
            async with anyio.create_task_group() as group:
                if self.lessons is not None:  # a case's trials in order: lessons carry over
                    for case in cases:
                        indexes = [i for c, i in todo if c.id == case.id]
                        group.start_soon(self.in_order, case, indexes)
                else:
                    for case, index in todo:
                        group.start_soon(self.one, case, index)
        finally:
            if self.progress is not None:
                self.progress.finish()


def _endpoint(model: ModelClient, options: EvalOptions) -> anyio.CapacityLimiter:
    if options.endpoints is None:
        return anyio.CapacityLimiter(math.inf)
    return options.endpoints.for_url(model.config.base_url)


async def run_eval(
    suite: Suite,
    model: ModelClient,
    *,
    store: Store,
    run_id: str,
    label: str,
    model_name: str | None = None,
    options: EvalOptions | None = None,
    progress: Progress | None = None,
) -> RunResults:
    """Run (or resume) an evaluation of `suite` on `model` and return everything recorded.

    `label` names the model in reports (`covey eval` writes `name@url`); `model_name` is
    the name price tables know it by (default: the model of `model.config`).

    Trials already recorded under `run_id` (passed or failed) are skipped; trials that
    ended in an infrastructure error are tried again.

    Raises:
        UsageError: bad options, or `run_id` names a run of another suite, model or k.
    """
    options = options or EvalOptions()
    options.check()
    model_name = model_name or model.config.model
    info = _run_info(suite, run_id, label, model_name, options)
    todo = await _set_up(store, suite, info, options)
    schedule = _Schedule(
        runner=TrialRunner(suite, model, label, model_name, options),
        store=store,
        run_id=run_id,
        limiter=options.limiter or anyio.CapacityLimiter(options.concurrency),
        endpoint=_endpoint(model, options),
        lessons=Lessons(store, run_id) if options.reflect else None,
        progress=progress,
    )
    await schedule.run(todo, suite.cases)
    await finish_run(store, run_id, datetime.now(UTC))
    return await load_run(store, run_id)
