"""The embedded model's server process: llama-cpp-python's OpenAI-compatible server.

Run as `python -m covey.models._llama_server [--extra-buffers] SERVER_ARGS...`, where
SERVER_ARGS are `llama_cpp.server`'s own. The one thing this adds is a switch for
llama.cpp's *extra CPU buffer types* (runtime weight repacking and the AMX kernels), which
llama-cpp-python's server does not expose. They are off unless `--extra-buffers` is given:
with them, llama-cpp-python 0.3.36 on a Xeon with AMX segfaults in the first decode of
the embedded gemma3 GGUF, and for a 270M model the speed they bring is small next to a
server that dies on the first request.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["main"]

EXTRA_BUFFERS_FLAG = "--extra-buffers"


def _without_extra_buffers(default_params: Any) -> Any:
    def params() -> Any:
        value = default_params()
        value.use_extra_bufts = False
        return value

    return params


def main(argv: list[str] | None = None) -> None:
    """Start llama-cpp-python's server with `argv` (default: this process's arguments)."""
    args = list(sys.argv[1:] if argv is None else argv)
    extra_buffers = EXTRA_BUFFERS_FLAG in args
    args = [a for a in args if a != EXTRA_BUFFERS_FLAG]
    # Imported here, not at the top, so that importing this module stays cheap and safe.
    import llama_cpp.llama_cpp as bindings
    from llama_cpp.server.__main__ import main as serve

    if not extra_buffers:
        # llama.Llama reads the defaults through this module attribute at load time.
        bindings.llama_model_default_params = _without_extra_buffers(
            bindings.llama_model_default_params
        )
    sys.argv = [sys.argv[0], *args]
    serve()


if __name__ == "__main__":
    main()
