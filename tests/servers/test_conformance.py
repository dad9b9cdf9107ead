"""The MCP conformance suite against every bundled server over streamable HTTP, check by check.

`conformance server --url URL --requirements 2026-07-28` runs every scenario the 2026-07-28
revision requires. Most of them need the suite's own fixture server (tools named
`test_simple_text`, prompts named `test_simple_prompt`, ...), so only the generic scenarios
can pass against covey's servers, and those must, check by check. A few checks inside them
also need such a fixture tool; they may fail only as the suite's "not testable", never with a
real finding. Across all scenarios, no probe may crash a server (an internal error).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from covey.servers import SERVERS

from .external import INSTALL_TIMEOUT, NpmTools, http_server, npm_tools
from .launch import LAUNCH, launch_args

__all__ = ["npm_tools"]  # a fixture, imported for pytest

REQUIREMENTS = "2026-07-28"
RUN_BUDGET = 240.0
"""Seconds for every server to start and the suite to finish against each, all in parallel."""
STOP_GRACE = 10.0
"""Seconds a process killed or terminated gets to exit (`http_server` waits as long)."""

# The first test sets up the module-wide run, all of it counted in its timeout: maybe the npm
# install, the run, then per server a suite killed at the deadline and a server stopped
# (terminated, then killed), with a minute to spare for reading the results.
pytestmark = pytest.mark.timeout(
    INSTALL_TIMEOUT + RUN_BUDGET + 3 * STOP_GRACE * len(SERVERS) + 60, func_only=False
)
GENERIC = (
    "server-stateless",
    "tools-list",
    "dns-rebinding-protection",
    "caching",
    "sep-2164-resource-not-found",
    "http-header-validation",
)
"""Scenarios that test any server, not the suite's fixture: every check must pass."""

UNTESTABLE = {
    "sep-2575-server-rejects-undeclared-capability": "needs the tool test_missing_capability",
    "sep-2575-missing-capability-http-400": "needs the tool test_missing_capability",
    "sep-2575-http-server-no-independent-requests-on-stream": "needs test_streaming_elicitation",
    "sep-2575-server-no-log-without-loglevel": "needs the tool test_logging_tool",
}
"""Checks that fail as "not testable" without the suite's diagnostic tools (and only so)."""

WARN_ONLY = {
    "sep-2575-server-sends-tools-list-changed-on-subscription": "test_trigger_tool_change",
    "sep-2575-server-sends-prompts-list-changed-on-subscription": "test_trigger_prompt_change",
}
"""SHOULD checks that change a list through the named fixture tool; covey's lists never change."""

SKIP_OK = {"sep-2549-resources-read-caching-hints": "runs only on a server with resources"}

_RESULT_DIR = re.compile(r"^server-(?P<scenario>.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$")


@dataclass(frozen=True, slots=True)
class SuiteRun:
    """The suite's checks for one server, by scenario, and what to show when one fails."""

    checks: dict[str, list[dict[str, Any]]]
    log: str


def _read_results(directory: Path) -> dict[str, list[dict[str, Any]]]:
    checks: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(directory.glob("server-*/checks.json")):
        match = _RESULT_DIR.match(path.parent.name)
        if match is not None:
            checks[match["scenario"]] = json.loads(path.read_text())
    return checks


def _left(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


def _start(
    stack: ExitStack, tools: NpmTools, name: str, base: Path, deadline: float
) -> subprocess.Popen[str] | str:
    """Serve `name` and start the suite against it; an error message if the server won't run."""
    try:
        server = http_server(
            name, launch_args(name, base), stderr=base / "server.log", timeout=_left(deadline)
        )
        url = stack.enter_context(server)
    except (OSError, TimeoutError, RuntimeError) as exc:
        server_log = (base / "server.log").read_text()[-3000:]
        return f"covey serve {name} --http did not start: {exc}\n{server_log}"
    command = tools.conformance_cli(
        "server", "--url", url, "--requirements", REQUIREMENTS, "-o", str(base / "results")
    )
    output = stack.enter_context(open(base / "suite.log", "w"))
    return stack.enter_context(
        subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, text=True)
    )


def _finish(name: str, base: Path, suite: subprocess.Popen[str], deadline: float) -> SuiteRun:
    try:
        suite.wait(_left(deadline))
        note = ""
    except subprocess.TimeoutExpired:
        suite.kill()
        suite.wait(STOP_GRACE)
        note = f"\nthe suite did not finish against {name} within the {RUN_BUDGET:g}s budget"
    log = (base / "suite.log").read_text()[-3000:] + note
    log += "\nserver stderr:\n" + (base / "server.log").read_text()[-3000:]
    return SuiteRun(checks=_read_results(base / "results"), log=log)


@pytest.fixture(scope="module")
def suite_runs(
    npm_tools: NpmTools, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, SuiteRun | str]]:
    """Every server in SERVERS (with a LAUNCH entry) over HTTP, the suite run against each.

    The servers and the suite runs go in parallel (the suite mostly waits on its own
    timeouts), all within one deadline, `RUN_BUDGET` from now. A server that cannot start is an
    error message, failing that server's tests only.
    """
    runs: dict[str, SuiteRun | str] = {}
    deadline = time.monotonic() + RUN_BUDGET
    with ExitStack() as stack:
        started: dict[str, tuple[Path, subprocess.Popen[str]]] = {}
        for name in sorted(SERVERS):
            if name in LAUNCH:
                base = tmp_path_factory.mktemp(f"conformance-{name}")
                suite = _start(stack, npm_tools, name, base, deadline)
                if isinstance(suite, str):
                    runs[name] = suite
                else:
                    started[name] = (base, suite)
        for name, (base, suite) in started.items():
            runs[name] = _finish(name, base, suite, deadline)
    yield runs


def _run_for(runs: dict[str, SuiteRun | str], name: str, tmp_path: Path) -> SuiteRun:
    if name not in runs:
        launch_args(name, tmp_path)  # fails, saying which entry to add
    run = runs[name]
    if isinstance(run, str):
        pytest.fail(run, pytrace=False)
    return run


def _shown(check: dict[str, Any]) -> str:
    return json.dumps(check, indent=1)[:1500]


@pytest.mark.parametrize("scenario", GENERIC)
@pytest.mark.parametrize("name", sorted(SERVERS))
def test_generic_scenarios_pass_check_by_check(
    name: str, scenario: str, suite_runs: dict[str, SuiteRun | str], tmp_path: Path
) -> None:
    run = _run_for(suite_runs, name, tmp_path)
    checks = run.checks.get(scenario)
    assert checks, f"the suite reported no checks for {scenario}:\n{run.log}"
    for check in checks:
        status, check_id = check["status"], check["id"]
        if status in ("SUCCESS", "INFO"):  # INFO: nothing to judge, e.g. one tool to order
            continue
        details: dict[str, Any] = check.get("details") or {}
        untestable = status == "FAILURE" and details.get("untestable") is True
        if check_id in UNTESTABLE and untestable:
            continue
        if check_id in WARN_ONLY and status in ("WARNING", "SKIPPED"):
            continue
        if check_id in SKIP_OK and status == "SKIPPED":
            continue
        pytest.fail(f"{name}: {scenario} check {check_id} is {status}:\n{_shown(check)}")


@pytest.mark.parametrize("name", sorted(SERVERS))
def test_no_scenario_crashes_a_server(
    name: str, suite_runs: dict[str, SuiteRun | str], tmp_path: Path
) -> None:
    """Whatever a scenario asks for (fixture tools, prompts, resources), errors are clean."""
    run = _run_for(suite_runs, name, tmp_path)
    assert len(run.checks) >= len(GENERIC), run.log
    crashes = [
        f"{scenario}: {check['id']}: {check.get('errorMessage')}"
        for scenario, checks in run.checks.items()
        for check in checks
        if "internal" in str(check.get("errorMessage", "")).lower()
    ]
    assert not crashes, "\n".join(crashes)
    assert "Traceback" not in run.log, run.log
