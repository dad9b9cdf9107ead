"""`python -m covey.testing --policy module:function` serves a scripted model until Ctrl-C.

The first line printed is the base URL (`http://127.0.0.1:PORT/v1`). `--echo` answers every
request with the last user message, as `echo: ...`.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
from collections.abc import Sequence
from typing import cast

import anyio

from ._script import ChatRequest, Reply
from ._scripted_server import Policy, ScriptedModelServer


def echo(request: ChatRequest) -> Reply:
    """The `--echo` policy: answer `echo: <last user message>`."""
    return Reply(text=f"echo: {request.last_user_text}")


def _load(spec: str) -> Policy:
    module_name, _, name = spec.partition(":")
    if not module_name or not name:
        raise SystemExit(f"--policy takes module:function, got {spec!r}.")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SystemExit(f"--policy {spec}: cannot import {module_name!r} ({exc}).") from exc
    policy = getattr(module, name, None)
    if not callable(policy):
        raise SystemExit(f"--policy {spec}: {module_name} has no function {name!r}.")
    return cast(Policy, policy)


async def _serve(policy: Policy, host: str, port: int, model: str) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with ScriptedModelServer(policy=policy, host=host, port=port, model=model) as server:
            print(server.base_url, flush=True)
            async for _ in signals:
                return


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m covey.testing", description=__doc__)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--policy", help="module:function answering each request")
    group.add_argument("--echo", action="store_true", help="answer with the last user message")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (0: a free one)")
    parser.add_argument("--model", default="scripted", help="model name to report (scripted)")
    args = parser.parse_args(argv)
    sys.path.insert(0, "")
    policy = echo if args.echo else _load(args.policy)
    anyio.run(_serve, policy, args.host, args.port, args.model)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
