"""`covey eval SUITE`: run a suite on one or more models and report as it goes.

Each model gets its own run in the store. Running the same command again resumes an
unfinished run (finished trials are skipped); once a run is complete, the same command
starts a new one. The summary table and the path of the HTML report end the output.
Every model endpoint is checked before the first trial, and a run whose every trial
ended in an infrastructure error exits 1 with the first error.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Generator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._case import Suite
    from ._cli_run import Tally
    from ._results import RunResults

__all__ = ["add_parser"]

_TIME_LIMIT_HELP = (
    "seconds each trial's agent may run (default: the suite's limit, else 120). It counts "
    "from when the trial has its endpoint and its world is set up: waiting for a slot, "
    "starting MCP servers and scoring do not count. A model server's own queue does: "
    "give --per-endpoint the number of requests it serves at once"
)
_CONCURRENCY_HELP = (
    "trials at once (default %(default)s); on the embedded model no more than its server "
    "serves at once (one), so time limits never count its queue"
)
_PER_ENDPOINT_HELP = (
    "trials at once per model endpoint (base URL); models run side by side under -j "
    "(default: no cap for a --model URL, the server's slot count for the embedded model)"
)


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
        "(repeat to compare models; default: $COVEY_BASE_URL, else the embedded model); "
        "scripted:solution or scripted:mistake replays the suite's own steps, and "
        "scripted:module:function answers with that policy, on covey's scripted model server "
        "started in this process",
    )
    parser.add_argument(
        "--trials", "-k", type=int, default=1, help="trials per case (k; default %(default)s)"
    )
    parser.add_argument("--concurrency", "-j", type=int, default=4, help=_CONCURRENCY_HELP)
    parser.add_argument(
        "--per-endpoint", type=int, default=None, metavar="N", help=_PER_ENDPOINT_HELP
    )
    parser.add_argument(
        "--time-limit", type=float, default=None, metavar="SECONDS", help=_TIME_LIMIT_HELP
    )
    parser.add_argument(
        "--max-turns",
        type=int,
        default=None,
        metavar="N",
        help="model turns each trial may take (default: the suite's limit, else 12)",
    )
    parser.add_argument("--tags", default="", help="only cases with one of these tags (a,b)")
    parser.add_argument("--cases", default="", help="only these case ids (a,b)")
    parser.add_argument(
        "--seed", type=int, default=0, help="base seed of the trials (default %(default)s)"
    )
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
    parser.add_argument(
        "--db", metavar="URL", help="store URL (default: $COVEY_DB, else .covey/covey.db here)"
    )
    parser.add_argument(
        "--html",
        type=Path,
        metavar="PATH",
        help="HTML report path (default .covey/reports/RUN_ID.html); with several --model, "
        "one report per run, PATH's name plus -RUN_ID",
    )
    parser.add_argument(
        "--json",
        type=Path,
        metavar="PATH",
        help="also write a JSON report; with several --model, one per run, named as --html's",
    )
    parser.add_argument(
        "--prices",
        type=Path,
        metavar="FILE",
        help="price table for the cost figures (JSON/YAML: model name -> input/output per 1M)",
    )
    parser.add_argument(
        "--trace",
        action="store_true",
        help="record each trial's trace (model calls, tool calls with arguments and results) "
        "in the store, to browse with `covey view` (needs covey[otel])",
    )
    parser.add_argument(
        "--schema", action="store_true", help="print the JSON Schema of suite files and exit"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="replay each case's solution (must pass) and mistakes (each scorer must fail in "
        "one; a mistake written as {steps, passes_because: REASON} must pass instead) on a "
        "scripted model instead of evaluating a model; exit 1 if any does not",
    )
    parser.set_defaults(handler=_cmd_eval)


def _check_numbers(args: argparse.Namespace) -> None:
    """One line for a count that cannot run, before anything starts."""
    from ._options import check_settings

    counts = {"--trials/-k": args.trials, "--concurrency/-j": args.concurrency}
    counts |= {"--per-endpoint": args.per_endpoint, "--max-turns": args.max_turns}
    check_settings(counts, ("--time-limit", args.time_limit))


def _select(suite: Suite, tags: list[str], ids: list[str]) -> Suite:
    """The cases asked for, or one line naming the tags and ids there are."""
    from .._errors import UsageError

    try:
        return suite.select(tags=tags, ids=ids)
    except ValueError:
        asked = ", ".join([*(f"tag {t!r}" for t in tags), *(f"id {i!r}" for i in ids)])
        known = sorted({tag for case in suite.cases for tag in case.tags})
        there = f"Its tags: {', '.join(known) or 'none'}"
        if ids:
            there += f"; its case ids: {', '.join(case.id for case in suite.cases)}"
        raise UsageError(f"No case of suite {suite.name!r} matches {asked}. {there}.") from None


def _load(args: argparse.Namespace) -> Suite:
    from .._errors import UsageError
    from ._suite_load import load_suite

    if not args.suite:
        raise UsageError("covey eval needs a SUITE: builtin, builtin:quick, a .yaml file, ...")
    spec, tags = args.suite, [t for t in args.tags.split(",") if t]
    if spec.startswith("builtin:"):  # builtin:TAG is the tag's cases
        spec, tag = spec.split(":", 1)
        tags += [tag] if tag else []
    suite = load_suite(spec)
    ids = [c for c in args.cases.split(",") if c]
    return _select(suite, tags, ids) if tags or ids else suite


def _check(args: argparse.Namespace, suite: Suite) -> int:
    import anyio

    from ._check import check_suite, format_check
    from ._report_terminal import ProgressBar

    run = partial(check_suite, suite, concurrency=args.concurrency, progress=ProgressBar())
    check = anyio.run(run)
    print(format_check(check))
    return 0 if check.ok else 1


def _all_errors(runs: list[RunResults]) -> int:
    """Exit code 1, with the first error, when a run's every trial failed to run at all."""
    for run in runs:
        if run.trials and all(t.status == "error" for t in run.trials):
            first = run.trials[0].error or "no reason recorded"
            print(
                f"covey: error: every trial of run {run.run.run_id} ended in an infrastructure "
                f"error, the first: {first}",
                file=sys.stderr,
            )
            return 1
    return 0


def _interrupted(args: argparse.Namespace, tally: Tally) -> None:
    import anyio

    if not tally.run_ids:
        print("covey: interrupted before the first trial.", file=sys.stderr)
        return
    recorded = anyio.run(tally.recorded, args.db)
    earlier = f" ({recorded - tally.before} by this command)" if tally.before else ""
    print(
        f"covey: interrupted: {recorded} of {tally.total} trials recorded{earlier}; "
        "re-run the same command to resume.",
        file=sys.stderr,
    )


def _report_path(path: Path | None, run_id: str, runs: int) -> Path | None:
    """`path` for one run; for one of several, `path`'s name plus `-RUN_ID`."""
    if path is None or runs == 1:
        return path
    return path.with_name(f"{path.stem}-{re.sub(r'[^A-Za-z0-9_.-]+', '-', run_id)}{path.suffix}")


def _write_reports(args: argparse.Namespace, runs: list[RunResults], prices: Any) -> None:
    from ._compare import format_side_by_side
    from ._report_html import write_html_report
    from ._report_json import json_report
    from ._summary import summarize

    for run in runs:
        run_id = run.run.run_id
        html = _report_path(args.html, run_id, len(runs))
        target = html or Path(".covey/reports") / f"{run_id}.html"
        print(f"HTML report: {write_html_report(target, run, prices=prices)}")
        path = _report_path(args.json, run_id, len(runs))
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            report = json_report(run, summarize(run, prices=prices))
            path.write_text(json.dumps(report, indent=2) + "\n")
            print(f"JSON report: {path}")
    if len(runs) > 1:
        print(format_side_by_side([summarize(r, prices=prices) for r in runs]))


@contextmanager
def _tracing(enabled: bool, db: str | None) -> Generator[None]:
    """With `--trace`: spans with contents go to the run's store until the runs end."""
    if not enabled:
        yield
        return
    from ..tracing import configure

    provider = configure(store=db or True, capture_content=True)
    try:
        yield
    finally:
        provider.shutdown()  # exports the last trials' spans


def _cmd_eval(args: argparse.Namespace) -> int:
    import anyio

    from ._cli_run import Tally, evaluate
    from ._prices import PriceTable
    from ._suite_load import schema_text

    if args.schema:
        sys.stdout.write(schema_text())
        return 0
    _check_numbers(args)
    suite = _load(args)
    if args.check:
        return _check(args, suite)
    prices = PriceTable.from_file(args.prices) if args.prices is not None else None
    tally = Tally()
    try:
        with _tracing(args.trace, args.db):
            runs = anyio.run(evaluate, args, suite, prices, tally)
    except KeyboardInterrupt:
        _interrupted(args, tally)
        raise
    _write_reports(args, runs, prices)
    return _all_errors(runs)
