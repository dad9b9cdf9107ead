"""covey: async multi-agent graphs on open models, with MCP tools, memory and evals.

Everything a user needs is importable from here: `from covey import ModelClient, ...`.
"""

from ._errors import (
    CoveyError,
    EmbeddedModelError,
    ModelConnectionError,
    ModelError,
    ModelHTTPError,
    ModelResponseError,
    UsageError,
)
from .models import (
    AssistantMessage,
    Capabilities,
    EmbeddedModel,
    MalformedToolCall,
    Message,
    ModelClient,
    ModelConfig,
    ModelResponse,
    ModelSettings,
    OutputSchema,
    ReasoningDelta,
    ResponseDone,
    StreamEvent,
    SystemMessage,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolDefinition,
    ToolResultMessage,
    Usage,
    UserMessage,
    open_model,
)

__version__ = "0.1.0"

__all__ = [
    "AssistantMessage",
    "Capabilities",
    "CoveyError",
    "EmbeddedModel",
    "EmbeddedModelError",
    "MalformedToolCall",
    "Message",
    "ModelClient",
    "ModelConfig",
    "ModelConnectionError",
    "ModelError",
    "ModelHTTPError",
    "ModelResponse",
    "ModelResponseError",
    "ModelSettings",
    "OutputSchema",
    "ReasoningDelta",
    "ResponseDone",
    "StreamEvent",
    "SystemMessage",
    "TextDelta",
    "ToolCall",
    "ToolCallDelta",
    "ToolDefinition",
    "ToolResultMessage",
    "Usage",
    "UsageError",
    "UserMessage",
    "__version__",
    "open_model",
]
