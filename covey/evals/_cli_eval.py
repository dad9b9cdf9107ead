"""`covey eval SUITE`: run a suite on one or more models and report as it goes.

Each model gets its own run in the store. Running the same command again resumes an
unfinished run (finished trials are skipped); once a run is complete, the same command
starts a new one. The summary table and the path of the HTML report end the output.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections.abc import AsyncGenerator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..models import ModelClient, ModelConfig
    from ..store import Store
    from ._case import Suite
    from ._prices import PriceTable
    from ._report_terminal import ProgressBar
    from ._results import RunResults, TrialResult

__all__ = ["add_parser", "parse_model"]


def add_parser(commands: Any) -> None:
    """Register `eval` on the `covey` command's subparsers."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "eval", help="evaluate an agent on a suite of tasks (k trials each, fresh worlds)"
    )
    parser.add_argument(
        "suite",
        nargs="?",
        help="builtin, builtin:TAG (e.g. builtin:quick), a suite .yaml, or module:attribute",
    )
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="URL#NAME",
        help="OpenAI-compatible endpoint and model, e.g. http://127.0.0.1:8000/v1#qwen3-8b "
        "(repeat to compare models; default: $COVEY_BASE_URL, else the embedded model)",
    )
    parser.add_argument("--trials", "-k", type=int, default=1, help="trials per case (k)")
    parser.add_argument("--concurrency", "-j", type=int, default=4, help="trials at once")
    parser.add_argument(
        "--per-endpoint",
        type=int,
        default=None,
        metavar="N",
        help="trials at once per model endpoint (base URL); models run side by side under -j",
    )
    parser.add_argument("--tags", default="", help="only cases with one of these tags (a,b)")
    parser.add_argument("--cases", default="", help="only these case ids (a,b)")
    parser.add_argument("--seed", type=int, default=0, help="base seed of the trials")
    parser.add_argument("--temperature", type=float, default=None, help="sampling temperature")
    parser.add_argument("--judge", metavar="URL#NAME", help="model for rubric judges")
    parser.add_argument(
        "--reflect",
        action="store_true",
        help="run each case's trials in order; after a failure the model writes a lesson "
        "that later trials get in their instructions (the report shows success by trial)",
    )
    parser.add_argument("--run-id", help="record under this id (resumes it if unfinished)")
    parser.add_argument("--new", action="store_true", help="start a new run, never resume")
    parser.add_argument("--db", metavar="URL", help="store URL (default: $COVEY_DB)")
    parser.add_argument(
        "--html", type=Path, metavar="PATH", help="HTML report path (default .covey/reports/)"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write a JSON report")
    parser.add_argument(
        "--prices",
        type=Path,
        metavar="FILE",
        help="price table for the cost figures (JSON/YAML: model name -> input/output per 1M)",
    )
    parser.add_argument(
        "--schema", action="store_true", help="print the JSON Schema of suite files and exit"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="replay each case's solution (must pass) and mistakes (each scorer must fail in "
        "one) on a scripted model instead of evaluating a model; exit 1 if any does not",
    )
    parser.set_defaults(handler=_cmd_eval)


def parse_model(spec: str) -> ModelConfig:
    """`URL#NAME` (or just `URL`) as a model configuration.

    Raises:
        UsageError: the URL is not http(s).
    """
    from .._errors import UsageError
    from ..models import ModelConfig

    url, _, name = spec.partition("#")
    if not url.startswith(("http://", "https://")):
        raise UsageError(
            f"--model {spec!r}: expected URL#NAME, e.g. http://127.0.0.1:8000/v1#qwen3-8b."
        )
    return ModelConfig(base_url=url, model=name or None)


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
            "scorers": [_scorer_key(s) for s in c.scorers],
        }
        for c in suite.cases
    ]
    data = {
        "cases": cases,
        "seed": args.seed,
        "temperature": args.temperature,
        "reflect": args.reflect,
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:8]


async def _run_id(store: Store, base: str, fresh: bool, taken: set[str]) -> tuple[str, bool]:
    """The id to use and whether it resumes an unfinished run (`taken`: ids of this command)."""
    from ._recording import list_runs

    runs = {r.run_id: r for r in await list_runs(store)}
    candidate, number = base, 1
    while candidate in runs or candidate in taken:
        if candidate not in taken and runs[candidate].finished_at is None and not fresh:
            return candidate, True
        number += 1
        candidate = f"{base}-{number}"
    return candidate, False


@asynccontextmanager
async def _model(config: ModelConfig | None) -> AsyncGenerator[ModelClient]:
    from ..models import open_model

    async with open_model(config) as client:
        yield client


@dataclass(kw_only=True, slots=True, frozen=True)
class _Planned:
    model: ModelClient
    name: str
    label: str
    run_id: str


async def _plan(
    args: argparse.Namespace, suite: Suite, store: Store, stack: AsyncExitStack
) -> list[_Planned]:
    """Open every model (they stay open on `stack`) and pick each one's run id."""
    from ..models import ModelConfig

    configs: list[ModelConfig | None] = [parse_model(m) for m in args.model]
    planned: list[_Planned] = []
    for config in configs or [ModelConfig.from_env()]:
        if config is None:
            print("Starting the embedded model (llama.cpp)...", file=sys.stderr)
        model = await stack.enter_async_context(_model(config))
        name = await model.model_name()
        label = _label(config, name)
        base = args.run_id or (
            f"{suite.name}-{_slug(label)}-k{args.trials}-{_fingerprint(suite, args)}"
        )
        taken = {p.run_id for p in planned}
        run_id, resuming = await _run_id(store, base, args.new and not args.run_id, taken)
        verb = "Resuming" if resuming else "Starting"
        print(
            f"{verb} run {run_id}: {len(suite.cases)} cases x {args.trials} trials on {label}",
            file=sys.stderr,
        )
        planned.append(_Planned(model=model, name=name, label=label, run_id=run_id))
    return planned


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

    def advance(self, result: TrialResult) -> None:
        self.bar.advance(result)

    def finish(self) -> None:
        self.left -= 1
        if self.left == 0:
            self.bar.finish()


async def _evaluate(
    args: argparse.Namespace, suite: Suite, prices: PriceTable | None
) -> list[RunResults]:
    """Run the suite on every model at once, under -j overall and --per-endpoint each."""
    import anyio

    from ..store import Store
    from ._report_terminal import ProgressBar, format_summary
    from ._runner import EndpointLimits, EvalOptions, run_eval
    from ._summary import summarize

    store = Store.from_url(args.db) if args.db else Store.from_env()
    async with store, AsyncExitStack() as stack:
        judge_config = parse_model(args.judge) if args.judge else None
        judge = await stack.enter_async_context(_maybe_model(judge_config))
        planned = await _plan(args, suite, store, stack)
        options = EvalOptions(
            trials=args.trials,
            concurrency=args.concurrency,
            limiter=anyio.CapacityLimiter(args.concurrency),
            endpoints=EndpointLimits(per_endpoint=args.per_endpoint) if args.per_endpoint else None,
            seed=args.seed,
            temperature=args.temperature,
            judge=judge,
            reflect=args.reflect,
        )
        bar = _SharedBar(ProgressBar(), len(planned))
        results: dict[str, RunResults] = {}

        async def run(plan: _Planned) -> None:
            results[plan.run_id] = await run_eval(
                suite,
                plan.model,
                store=store,
                run_id=plan.run_id,
                label=plan.label,
                model_name=plan.name,
                options=options,
                progress=bar,
            )

        async with anyio.create_task_group() as group:
            for plan in planned:
                group.start_soon(run, plan)
    ordered = [results[plan.run_id] for plan in planned]
    for result in ordered:
        print(format_summary(summarize(result, prices=prices)))
    return ordered


@asynccontextmanager
async def _maybe_model(config: ModelConfig | None) -> AsyncGenerator[ModelClient | None]:
    if config is None:
        yield None
        return
    from ..models import ModelClient

    async with ModelClient(config) as client:
        yield client


def _cmd_eval(args: argparse.Namespace) -> int:
    import anyio

    from .._errors import UsageError
    from ._compare import format_side_by_side
    from ._prices import PriceTable
    from ._report_html import write_html_report
    from ._report_json import json_report
    from ._suite_load import load_suite, schema_text
    from ._summary import summarize

    if args.schema:
        sys.stdout.write(schema_text())
        return 0
    if not args.suite:
        raise UsageError("covey eval needs a SUITE: builtin, builtin:quick, a .yaml file, ...")
    suite = load_suite(args.suite)
    tags = [t for t in args.tags.split(",") if t]
    ids = [c for c in args.cases.split(",") if c]
    if tags or ids:
        try:
            suite = suite.select(tags=tags, ids=ids)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    if args.check:
        from ._check import check_suite, format_check

        check = anyio.run(partial(check_suite, suite, concurrency=args.concurrency))
        print(format_check(check))
        return 0 if check.ok else 1
    prices = PriceTable.from_file(args.prices) if args.prices is not None else None
    runs = anyio.run(_evaluate, args, suite, prices)
    for run in runs:
        html = args.html if args.html and len(runs) == 1 else None
        target = html or Path(".covey/reports") / f"{run.run.run_id}.html"
        print(f"HTML report: {write_html_report(target, run, prices=prices)}")
        if args.json is not None and len(runs) == 1:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            report = json_report(run, summarize(run, prices=prices))
            args.json.write_text(json.dumps(report, indent=2) + "\n")
            print(f"JSON report: {args.json}")
    if len(runs) > 1:
        print(format_side_by_side([summarize(r, prices=prices) for r in runs]))
    return 0
