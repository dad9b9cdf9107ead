"""`--model scripted:...`: covey's scripted model server, started inside the eval process.

`scripted:solution` and `scripted:mistake` replay the suite's own steps (as `--check` does);
`scripted:module:function` answers with a policy function, as `python -m covey.testing
--policy module:function` would, without starting that by hand. Either way it is a real
OpenAI-compatible HTTP server on a free 127.0.0.1 port. Each case reaches it at its own
base URL (`.../cases/ID/v1`), so a replay knows the case even when several share a first
user message, and a policy can read the case from `request.path`.
"""

from __future__ import annotations

import dataclasses
import importlib
import sys
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from .._errors import UsageError
from ..models import ModelClient, ModelConfig
from ..testing import Policy, ScriptedModelServer, ScriptError
from ._case import Case, Suite
from ._oracle import case_path, replay_policy

__all__ = ["SCRIPTED", "ScriptedEndpoint", "is_scripted", "load_policy", "scripted_endpoint"]

SCRIPTED = "scripted:"
"""How a `--model` naming an in-process scripted model starts."""


def is_scripted(spec: str) -> bool:
    """Whether a `--model` value names an in-process scripted model."""
    return spec.startswith(SCRIPTED)


def load_policy(spec: str, suite: Suite) -> Policy:
    """The policy of `scripted:solution`, `scripted:mistake` or `scripted:module:function`.

    Raises:
        UsageError: the module cannot be imported or has no such function, or the suite
            has no such steps.
    """
    what = spec.removeprefix(SCRIPTED)
    if what in ("solution", "mistake"):
        return replay_policy(suite, what)
    module_name, _, name = what.partition(":")
    if not module_name or not name:
        raise UsageError(
            f"--model {spec!r}: use scripted:solution, scripted:mistake (the suite's own "
            "steps) or scripted:module:function (a policy answering each request)."
        )
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"--model {spec}: cannot import {module_name!r} ({exc}).") from exc
    policy = getattr(module, name, None)
    if not callable(policy):
        raise UsageError(f"--model {spec}: module {module_name!r} has no function {name!r}.")
    return cast(Policy, policy)


@dataclass(kw_only=True, slots=True)
class ScriptedEndpoint:
    """The running scripted model: one client for the run, one more per case."""

    model: ModelClient
    """The run's client, at `/v1`."""
    _clients: dict[str, ModelClient] = field(default_factory=dict[str, ModelClient])

    def for_case(self, case: Case) -> ModelClient:
        """The client of `case`, at the case's own base URL (made on first use)."""
        if case.id not in self._clients:
            config = self.model.config
            root = config.base_url.removesuffix("/v1")
            url = f"{root}{case_path(case.id)}/v1"
            self._clients[case.id] = ModelClient(dataclasses.replace(config, base_url=url))
        return self._clients[case.id]

    async def aclose(self) -> None:
        """Close every client."""
        for client in [self.model, *self._clients.values()]:
            await client.aclose()


@asynccontextmanager
async def scripted_endpoint(policy: Policy) -> AsyncGenerator[ScriptedEndpoint]:
    """Serve `policy` on a free 127.0.0.1 port for the block's duration."""
    server = ScriptedModelServer(policy=policy)
    try:
        async with server:
            config = ModelConfig(base_url=server.base_url, model=server.model, max_retries=0)
            endpoint = ScriptedEndpoint(model=ModelClient(config))
            try:
                yield endpoint
            finally:
                await endpoint.aclose()
    except ScriptError:
        pass  # a policy that raised: each trial it answered holds the error, as infrastructure
