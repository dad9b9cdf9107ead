"""`covey view`: a local web UI over covey's store.

Eval runs (summary, trials, transcripts with tool-call arguments, comparisons), traces as
waterfalls of spans, checkpointed graph threads step by step with state diffs, and memory
search. Pages are rendered on the server from the store and reload themselves while an
eval or graph writes to it; nothing is fetched from the network.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._app import build_app
    from ._serve import ViewOptions, serve_view

__all__ = ["ViewOptions", "build_app", "serve_view"]

# `covey --help` registers the command from ._cli: keep starlette and uvicorn off that path.
_NAMES = {"build_app": "._app", "ViewOptions": "._serve", "serve_view": "._serve"}


def __getattr__(name: str) -> Any:
    module = _NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'covey.view' has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)
