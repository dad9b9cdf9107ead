"""What `covey eval` does between parsing its flags and printing its reports.

Every endpoint is checked first (`_endpoints`), then each model is opened and given a run
id (a new run, or the unfinished one the same command left), then every run goes at once
under the overall and per-endpoint limits, with one progress bar redrawn on a timer.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import re
import sys
from collections.abc import AsyncGenerator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field

import anyio

from ..models import ModelClient, ModelConfig
from ..store import Store
from ..testing import Policy
from ._case import Case, Suite
from ._endpoints import Endpoint, check_endpoints, open_endpoint
from ._options import EndpointLimits, EvalOptions
from ._prices import PriceTable
from ._recording import finished_trials, list_runs
from ._report_terminal import ProgressBar, format_summary
from ._results import RunResults, TrialResult
from ._runner import run_eval
from ._scripted import is_scripted, load_policy, scripted_endpoint
from ._summary import summarize

__all__ = ["Tally", "evaluate", "parse_model"]

TICK = 1.0
"""Seconds between redraws of the progress bar."""


def parse_model(spec: str) -> ModelConfig:
    """`URL#NAME` (or just `URL`) as a model configuration.

    The key, tool mode and timeout come from the environment (`ModelConfig.from_url`).

    Raises:
        UsageError: the URL is not http(s), or the environment's settings are unusable.
    """
    from .._errors import UsageError

    url, _, name = spec.partition("#")
    if not url.startswith(("http://", "https://")):
        raise UsageError(
            f"--model {spec!r}: expected URL#NAME, e.g. http://127.0.0.1:8000/v1#qwen3-8b, "
            "or scripted:solution, scripted:module:function (a scripted model)."
        )
    return ModelConfig.from_url(url, name or None)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:60] or "model"


def _label(config: ModelConfig | None, name: str) -> str:
    if config is None:
        return f"embedded:{name}"
    return f"{name}@{config.base_url}"


def _scorer_key(scorer: object) -> object:
    """A scorer as data: its settings, or for a Python scorer object its type and name."""
    from pydantic import BaseModel

    if isinstance(scorer, BaseModel):
        return scorer.model_dump(mode="json", by_alias=True)
    kind = type(scorer)
    return f"{kind.__module__}.{kind.__qualname__}:{getattr(scorer, 'name', '')}"


def _fingerprint(suite: Suite, args: argparse.Namespace) -> str:
    """What a run's results depend on: the cases with their scorers, seed and settings."""
    cases = [
        {
            **c.model_dump(mode="json", exclude={"scorers"}),
            "scorers": [_scorer_key(s) for s in suite.scorers_for(c)],
        }
        for c in suite.cases
    ]
    data = {
        "cases": cases,
        "seed": args.seed,
        "temperature": args.temperature,
        "reflect": args.reflect,
    }
    limits = {"time_limit": args.time_limit, "max_turns": args.max_turns}
    data |= {name: value for name, value in limits.items() if value is not None}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:8]


async def _run_id(store: Store, base: str, fresh: bool, taken: set[str]) -> tuple[str, bool]:
    """The id to use and whether it resumes an unfinished run (`taken`: ids of this command)."""
    runs = {r.run_id: r for r in await list_runs(store)}
    candidate, number = base, 1
    while candidate in runs or candidate in taken:
        if candidate not in taken and runs[candidate].finished_at is None and not fresh:
            return candidate, True
        number += 1
        candidate = f"{base}-{number}"
    return candidate, False


@dataclass(kw_only=True, slots=True, frozen=True)
class _Opened:
    """A model of the command, open, with its label and the name prices know it by."""

    model: ModelClient
    slots: int | None
    label: str
    name: str
    case_model: Callable[[Case], ModelClient] | None = None


@dataclass(kw_only=True, slots=True, frozen=True)
class _Planned:
    opened: _Opened
    run_id: str


async def _open(spec: str | None, policies: dict[str, Policy], stack: AsyncExitStack) -> _Opened:
    """A `--model` (None: the environment's), open on `stack`, with its label and name."""
    if spec is not None and spec in policies:
        scripted = await stack.enter_async_context(scripted_endpoint(policies[spec]))
        model, case_model = scripted.model, scripted.for_case
        return _Opened(model=model, slots=None, label=spec, name="scripted", case_model=case_model)
    config = parse_model(spec) if spec is not None else ModelConfig.from_env()
    if config is None:
        print("Starting the embedded model (llama.cpp)...", file=sys.stderr)
    opened = await stack.enter_async_context(open_endpoint(config))
    name = await opened.model.model_name()
    return _Opened(model=opened.model, slots=opened.slots, label=_label(config, name), name=name)


@dataclass(kw_only=True, slots=True)
class Tally:
    """This command's runs, what they hold in all, and what earlier commands recorded."""

    run_ids: list[str] = field(default_factory=list[str])
    """The runs, once they have ids."""
    total: int = 0
    """Trials the runs have in all."""
    before: int = 0
    """Trials recorded by an earlier command (resumed runs), which do not run again."""

    async def recorded(self, db: str | None) -> int:
        """Trials of the runs in the store now that will not run again (not errors)."""
        store = Store.from_url(db) if db else Store.from_env()
        async with store:
            return sum([len(await finished_trials(store, run)) for run in self.run_ids])


async def _announce(store: Store, run_id: str, resuming: bool, what: str, tally: Tally) -> None:
    if not resuming:
        print(f"Starting run {run_id}: {what}", file=sys.stderr)
        return
    before = len(await finished_trials(store, run_id))
    tally.before += before
    print(
        f"Resuming run {run_id}: {what} ({before} trials already recorded, not run again)",
        file=sys.stderr,
    )


async def _plan(
    args: argparse.Namespace,
    suite: Suite,
    store: Store,
    stack: AsyncExitStack,
    tally: Tally,
    policies: dict[str, Policy],
) -> list[_Planned]:
    """Open every model (they stay open on `stack`) and pick each one's run id."""
    specs: list[str | None] = list(args.model) or [None]
    planned: list[_Planned] = []
    for spec in specs:
        opened = await _open(spec, policies, stack)
        label = opened.label
        base = args.run_id or (
            f"{suite.name}-{_slug(label)}-k{args.trials}-{_fingerprint(suite, args)}"
        )
        taken = {p.run_id for p in planned}
        run_id, resuming = await _run_id(store, base, args.new and not args.run_id, taken)
        what = f"{len(suite.cases)} cases x {args.trials} trials on {label}"
        if opened.slots is not None and args.per_endpoint is None:
            many = "trial" if opened.slots == 1 else "trials"
            what += f", {opened.slots} {many} at a time (as many as its server answers at once)"
        await _announce(store, run_id, resuming, what, tally)
        tally.total += len(suite.cases) * args.trials
        tally.run_ids.append(run_id)
        planned.append(_Planned(opened=opened, run_id=run_id))
    return planned


def _endpoints_to_check(args: argparse.Namespace) -> list[Endpoint]:
    """Every endpoint the command will use that it does not start itself."""
    found = [
        Endpoint(config=parse_model(m), source="--model")
        for m in args.model
        if not is_scripted(m)  # started here, by covey
    ]
    if not args.model:
        config = ModelConfig.from_env()
        if config is not None:
            found.append(Endpoint(config=config, source="COVEY_BASE_URL"))
    if args.judge:
        found.append(Endpoint(config=parse_model(args.judge), source="--judge"))
    return found


class _SharedBar:
    """One progress bar for the runs of several models running at once."""

    def __init__(self, bar: ProgressBar, runs: int) -> None:
        self.bar, self.left, self.started = bar, runs, False

    def start(self, total: int) -> None:
        if self.started:
            self.bar.total += total
        else:
            self.bar.start(total)
            self.started = True

    def begin(self, case_id: str, trial: int) -> None:
        self.bar.begin(case_id, trial)

    def advance(self, result: TrialResult) -> None:
        self.bar.advance(result)

    def finish(self) -> None:
        self.left -= 1
        if self.left == 0:
            self.bar.finish()


def _limits(args: argparse.Namespace, planned: list[_Planned]) -> EndpointLimits | None:
    """The user's --per-endpoint, else each embedded server's slot count."""
    if args.per_endpoint is not None:
        return EndpointLimits(per_endpoint=args.per_endpoint)
    caps = {
        p.opened.model.config.base_url: p.opened.slots
        for p in planned
        if p.opened.slots is not None
    }
    return EndpointLimits(caps=caps) if caps else None


@asynccontextmanager
async def _maybe_model(config: ModelConfig | None) -> AsyncGenerator[ModelClient | None]:
    if config is None:
        yield None
        return
    async with ModelClient(config) as client:
        yield client


async def _tick(bar: ProgressBar) -> None:
    while True:
        await anyio.sleep(TICK)
        bar.tick()


async def evaluate(
    args: argparse.Namespace, suite: Suite, prices: PriceTable | None, tally: Tally
) -> list[RunResults]:
    """Run the suite on every model at once, under -j overall and per endpoint each."""
    await check_endpoints(_endpoints_to_check(args))
    # A bad scripted model stops the command before the store is opened, as a URL does.
    policies = {spec: load_policy(spec, suite) for spec in args.model if is_scripted(spec)}
    store = Store.from_url(args.db) if args.db else Store.from_env()
    async with store, AsyncExitStack() as stack:
        judge_config = parse_model(args.judge) if args.judge else None
        judge = await stack.enter_async_context(_maybe_model(judge_config))
        planned = await _plan(args, suite, store, stack, tally, policies)
        options = EvalOptions(
            trials=args.trials,
            concurrency=args.concurrency,
            limiter=anyio.CapacityLimiter(args.concurrency),
            endpoints=_limits(args, planned),
            seed=args.seed,
            temperature=args.temperature,
            time_limit=args.time_limit,
            max_turns=args.max_turns,
            judge=judge,
            reflect=args.reflect,
        )
        progress = ProgressBar()
        bar = _SharedBar(progress, len(planned))
        results: dict[str, RunResults] = {}

        async def run(plan: _Planned) -> None:
            opened = plan.opened
            results[plan.run_id] = await run_eval(
                suite,
                opened.model,
                store=store,
                run_id=plan.run_id,
                label=opened.label,
                model_name=opened.name,
                options=dataclasses.replace(options, case_model=opened.case_model),
                progress=bar,
            )

        async with anyio.create_task_group() as group:
            group.start_soon(_tick, progress)
            async with anyio.create_task_group() as runs:
                for plan in planned:
                    runs.start_soon(run, plan)
            group.cancel_scope.cancel()
    ordered = [results[plan.run_id] for plan in planned]
    for result in ordered:
        print(format_summary(summarize(result, prices=prices)))
    return ordered
