"""Tools: Python functions and MCP servers behind one `Tool` protocol."""

from typing import TYPE_CHECKING as _TYPE_CHECKING

from .._lazy import lazy_loader as _lazy_loader
from .._lazy import lazy_names as _lazy_names
from ._base import Deps, RunContext, Tool, ToolResult, Toolset
from ._elicitation import ElicitationHandler, ElicitationRequest, ElicitationResponse
from ._events import ProgressUpdate, ServerLogMessage, ServerStopped, ToolEvent, ToolEventSink
from ._function import FunctionTool, tool

if _TYPE_CHECKING:
    from ._mcp import MCPConnectionError, MCPTool, MCPToolset
    from ._schema_tool import SchemaTool, schema_tool

# The MCP client pulls in `mcp` (its server side too), about a second and 25 MiB: agents
# with only function tools never need it, so these names load on first use.
_LAZY = {
    **_lazy_names("covey.tools._mcp", ("MCPConnectionError", "MCPTool", "MCPToolset")),
    # jsonschema, for tools given as a function and a JSON Schema
    **_lazy_names("covey.tools._schema_tool", ("SchemaTool", "schema_tool")),
}


__getattr__ = _lazy_loader(__name__, _LAZY, globals())


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "Deps",
    "ElicitationHandler",
    "ElicitationRequest",
    "ElicitationResponse",
    "FunctionTool",
    "MCPConnectionError",
    "MCPTool",
    "MCPToolset",
    "ProgressUpdate",
    "RunContext",
    "SchemaTool",
    "ServerLogMessage",
    "ServerStopped",
    "Tool",
    "ToolEvent",
    "ToolEventSink",
    "ToolResult",
    "Toolset",
    "schema_tool",
    "tool",
]
