"""Importing and running an agent loads only what an agent needs.

Each check runs in a fresh interpreter, since this one has long since imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

# Heavy parts an agent with function tools never uses: the store (SQLAlchemy), the MCP client
# (whose `mcp` package imports its server side, starlette and uvicorn), evals, bundled servers.
NOT_FOR_AN_AGENT = (
    "sqlalchemy",
    "mcp",
    "mcp_types",
    "mcp.server",
    "uvicorn",
    "starlette",
    "covey.store",
    "covey.evals",
    "covey.servers",
)

AGENT_RUN = """
import json, sys
import anyio
from covey.agents import Agent
after_import = sorted(sys.modules)
from covey import ModelClient, ModelConfig, ToolCall
from covey.testing import Reply, ScriptedModelServer
from covey.tools import tool

@tool
async def add(a: int, b: int) -> int:
    '''Add two integers.'''
    return a + b

async def main() -> str:
    script = [
        Reply(tool_calls=[ToolCall(id="c1", name="add", arguments={"a": 2, "b": 40})]),
        Reply(text="42"),
    ]
    async with ScriptedModelServer(script) as server:
        config = ModelConfig(base_url=server.base_url, model="scripted")
        async with ModelClient(config) as model:
            result = await Agent("calc", model, tools=[add]).run("2 + 40?")
            tool_result = server.requests[1].body["messages"][-1]["content"]
    return f"{result.output} from {tool_result}"

output = anyio.run(main)
print(json.dumps({"import": after_import, "run": sorted(sys.modules), "output": output}))
"""


def loaded(modules: list[str], names: tuple[str, ...]) -> list[str]:
    """Which of `names` (packages, with their submodules) are among `modules`."""
    return [n for n in names if any(m == n or m.startswith(n + ".") for m in modules)]


def run_fresh(program: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(program)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def agent_run() -> dict[str, object]:
    return run_fresh(AGENT_RUN)


def test_importing_agent_loads_no_store_mcp_evals_or_servers(agent_run: dict[str, object]) -> None:
    modules = agent_run["import"]
    assert isinstance(modules, list)
    assert "covey.agents._agent" in modules
    assert loaded(modules, NOT_FOR_AN_AGENT) == []


def test_running_an_agent_with_a_function_tool_loads_none_of_them(
    agent_run: dict[str, object],
) -> None:
    assert agent_run["output"] == "42 from 42"
    modules = agent_run["run"]
    assert isinstance(modules, list)
    assert loaded(modules, NOT_FOR_AN_AGENT) == []


def test_a_graph_without_a_store_loads_no_sqlalchemy_or_mcp() -> None:
    program = """
    import json, sys
    import anyio, pydantic
    from typing import Annotated
    from covey.agents import END, START, Graph, add

    class Count(pydantic.BaseModel):
        total: Annotated[int, add] = 0

    async def bump(state: Count) -> dict[str, int]:
        return {"total": 1}

    graph = Graph(Count)
    graph.add_node("bump", bump).add_edge(START, "bump").add_edge("bump", END)
    result = anyio.run(graph.compile().run, Count())
    print(json.dumps({"total": result.state.total, "modules": sorted(sys.modules)}))
    """
    figures = run_fresh(program)
    assert figures["total"] == 1
    modules = figures["modules"]
    assert isinstance(modules, list)
    assert loaded(modules, ("sqlalchemy", "mcp", "mcp_types", "starlette", "uvicorn")) == []
