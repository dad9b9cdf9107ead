"""One store for the view's tests, made as a user makes it, and `covey view` serving it.

The store holds a `covey eval --trace` run of two cases on the scripted model (a calculator
call and a file read), a graph thread checkpointed step by step, and memories in a
namespace. `covey view` runs as a process on 127.0.0.1 with a free port.
"""

from __future__ import annotations

import select
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import anyio
import pydantic
import pytest

from covey.agents import END, START, Graph, add, append
from covey.store import CheckpointStore, LongTermMemory, Store
from covey.testing._process import scripted_server_process

MINI = Path(__file__).parents[1] / "evals" / "suites" / "mini.yaml"
THREAD = "order-17"
NAMESPACE = "agent:librarian"


class Order(pydantic.BaseModel):
    items: list[int] = []
    log: Annotated[list[str], append] = []
    total: Annotated[int, add] = 0


def order_graph() -> Graph[Order]:
    """plan -> price -> ship: three supersteps, each changing different fields."""
    graph = Graph(Order)
    graph.add_node("plan", lambda s: {"items": [3, 4], "log": ["planned"]})
    graph.add_node("price", lambda s: {"total": sum(s.items) * 10, "log": ["priced"]})
    graph.add_node("ship", lambda s: {"log": [f"shipped {len(s.items)} items"]})
    graph.add_edge(START, "plan")
    graph.add_edge("plan", "price")
    graph.add_edge("price", "ship")
    graph.add_edge("ship", END)
    return graph


async def run_thread(url: str, thread_id: str) -> None:
    """Run the order graph on a checkpointed thread in the store at `url`."""
    async with Store.from_url(url) as store:
        compiled = order_graph().compile(checkpointer=CheckpointStore(store))
        await compiled.run(Order(), thread_id=thread_id)


async def remember(url: str) -> None:
    async with Store.from_url(url) as store:
        memory = LongTermMemory(store, NAMESPACE)
        await memory.remember("Ada prefers short answers", about="Ada")
        await memory.remember("Grace reads the weekly report on Mondays", about="Grace")


async def run_eval(url: str) -> str:
    """`covey eval --trace` of two cases; returns the run id."""
    async with scripted_server_process("tests.evals.policies:mini_oracle") as model:
        command = [sys.executable, "-m", "covey.cli", "eval", str(MINI), "--model"]
        command += [f"{model}#scripted", "--cases", "calc-multiply,files-launch-code"]
        command += ["--trials", "1", "--db", url, "--trace", "--run-id", "mini-view"]
        done = await anyio.run_process(command, check=False)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return "mini-view"


@dataclass(frozen=True)
class Viewer:
    """`covey view` serving the shared store."""

    url: str
    """Its base URL, ending in `/`."""
    db: str
    """The store's URL."""
    run_id: str
    """The recorded eval run."""


def _first_line(process: subprocess.Popen[bytes], timeout: float) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    if not ready:
        process.kill()
        pytest.fail(f"covey view printed no URL within {timeout:g}s")
    return process.stdout.readline().decode().strip()


@contextmanager
def serving(db: str, *options: str) -> Iterator[str]:
    """Run `covey view --db DB OPTIONS...` until the block ends; yields the URL it prints."""
    command = [sys.executable, "-m", "covey.cli", "view", "--db", db, *options]
    process = subprocess.Popen(command, stdout=subprocess.PIPE)
    try:
        yield _first_line(process, timeout=60)
    finally:
        process.terminate()
        process.wait(timeout=10)
        assert process.stdout is not None
        process.stdout.close()


@pytest.fixture(scope="session")
def viewer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Viewer]:
    db = f"sqlite:///{tmp_path_factory.mktemp('view') / 'covey.db'}"
    run_id = anyio.run(run_eval, db)
    anyio.run(run_thread, db, THREAD)
    anyio.run(remember, db)
    with serving(db, "--port", "0") as url:
        assert url.startswith("http://127.0.0.1:"), url
        yield Viewer(url=url, db=db, run_id=run_id)
