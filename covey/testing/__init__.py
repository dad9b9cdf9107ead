"""Testing helpers: covey's scripted model server, a real OpenAI-compatible HTTP server."""

from ._process import first_line, scripted_server_process
from ._script import ChatRequest, Fault, Reply, ScriptError, Step
from ._scripted_server import Policy, ScriptedModelServer

__all__ = [
    "ChatRequest",
    "Fault",
    "Policy",
    "Reply",
    "ScriptError",
    "ScriptedModelServer",
    "Step",
    "first_line",
    "scripted_server_process",
]
