"""A small MCP server for covey's client tests: `python mcp_fixture_server.py [--http PORT]`.

It has tools that add, sleep, report progress, ask the user (and register who answered),
ask the client's model, log, crash the process, and add a tool at run time.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Annotated

import anyio
import mcp_types as types
from mcp.server.elicitation import AcceptedElicitation, ElicitationResult
from mcp.server.mcpserver import Context, Elicit, MCPServer, Resolve, Sample
from pydantic import BaseModel

server = MCPServer("fixture", instructions="Test fixture.")
CALLS_FILE = os.environ.get("FIXTURE_CALLS_FILE")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    if CALLS_FILE:
        with open(CALLS_FILE, "a") as fh:
            fh.write("add\n")
    return a + b


@server.tool()
async def slow(seconds: float) -> str:
    """Sleep, then answer."""
    await anyio.sleep(seconds)
    return "done"


@server.tool()
async def count_up(steps: int, ctx: Context) -> str:
    """Report progress for each step."""
    for step in range(1, steps + 1):
        await ctx.report_progress(step, steps, f"step {step}")
    return f"counted {steps}"


class Answer(BaseModel):
    name: str


def ask_for_name() -> Elicit[Answer]:
    return Elicit("What is your name?", Answer)


@server.tool()
async def ask_name(answer: Annotated[ElicitationResult[Answer], Resolve(ask_for_name)]) -> str:
    """Ask the user for a name."""
    if isinstance(answer, AcceptedElicitation):
        return f"hello {answer.data.name}"
    return f"no name ({answer.action})"


def ask_for_visitor() -> Elicit[Answer]:
    return Elicit("Who is visiting?", Answer)


@server.tool()
def register_visitor(
    answer: Annotated[ElicitationResult[Answer], Resolve(ask_for_visitor)],
) -> str:
    """Ask the user who is visiting, then register them (a side effect, in the calls file)."""
    if not isinstance(answer, AcceptedElicitation):
        return f"not registered ({answer.action})"
    if CALLS_FILE:
        with open(CALLS_FILE, "a") as fh:
            fh.write(f"register {answer.data.name}\n")
    return f"registered {answer.data.name}"


def sample_summary(text: str) -> Sample:
    message = types.SamplingMessage(
        role="user", content=types.TextContent(text=f"Summarize: {text}")
    )
    return Sample([message], max_tokens=50)


@server.tool()
async def summarize(
    text: str, reply: Annotated[types.CreateMessageResult, Resolve(sample_summary)]
) -> str:
    """Ask the client's model to summarize the text."""
    return f"summary: {getattr(reply.content, 'text', reply.content)}"


@server.tool()
async def shout(message: str, ctx: Context) -> str:
    """Log the message at warning level, then return it."""
    await ctx.log("warning", message)
    return message.upper()


@server.tool()
def crash() -> str:
    """Kill this server process."""
    os._exit(3)


@server.tool()
async def grow(ctx: Context) -> str:
    """Add a tool named `extra` and tell the client the list changed."""

    def extra() -> str:
        """A tool added at run time."""
        return "extra!"

    server.add_tool(extra)
    await ctx.notify_tools_changed()
    try:
        await ctx.session.send_tool_list_changed()
    except Exception:
        pass
    return "grown"


@server.resource("note://hello", mime_type="text/plain")
def hello_note() -> str:
    """A note."""
    return "hello from a resource"


@server.prompt()
def greet(name: str) -> str:
    """A greeting prompt."""
    return f"Please greet {name} warmly."


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", type=int, default=None)
    args = parser.parse_args()
    if args.http is None:
        server.run()
    else:
        print(f"serving on {args.http}", file=sys.stderr, flush=True)
        server.run("streamable-http", host="127.0.0.1", port=args.http)


if __name__ == "__main__":
    main()
