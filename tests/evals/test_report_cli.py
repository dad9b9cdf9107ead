"""`covey report` and `covey compare` on runs read back from JSON reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from covey import UsageError
from covey.cli import main
from covey.evals._cli_report import load_runs
from covey.evals._report_json import read_json_report, write_json_report
from covey.evals._results import RunResults
from covey.store import Store

from .report_data import make_run
from .test_compare import B_OUTCOMES


def write_runs(tmp_path: Path) -> tuple[Path, Path]:
    a = write_json_report(tmp_path / "a.json", make_run("run-a"))
    b = write_json_report(tmp_path / "b.json", make_run("run-b", B_OUTCOMES))
    return a, b


def test_json_report_reads_back_the_same_run(tmp_path: Path) -> None:
    run = make_run()
    path = write_json_report(tmp_path / "a.json", run)
    assert read_json_report(path) == run


def test_report_prints_the_table_and_writes_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, _ = write_runs(tmp_path)
    prices = tmp_path / "prices.yaml"
    prices.write_text("tiny: {input: 1.0, output: 2.0}\n")
    html, again = tmp_path / "out" / "r.html", tmp_path / "out" / "r.json"
    code = main(
        ["report", str(a), "--html", str(html), "--json", str(again), "--prices", str(prices)]
    )
    out, err = capsys.readouterr()
    assert code == 0
    assert "Success 63.6% (95% CI 35.4-84.8%)" in out and "cost 0.0094 USD" in out
    assert f"HTML report: {html}" in err and html.read_text().startswith("<!DOCTYPE html>")
    assert json.loads(again.read_text())["summary"]["overall"]["cost"] == pytest.approx(0.00936)


def test_compare_two_runs_pairs_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = write_runs(tmp_path)
    out_json = tmp_path / "cmp.json"
    assert main(["compare", str(a), str(b), "--json", str(out_json)]) == 0
    out = capsys.readouterr().out
    assert "4 paired cases: 2 improved, 1 regressed, 1 unchanged" in out
    assert "Suite demo: 2 runs" in out
    data = json.loads(out_json.read_text())
    assert len(data["runs"]) == 2 and data["paired"]["mcnemar_p"] == 1.0


def test_compare_three_runs_side_by_side(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = write_runs(tmp_path)
    c = write_json_report(tmp_path / "c.json", make_run("run-c"))
    assert main(["compare", str(a), str(b), str(c)]) == 0
    out = capsys.readouterr().out
    assert "paired cases" not in out
    assert [line.split()[1] for line in out.splitlines()[3:]] == ["run-a", "run-b", "run-c"]


def test_cli_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, _ = write_runs(tmp_path)
    assert main(["compare", str(a)]) == 1
    assert capsys.readouterr().err.strip() == (
        "covey: error: covey compare needs two or more runs, got 1: pass RUN RUN "
        "(e.g. `covey compare latest <older-run-id>`)."
    )
    bogus = tmp_path / "bogus.json"
    bogus.write_text('{"hello": 1}')
    assert main(["report", str(bogus)]) == 1
    err = capsys.readouterr().err
    assert "is not a covey JSON report" in err and err.count("\n") == 1
    assert main(["report", str(a), "--prices", str(tmp_path / "none.json")]) == 1
    assert "Cannot read the price table" in capsys.readouterr().err


class DictLoader:
    """A RunLoader over runs held in memory (the store is opened but not read)."""

    def __init__(self, runs: list[RunResults]) -> None:
        self.runs = {r.run.run_id: r for r in runs}
        self.stores: list[str] = []

    async def load_run(self, store: Store, run_id: str) -> RunResults:
        self.stores.append(store.url)
        return self.runs[run_id]

    async def latest_run_id(self, store: Store) -> str | None:
        return max(self.runs, default=None)


def test_load_runs_mixes_store_runs_latest_and_files(tmp_path: Path) -> None:
    a, b = make_run("run-a"), make_run("run-b", B_OUTCOMES)
    loader = DictLoader([a, b])
    url = f"sqlite:///{tmp_path / 'covey.db'}"
    (tmp_path / "covey.db").touch()  # an empty SQLite database
    report = write_json_report(tmp_path / "c.json", make_run("run-c"))
    loaded = load_runs(url, ["run-a", "latest", str(report)], loader=loader)
    assert [r.run.run_id for r in loaded] == ["run-a", "run-b", "run-c"]
    assert len(loader.stores) == 2 and loader.stores[0].endswith("covey.db")
    with pytest.raises(UsageError, match="No eval runs in"):
        load_runs(url, ["latest"], loader=DictLoader([]))


@pytest.mark.parametrize("run", ["nosuchrun", "latest"])
def test_report_where_nothing_was_recorded_says_where_it_looked_and_creates_nothing(
    tmp_path: Path, run: str
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "COVEY_DB"}
    command = [sys.executable, "-m", "covey.cli", "report", run]
    ran = subprocess.run(
        command, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120
    )
    assert ran.returncode == 1
    assert ran.stderr.splitlines() == [
        f"covey: error: No eval store at {tmp_path / '.covey' / 'covey.db'} (.covey/covey.db "
        "under the current directory, the default store): run `covey eval SUITE` here first, "
        "or pass --db URL (or set COVEY_DB) to the store that holds your runs."
    ]
    assert list(tmp_path.iterdir()) == []  # no empty database left behind
