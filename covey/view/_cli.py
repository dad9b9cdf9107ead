"""`covey view [--db URL] [--port 0]`: the command that starts the viewer."""

from __future__ import annotations

import argparse
import os
from typing import Any

__all__ = ["add_parser"]


def add_parser(commands: Any) -> None:
    """Register `view` on the `covey` command's subparsers."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "view", help="browse eval runs, traces, graph threads and memories in a local web UI"
    )
    parser.add_argument(
        "--db", metavar="URL", help="store URL (default: $COVEY_DB or .covey/covey.db)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: a free one)")
    parser.add_argument(
        "--token",
        default=None,
        help="token required off loopback (default: $COVEY_VIEW_TOKEN); open URL?token=... once",
    )
    parser.add_argument("--allow-host", action="append", default=[], metavar="NAME")
    parser.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN")
    parser.set_defaults(handler=_cmd_view)


def _cmd_view(args: argparse.Namespace) -> int:
    import anyio

    from ..evals._cli_report import check_store_exists
    from ..store import Store
    from ._serve import ViewOptions, serve_view

    store = Store.from_url(args.db) if args.db else Store.from_env()
    check_store_exists(store, args.db)
    options = ViewOptions(
        host=args.host,
        port=args.port,
        token=args.token or os.environ.get("COVEY_VIEW_TOKEN") or None,
        allowed_hosts=tuple(args.allow_host),
        allowed_origins=tuple(args.allow_origin),
    )
    try:
        anyio.run(serve_view, store, options)
    except KeyboardInterrupt:
        pass
    return 0
