"""Every example runs to a readable end on the embedded model: its outcome line, or one line.

A 270M model rarely finishes a task, so an example may end either way; what it may never do
is end in a traceback or without saying what happened. The examples share one embedded
server (through COVEY_BASE_URL); the quickstart also starts its own, as a newcomer's would.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
import pytest_asyncio

from covey import EmbeddedModel
from tests.embedded import MARKS

pytestmark = [*(m for m in MARKS if m.name != "timeout"), pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[1]

OUTCOMES = {
    "quickstart": "answer: ",
    "agent_tools": "answer: ",
    "memory_reflection": "with the lesson: ",
    "team_critic": "result after ",
    "team_handoff": "reply to the customer: ",
    "team_map_reduce": "result: ",
    "team_pipeline": "result: ",
    "team_supervisor": "result: ",
}


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def shared() -> AsyncIterator[EmbeddedModel]:
    async with EmbeddedModel() as embedded:
        yield embedded


async def run_example(name: str, environ: dict[str, str]) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVEY_", "OPENAI_"))}
    result = await anyio.run_process(
        [sys.executable, "-m", f"examples.{name}"],
        cwd=ROOT,
        env={**env, **environ},
        check=False,
    )
    return result.returncode, result.stdout.decode(), result.stderr.decode()


def assert_readable_end(name: str, code: int, out: str, err: str) -> None:
    assert "Traceback" not in err and "Traceback" not in out, err[-3000:]
    if code == 0:  # the outcome line comes last; what it shows may span lines
        assert any(line.startswith(OUTCOMES[name]) for line in out.splitlines()), out[-2000:]
    else:
        lines = err.strip().splitlines()
        assert code == 1 and len(lines) == 1, err[-2000:]
        assert lines[0].startswith("The example could not finish: "), lines[0]
        assert len(lines[0]) > len("The example could not finish: ") + 20  # says why


@pytest.mark.parametrize("name", sorted(set(OUTCOMES) - {"quickstart"}))
async def test_each_example_ends_readably_on_the_embedded_model(
    shared: EmbeddedModel, name: str
) -> None:
    code, out, err = await run_example(name, {"COVEY_BASE_URL": shared.base_url})
    assert_readable_end(name, code, out, err)


async def test_the_quickstart_ends_readably_on_the_default_model() -> None:
    code, out, err = await run_example("quickstart", {})
    assert_readable_end("quickstart", code, out, err)
    assert "model: gemma3-270m at http://127.0.0.1:" in out  # it started the embedded model


def readme_programs() -> list[str]:
    """The README's Python snippets that are whole programs (they call anyio.run)."""
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"^```python\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)
    programs = [block for block in blocks if "anyio.run(" in block]
    assert len(programs) >= 4, "the README lost its runnable snippets"
    return programs


@pytest.mark.parametrize("index", range(len(readme_programs())))
async def test_each_readme_program_ends_readably_on_the_embedded_model(
    shared: EmbeddedModel, index: int, tmp_path: Path
) -> None:
    program = tmp_path / "snippet.py"
    program.write_text(readme_programs()[index])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVEY_", "OPENAI_"))}
    result = await anyio.run_process(
        [sys.executable, str(program)],
        cwd=tmp_path,
        env={**env, "COVEY_BASE_URL": shared.base_url},
        check=False,
    )
    out, err = result.stdout.decode(), result.stderr.decode()
    assert result.returncode == 0 and "Traceback" not in err, err[-3000:]
    assert out.strip(), "the snippet printed nothing"
