"""The `covey` command: version, help, and one-line errors."""

from __future__ import annotations

import subprocess
import sys


def covey(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "covey.cli", *args], capture_output=True, text=True, timeout=60
    )


def test_version_and_help() -> None:
    assert covey("--version").stdout.startswith("covey ")
    helped = covey("--help")
    assert helped.returncode == 0
    assert "model" in helped.stdout and "serve" in helped.stdout


def test_unknown_server_is_one_clear_line() -> None:
    result = covey("serve", "no-such-server")
    assert result.returncode == 1
    assert result.stderr.startswith("covey: error: No bundled server named 'no-such-server'")
    assert len(result.stderr.strip().splitlines()) == 1


def test_serve_without_a_name_lists_the_servers() -> None:
    from covey.servers import SERVERS

    listed = covey("serve")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0] == "The bundled MCP servers (covey serve NAME [--http HOST:PORT] ...):"
    assert [line.split()[0] for line in lines[1:-1]] == list(SERVERS)
    assert "  calc     arithmetic without `eval`, exact with rationals when asked." in lines
