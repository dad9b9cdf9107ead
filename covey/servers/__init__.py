"""covey's bundled MCP servers, each runnable on its own.

Every server is one module with a `main(argv)` function, started as
`covey serve NAME [options]` or `python -m covey.servers.NAME [options]`: over stdio by
default, over streamable HTTP with `--http HOST:PORT`. A server imports only `mcp`,
`covey.store` and the standard library, so it starts fast and any MCP client can use it.
"""

from __future__ import annotations

__all__ = ["SERVERS"]

SERVERS: dict[str, str] = {
    "files": "covey.servers.files",
    "calc": "covey.servers.calc",
    "time": "covey.servers.time",
    "memory": "covey.servers.memory",
    "sql": "covey.servers.sql",
    "fetch": "covey.servers.fetch",
}
"""Server name -> module path; `covey serve NAME` calls that module's `main(argv)`."""
