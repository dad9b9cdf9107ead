"""Requests an MCP server makes of the client while a call runs: sampling and elicitation.

Each is routed to the run that made the call. On 2026-07-28 servers the requests come back
inside the caller's `call_tool` (in its task), so a context variable set around the call
reaches them. Older servers send them to the connection's owner task; there the toolset
looks at the calls in flight: sampling goes to their agent's model when they agree on one.
"""

from __future__ import annotations

from collections.abc import Generator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import cast

import mcp_types as types

from ..models import ModelClient
from ._elicitation import (
    ElicitationHandler,
    ElicitationRequest,
    ElicitationResponse,
    run_elicitation,
)
from ._mcp_convert import answer_elicitation, answer_sampling

__all__ = ["ServerRequests", "handler_error"]


_CALL_MODEL: ContextVar[ModelClient | None] = ContextVar("covey_mcp_call_model", default=None)
"""The model of the agent whose MCP call is running in this task."""


class _HandlerRaised(Exception):
    """Carries an exception of a run's elicitation handler out through the MCP client."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def handler_error(error: BaseException) -> Exception | None:
    """The exception a run's elicitation handler raised, if `error` carries one."""
    if isinstance(error, _HandlerRaised):
        return error.error
    if isinstance(error, BaseExceptionGroup):
        group = cast(BaseExceptionGroup[BaseException], error)
        for inner in group.exceptions:
            if (found := handler_error(inner)) is not None:
                return found
    return None


class ServerRequests:
    """Answers one toolset's server requests for the calls that are running."""

    def __init__(
        self,
        server: str,
        *,
        sampling_model: ModelClient | None,
        elicitation: ElicitationHandler | None,
    ) -> None:
        """Route for the toolset named `server`, with its own model and handler, if any."""
        self.server = server
        self.sampling_model = sampling_model
        self.elicitation = elicitation
        self._callers: dict[object, ModelClient] = {}

    @contextmanager
    def calling(self, model: ModelClient | None) -> Generator[None]:
        """A call made for an agent with `model` runs inside this block."""
        key = object()
        if model is not None:
            self._callers[key] = model
        token = _CALL_MODEL.set(model)
        try:
            yield
        finally:
            _CALL_MODEL.reset(token)
            self._callers.pop(key, None)

    def _caller_model(self) -> ModelClient | None:
        if (model := _CALL_MODEL.get()) is not None:
            return model
        in_flight = set(map(id, self._callers.values()))
        if len(in_flight) == 1:  # an older server: the calls in flight all want one model
            return next(iter(self._callers.values()))
        return None

    async def sampling(
        self, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult | types.ErrorData:
        """Answer with the toolset's model, else the model of the agent whose call asks."""
        return await answer_sampling(self.sampling_model or self._caller_model(), params)

    async def elicitation_for(
        self, params: types.ElicitRequestParams, *, within_call: bool
    ) -> types.ElicitResult | types.ErrorData:
        """Ask the toolset's handler, else the run's (see `answering_elicitations`)."""
        run = run_elicitation() if self.elicitation is None else None
        if run is None:
            return await answer_elicitation(self.server, self.elicitation, params)
        failed: list[Exception] = []

        async def handler(request: ElicitationRequest) -> ElicitationResponse:
            try:
                return await run(request)
            except Exception as exc:
                failed.append(exc)
                raise

        answer = await answer_elicitation(self.server, handler, params)
        if failed and within_call:
            # The request came within the caller's call_tool, which raises this for it.
            raise _HandlerRaised(failed[0])
        return answer
