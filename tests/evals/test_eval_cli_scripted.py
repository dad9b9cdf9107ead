"""`covey eval --model scripted:...`: a scripted model inside the eval process; several
models' reports."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from covey import UsageError
from covey.evals import load_suite
from covey.evals._scripted import load_policy

from .policies import MINI

SHARED = """
name: shared
cases:
  - id: 'door[a]'
    input: Which word opens the door?
    scorers: [{type: contains, value: alpha}]
    solution: [{answer: "It is alpha."}]
  - id: 'door[b]'
    input: Which word opens the door?
    scorers: [{type: contains, value: beta}]
    solution: [{answer: "It is beta."}]
"""

POLICY = """
from covey.testing import ChatRequest, Reply


def always_alpha(request: ChatRequest) -> Reply:
    return Reply(text="alpha, I think")
"""


def _eval(*args: str) -> list[str]:
    return [sys.executable, "-m", "covey.cli", "eval", *args]


@pytest.fixture(autouse=True)
def _long_timeout(request: pytest.FixtureRequest) -> None:
    request.node.add_marker(pytest.mark.timeout(300))


async def test_scripted_models_run_in_process_with_a_report_per_model(tmp_path: Path) -> None:
    (tmp_path / "shared.yaml").write_text(SHARED)
    (tmp_path / "my_policies.py").write_text(POLICY)  # found in the current directory
    models = ["--model", "scripted:solution", "--model", "scripted:my_policies:always_alpha"]
    reports = ["--json", "out/run.json", "--html", "out/run.html"]
    ran = await anyio.run_process(
        _eval("shared.yaml", *models, *reports, "--db", "sqlite:///e.db"),
        check=False,
        cwd=tmp_path,
    )
    assert ran.returncode == 0, ran.stderr.decode()[-2000:]
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    runs = sorted({name.removeprefix("run-").rsplit(".", 1)[0] for name in written})
    assert written == sorted(f"run-{r}.{kind}" for r in runs for kind in ("html", "json"))
    results = {}
    for run in runs:
        data = json.loads((tmp_path / "out" / f"run-{run}.json").read_text())
        assert data["summary"]["run"]["run_id"] == run
        results[data["summary"]["run"]["model"]] = {
            t["case_id"]: t["status"] for t in data["trials"]
        }
    assert results == {  # the solutions replay per case, though both cases ask the same
        "scripted:solution": {"door[a]": "passed", "door[b]": "passed"},
        "scripted:my_policies:always_alpha": {"door[a]": "passed", "door[b]": "failed"},
    }
    for run in runs:
        assert f"JSON report: out/run-{run}.json" in ran.stdout.decode()


def test_a_bad_scripted_model_is_one_line_before_anything_starts(tmp_path: Path) -> None:
    command = _eval(str(MINI), "--model", "scripted:no_such_module:f")
    ran = subprocess.run(command, capture_output=True, cwd=tmp_path, timeout=120, check=False)
    lines = ran.stderr.decode().strip().splitlines()
    assert ran.returncode == 1 and len(lines) == 1, lines
    assert lines[0].startswith("covey: error: --model scripted:no_such_module:f: cannot import")
    assert not (tmp_path / ".covey").exists()  # no store, no run


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("scripted:oracle", "--model 'scripted:oracle': use scripted:solution, scripted:mistake"),
        ("scripted:json:no_such_function", "module 'json' has no function 'no_such_function'"),
    ],
)
def test_a_scripted_model_that_cannot_be_found_says_what_to_write(model: str, message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        load_policy(model, load_suite(str(MINI)))
