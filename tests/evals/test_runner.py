"""The runner on the scripted model server: fresh worlds, real server processes, the store."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest

from covey import ModelClient, ModelConfig
from covey.agents import Agent, TeamState, pipeline
from covey.evals import Case, ContainsScorer
from covey.evals._case import Limits, Suite
from covey.evals._oracle import replay_policy
from covey.evals._results import RunResults
from covey.evals._runner import EndpointLimits, EvalOptions, run_eval
from covey.evals._suite_load import load_suite
from covey.store import Store
from covey.testing import ChatRequest, Policy, Reply, ScriptedModelServer

MINI = Path(__file__).parent / "suites" / "mini.yaml"


@pytest.fixture
def suite() -> Suite:
    return load_suite(str(MINI))


@asynccontextmanager
async def replaying(suite: Suite, which: str) -> AsyncIterator[ModelClient]:
    policy = replay_policy(suite, which)  # type: ignore[arg-type]
    async with ScriptedModelServer(policy=policy) as server:
        config = ModelConfig(base_url=server.base_url, model="scripted", max_retries=0)
        async with ModelClient(config) as model:
            yield model


async def evaluate(
    suite: Suite, policy: Policy, tmp_path: Path, options: EvalOptions | None = None
) -> RunResults:
    """Run `suite` on a scripted model answering with `policy`, into a fresh store."""
    async with (
        ScriptedModelServer(policy=policy) as server,
        ModelClient(ModelConfig(base_url=server.base_url, model="m")) as model,
        Store(f"sqlite:///{tmp_path}/s.db") as store,
    ):
        return await run_eval(suite, model, store=store, run_id="t", label="m", options=options)


async def test_the_oracle_passes_every_case_in_fresh_worlds(suite: Suite, tmp_path: Path) -> None:
    async with replaying(suite, "solution") as model, Store(f"sqlite:///{tmp_path}/s.db") as store:
        options = EvalOptions(trials=2, concurrency=4, seed=7)
        results = await run_eval(
            suite, model, store=store, run_id="r1", label="oracle", options=options
        )
    assert len(results.trials) == len(suite.cases) * 2
    failed = [(t.case_id, t.scores) for t in results.trials if t.status != "passed"]
    assert failed == []
    assert {t.protocol.tool_calls for t in results.trials} == {1}
    assert all(t.protocol.valid_tool_name_rate == 1.0 for t in results.trials)
    assert all(t.protocol.schema_valid_argument_rate == 1.0 for t in results.trials)
    seeds = {(t.case_id, t.trial): t.seed for t in results.trials}
    assert len(set(seeds.values())) == len(seeds)  # each trial its own, recorded seed
    transcript = next(t for t in results.trials if t.case_id == "files-launch-code").transcript
    assert [m["role"] for m in transcript] == ["system", "user", "assistant", "tool", "assistant"]
    assert "4471" in transcript[3]["content"]  # the file really was read by the server
    assert results.run.finished_at is not None


async def test_one_mistake_per_case_fails_every_case(suite: Suite, tmp_path: Path) -> None:
    async with replaying(suite, "mistake") as model, Store(f"sqlite:///{tmp_path}/s.db") as store:
        results = await run_eval(suite, model, store=store, run_id="r2", label="mistake")
    assert sorted(t.case_id for t in results.trials if t.status == "failed") == sorted(
        c.id for c in suite.cases
    )
    colour = next(t for t in results.trials if t.case_id == "memory-colour")
    assert "teal" in colour.scores[0].explanation and "blue" in colour.scores[0].explanation


async def test_a_trial_that_hits_its_turn_limit_is_still_scored(
    suite: Suite, tmp_path: Path
) -> None:
    tight = suite.select(ids=["calc-multiply"]).model_copy(update={"limits": Limits(turns=1)})
    async with replaying(tight, "solution") as model, Store(f"sqlite:///{tmp_path}/s.db") as store:
        results = await run_eval(tight, model, store=store, run_id="r3", label="oracle")
    (trial,) = results.trials
    assert trial.limit_hit == "turns" and trial.status == "failed"
    assert trial.scores and "no final answer" in trial.scores[0].explanation
    assert trial.turns == 1 and trial.protocol.tool_calls == 1


async def test_a_model_server_that_is_down_is_an_infrastructure_error(
    suite: Suite, tmp_path: Path
) -> None:
    from tests.servers.conftest import free_port

    config = ModelConfig(base_url=f"http://127.0.0.1:{free_port()}/v1", model="gone", max_retries=0)
    quick = suite.select(ids=["calc-multiply"])
    async with ModelClient(config) as model, Store(f"sqlite:///{tmp_path}/s.db") as store:
        options = EvalOptions(attempts=2, retry_delay=0.01)
        results = await run_eval(
            quick, model, store=store, run_id="r4", label="gone", options=options
        )
    (trial,) = results.trials
    assert trial.status == "error" and trial.attempts == 2
    assert trial.error is not None and "ModelConnectionError" in trial.error


def writer_and_editor(model: ModelClient, servers: object, case: Case) -> object:
    """A suite's factory returning a solver that runs a two-agent pipeline graph."""
    graph = pipeline([Agent("writer", model, "Write."), Agent("editor", model, "Edit.")])

    async def solve(task: str, on_event: object) -> str:
        result = await graph.run(TeamState(task=task), emit=on_event)  # type: ignore[arg-type]
        return result.state.result

    return solve


async def test_a_graph_is_evaluated_through_a_solver_factory(tmp_path: Path) -> None:
    def policy(request: ChatRequest) -> Reply:
        role = request.messages[0]["content"]
        return Reply(text="Draft: herons wade." if role == "Write." else "Final: herons wade.")

    suite = Suite(
        name="teams",
        cases=[
            Case(id="herons", input="Say what herons do.", scorers=[ContainsScorer(value="Final")])
        ],
        agent=writer_and_editor,  # type: ignore[arg-type]
    )
    async with (
        ScriptedModelServer(policy=policy) as server,
        Store(f"sqlite:///{tmp_path}/s.db") as store,
    ):
        async with ModelClient(ModelConfig(base_url=server.base_url, model="m")) as model:
            results = await run_eval(suite, model, store=store, run_id="g", label="team")
    (trial,) = results.trials
    assert trial.status == "passed" and trial.output == "Final: herons wade."
    assert trial.turns == 2 and trial.input_tokens > 0  # both agents' turns, seen through the graph


class Gate:
    """Holds model requests until `size` are in flight at once, counting each endpoint's."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.waiting: list[anyio.Event] = []
        self.in_flight: Counter[str] = Counter()
        self.most: Counter[str] = Counter()

    def policy(self, endpoint: str) -> Policy:
        async def answer(request: ChatRequest) -> Reply:
            self.in_flight[endpoint] += 1
            self.most[endpoint] = max(self.most[endpoint], self.in_flight[endpoint])
            release = anyio.Event()
            self.waiting.append(release)
            if len(self.waiting) == self.size:
                for event in self.waiting:
                    event.set()
                self.waiting = []
            await release.wait()
            self.in_flight[endpoint] -= 1
            return Reply(text="done")

        return answer


async def test_models_run_side_by_side_with_each_endpoint_capped(tmp_path: Path) -> None:
    # Requests are let through 4 at a time; with at most 2 per endpoint, only both models
    # running at once can ever fill the gate.
    gate = Gate(size=4)
    suite = Suite(
        name="pair",
        cases=[Case(id="done", input="Say done.", scorers=[ContainsScorer(value="done")])],
    )
    options = EvalOptions(
        trials=4,
        limiter=anyio.CapacityLimiter(8),
        endpoints=EndpointLimits(per_endpoint=2),
    )
    async with (
        ScriptedModelServer(policy=gate.policy("a")) as a,
        ScriptedModelServer(policy=gate.policy("b")) as b,
        ModelClient(ModelConfig(base_url=a.base_url, model="a")) as model_a,
        ModelClient(ModelConfig(base_url=b.base_url, model="b")) as model_b,
        Store(f"sqlite:///{tmp_path}/s.db") as store,
    ):
        runs: dict[str, RunResults] = {}

        async def run(model: ModelClient, name: str) -> None:
            runs[name] = await run_eval(
                suite, model, store=store, run_id=name, label=name, options=options
            )

        with anyio.fail_after(60):
            async with anyio.create_task_group() as group:
                group.start_soon(run, model_a, "a")
                group.start_soon(run, model_b, "b")
    assert gate.most == {"a": 2, "b": 2}
    assert [t.status for t in runs["a"].trials + runs["b"].trials] == ["passed"] * 8


async def test_an_mcp_server_that_dies_mid_call_is_an_infrastructure_error(
    tmp_path: Path,
) -> None:
    import sys

    from covey.models import ToolCall
    from covey.tools import MCPToolset

    fixture = str(Path(__file__).parents[1] / "tools" / "mcp_fixture_server.py")

    requests: list[ChatRequest] = []

    def policy(request: ChatRequest) -> Reply:
        requests.append(request)
        if any(m.get("role") == "tool" for m in request.messages):
            return Reply(text="done")  # would pass the scorer, had the server not died
        return Reply(tool_calls=[ToolCall(id="c1", name="crash", arguments={})])

    def solver(model: ModelClient, servers: object, case: Case) -> object:
        async def solve(task: str, on_event: object) -> str:
            async with MCPToolset.stdio(sys.executable, [fixture], name="fixture") as server:
                agent = Agent("crasher", model, "Use the tools.", tools=[server])
                return (await agent.run(task, on_event=on_event)).output  # type: ignore[arg-type]

        return solve

    suite = Suite(
        name="crash",
        cases=[Case(id="crash", input="Crash it.", scorers=[ContainsScorer(value="done")])],
        agent=solver,  # type: ignore[arg-type]
    )
    results = await evaluate(suite, policy, tmp_path, EvalOptions(attempts=2, retry_delay=0.01))
    (trial,) = results.trials
    assert trial.status == "error" and trial.attempts == 2 and trial.scores == []
    assert trial.error is not None
    assert "MCP server 'fixture' stopped while running tool 'crash'" in trial.error
    assert len(requests) == 4  # each attempt ran: the call, then the answer


async def test_a_trial_that_runs_out_of_time_is_still_scored(tmp_path: Path) -> None:
    from covey.evals import NumberScorer, ToolCalledScorer
    from covey.models import ToolCall

    never = anyio.Event()

    async def policy(request: ChatRequest) -> Reply:
        if any(m.get("role") == "tool" for m in request.messages):
            await never.wait()  # the model never answers after the tool result
        return Reply(
            tool_calls=[ToolCall(id="c1", name="calculate", arguments={"expression": "6*7"})]
        )

    suite = Suite(
        name="slow",
        servers=["calc"],
        limits=Limits(seconds=1),
        cases=[
            Case(
                id="slow",
                input="What is 6*7?",
                scorers=[ToolCalledScorer(name="calculate"), NumberScorer(value=42)],
            )
        ],
    )
    results = await evaluate(suite, policy, tmp_path)
    (trial,) = results.trials
    assert trial.limit_hit == "time" and trial.status == "failed" and trial.attempts == 1
    assert trial.error is not None and "ran out of time (1 s)" in trial.error
    assert [s.passed for s in trial.scores] == [True, False]  # what it did before is scored
    assert trial.turns == 1 and trial.protocol.tool_calls == 1


def _token_suite(graph: bool) -> Suite:
    from covey.evals import NumberScorer

    return Suite(
        name="tokens",
        limits=Limits(tokens=50),
        cases=[Case(id="long", input="What is 6*7?", scorers=[NumberScorer(value=42)])],
        agent=writer_and_editor if graph else None,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("graph", [False, True], ids=["agent", "graph"])
async def test_a_trial_over_its_token_limit_stops_and_is_still_scored(
    graph: bool, tmp_path: Path
) -> None:
    answers: list[str] = []

    def policy(request: ChatRequest) -> Reply:
        answers.append("42")
        return Reply(text="It is 42.", usage=(40, 20))  # 60 tokens: over the limit of 50

    suite = _token_suite(graph)
    results = await evaluate(suite, policy, tmp_path)
    (trial,) = results.trials
    assert trial.limit_hit == "tokens" and trial.status == "failed"
    assert trial.error == "The trial used 60 tokens, over its limit of 50."
    assert (trial.input_tokens, trial.output_tokens, trial.turns) == (40, 20, 1)
    assert len(answers) == 1  # the graph's second agent never ran
    assert trial.scores and "no final answer" in trial.scores[0].explanation


async def test_protocol_figures_count_unknown_tools_invalid_arguments_and_malformed_calls(
    tmp_path: Path,
) -> None:
    from covey.evals import NumberScorer
    from covey.models import ToolCall

    def call(name: str, **arguments: object) -> Reply:
        return Reply(tool_calls=[ToolCall(id="c", name=name, arguments=arguments)])

    script = [
        call("calculator", expression="6*7"),  # no such tool
        call("calculate", expr="6*7"),  # a real tool, arguments against its schema
        Reply(  # arguments that are not JSON
            tool_calls=[ToolCall(id="c", name="calculate", arguments={"expression": "6*7"})],
            malformed_arguments=True,
        ),
        call("calculate", expression="1/0"),  # a valid call the tool fails
        call("calculate", expression="6*7"),
        Reply(text="6*7 = 42."),
    ]

    def policy(request: ChatRequest) -> Reply:
        return script[sum(m.get("role") == "tool" for m in request.messages)]

    suite = Suite(
        name="protocol",
        servers=["calc"],
        cases=[Case(id="p", input="What is 6*7?", scorers=[NumberScorer(value=42)])],
    )
    (trial,) = (await evaluate(suite, policy, tmp_path)).trials
    stats = trial.protocol
    assert trial.status == "passed"
    assert (stats.tool_calls, stats.valid_tool_names) == (5, 4)  # all but 'calculator'
    assert stats.schema_valid_arguments == 2  # 1/0 and 6*7
    assert stats.tool_errors == 4  # every call but the last
    assert stats.valid_tool_name_rate == 0.8
    assert stats.schema_valid_argument_rate == 0.4
    assert stats.tool_error_rate == 0.8


class OneSlot:
    """A model server that works on one request at a time, as llama-cpp-python's does."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.lock = seconds, anyio.Lock()
        self.waiting = self.most_waiting = 0

    async def policy(self, request: ChatRequest) -> Reply:
        self.waiting += 1
        self.most_waiting = max(self.most_waiting, self.waiting)
        async with self.lock:
            self.waiting -= 1
            await anyio.sleep(self.seconds)  # the model at work
        return Reply(text="done")


async def test_a_one_slot_endpoint_gets_one_trial_at_a_time_and_its_queue_is_not_timed(
    tmp_path: Path,
) -> None:
    # Each answer takes 1 s and the limit is 4 s: eight trials queued at the server at
    # once would charge the later ones up to 7 s of waiting.
    server = OneSlot(seconds=1.0)
    suite = Suite(
        name="queue",
        limits=Limits(seconds=4),
        cases=[Case(id="done", input="Say done.", scorers=[ContainsScorer(value="done")])],
    )
    async with ScriptedModelServer(policy=server.policy) as scripted:
        endpoints = EndpointLimits(caps={scripted.base_url + "/": 1})  # a URL as users write it
        options = EvalOptions(trials=8, concurrency=8, endpoints=endpoints)
        async with (
            ModelClient(ModelConfig(base_url=scripted.base_url, model="m")) as model,
            Store(f"sqlite:///{tmp_path}/s.db") as store,
        ):
            results = await run_eval(
                suite, model, store=store, run_id="q", label="m", options=options
            )
    assert server.most_waiting == 1  # no request ever waited behind another at the server
    assert [(t.status, t.limit_hit) for t in results.trials] == [("passed", None)] * 8
