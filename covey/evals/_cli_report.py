"""`covey report RUN` and `covey compare RUN RUN [RUN ...]`: reports of recorded runs.

Runs are read from the store (`--db URL`, else `COVEY_DB`, else `.covey/covey.db`); the
run id `latest` names the newest run, and a path ending in `.json` reads a run back from a
JSON report (`covey report RUN --json PATH`), so runs from other machines compare too.
Heavy imports happen only when a command runs, so registering these commands costs
`covey serve` nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:
    from ..store import Store
    from ._prices import PriceTable
    from ._results import RunResults

__all__ = ["RunLoader", "add_parsers", "check_store_exists", "load_runs"]


class RunLoader(Protocol):
    """Reads recorded runs from a store; `covey.evals._recording` is the one covey ships."""

    async def load_run(self, store: Store, run_id: str) -> RunResults:
        """The run `run_id` with its cases and trials."""
        ...

    async def latest_run_id(self, store: Store) -> str | None:
        """The newest run's id, or None when the store has no runs."""
        ...


def _default_loader() -> RunLoader:
    import importlib

    from .._errors import UsageError

    try:
        module = importlib.import_module("covey.evals._recording")
    except ModuleNotFoundError as e:
        raise UsageError(
            "This covey build cannot read runs from a store (covey.evals._recording is "
            "missing): pass JSON report files instead."
        ) from e
    return cast("RunLoader", module)


class _Commands(Protocol):
    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser: ...


def add_parsers(commands: _Commands) -> None:
    """Register `report` and `compare` on the `covey` command's subparsers."""
    report = commands.add_parser(
        "report", help="summarize a recorded eval run (terminal table, JSON, HTML)"
    )
    report.add_argument("run", help="run id, 'latest', or a JSON report file")
    report.add_argument(
        "--html", type=Path, metavar="PATH", help="write the self-contained HTML report here"
    )
    report.add_argument("--json", type=Path, metavar="PATH", help="write the JSON report here")
    _common(report)
    report.set_defaults(handler=_cmd_report)

    compare = commands.add_parser(
        "compare", help="compare eval runs: two case by case, or several side by side"
    )
    compare.add_argument(
        "runs", nargs="+", metavar="RUN", help="two or more run ids or JSON report files"
    )
    compare.add_argument(
        "--json", type=Path, metavar="PATH", help="write the comparison as JSON here"
    )
    _common(compare)
    compare.set_defaults(handler=_cmd_compare)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", metavar="URL", help="store URL (default: $COVEY_DB or .covey/covey.db)"
    )
    parser.add_argument(
        "--prices",
        type=Path,
        metavar="PATH",
        help="price table (JSON/YAML: model -> input/output per 1M)",
    )


def _is_report_file(run: str) -> bool:
    return run.endswith(".json") and Path(run).is_file()


def check_store_exists(store: Store, db: str | None) -> None:
    """Reading must not leave an empty SQLite file behind: a missing one is an error."""
    import os

    import sqlalchemy as sa

    from .._errors import UsageError

    url = sa.make_url(store.url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    path = Path(url.database)
    if path.exists():
        return
    if db is None and not os.environ.get("COVEY_DB", "").strip():
        where = f"{path} (.covey/covey.db under the current directory, the default store)"
    else:
        where = f"{path} (from {'--db' if db else 'COVEY_DB'})"
    raise UsageError(
        f"No eval store at {where}: run `covey eval SUITE` here first, or pass --db URL "
        "(or set COVEY_DB) to the store that holds your runs."
    )


async def _load(db: str | None, run_ids: Sequence[str], loader: RunLoader) -> dict[str, RunResults]:
    from .._errors import UsageError
    from ..store import Store

    runs: dict[str, RunResults] = {}
    store = Store.from_url(db) if db else Store.from_env()
    check_store_exists(store, db)
    async with store:
        for run_id in run_ids:
            wanted = run_id
            if run_id == "latest":
                found = await loader.latest_run_id(store)
                if found is None:
                    raise UsageError(
                        f"No eval runs in {store.url}: run `covey eval SUITE` first, "
                        "or point --db at the store that has them."
                    )
                wanted = found
            runs[run_id] = await loader.load_run(store, wanted)
    return runs


def load_runs(
    db: str | None, run_ids: Sequence[str], *, loader: RunLoader | None = None
) -> list[RunResults]:
    """Load runs by id (or `latest`) from the store at `db`, or from JSON report files.

    Args:
        db: Store URL; None for `COVEY_DB` or `.covey/covey.db`.
        run_ids: Run ids, `latest`, or paths of JSON reports (ending in `.json`).
        loader: How to read runs from the store (default `covey.evals._recording`).

    Raises:
        UsageError: a run is missing or a report file is not a covey report.
    """
    import anyio

    from ._report_json import read_json_report

    stored = [run for run in run_ids if not _is_report_file(run)]
    loaded: dict[str, RunResults] = {}
    if stored:
        loaded = anyio.run(_load, db, stored, loader or _default_loader())
    return [loaded[run] if run in loaded else read_json_report(run) for run in run_ids]


def _prices(path: Path | None) -> PriceTable | None:
    from ._prices import PriceTable

    return None if path is None else PriceTable.from_file(path)


def _cmd_report(args: argparse.Namespace) -> int:
    from ._report_html import html_report
    from ._report_json import json_report
    from ._report_terminal import format_summary
    from ._summary import summarize

    prices = _prices(args.prices)
    (results,) = load_runs(args.db, [args.run])
    summary = summarize(results, prices=prices)
    print(format_summary(summary))
    if args.json is not None:
        _write(args.json, json.dumps(json_report(results, summary), indent=2) + "\n")
        print(f"JSON report: {args.json}", file=sys.stderr)
    if args.html is not None:
        _write(args.html, html_report(results, summary))
        print(f"HTML report: {args.html}", file=sys.stderr)
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from .._errors import UsageError
    from ._compare import compare_runs, format_comparison, format_side_by_side
    from ._summary import summarize

    if len(args.runs) < 2:
        raise UsageError(
            f"covey compare needs two or more runs, got {len(args.runs)}: "
            "pass RUN RUN (e.g. `covey compare latest <older-run-id>`)."
        )
    prices = _prices(args.prices)
    runs = load_runs(args.db, args.runs)
    summaries = [summarize(r, prices=prices) for r in runs]
    data: dict[str, Any] = {"runs": [s.model_dump(mode="json") for s in summaries]}
    if len(runs) == 2:
        paired = compare_runs(runs[0], runs[1])
        print(format_comparison(paired))
        print()
        data["paired"] = paired.model_dump(mode="json")
    print(format_side_by_side(summaries))
    if args.json is not None:
        _write(args.json, json.dumps(data, indent=2) + "\n")
        print(f"JSON comparison: {args.json}", file=sys.stderr)
    return 0


def _write(path: Path, text: str) -> None:
    from .._errors import UsageError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise UsageError(f"Cannot write {str(path)!r}: {e.strerror}. Pick another path.") from e
