"""`covey eval` as a user runs it: a process, a model server process, a store on disk."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import anyio
import anyio.abc
import pytest

from covey.evals import Limits
from covey.testing import ChatRequest, Fault, Reply, ScriptedModelServer
from covey.testing._process import scripted_server_process

from .policies import MINI, RIDDLES, mini_oracle

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


async def _signal_once_recorded(
    process: anyio.abc.Process, db: Path, count: int, sig: signal.Signals
) -> None:
    """Send `sig` once `count` trials are in the store, and wait for the process to end."""
    with anyio.fail_after(120):
        # Another process writes the store: polling it is the only way to watch.
        while len(_recorded(db)) < count:  # noqa: ASYNC110
            await anyio.sleep(0.05)
    process.send_signal(sig)
    await process.wait()


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
            await _signal_once_recorded(first, db, total // 2, signal.SIGKILL)
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


def _eval(url: str, db: Path, *extra: str, suite: Path = MINI) -> list[str]:
    command = [sys.executable, "-m", "covey.cli", "eval", str(suite), "--model", f"{url}#scripted"]
    return [*command, "--db", f"sqlite:///{db}", *extra]


async def test_eval_and_report_price_a_run_recorded_by_the_cli(tmp_path: Path) -> None:
    prices = tmp_path / "prices.yaml"
    prices.write_text("currency: EUR\nmodels:\n  scripted: {input: 100000, output: 200000}\n")
    db, report = tmp_path / "evals.db", tmp_path / "run.json"
    async with scripted_server_process("tests.evals.policies:mini_oracle") as url:
        cases = ["--cases", "calc-multiply,files-launch-code", "--prices", str(prices)]
        files = ["--json", str(report), "--html", str(tmp_path / "run.html")]
        ran = await anyio.run_process(_eval(url, db, *cases, *files), check=False)
    assert ran.returncode == 0, ran.stderr.decode()[-2000:]
    data = json.loads(report.read_text())
    trials = data["trials"]
    assert {t["model"] for t in trials} == {f"scripted@{url}"}  # the label covey eval writes
    assert {t["model_name"] for t in trials} == {"scripted"}
    tokens_in = sum(t["input_tokens"] for t in trials)
    tokens_out = sum(t["output_tokens"] for t in trials)
    expected = tokens_in * 0.1 + tokens_out * 0.2  # EUR per token: 100,000 and 200,000 per 1M
    assert data["summary"]["overall"]["cost"] == pytest.approx(expected)
    assert f"cost {expected:.4f} EUR" in ran.stdout.decode()
    run_id = data["summary"]["run"]["run_id"]
    base = [sys.executable, "-m", "covey.cli", "report", run_id, "--db", f"sqlite:///{db}"]
    again = await anyio.run_process([*base, "--prices", str(prices)], check=False)
    assert again.returncode == 0, again.stderr.decode()[-2000:]
    assert f"cost {expected:.4f} EUR" in again.stdout.decode()


async def test_a_suite_whose_scorers_changed_does_not_resume_the_old_run(tmp_path: Path) -> None:
    changed = tmp_path / "mini.yaml"  # the same suite, one scorer stricter
    text = MINI.read_text()
    changed.write_text(
        text.replace("{type: number, value: 7006652}", "{type: exact, value: '7006652'}")
    )
    assert changed.read_text() != text
    db = tmp_path / "evals.db"
    one = ["--cases", "calc-multiply", "--html", str(tmp_path / "r.html")]
    async with scripted_server_process("tests.evals.policies:mini_oracle") as url:
        first = await anyio.run_process(_eval(url, db, *one), check=False)
        assert first.returncode == 0, first.stderr.decode()[-2000:]
        with sqlite3.connect(db) as conn:  # as a run interrupted halfway is left
            conn.execute("UPDATE covey_eval_runs SET finished_at = NULL")
            (run_id,) = conn.execute("SELECT run_id FROM covey_eval_runs").fetchone()
        other = await anyio.run_process(_eval(url, db, *one, suite=changed), check=False)
        same = await anyio.run_process(_eval(url, db, *one), check=False)
    assert other.returncode == 0, other.stderr.decode()[-2000:]
    assert "Starting run mini-" in other.stderr.decode()
    assert run_id not in other.stderr.decode()
    assert f"Resuming run {run_id}:" in same.stderr.decode()  # unchanged, it would resume


async def test_two_models_are_evaluated_side_by_side(tmp_path: Path) -> None:
    db = tmp_path / "evals.db"
    async with (
        scripted_server_process("tests.evals.policies:mini_oracle") as good,
        scripted_server_process("tests.evals.policies:mini_mistake") as bad,
    ):
        command = _eval(good, db, "--model", f"{bad}#scripted", "-k", "2", "-j", "4")
        ran = await anyio.run_process([*command, "--per-endpoint", "2"], check=False, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr.decode()[-2000:]
    lines = ran.stdout.decode().splitlines()
    title = lines.index("Suite mini: 2 runs (pass^2: all 2 trials pass)")
    rows = [line.split() for line in lines[title + 3 : title + 5]]
    assert [(row[0], row[2], row[4]) for row in rows] == [
        (f"scripted@{good}", "100.0%", "100.0%"),  # model, success, pass^2
        (f"scripted@{bad}", "0.0%", "0.0%"),
    ]
    assert any(line.startswith("Success 100.0% (95% CI 67.6-100.0%): 8 passed") for line in lines)
    assert any(
        line.startswith("Success 0.0% (95% CI 0.0-32.4%): 0 passed, 8 failed") for line in lines
    )
    reports = sorted(p.name for p in (tmp_path / ".covey" / "reports").iterdir())
    assert len(reports) == 2  # one HTML report per model


async def test_eval_with_reflect_shows_success_rising_by_trial(tmp_path: Path) -> None:
    db = tmp_path / "evals.db"
    async with scripted_server_process("tests.evals.policies:learner") as url:
        command = _eval(url, db, "--reflect", "-k", "3", suite=RIDDLES)
        ran = await anyio.run_process(command, check=False, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr.decode()[-2000:]
    lines = ran.stdout.decode().splitlines()
    # Both riddles fail once, then each later trial has the lesson its failure left.
    assert "By trial  #1 0.0%  #2 100.0%  #3 100.0%" in lines
    assert any(line.startswith("Success 66.7% ") for line in lines)


def _closed_port() -> int:
    with socket.socket() as sock:  # bound, never listening, then closed: nothing answers
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _one_error_line(ran: subprocess.CompletedProcess[bytes]) -> str:
    lines = ran.stderr.decode().strip().splitlines()
    assert ran.returncode == 1, ran.stderr.decode()[-2000:]
    assert len(lines) == 1, lines
    return lines[0]


async def test_an_eval_against_an_absent_model_server_stops_before_the_first_trial(
    tmp_path: Path,
) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    command = [sys.executable, "-m", "covey.cli", "eval", str(MINI), "--model", f"{url}#x"]
    ran = await anyio.run_process(command, check=False, cwd=tmp_path)
    assert _one_error_line(ran) == (
        f"covey: error: No model server answers at {url}: start one (covey model serve) "
        "or fix --model."
    )
    assert not (tmp_path / ".covey").exists()  # no store, no run, no report


async def test_an_eval_of_a_model_the_server_does_not_serve_stops_before_the_first_trial(
    tmp_path: Path,
) -> None:
    async with ScriptedModelServer(policy=mini_oracle) as server:
        command = [sys.executable, "-m", "covey.cli", "eval", str(MINI)]
        command += ["--model", f"{server.base_url}#qwen3-8b"]
        ran = await anyio.run_process(command, check=False, cwd=tmp_path)
        assert server.requests == []
    assert _one_error_line(ran) == (
        f"covey: error: Model 'qwen3-8b' is not served at {server.base_url}: it serves "
        "'scripted'. Fix the name after '#' in --model."
    )
    assert not (tmp_path / ".covey").exists()


def _broken(request: ChatRequest) -> Reply:
    return Reply(text="never read", cut_after_chunks=0)  # the connection drops mid-answer


async def test_an_eval_whose_every_trial_is_an_infrastructure_error_exits_1(
    tmp_path: Path,
) -> None:
    async with ScriptedModelServer(policy=_broken) as server:
        command = _eval(server.base_url, tmp_path / "evals.db", "--cases", "bird", suite=RIDDLES)
        ran = await anyio.run_process(command, check=False, cwd=tmp_path)
    assert ran.returncode == 1, ran.stderr.decode()[-2000:]
    last = ran.stderr.decode().strip().splitlines()[-1]
    assert last.startswith("covey: error: every trial of run riddles-")
    assert "ended in an infrastructure error, the first: Infrastructure failed on all 3" in last
    assert "1 infrastructure errors" in ran.stdout.decode()  # the table and reports still come


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["builtin:nosuchtag"], "No case of suite 'builtin' matches tag 'nosuchtag'. Its tags: "),
        (["builtin", "-k", "0"], "--trials/-k must be at least 1, got 0."),
        (["builtin", "-j", "0"], "--concurrency/-j must be at least 1, got 0."),
        (["builtin", "--time-limit", "0"], "--time-limit must be a positive number of seconds"),
        (["builtin", "--cases", "nope"], "matches id 'nope'. Its tags: calc, easy"),
    ],
)
def test_bad_eval_arguments_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    command = [sys.executable, "-m", "covey.cli", "eval", *args]
    ran = subprocess.run(command, capture_output=True, cwd=tmp_path, timeout=120, check=False)
    line = _one_error_line(ran)
    assert line.startswith("covey: error: ") and message in line
    assert not (tmp_path / ".covey").exists()


def test_eval_help_shows_the_defaults_and_what_the_time_limit_counts() -> None:
    command = [sys.executable, "-m", "covey.cli", "eval", "--help"]
    helped = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    text = " ".join(helped.stdout.split())
    seconds, turns = Limits().seconds, Limits().turns
    time_limit = "--time-limit SECONDS seconds each trial's agent may run (default: the suite's"
    assert f"{time_limit} limit, else {seconds:g})" in text
    assert "waiting for a slot, starting MCP servers and scoring do not count" in text
    turns_help = "--max-turns N model turns each trial may take (default: the suite's limit,"
    assert f"{turns_help} else {turns})" in text
    assert "trials at once (default 4)" in text and "(k; default 1)" in text
    assert "scripted:module:function answers with that policy" in text
    assert "with several --model, one report per run, PATH's name plus -RUN_ID" in text
    assert "{steps, passes_because: REASON} must pass instead" in text


async def test_ctrl_c_says_what_was_recorded_and_the_same_command_resumes(
    tmp_path: Path,
) -> None:
    db = tmp_path / "evals.db"
    total = 4 * TRIALS
    async with scripted_server_process("tests.evals.policies:mini_oracle") as url:
        command = _command(url, db, tmp_path)
        async with await anyio.open_process(command) as first:
            await _signal_once_recorded(first, db, 2, signal.SIGINT)
            assert first.stderr is not None
            errors = b"".join([chunk async for chunk in first.stderr]).decode()
        recorded = len(_recorded(db))
        second = await anyio.run_process(command, check=False)
    assert first.returncode == 130
    assert errors.strip().splitlines()[-1] == (
        f"covey: interrupted: {recorded} of {total} trials recorded; re-run the same command "
        "to resume."
    )
    assert second.returncode == 0, second.stderr.decode()[-2000:]
    resumed = f"{4} cases x {TRIALS} trials on scripted@{url} ({recorded} trials already recorded"
    assert resumed in second.stderr.decode()


async def test_a_model_server_refusing_every_request_is_one_line_naming_no_model_none(
    tmp_path: Path,
) -> None:
    def refuse(request: ChatRequest) -> Fault:
        return Fault.status(404, message="no such route")

    async with ScriptedModelServer(policy=refuse) as server:
        command = [sys.executable, "-m", "covey.cli", "eval", str(RIDDLES), "--model"]
        command += [server.base_url, "--db", f"sqlite:///{tmp_path / 'evals.db'}"]
        ran = await anyio.run_process(command, check=False, cwd=tmp_path)
    assert ran.returncode == 1
    starting, line = ran.stderr.decode().strip().splitlines()  # no traceback out of the runs
    assert starting.startswith("Starting run riddles-")
    assert line.startswith(f"covey: error: The model server at {server.base_url} answered HTTP 404")
    assert "no such route. Check the base URL (it usually ends in /v1)" in line
    assert "None" not in line


async def test_check_shows_progress_as_it_replays(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "covey.cli", "eval", str(MINI), "--check"]
    ran = await anyio.run_process(command, check=False, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr.decode()[-2000:]
    progress = ran.stderr.decode().splitlines()
    assert any("] 4/4  pass 4 fail 0 err 0  running 0" in line for line in progress)  # solutions
    assert any("] 4/4  pass 0 fail 4 err 0  running 0" in line for line in progress)  # mistakes
    assert (
        "OK: every solution passes and every scorer fails in some mistake." in ran.stdout.decode()
    )


async def test_an_absent_server_from_covey_base_url_names_the_variable(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVEY_", "OPENAI_"))}
    command = [sys.executable, "-m", "covey.cli", "eval", str(MINI)]
    ran = await anyio.run_process(
        command, check=False, cwd=tmp_path, env=env | {"COVEY_BASE_URL": url}
    )
    assert _one_error_line(ran) == (
        f"covey: error: No model server answers at {url}: start one (covey model serve) "
        "or fix COVEY_BASE_URL."
    )


async def test_an_absent_judge_model_server_stops_the_eval_before_the_first_trial(
    tmp_path: Path,
) -> None:
    judge = f"http://127.0.0.1:{_closed_port()}/v1"
    async with ScriptedModelServer(policy=mini_oracle) as server:
        command = _eval(server.base_url, tmp_path / "evals.db", "--judge", f"{judge}#j")
        ran = await anyio.run_process(command, check=False, cwd=tmp_path)
        assert server.requests == []
    assert _one_error_line(ran) == (
        f"covey: error: No model server answers at {judge}: start one (covey model serve) "
        "or fix --judge."
    )
