"""Every bundled server, driven by the MCP Inspector's CLI over stdio and streamable HTTP.

The Inspector is a client covey did not write: if it lists the tools, gets a correct result
from a valid call and a tool error (its exit code 5) from a bad argument, so can other clients.
Stdio runs `python -m covey.servers.NAME` on the 2025-11-25 handshake; HTTP runs
`covey serve NAME --http` with a bearer token on the stateless 2026-07-28 protocol.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from covey.servers import SERVERS

from .external import NpmTools, http_server, npm_tools, site_url
from .launch import Call, launch_args, probes

__all__ = ["npm_tools", "site_url"]  # fixtures, imported for pytest

TOKEN = "inspector-t0ken"
OK, AUTH_REQUIRED, TOOL_ERROR = 0, 3, 5
"""The Inspector CLI's exit codes: success, authentication needed, result with isError."""
HINTS = ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint")


@dataclass(frozen=True, slots=True)
class Outcome:
    """One Inspector run: exit code, its JSON output (None if none) and what it printed."""

    code: int
    output: dict[str, Any] | None
    stdout: str
    stderr: str

    def describe(self) -> str:
        return f"exit {self.code}\nstdout: {self.stdout[-2000:]}\nstderr: {self.stderr[-2000:]}"

    def result(self) -> dict[str, Any]:
        assert self.output is not None and "result" in self.output, self.describe()
        result: dict[str, Any] = self.output["result"]
        return result


def inspect(tools: NpmTools, tmp_path: Path, *args: str) -> Outcome:
    """Run `mcp-inspector --cli --format json ARGS`, with its settings files under `tmp_path`."""
    env = {
        **os.environ,
        "MCP_CATALOG_PATH": str(tmp_path / "inspector" / "mcp.json"),
        "MCP_CLIENT_CONFIG_PATH": str(tmp_path / "inspector" / "client.json"),
    }
    done = subprocess.run(
        tools.inspector_cli("--format", "json", *args),
        capture_output=True,
        text=True,
        timeout=90,
        env=env,
        cwd=tmp_path,
    )
    try:
        output = json.loads(done.stdout) if done.stdout.strip() else None
    except json.JSONDecodeError:
        output = None
    return Outcome(done.returncode, output, done.stdout, done.stderr)


def call_args(call: Call) -> list[str]:
    """`tools/call` options: `--tool-arg k=v` for string arguments, else one JSON object."""
    args = ["--method", "tools/call", "--tool-name", call.tool]
    if all(isinstance(value, str) for value in call.arguments.values()):
        for key, value in call.arguments.items():
            args += ["--tool-arg", f"{key}={value}"]
    else:
        args += ["--tool-args-json", json.dumps(call.arguments)]
    return args


def result_text(result: dict[str, Any]) -> str:
    texts = [str(item.get("text", "")) for item in result.get("content", [])]
    return "\n".join([*texts, json.dumps(result.get("structuredContent"))])


def check_server(
    tools: NpmTools, tmp_path: Path, name: str, site: str, before: list[str], after: list[str]
) -> None:
    """List the tools, then make the good and the bad probe call, through the Inspector."""
    calls = probes(name, tmp_path, site)

    listed = inspect(tools, tmp_path, *before, "--method", "tools/list", "--strict", *after)
    assert listed.code == OK, listed.describe()
    tool_list: list[dict[str, Any]] = listed.result()["tools"]
    by_name = {tool["name"]: tool for tool in tool_list}
    assert {calls.good.tool, calls.bad.tool} <= set(by_name), sorted(by_name)
    for tool in tool_list:
        assert tool.get("description"), f"{name}.{tool['name']} has no description"
        assert tool["inputSchema"]["type"] == "object", tool
        annotations = tool.get("annotations") or {}
        assert all(isinstance(annotations.get(hint), bool) for hint in HINTS), tool

    good = inspect(tools, tmp_path, *before, *call_args(calls.good), *after)
    assert good.code == OK, good.describe()
    assert good.result().get("isError") is False, good.describe()
    assert calls.good.expect in result_text(good.result()), good.describe()

    bad = inspect(tools, tmp_path, *before, *call_args(calls.bad), *after)
    assert bad.code == TOOL_ERROR, bad.describe()
    assert bad.result()["isError"] is True, bad.describe()
    message = result_text(bad.result())
    assert len(message) > 40 and "Traceback" not in message, message
    # Over stdio the server's stderr passes through the Inspector's: no crash was logged there.
    assert all("Traceback" not in run.stderr for run in (listed, good, bad)), bad.describe()


@pytest.mark.parametrize("name", sorted(SERVERS))
def test_inspector_drives_each_server_over_stdio(
    name: str, npm_tools: NpmTools, site_url: str, tmp_path: Path
) -> None:
    server = ["--", sys.executable, "-m", SERVERS[name], *launch_args(name, tmp_path)]
    check_server(npm_tools, tmp_path, name, site_url, [], server)


@pytest.mark.parametrize("name", sorted(SERVERS))
def test_inspector_drives_each_server_over_http(
    name: str, npm_tools: NpmTools, site_url: str, tmp_path: Path
) -> None:
    args = launch_args(name, tmp_path)
    log = tmp_path / "server-stderr.log"
    with http_server(name, args, token=TOKEN, stderr=log) as url:
        target = ["--transport", "http", "--server-url", url, "--stored-auth-only"]
        target += ["--protocol-era", "modern", "--header", f"Authorization: Bearer {TOKEN}"]
        check_server(npm_tools, tmp_path, name, site_url, target, [])

        refused = inspect(
            npm_tools, tmp_path, "--transport", "http", "--server-url", url,
            "--stored-auth-only", "--method", "tools/list",
        )  # fmt: skip
        assert refused.code == AUTH_REQUIRED, refused.describe()
    assert "Traceback" not in log.read_text(), log.read_text()
