"""`covey rate`: rate an MCP server and print its scorecard; `--json` and `--html` write reports.

covey rate [OPTIONS] -- COMMAND [ARGS...]     a stdio server, started by the rater
covey rate [OPTIONS] URL [--header K=V]       a streamable HTTP server
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import anyio

from .._errors import CoveyError

__all__ = ["add_parser"]


def add_parser(commands: Any) -> None:
    """Add the `rate` subcommand to the `covey` parser's subcommands."""
    rate = commands.add_parser(
        "rate",
        help="rate any MCP server: covey rate -- COMMAND [ARGS...] | covey rate URL",
        description=(
            "Rate an MCP server on protocol, tool definitions, robustness, security and "
            "performance. A stdio server runs in a fresh temporary directory; the text "
            "{workdir} in its arguments is replaced by that directory."
        ),
    )
    rate.add_argument("url", nargs="?", help="a streamable HTTP URL (or use -- COMMAND ...)")
    # "*", not REMAINDER: options after a URL stay options; after `--` all is the command.
    rate.add_argument("command", nargs="*", help="-- COMMAND [ARGS...]")
    rate.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="K=V",
        help="an HTTP header for the server (repeatable)",
    )
    rate.add_argument(
        "--copy",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="copy FILE into the server's working directory first (repeatable)",
    )
    rate.add_argument("--json", type=Path, metavar="PATH", help="write the JSON report here")
    rate.add_argument("--html", type=Path, metavar="PATH", help="write the HTML report here")
    rate.add_argument(
        "--calls",
        type=int,
        default=12,
        metavar="N",
        help="malformed calls per tool (default: %(default)s)",
    )
    rate.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds before a call counts as a hang (default: %(default)s)",
    )
    rate.add_argument(
        "--budget",
        type=float,
        default=600.0,
        metavar="S",
        help="seconds for the whole rating (default: %(default)s)",
    )
    rate.set_defaults(handler=_cmd_rate)


def _headers(pairs: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise CoveyError(
                f"--header {pair!r} is not K=V; write e.g. --header Authorization='Bearer x'."
            )
        headers[name.strip()] = value
    return headers


def _target(args: argparse.Namespace) -> tuple[list[str] | None, str | None]:
    command = [c for c in args.command if c != "--"] if args.command else []
    if args.url and args.url != "--" and not args.url.startswith(("http://", "https://")):
        command = [args.url, *command]  # `covey rate server-cmd ...` without the `--`
        args.url = None
    if command and args.url:
        raise CoveyError("Give a URL or `-- COMMAND ...`, not both.")
    if not command and not args.url:
        raise CoveyError(
            "Nothing to rate: give `covey rate -- COMMAND [ARGS...]` or `covey rate URL`."
        )
    if command and args.header:
        raise CoveyError("--header applies to an HTTP URL only; a stdio server takes none.")
    return (command or None), args.url


def _cmd_rate(args: argparse.Namespace) -> int:
    from ._context import RateOptions
    from ._rate import rate_server
    from ._report_html import html_report
    from ._report_json import json_report
    from ._report_terminal import scorecard

    command, url = _target(args)
    headers = _headers(args.header)
    if missing := [str(p) for p in args.copy if not p.is_file()]:
        raise CoveyError(f"No file to copy into the working directory: {', '.join(missing)}.")
    if args.calls < 1 or args.timeout <= 0 or args.budget <= 0:
        raise CoveyError("--calls must be at least 1, and --timeout and --budget above 0.")
    options = RateOptions(malformed_calls=args.calls, call_timeout=args.timeout, budget=args.budget)
    print("Rating (this takes a minute or so)...", file=sys.stderr, flush=True)
    rating = anyio.run(
        lambda: rate_server(command, url=url, headers=headers, copy=args.copy, options=options)
    )
    print(scorecard(rating))
    for path, text, what in ((args.json, json_report, "JSON"), (args.html, html_report, "HTML")):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text(rating), encoding="utf-8")
            print(f"{what} report: {path}", file=sys.stderr)
    return 0 if rating.completed else 2
