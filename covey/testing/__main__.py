"""`python -m covey.testing --policy module:function` serves a scripted model until Ctrl-C.

The first line printed is the base URL.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
from collections.abc import Sequence
from typing import Any

import anyio

from ._script import ChatRequest, Reply
from ._scripted_server import ScriptedModelServer


def _echo(request: ChatRequest) -> Reply:
    return Reply(text=f"echo: {request.last_user_text}")


def _load(spec: str) -> Any:
    module, _, name = spec.partition(":")
    if not name:
        raise SystemExit(f"--policy takes module:function, got {spec!r}")
    return getattr(importlib.import_module(module), name)


async def _serve(policy: Any, host: str, port: int) -> None:
    async with ScriptedModelServer(policy=policy, host=host, port=port) as server:
        print(server.base_url, flush=True)
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for _ in signals:
                return


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m covey.testing", description=__doc__)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--policy", help="module:function answering each request")
    group.add_argument("--echo", action="store_true", help="answer with the last user message")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    sys.path.insert(0, ".")
    policy = _echo if args.echo else _load(args.policy)
    anyio.run(_serve, policy, args.host, args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
