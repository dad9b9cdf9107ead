"""`covey eval` as a user runs it: a process, a model server process, a store on disk."""

from __future__ import annotations

import signal
import sqlite3
import sys
from pathlib import Path

import anyio
import pytest

from covey.testing._process import scripted_server_process

from .policies import MINI

TRIALS = 3


def _recorded(db: Path) -> dict[tuple[str, int], str]:
    """(case, trial) -> finished_at of every recorded trial."""
    if not db.exists():
        return {}
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            rows = conn.execute("SELECT case_id, trial, finished_at FROM covey_eval_trials")
            return {(case, trial): finished for case, trial, finished in rows}
    except sqlite3.OperationalError:  # the table is not there yet
        return {}


def _command(url: str, db: Path, tmp_path: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "covey.cli",
        "eval",
        str(MINI),
        "--model",
        f"{url}#scripted",
        "--trials",
        str(TRIALS),
        "--concurrency",
        "1",
        "--db",
        f"sqlite:///{db}",
        "--html",
        str(tmp_path / "report.html"),
    ]


async def test_an_eval_killed_halfway_resumes_without_repeating_a_trial(tmp_path: Path) -> None:
    db = tmp_path / "evals.db"
    total = 4 * TRIALS
    async with scripted_server_process("tests.evals.policies:mini_oracle") as url:
        command = _command(url, db, tmp_path)
        async with await anyio.open_process(command) as first:
            with anyio.fail_after(120):
                # Another process writes the store: polling it is the only way to watch.
                while len(_recorded(db)) < total // 2:  # noqa: ASYNC110
                    await anyio.sleep(0.05)
            first.send_signal(signal.SIGKILL)
            await first.wait()
        before = _recorded(db)
        assert total // 2 <= len(before) < total
        second = await anyio.run_process(command, check=False)
    after = _recorded(db)
    output = second.stdout.decode()
    assert second.returncode == 0, second.stderr.decode()[-2000:]
    assert len(after) == total
    assert {key: after[key] for key in before} == before  # finished trials were not run again
    assert "Resuming run mini-" in second.stderr.decode()
    assert "HTML report:" in output and (tmp_path / "report.html").is_file()
    assert "Success 100.0%" in output and f"{total} passed, 0 failed" in output


@pytest.fixture(autouse=True)
def _long_timeout(request: pytest.FixtureRequest) -> None:
    request.node.add_marker(pytest.mark.timeout(300))
