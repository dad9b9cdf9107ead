"""covey: async multi-agent graphs on open models, with MCP tools, memory and evals.

Everything a user needs is importable from here: `from covey import ModelClient, ...`.
"""

from typing import TYPE_CHECKING as _TYPE_CHECKING

from ._errors import (
    CoveyError,
    EmbeddedModelError,
    MaxTurnsExceeded,
    ModelConnectionError,
    ModelError,
    ModelHTTPError,
    ModelResponseError,
    OutputValidationError,
    RunError,
    ToolRetriesExhausted,
    UsageError,
)
from ._lazy import lazy_loader as _lazy_loader
from ._lazy import lazy_names as _lazy_names

if _TYPE_CHECKING:
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

# The model layer pulls in `openai`, which costs about a second to import. Bundled MCP
# servers import `covey` too and must start fast, so these names load on first use.
_LAZY = _lazy_names(
    "covey.models",
    (
        "AssistantMessage",
        "Capabilities",
        "EmbeddedModel",
        "MalformedToolCall",
        "Message",
        "ModelClient",
        "ModelConfig",
        "ModelResponse",
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
        "UserMessage",
        "open_model",
    ),
)


__getattr__ = _lazy_loader(__name__, _LAZY, globals())


def __dir__() -> list[str]:
    return sorted(__all__)


__version__ = "0.1.0"

__all__ = [
    "AssistantMessage",
    "Capabilities",
    "CoveyError",
    "EmbeddedModel",
    "EmbeddedModelError",
    "MalformedToolCall",
    "MaxTurnsExceeded",
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
    "OutputValidationError",
    "ReasoningDelta",
    "ResponseDone",
    "RunError",
    "StreamEvent",
    "SystemMessage",
    "TextDelta",
    "ToolCall",
    "ToolCallDelta",
    "ToolDefinition",
    "ToolResultMessage",
    "ToolRetriesExhausted",
    "Usage",
    "UsageError",
    "UserMessage",
    "__version__",
    "open_model",
]
