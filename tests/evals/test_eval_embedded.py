"""The README's main job: `covey eval` on the embedded model, as a user runs it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio

from ..embedded import MARKS

pytestmark = MARKS


async def test_covey_eval_on_the_embedded_model_ends_with_the_table_and_the_report(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVEY_", "OPENAI_"))}
    command = [
        sys.executable,
        "-m",
        "covey.cli",
        "eval",
        "builtin:quick",
        "--cases",
        "calc-multiply",
        "--db",
        f"sqlite:///{tmp_path / 'evals.db'}",
    ]
    done = await anyio.run_process(command, env=env, cwd=tmp_path, check=False)
    output, errors = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 0, errors[-3000:]
    assert "Starting the embedded model" in errors
    assert "1 trial at a time (as many as its server answers at once)" in errors  # no queue
    assert "Success" in output and "case" in output and "calc-multiply" in output
    # The model answered: a server that died on its first request shows up as an error here.
    assert "0 infrastructure errors" in output, output
    report = output.strip().splitlines()[-1].removeprefix("HTML report: ")
    assert (tmp_path / report).is_file()  # relative to where covey eval ran
    assert "<html" in (tmp_path / report).read_text()[:200].lower()
