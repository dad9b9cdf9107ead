"""Testing helpers: covey's scripted model server, a real OpenAI-compatible HTTP server."""

from ._process import first_line, scripted_server_process
from ._script import (
    ChatRequest,
    DisconnectFault,
    Fault,
    GarbageFault,
    Reply,
    ScriptError,
    StatusFault,
    Step,
)
from ._scripted_server import Policy, ScriptedModelServer

__all__ = [
    "ChatRequest",
    "DisconnectFault",
    "Fault",
    "GarbageFault",
    "Policy",
    "Reply",
    "ScriptError",
    "ScriptedModelServer",
    "StatusFault",
    "Step",
    "first_line",
    "scripted_server_process",
]
