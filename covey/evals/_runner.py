"""The runner: k trials of every case, each in a fresh world, recorded as they finish.

Trials run concurrently up to a limit, and up to a limit per model endpoint that the runs
of several models can share (`EndpointLimits`). A trial that hits a limit (time, turns,
tokens) is still scored. An infrastructure failure (model server down, an MCP server that
does not start or stops mid-call) is retried and, if it persists, recorded as `error`,
apart from task failures. A run is resumable: every finished trial is in the store, and
running the same run id again skips them.
"""

from __future__ import annotations

import hashlib
import inspect
import math
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, cast

import anyio

from .._errors import (
    MaxTurnsExceeded,
    ModelConnectionError,
    ModelError,
    ModelHTTPError,
    RunError,
    UsageError,
)
from ..agents import Agent
from ..models import ModelClient, ModelSettings
from ..store import Store
from ..tools import MCPConnectionError, MCPToolset
from ._case import Case, Solver, Suite
from ._judge import JudgeUnavailable
from ._lessons import Lessons, with_lessons
from ._recording import finish_run, finished_trials, load_run, record_trial, start_run
from ._report_terminal import Progress
from ._results import CaseInfo, LimitHit, RunInfo, RunResults, ScoreResult, TrialResult
from ._trial import TokenLimitHit, TrialContext, TrialRecorder
from ._world import World, create_world

__all__ = ["EndpointLimits", "EvalOptions", "InfraError", "run_eval", "trial_seed"]


@dataclass(kw_only=True, slots=True)
class EndpointLimits:
    """At most `per_endpoint` trials at once on each model endpoint (base URL).

    Share one between the runs of several models (`EvalOptions.endpoints`): trials of
    different endpoints run side by side under the overall concurrency, while each
    endpoint gets no more than its cap, however many runs use it.
    """

    per_endpoint: int
    """Trials at once per base URL."""
    _limiters: dict[str, anyio.CapacityLimiter] = field(
        init=False, default_factory=dict[str, anyio.CapacityLimiter]
    )

    def __post_init__(self) -> None:
        if self.per_endpoint < 1:
            raise UsageError(f"per_endpoint must be at least 1, got {self.per_endpoint}.")

    def for_url(self, base_url: str) -> anyio.CapacityLimiter:
        """The limiter of the endpoint at `base_url` (made on first use)."""
        key = base_url.rstrip("/")
        if key not in self._limiters:
            self._limiters[key] = anyio.CapacityLimiter(self.per_endpoint)
        return self._limiters[key]


class InfraError(Exception):
    """Something outside the agent failed: the trial is retried, then recorded as `error`."""


@dataclass(kw_only=True, slots=True)
class EvalOptions:
    """How to run an evaluation."""

    trials: int = 1
    """k: trials per case."""
    concurrency: int = 4
    """Trials running at once (each has its own world and server processes)."""
    limiter: anyio.CapacityLimiter | None = None
    """Share one limit between several runs (one per model); default: `concurrency`."""
    endpoints: EndpointLimits | None = None
    """A cap per model endpoint, shared between runs; default: none beyond `limiter`."""
    attempts: int = 3
    """Tries per trial when the infrastructure fails."""
    retry_delay: float = 1.0
    """Seconds before the first retry (doubling)."""
    seed: int = 0
    """Base seed; each trial's seed derives from it, the case and the trial index."""
    temperature: float | None = None
    """Sampling temperature for the agent (default: the model server's)."""
    judge: ModelClient | None = None
    """Model for rubric judges that name none."""
    reflect: bool = False
    """Run each case's trials in order; after a failure the model writes a lesson that
    later trials of matching tasks get in their instructions (see `_lessons`)."""
    workdir: Path | None = None
    """Where trial worlds are made (default: the system's temporary directory)."""
    config: dict[str, Any] = field(default_factory=dict[str, Any])
    """Extra settings to record with the run."""


def trial_seed(base: int, case_id: str, trial: int) -> int:
    """A stable seed for one trial: the same base, case and index give the same seed."""
    digest = hashlib.sha256(f"{base}:{case_id}:{trial}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def _infra(exc: BaseException) -> bool:
    inner = _leaves(exc)
    if inner is not None:
        return all(_infra(leaf) for leaf in inner)
    if isinstance(exc, ModelHTTPError):
        return exc.status_code >= 500 or exc.status_code == 429
    infra = ModelConnectionError | MCPConnectionError | InfraError | JudgeUnavailable | OSError
    return isinstance(exc, infra) or (
        isinstance(exc, ModelError) and not isinstance(exc, ModelHTTPError)
    )


def _leaves(exc: BaseException) -> list[BaseException] | None:
    """The exceptions inside a task group's exception group, or None for a plain one."""
    if not isinstance(exc, BaseExceptionGroup):
        return None
    return list(cast("BaseExceptionGroup[BaseException]", exc).exceptions)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc`, the exceptions inside it (task groups) and those it was raised from."""
    stack, seen = [exc], set[int]()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend(_leaves(current) or [])
        if current.__cause__ is not None:
            stack.append(current.__cause__)


def _limit_hit(exc: BaseException) -> tuple[LimitHit, str] | None:
    """The limit that stopped a run, also when a graph wrapped it (`NodeFailed` from it)."""
    for found in _chain(exc):
        if isinstance(found, MaxTurnsExceeded):
            return "turns", str(found)
        if isinstance(found, TokenLimitHit):
            return "tokens", str(found)
    return None


def _describe(exc: BaseException) -> str:
    inner = _leaves(exc)
    while inner is not None and len(inner) == 1:
        exc = inner[0]
        inner = _leaves(exc)
    if isinstance(exc, InfraError | JudgeUnavailable):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _with_lessons_in_task(solver: Solver, lessons: list[str]) -> Solver:
    """A solver has no instructions to extend, so the lessons follow its task text."""
    if not lessons:
        return solver

    async def solve(task: str, on_event: Callable[[object], Awaitable[None]]) -> Any:
        return await solver(with_lessons(task, lessons), on_event)

    return solve


@dataclass(kw_only=True, slots=True)
class _Outcome:
    output: str | None = None
    error: str | None = None
    limit_hit: LimitHit | None = None


class _Runner:
    def __init__(
        self,
        suite: Suite,
        model: ModelClient,
        label: str,
        model_name: str | None,
        store: Store,
        options: EvalOptions,
    ) -> None:
        self.suite, self.model, self.label = suite, model, label
        self.model_name = model_name
        self.store, self.options = store, options

    async def agent_for(
        self, case: Case, servers: Sequence[MCPToolset], seed: int, lessons: list[str]
    ) -> Agent[Any] | Solver:
        if self.suite.agent is not None:
            made: Any = self.suite.agent(self.model, servers, case)
            if inspect.isawaitable(made):
                made = await made
            if isinstance(made, Agent):
                agent = cast("Agent[Any]", made)
                agent.instructions = with_lessons(agent.instructions, lessons)
                return agent
            return _with_lessons_in_task(cast(Solver, made), lessons)
        settings = ModelSettings(seed=seed, temperature=self.options.temperature)
        return Agent(
            case.id,
            self.model,
            instructions=with_lessons(self.suite.instructions_for(case), lessons),
            tools=list(servers),
            max_turns=self.suite.limits_for(case).turns,
            settings=settings,
        )

    async def attempt(
        self, run_id: str, case: Case, trial: int, attempt: int, lessons: list[str]
    ) -> TrialResult:
        seed = trial_seed(self.options.seed, case.id, trial)
        started = datetime.now(UTC)
        with tempfile.TemporaryDirectory(prefix="covey-trial-", dir=self.options.workdir) as tmp:
            world = await create_world(case.setup, Path(tmp) / "world")
            async with world.servers(self.suite.servers_for(case)) as servers:
                tools = [t.definition for s in servers for t in await s.list_tools()]
                limits = self.suite.limits_for(case)
                recorder = TrialRecorder(tools=tools, token_limit=limits.tokens)
                agent = await self.agent_for(case, servers, seed, lessons)
                clock = time.perf_counter()
                outcome = await self._run_agent(agent, case, recorder, limits.seconds)
                latency = time.perf_counter() - clock
            if recorder.server_stops:
                stop = recorder.server_stops[0]
                raise InfraError(
                    f"MCP server {stop.server!r} stopped while running tool {stop.tool!r} "
                    f"({stop.reason})"
                )
            scores = await self._score(case, world, recorder, outcome)
        passed = all(s.passed for s in scores)
        return TrialResult(
            run_id=run_id,
            case_id=case.id,
            trial=trial,
            model=self.label,
            model_name=self.model_name,
            seed=seed,
            status="passed" if passed else "failed",
            score=sum(s.value for s in scores) / len(scores),
            scores=scores,
            output=outcome.output,
            error=outcome.error,
            limit_hit=outcome.limit_hit,
            input_tokens=recorder.input_tokens,
            output_tokens=recorder.output_tokens,
            latency_s=latency,
            turns=recorder.turns,
            attempts=attempt,
            started_at=started,
            finished_at=datetime.now(UTC),
            protocol=recorder.protocol,
            transcript=recorder.transcript(outcome.output),
        )

    async def _run_agent(
        self, agent: Agent[Any] | Solver, case: Case, recorder: TrialRecorder, seconds: float
    ) -> _Outcome:
        outcome = _Outcome()
        with anyio.move_on_after(seconds) as scope:
            try:
                output: object
                if isinstance(agent, Agent):
                    run = cast("Agent[Any]", agent).run
                    output = (await run(case.input, on_event=recorder.on_event)).output
                else:
                    output = await agent(case.input, recorder.on_event)
                outcome.output = output if isinstance(output, str) else str(output)
            except Exception as exc:
                limit = _limit_hit(exc)
                if limit is not None:
                    outcome.limit_hit, outcome.error = limit
                elif _infra(exc):
                    raise InfraError(_describe(exc)) from exc
                elif any(isinstance(e, RunError) for e in _chain(exc)):
                    outcome.error = str(exc)  # the agent's own failure: scored like any other
                else:
                    raise
        if scope.cancelled_caught:
            outcome.limit_hit = "time"
            outcome.error = f"The trial ran out of time ({seconds:g} s) before a final answer."
        return outcome

    async def _score(
        self, case: Case, world: World, recorder: TrialRecorder, outcome: _Outcome
    ) -> list[ScoreResult]:
        context = TrialContext(
            case_id=case.id,
            input=case.input,
            output=outcome.output,
            tool_calls=recorder.tool_calls,
            messages=recorder.messages,
            world=world,
            limit_hit=outcome.limit_hit,
            metadata=case.metadata,
            judge=self.options.judge,
        )
        scores: list[ScoreResult] = []
        for scorer in case.scorers:
            try:
                scores.append(await scorer.score(context))
            except JudgeUnavailable:
                raise  # the infrastructure's failure: the trial is tried again
            except Exception as exc:  # a broken scorer fails the trial, visibly
                scores.append(
                    ScoreResult(
                        name=scorer.name,
                        value=0.0,
                        passed=False,
                        explanation=f"The scorer raised {type(exc).__name__}: {exc}",
                    )
                )
        return scores

    async def trial(
        self, run_id: str, case: Case, trial: int, lessons: list[str] | None = None
    ) -> TrialResult:
        delay, failure = self.options.retry_delay, ""
        started = datetime.now(UTC)
        for attempt in range(1, self.options.attempts + 1):
            started = datetime.now(UTC)
            try:
                return await self.attempt(run_id, case, trial, attempt, lessons or [])
            except Exception as exc:
                if not _infra(exc):
                    raise
                failure = _describe(exc)
            if attempt < self.options.attempts:
                await anyio.sleep(delay)
                delay *= 2
        return TrialResult(
            run_id=run_id,
            case_id=case.id,
            trial=trial,
            model=self.label,
            model_name=self.model_name,
            seed=trial_seed(self.options.seed, case.id, trial),
            status="error",
            score=0.0,
            error=f"Infrastructure failed on all {self.options.attempts} attempt(s): {failure}",
            attempts=self.options.attempts,
            started_at=started,
            finished_at=datetime.now(UTC),
        )


def _covey_version() -> str:
    try:
        return metadata.version("covey")
    except metadata.PackageNotFoundError:
        return "0"


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
    model_name = model_name or model.config.model
    if options.trials < 1 or options.concurrency < 1 or options.attempts < 1:
        raise UsageError("trials, concurrency and attempts must each be at least 1.")
    info = RunInfo(
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
            **options.config,
        },
    )
    cases = [
        CaseInfo(id=c.id, input=c.input, tags=c.tags, metadata=c.metadata) for c in suite.cases
    ]
    await start_run(store, info, cases)
    done = await finished_trials(store, run_id)
    todo = [
        (case, index)
        for case in suite.cases
        for index in range(options.trials)
        if (case.id, index) not in done
    ]
    runner = _Runner(suite, model, label, model_name, store, options)
    limiter = options.limiter or anyio.CapacityLimiter(options.concurrency)
    endpoint = (
        options.endpoints.for_url(model.config.base_url)
        if options.endpoints is not None
        else anyio.CapacityLimiter(math.inf)
    )
    if progress is not None:
        progress.start(len(todo))

    lessons = Lessons(store, run_id) if options.reflect else None

    async def one(case: Case, index: int) -> None:
        # The endpoint first: a trial waiting for its endpoint holds no overall slot.
        async with endpoint, limiter:
            learned = await lessons.for_task(case.input) if lessons else []
            result = await runner.trial(run_id, case, index, learned)
            if lessons is not None and result.status == "failed":
                await lessons.learn(model, case.id, case.input, result)
        await record_trial(store, result)
        if progress is not None:
            progress.advance(result)

    async def in_order(case: Case, indexes: list[int]) -> None:
        for index in indexes:
            await one(case, index)

    try:
        async with anyio.create_task_group() as group:
            if options.reflect:  # a case's trials one after another, so lessons carry over
                for case in suite.cases:
                    indexes = [i for c, i in todo if c.id == case.id]
                    group.start_soon(in_order, case, indexes)
            else:
                for case, index in todo:
                    group.start_soon(one, case, index)
    finally:
        if progress is not None:
            progress.finish()
    await finish_run(store, run_id, datetime.now(UTC))
    return await load_run(store, run_id)
