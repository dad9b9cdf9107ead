"""Conversions at the MCP boundary: results to text, sampling to covey's model, elicitation."""

from __future__ import annotations

import json
from typing import Literal

import mcp_types as types

from ..models import (
    AssistantMessage,
    Message,
    ModelClient,
    ModelSettings,
    SystemMessage,
    UserMessage,
)
from ._base import ToolResult
from ._elicitation import ElicitationHandler, ElicitationRequest

__all__ = [
    "to_tool_result",
    "answer_sampling",
    "answer_elicitation",
]


def _content_text(block: object) -> str:
    match block:
        case types.TextContent():
            return block.text
        case types.ImageContent():
            return f"[image {block.mime_type}, {len(block.data)} base64 characters]"
        case types.EmbeddedResource():
            resource = block.resource
            text = getattr(resource, "text", None)
            return text if isinstance(text, str) else f"[resource {resource.uri}]"
        case types.ResourceLink():
            return f"[resource link {block.uri}]"
        case _:
            return f"[{getattr(block, 'type', 'content')}]"


def to_tool_result(result: types.CallToolResult) -> ToolResult:
    """An MCP tool result as the model will see it."""
    parts = [_content_text(b) for b in result.content]
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, default=str))
    return ToolResult(
        content="\n".join(parts),
        is_error=result.is_error,
        structured=result.structured_content,
    )


def _sampling_messages(params: types.CreateMessageRequestParams) -> list[Message]:
    messages: list[Message] = []
    if params.system_prompt:
        messages.append(SystemMessage(content=params.system_prompt))
    for item in params.messages:
        blocks = item.content if isinstance(item.content, list) else [item.content]
        text = "\n".join(_content_text(b) for b in blocks)
        if item.role == "assistant":
            messages.append(AssistantMessage(content=text))
        else:
            messages.append(UserMessage(content=text))
    return messages


async def answer_sampling(
    model: ModelClient | None, params: types.CreateMessageRequestParams
) -> types.CreateMessageResult | types.ErrorData:
    """Answer a server's sampling request with covey's model."""
    if model is None:
        return types.ErrorData(
            code=types.INVALID_REQUEST,
            message="This client has no model for sampling: give the toolset sampling_model=...",
        )
    settings = ModelSettings(
        temperature=params.temperature,
        max_tokens=params.max_tokens,
        stop=tuple(params.stop_sequences or ()),
    )
    try:
        reply = await model.complete(_sampling_messages(params), settings=settings)
    except Exception as exc:  # the server gets an error, the client keeps running
        return types.ErrorData(code=types.INTERNAL_ERROR, message=f"Sampling failed: {exc}")
    stop: Literal["endTurn", "maxTokens"] = (
        "maxTokens" if reply.finish_reason == "length" else "endTurn"
    )
    return types.CreateMessageResult(
        role="assistant",
        content=types.TextContent(text=reply.text),
        model=reply.model or await model.model_name(),
        stop_reason=stop,
    )


async def answer_elicitation(
    server: str, handler: ElicitationHandler | None, params: types.ElicitRequestParams
) -> types.ElicitResult | types.ErrorData:
    """Hand a server's request for input to the user's handler."""
    if handler is None:
        return types.ElicitResult(action="decline")
    if isinstance(params, types.ElicitRequestURLParams):
        request = ElicitationRequest(server=server, message=params.message, url=params.url)
    else:
        schema = dict(params.requested_schema)
        request = ElicitationRequest(server=server, message=params.message, schema=schema)
    try:
        response = await handler(request)
    except Exception as exc:  # a failing handler must not take the connection down
        return types.ErrorData(code=types.INTERNAL_ERROR, message=f"Input handler failed: {exc}")
    return types.ElicitResult(action=response.action, content=response.content)
