"""The embedded model's server process: covey's OpenAI-compatible API over llama.cpp.

Run as `python -m covey.models._llama_server --model PATH [options]` (EmbeddedModel does).
It loads the GGUF with llama-cpp-python and serves `covey.models._llama_app` with uvicorn.

Why covey's own server and not llama-cpp-python's: that one HTML-escaped every prompt under
its function-calling chat format, could not answer in text once tools were offered, kept
generating for clients that had gone, and answered `/v1/models` only between generations.

Two process-level duties live here:
- llama.cpp's *extra CPU buffer types* (weight repacking, AMX kernels) are off unless
  `--extra-buffers` is given: with them llama-cpp-python 0.3.36 segfaults in the first decode
  on Xeons with AMX.
- The server dies with the program that started it (`--parent-pid`): a parent-death signal
  on Linux, and a watcher thread everywhere, so a killed script leaves no model running.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

__all__ = ["main"]

_PR_SET_PDEATHSIG = 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m covey.models._llama_server")
    parser.add_argument("--model", required=True, type=Path, help="GGUF file")
    parser.add_argument("--alias", default="local", help="model name in the API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--n-ctx", type=int, default=4096, help="context window in tokens")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: all cores but one)")
    parser.add_argument(
        "--max-tokens", type=int, default=512, help="reply cap when a request sets none"
    )
    parser.add_argument("--chat-family", choices=["gemma", "chatml"], default=None)
    parser.add_argument(
        "--template",
        choices=["auto", "model", "covey"],
        default="auto",
        help="prompt format: the GGUF's own chat template (model), covey's rendering of the "
        "chat family (covey), or auto: the model's own when it describes tools",
    )
    parser.add_argument("--extra-buffers", action="store_true")
    parser.add_argument("--parent-pid", type=int, default=0, help="exit when it exits")
    return parser


def _die_with_parent(parent: int) -> None:
    """Exit when `parent` exits, however it ends (even SIGKILL)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the signal was set up
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="covey-parent-watch", daemon=True).start()


def _threads() -> int:
    """All cores this process may use but one, which stays for the agent and its tools.

    llama.cpp's threads spin while they wait for each other: with as many threads as cores
    and anything else running, a 2-core machine measured 0.4 tokens/s against 3.0 with one
    thread.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) - 1)


def _without_extra_buffers() -> None:
    import llama_cpp.llama_cpp as bindings

    default_params: Any = bindings.llama_model_default_params

    def params() -> Any:
        value = default_params()
        value.use_extra_bufts = False
        return value

    # llama.Llama reads the defaults through this module attribute at load time.
    bindings.llama_model_default_params = params


def main(argv: list[str] | None = None) -> None:
    """Load the model and serve it until SIGTERM, SIGINT or the parent's exit."""
    args = _parser().parse_args(argv)
    if args.parent_pid:
        _die_with_parent(args.parent_pid)
    if not args.extra_buffers:
        _without_extra_buffers()
    import uvicorn

    from ._llama_app import build_app
    from ._llama_engine import Engine

    threads = args.threads or _threads()
    engine = Engine(
        args.model,
        n_ctx=args.n_ctx,
        n_threads=threads,
        max_tokens=args.max_tokens,
        chat_family=args.chat_family,
        template=args.template,
    )
    config = uvicorn.Config(
        build_app(engine, args.alias),
        host=args.host,
        port=args.port,
        log_level="warning",
        timeout_graceful_shutdown=5,
    )

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            engine.cancel_all()  # a running generation ends within a token
            super().handle_exit(sig, frame)

    Server(config).run()


if __name__ == "__main__":
    main()
