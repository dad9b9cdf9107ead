"""Security probes by tool kind, all aimed inside the rater's sandbox.

A tool's kind comes from its argument names, formats and annotations: a path argument gets
path escapes (`..`, an absolute path, a symlink planted in the working directory), a URL
argument gets loopback targets on the rater's own site, a read-only tool gets its working
directory hashed before and after its calls. HTTP servers also get DNS-rebinding and token
checks (`_security_http`).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, cast

from mcp_types import Tool

from ._arguments import valid_arguments
from ._calls import Outcome, shorten
from ._context import DimensionDraft, RateContext
from ._probe_site import SITE_CANARY, ProbeSite
from ._session import CANARY

__all__ = ["check_security", "snapshot", "tool_kinds"]

_PATH = re.compile(r"path|file|dir|folder|root|source|destination|^src$|^dest", re.IGNORECASE)
_URL = re.compile(r"url|uri|href|link|endpoint", re.IGNORECASE)
_SQL = re.compile(r"^(sql|query|statement)$", re.IGNORECASE)
_COMMAND = re.compile(r"command|cmd|shell|script", re.IGNORECASE)


def tool_kinds(tool: Tool) -> dict[str, list[str]]:
    """Kind -> the string arguments of that kind (path, url, sql, command)."""
    kinds: dict[str, list[str]] = {}
    properties: dict[str, Any] = tool.input_schema.get("properties") or {}
    for name, spec in properties.items():
        if not isinstance(spec, dict):
            continue
        spec = cast("dict[str, Any]", spec)
        if spec.get("type") == "array" and isinstance(spec.get("items"), dict):
            spec = cast("dict[str, Any]", spec["items"])  # a list of paths is probed as one
        if spec.get("type", "string") not in ("string", ["string"]):
            continue
        fmt = str(spec.get("format", ""))
        if _URL.search(name) or fmt in ("uri", "url", "iri"):
            kinds.setdefault("url", []).append(name)
        elif _PATH.search(name):
            kinds.setdefault("path", []).append(name)
        elif _SQL.search(name):
            kinds.setdefault("sql", []).append(name)
        elif _COMMAND.search(name):
            kinds.setdefault("command", []).append(name)
    return kinds


def snapshot(directory: Path) -> dict[str, str]:
    """Relative path -> content hash (or link target) of everything under `directory`."""
    seen: dict[str, str] = {}
    for path in sorted(directory.rglob("*")):
        relative = str(path.relative_to(directory))
        if path.is_symlink():
            seen[relative] = "-> " + str(path.readlink())
        elif path.is_file():  # the time too: a write of the same bytes is still a write
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
            seen[relative] = f"{digest} {path.stat().st_mtime_ns}"
        else:
            seen[relative] = "dir"
    return seen


def _changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    names = sorted(set(before) | set(after))
    return [
        f"{n}: {'created' if n not in before else 'deleted' if n not in after else 'changed'}"
        for n in names
        if before.get(n) != after.get(n)
    ]


async def check_security(ctx: RateContext, draft: DimensionDraft, site: ProbeSite) -> None:
    """Every tool's probes by kind, then the read-only tools' hashes."""
    for tool in ctx.tools:
        if ctx.stopped_because is not None:
            draft.notes.append(f"not probed past {tool.name}: {ctx.stopped_because}")
            return
        kinds = tool_kinds(tool)
        for name in kinds.get("path", []):
            await _path_escapes(ctx, draft, tool, name)
        for name in kinds.get("url", []):
            await _loopback(ctx, draft, tool, name, site)
        if tool.annotations is not None and tool.annotations.read_only_hint:
            await _read_only(ctx, draft, tool)
    if not draft.findings:
        draft.notes.append(f"probed {len(ctx.tools)} tools; nothing escaped the sandbox")


async def _probe(
    ctx: RateContext, tool: Tool, field: str, value: str
) -> tuple[dict[str, Any], Outcome]:
    properties = cast("dict[str, Any]", tool.input_schema.get("properties") or {})
    spec = cast("dict[str, Any]", properties.get(field, {}))
    probe: Any = [value] if spec.get("type") == "array" else value
    arguments = {**valid_arguments(tool.input_schema), field: probe}
    outcome = await ctx.call(tool.name, arguments)
    if outcome.kind in ("crash", "hang"):
        await ctx.restart()
    return arguments, outcome


async def _path_escapes(ctx: RateContext, draft: DimensionDraft, tool: Tool, field: str) -> None:
    outside = ctx.sandbox.outside
    probes = {
        "dot-dot": "../outside/secret.txt",
        "absolute": str(outside / "secret.txt"),
        "symlink": "escape/secret.txt",
        "symlink (absolute)": str(ctx.sandbox.work / "escape" / "secret.txt"),
        "dot-dot directory": "../outside",
        "absolute directory": str(outside),
        "symlinked directory": "escape",
    }
    before = snapshot(outside)
    escaped = False
    for how, value in probes.items():
        arguments, outcome = await _probe(ctx, tool, field, value)
        # A directory listing shows the file's name, which no directory probe contains.
        if CANARY in outcome.text or (how.endswith("directory") and "secret.txt" in outcome.text):
            escaped = True
            draft.failed(
                "security.path_escape",
                "critical",
                f"{tool.name} read a file outside its working directory through a {how} path",
                tool=tool.name,
                sent=arguments,
                received=shorten(outcome.text, 300),
            )
        if (changes := _changes(before, snapshot(outside))) and not escaped:
            escaped = True
            draft.failed(
                "security.path_escape.write",
                "critical",
                f"{tool.name} changed files outside its working directory through a {how} path",
                tool=tool.name,
                sent=arguments,
                received=changes,
            )
    if not escaped:
        draft.passed(f"{tool.name}.{field}: no path escape ({', '.join(probes)})")


async def _loopback(
    ctx: RateContext, draft: DimensionDraft, tool: Tool, field: str, site: ProbeSite
) -> None:
    port = site.url.rsplit(":", 1)[1]
    probes = {
        "loopback": f"{site.url}/canary?probe=loopback",
        "localhost": f"http://localhost:{port}/canary?probe=localhost",
        "redirect to loopback": f"{site.url}/redirect?probe=redirect",
    }
    for how, value in probes.items():
        asked = len(site.requests)
        arguments, outcome = await _probe(ctx, tool, field, value)
        reached = site.requests[asked:]
        if SITE_CANARY in outcome.text or reached:
            draft.failed(
                "security.ssrf.loopback",
                "high",
                f"{tool.name} fetched a {how} address (the rater's site on 127.0.0.1)",
                tool=tool.name,
                sent=arguments,
                received={"site_requests": reached, "result": shorten(outcome.text, 300)},
            )
            return
    draft.passed(f"{tool.name}.{field}: refused loopback targets ({', '.join(probes)})")


SQL_WRITES = (
    "CREATE TABLE covey_probe (x INTEGER)",
    "COMMIT; CREATE TABLE covey_probe (x INTEGER)",
)
"""Statements a read-only SQL tool must not carry out (the database file is hashed)."""


async def _read_only(ctx: RateContext, draft: DimensionDraft, tool: Tool) -> None:
    """A plausible call, and writes through its SQL arguments, each hashed before and after."""
    work = ctx.sandbox.work
    base = valid_arguments(tool.input_schema)
    calls = [base] + [{**base, f: s} for f in tool_kinds(tool).get("sql", []) for s in SQL_WRITES]
    for arguments in calls:
        before = snapshot(work)
        outcome = await ctx.call(tool.name, arguments)
        if changes := _changes(before, snapshot(work)):
            draft.failed(
                "security.read_only_writes",
                "high",
                f"{tool.name} is annotated read-only but changed its working directory",
                tool=tool.name,
                sent=arguments,
                received={"changes": changes, "result": shorten(outcome.text, 200)},
            )
            return
    draft.passed(f"{tool.name}: read-only, and its working directory was unchanged")
