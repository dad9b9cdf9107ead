"""One trial: a fresh world, the agent under the case's limits, the scorers, retries.

A trial that hits a limit (time, turns, tokens) is still scored. An infrastructure failure
(model server down, an MCP server that does not start or stops mid-call) is retried and,
if it persists, recorded as `error`, apart from task failures.
"""

from __future__ import annotations

import hashlib
import inspect
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
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
from ..tools import MCPConnectionError, MCPToolset
from ..tracing._genai import span
from ._case import Case, Solver, Suite
from ._environment import Environment, TrialSetup, open_environment
from ._judge import JudgeUnavailable
from ._lessons import with_lessons
from ._options import EvalOptions
from ._results import LimitHit, ScoreResult, TrialResult
from ._trial import TokenLimitHit, TrialContext, TrialRecorder
from ._users import Conversation, simulated_user
from ._world import World, create_world

__all__ = ["InfraError", "TrialRunner", "trial_seed"]


class InfraError(Exception):
    """Something outside the agent failed: the trial is retried, then recorded as `error`."""


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


@dataclass(kw_only=True, slots=True, frozen=True)
class _Found:
    """What the agent left behind, for the scorers."""

    world: World
    environment: Environment | None
    setup: TrialSetup


@dataclass(kw_only=True, slots=True)
class _Outcome:
    output: str | None = None
    error: str | None = None
    limit_hit: LimitHit | None = None


class TrialRunner:
    """Runs one trial of a case: a fresh world, the agent under its limits, the scorers."""

    def __init__(
        self,
        suite: Suite,
        model: ModelClient,
        label: str,
        model_name: str | None,
        options: EvalOptions,
    ) -> None:
        self.suite, self.model, self.label = suite, model, label
        self.model_name, self.options = model_name, options

    async def agent_for(
        self,
        case: Case,
        servers: Sequence[MCPToolset],
        setup: TrialSetup,
        lessons: list[str],
    ) -> Agent[Any] | Solver:
        model = self.options.case_model(case) if self.options.case_model else self.model
        environment = setup.environment
        offered = [*servers, *(environment.tools() if environment is not None else ())]
        made: Any = None
        if self.suite.trial_agent is not None:
            made = self.suite.trial_agent(model, offered, case, setup)
        elif self.suite.agent is not None:
            made = self.suite.agent(model, servers, case)
        if made is not None:
            if inspect.isawaitable(made):
                made = await made
            if isinstance(made, Agent):
                agent = cast("Agent[Any]", made)
                agent.instructions = with_lessons(agent.instructions, lessons)
                return agent
            return _with_lessons_in_task(cast(Solver, made), lessons)
        settings = ModelSettings(seed=setup.seed, temperature=self.options.temperature)
        return Agent(
            case.id,
            model,
            instructions=with_lessons(self.suite.instructions_for(case), lessons),
            tools=offered,
            max_turns=self.options.limits_for(self.suite, case).turns,
            settings=settings,
        )

    async def attempt(
        self, run_id: str, case: Case, trial: int, attempt: int, lessons: list[str]
    ) -> TrialResult:
        seed = trial_seed(self.options.seed, case.id, trial)
        started = datetime.now(UTC)
        with tempfile.TemporaryDirectory(prefix="covey-trial-", dir=self.options.workdir) as tmp:
            setup = TrialSetup(case_id=case.id, trial=trial, seed=seed, directory=Path(tmp))
            async with AsyncExitStack() as stack:
                try:  # any failure before the agent starts is the trial's infrastructure
                    world = await create_world(case.setup, Path(tmp) / "world")
                    environment = await stack.enter_async_context(
                        open_environment(self.suite.environment_for(case), setup)
                    )
                    servers = await stack.enter_async_context(
                        world.servers(self.suite.servers_for(case))
                    )
                    tools = [t.definition for s in servers for t in await s.list_tools()]
                    setup.environment = environment
                    agent = await self.agent_for(case, servers, setup, lessons)
                except Exception as exc:
                    raise InfraError(f"The trial's set-up failed: {_describe(exc)}") from exc
                limits = self.options.limits_for(self.suite, case)
                recorder = TrialRecorder(tools=tools, token_limit=limits.tokens)
                talk = self._conversation(case, agent, environment, setup, recorder)
                clock = time.perf_counter()
                outcome = await self._run_agent(agent, case, recorder, limits.seconds, talk)
                latency = time.perf_counter() - clock
                if recorder.server_stops:
                    stop = recorder.server_stops[0]
                    raise InfraError(
                        f"MCP server {stop.server!r} stopped while running tool {stop.tool!r} "
                        f"({stop.reason})"
                    )
                found = _Found(world=world, environment=environment, setup=setup)
                scores = await self._score(case, found, recorder, outcome)
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

    def _conversation(
        self,
        case: Case,
        agent: Agent[Any] | Solver,
        environment: Environment | None,
        setup: TrialSetup,
        recorder: TrialRecorder,
    ) -> Conversation | None:
        if case.user is None:
            return None
        if not isinstance(agent, Agent):
            raise UsageError(
                f"Case {case.id!r} has a simulated user, which talks to an Agent over "
                "several turns; the suite's factory made a solver. Return an Agent for it."
            )
        model = self.options.user_model or self.model
        return Conversation(
            agent=cast("Agent[Any]", agent),
            user=simulated_user(case.user, case.input, environment, model),
            spec=case.user,
            environment=environment,
            setup=setup,
            on_event=recorder.on_event,
        )

    async def _run_agent(
        self,
        agent: Agent[Any] | Solver,
        case: Case,
        recorder: TrialRecorder,
        seconds: float,
        conversation: Conversation | None,
    ) -> _Outcome:
        outcome = _Outcome()
        with anyio.move_on_after(seconds) as scope:
            try:
                output: object
                if conversation is not None:
                    output = await conversation.run(case.input)
                elif isinstance(agent, Agent):
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
        self, case: Case, found: _Found, recorder: TrialRecorder, outcome: _Outcome
    ) -> list[ScoreResult]:
        context = TrialContext(
            case_id=case.id,
            input=case.input,
            output=outcome.output,
            tool_calls=recorder.tool_calls,
            messages=recorder.messages,
            world=found.world,
            limit_hit=outcome.limit_hit,
            metadata=case.metadata,
            judge=self.options.judge,
            environment=found.environment,
            trial_id=found.setup.trial_id,
            seed=found.setup.seed,
            state=found.setup.state,
        )
        scores: list[ScoreResult] = []
        for scorer in self.suite.scorers_for(case):
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
                with span(f"eval_trial {case.id}", _trial_attributes(run_id, case.id, trial)) as s:
                    result = await self.attempt(run_id, case, trial, attempt, lessons or [])
                    if s is not None:
                        s.set_attributes(
                            {"covey.eval.status": result.status, "covey.eval.score": result.score}
                        )
                    return result
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


def _trial_attributes(run_id: str, case_id: str, trial: int) -> dict[str, str | int]:
    return {"covey.eval.run_id": run_id, "covey.eval.case_id": case_id, "covey.eval.trial": trial}
