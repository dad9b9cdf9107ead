"""Talking to open models over the OpenAI-compatible Chat Completions API."""

from ._client import ModelClient, ModelSettings, OutputSchema, ToolChoice
from ._config import ModelConfig, ToolMode
from ._dialects import ParsedText, parse_tool_calls
from ._embedded import EmbeddedModel, open_model
from ._messages import (
    AssistantMessage,
    Message,
    SystemMessage,
    ToolResultMessage,
    UserMessage,
)
from ._probe import Capabilities, StructuredOutput
from ._retry import RetryInfo
from ._tokens import Tokenizer, TokenMethod
from ._types import (
    FinishReason,
    MalformedToolCall,
    ModelResponse,
    ReasoningDelta,
    ResponseDone,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolDefinition,
    Usage,
)

__all__ = [
    "Tokenizer",
    "TokenMethod",
    "AssistantMessage",
    "Capabilities",
    "EmbeddedModel",
    "FinishReason",
    "MalformedToolCall",
    "Message",
    "ModelClient",
    "ModelConfig",
    "ModelResponse",
    "ModelSettings",
    "OutputSchema",
    "ParsedText",
    "ReasoningDelta",
    "ResponseDone",
    "RetryInfo",
    "StreamEvent",
    "StructuredOutput",
    "SystemMessage",
    "TextDelta",
    "ToolCall",
    "ToolCallDelta",
    "ToolChoice",
    "ToolDefinition",
    "ToolMode",
    "ToolResultMessage",
    "Usage",
    "UserMessage",
    "open_model",
    "parse_tool_calls",
]
