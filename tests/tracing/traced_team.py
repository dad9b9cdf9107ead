"""A traced two-agent team, run in its own process (a global tracer provider is set once).

Usage: python -m tests.tracing.traced_team STORE_URL OTLP_URL. Configures covey.tracing to
export to both, runs a pipeline of two agents on the scripted model (one with the calc
server over stdio, one with the time server over streamable HTTP behind a middleware that
keeps the `traceparent` headers it sees), shuts the provider down, and prints those headers
as JSON.
"""

from __future__ import annotations

import json
import socket
import sys
from typing import Any

import anyio
import uvicorn

import covey.tracing
from covey import ModelClient, ModelConfig, ToolCall
from covey.agents import Agent, TeamState, pipeline
from covey.servers.time import build_server
from covey.testing import ChatRequest, Reply, ScriptedModelServer
from covey.tools import MCPToolset

SECRET_KEY = "sk-secret-model-key"
SECRET_TOKEN = "secret-mcp-token"


def policy(request: ChatRequest) -> Reply:
    tools = {t["function"]["name"] for t in request.body.get("tools", [])}
    answered = any(m["role"] == "tool" for m in request.messages)
    if "calculate" in tools:
        if answered:
            return Reply(text="6*7 is 42", usage=(30, 5))
        call = ToolCall(id="calc-1", name="calculate", arguments={"expression": "6*7"})
        return Reply(tool_calls=[call], usage=(20, 7))
    if answered:
        return Reply(text="42, noted at noon", usage=(50, 6))
    call = ToolCall(id="time-1", name="get_current_time", arguments={"timezone": "UTC"})
    return Reply(tool_calls=[call], usage=(40, 8))


class Server(uvicorn.Server):
    """uvicorn on a socket bound beforehand, with an event set once it serves."""

    def __init__(self, app: Any) -> None:
        super().__init__(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.ready = anyio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()


def loopback_socket() -> tuple[socket.socket, int]:
    """A socket bound to a free port on 127.0.0.1, and the port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock, sock.getsockname()[1]


class Recorder:
    """ASGI middleware keeping each request's `traceparent` header."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            if b"traceparent" in headers:
                self.seen.append(headers[b"traceparent"].decode())
        await self.app(scope, receive, send)


async def main(store_url: str, otlp_url: str, contents: str = "on") -> None:
    provider = covey.tracing.configure(
        store=store_url,
        otlp_endpoint=otlp_url,
        # "default": what a user gets without opting in (the test unsets the OTEL_ switch)
        capture_content=True if contents == "on" else None,
        export_delay=0.1,
    )
    recorder = Recorder(build_server("UTC").streamable_http_app(host="127.0.0.1"))
    sock, port = loopback_socket()
    web = Server(recorder)
    async with anyio.create_task_group() as group:
        group.start_soon(web.serve, [sock])
        with anyio.fail_after(20):
            await web.ready.wait()
        async with (
            ScriptedModelServer(policy=policy) as server,
            (
                ModelClient(
                    ModelConfig(base_url=server.base_url, model="scripted", api_key=SECRET_KEY)
                )
            ) as model,
            MCPToolset.stdio(sys.executable, ["-m", "covey.servers.calc"], name="calc") as calc,
            MCPToolset.http(
                f"http://127.0.0.1:{port}/mcp",
                headers={"Authorization": f"Bearer {SECRET_TOKEN}"},
                name="clock",
            ) as clock,
        ):
            team = pipeline(
                [
                    Agent("researcher", model, "Compute.", tools=[calc]),
                    Agent("writer", model, "Write.", tools=[clock]),
                ]
            )
            await team.run(TeamState(task="What is 6*7, and when?"))
        web.should_exit = True
    provider.shutdown()
    print(json.dumps({"traceparents": recorder.seen}))


if __name__ == "__main__":
    anyio.run(main, *sys.argv[1:4])
