"""How tests launch each bundled server, and which calls prove it works: one entry per server.

Tests that drive every server in `covey.servers.SERVERS` (MCP Inspector, conformance suite)
take its command-line arguments from `LAUNCH` and its probe calls from `PROBES`. A new server
adds an entry to each; a server without one fails those tests, saying so.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

FILE_TEXT = "hello from covey\n"

T = TypeVar("T")


def _files(tmp_path: Path) -> list[str]:
    root = tmp_path / "files-root"
    root.mkdir(exist_ok=True)
    (root / "hello.txt").write_text(FILE_TEXT)
    return ["--root", str(root)]


def _birds_db(tmp_path: Path) -> str:
    path = tmp_path / "birds.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE IF NOT EXISTS birds (name TEXT PRIMARY KEY, wingspan_cm INTEGER)")
        db.execute("INSERT OR IGNORE INTO birds VALUES ('kestrel', 76), ('wren', 15)")
    return f"sqlite:///{path}"


LAUNCH: dict[str, Callable[[Path], list[str]]] = {
    "files": _files,
    "calc": lambda tmp_path: [],
    "time": lambda tmp_path: ["--local-timezone", "UTC"],
    "sql": lambda tmp_path: ["--db", _birds_db(tmp_path)],
    "memory": lambda tmp_path: ["--db", f"sqlite:///{tmp_path / 'memory.db'}"],
    # The probes fetch from a local site on 127.0.0.1, which the server refuses by default.
    "fetch": lambda tmp_path: ["--allow-private"],
}
"""Server name -> function(tmp_path) -> the server's command-line arguments (no transport)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Call:
    """One tool call."""

    tool: str
    arguments: dict[str, Any] = field(default_factory=dict[str, Any])
    expect: str = ""
    """Text a successful result must contain (in its content or structured content)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Probes:
    """A call that must succeed, and one with a bad argument that must be a tool error."""

    good: Call
    bad: Call


def _probes_files(tmp_path: Path, site: str) -> Probes:
    path = tmp_path / "files-root" / "hello.txt"
    return Probes(
        good=Call(tool="read_text_file", arguments={"path": str(path)}, expect=FILE_TEXT.strip()),
        bad=Call(tool="read_text_file", arguments={"path": "/etc/passwd"}),
    )


PROBES: dict[str, Callable[[Path, str], Probes]] = {
    "files": _probes_files,
    "calc": lambda tmp_path, site: Probes(
        good=Call(tool="calculate", arguments={"expression": "6*7"}, expect="42"),
        bad=Call(tool="calculate", arguments={"expression": "1/0"}),
    ),
    "time": lambda tmp_path, site: Probes(
        good=Call(tool="get_current_time", arguments={"timezone": "Asia/Tokyo"}, expect="+09:00"),
        bad=Call(tool="get_current_time", arguments={"timezone": "Mars/Olympus"}),
    ),
    "sql": lambda tmp_path, site: Probes(
        good=Call(
            tool="read_query",
            arguments={"query": "SELECT name FROM birds ORDER BY wingspan_cm DESC"},
            expect="kestrel",
        ),
        bad=Call(tool="describe_table", arguments={"table_name": "no_such_table"}),
    ),
    "memory": lambda tmp_path, site: Probes(
        good=Call(
            tool="create_entities",
            arguments={
                "entities": [
                    {"name": "Ada", "entityType": "person", "observations": ["wrote a program"]}
                ]
            },
            expect="Ada",
        ),
        bad=Call(tool="open_nodes", arguments={"names": "Ada"}),
    ),
    "fetch": lambda tmp_path, site: Probes(
        good=Call(tool="fetch", arguments={"url": f"{site}/page.html"}, expect="Hello covey"),
        bad=Call(tool="fetch", arguments={"url": "not a url"}),
    ),
}
"""Server name -> function(tmp_path, local site URL) -> its probe calls."""


def _entry(table: dict[str, T], table_name: str, name: str, what: str) -> T:
    if name not in table:
        pytest.fail(
            f"No {table_name} entry for the bundled server {name!r}: add one to {table_name} in "
            f"tests/servers/launch.py ({what}).",
            pytrace=False,
        )
    return table[name]


def launch_args(name: str, tmp_path: Path) -> list[str]:
    """The command-line arguments to start server `name` with, its files under `tmp_path`."""
    launch = _entry(LAUNCH, "LAUNCH", name, "a function tmp_path -> its command-line arguments")
    return launch(tmp_path)


def probes(name: str, tmp_path: Path, site: str) -> Probes:
    """The probe calls for server `name`, launched with `launch_args(name, tmp_path)`."""
    make = _entry(PROBES, "PROBES", name, "a function (tmp_path, site URL) -> Probes")
    return make(tmp_path, site)
