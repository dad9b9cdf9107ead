"""A bundled server never imports the agent runtime, so it starts fast and stands alone."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from covey.servers import SERVERS

RUNTIME = ("openai", "covey.agents", "covey.models", "covey.tools", "covey.evals")
"""Packages a server has no use for: the model client and the agent, tool and eval layers."""


def _loaded(package: str, modules: list[str]) -> list[str]:
    return [name for name in modules if name == package or name.startswith(package + ".")]


@pytest.mark.parametrize("module", sorted(SERVERS.values()))
def test_a_server_module_loads_no_agent_runtime(module: str) -> None:
    # A fresh interpreter (-I: no PYTHONPATH or user site), as `python -m` would start.
    code = f"import {module}, json, sys; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    modules: list[str] = json.loads(done.stdout)
    assert module in modules and "mcp" in modules  # the listing is of the right process
    assert {package: _loaded(package, modules) for package in RUNTIME} == {
        package: [] for package in RUNTIME
    }
