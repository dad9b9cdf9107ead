"""Tools: Python functions and MCP servers behind one `Tool` protocol."""

from ._base import Deps, RunContext, Tool, ToolResult, Toolset
from ._events import ProgressUpdate, ServerLogMessage, ServerStopped, ToolEvent, ToolEventSink
from ._function import FunctionTool, tool
from ._mcp import MCPConnectionError, MCPTool, MCPToolset
from ._mcp_convert import ElicitationHandler, ElicitationRequest, ElicitationResponse
from ._schema_tool import SchemaTool, schema_tool

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
