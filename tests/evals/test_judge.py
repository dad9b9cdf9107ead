"""The rubric judge against covey's scripted model server over real HTTP."""

from __future__ import annotations

import socket
from pathlib import Path

import pydantic
import pytest

from covey import ModelClient, ModelConfig
from covey.evals import Case, EvalOptions, Suite, run_eval
from covey.evals._judge import JudgeScorer, JudgeUnavailable, judge_prompt, parse_verdict
from covey.evals._summary import summarize
from covey.evals._trial import ToolCallRecord, TrialContext
from covey.evals._world import World
from covey.store import Store
from covey.testing import Reply, ScriptedModelServer

RUBRIC = "The answer names Paris as the capital of France."


def trial(tmp_path: Path, *, judge: ModelClient | None = None) -> TrialContext:
    world = World(
        root=tmp_path,
        files_root=tmp_path / "files",
        db_path=tmp_path / "world.db",
        memory_path=tmp_path / "memory.db",
    )
    calls = [
        ToolCallRecord(
            name="search", arguments={"q": "capital of France"}, result="Paris", is_error=False
        )
    ]
    return TrialContext(
        case_id="c",
        input="What is the capital of France?",
        output="It is Paris.",
        tool_calls=calls,
        messages=[],
        world=world,
        judge=judge,
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_good_verdict_passes_with_the_judges_reason(tmp_path: Path) -> None:
    reply = Reply(text='{"score": 0.9, "reason": "It names Paris."}')
    async with ScriptedModelServer([reply]) as server:
        scorer = JudgeScorer(rubric=RUBRIC, model=f"{server.base_url}#scripted")
        result = await scorer.score(trial(tmp_path))
        body = server.requests[0].body
    assert result.passed and result.value == pytest.approx(0.9)
    assert result.name == "judge"
    assert result.explanation == "The judge scored 0.90 (pass mark 0.50): It names Paris."
    assert result.metadata["reason"] == "It names Paris."
    assert body["temperature"] == 0
    assert body["response_format"]["type"] == "json_schema"
    prompt = body["messages"][-1]["content"]
    assert "What is the capital of France?" in prompt
    assert 'search({"q": "capital of France"}) returned "Paris"' in prompt
    assert "It is Paris." in prompt and RUBRIC in prompt


async def test_a_low_score_fails_and_shows_score_and_pass_mark(tmp_path: Path) -> None:
    reply = Reply(text='{"score": 0.2, "reason": "It names Lyon."}')
    async with ScriptedModelServer([reply]) as server:
        scorer = JudgeScorer(rubric=RUBRIC, model=f"{server.base_url}#scripted", threshold=0.7)
        result = await scorer.score(trial(tmp_path))
    assert not result.passed and result.value == pytest.approx(0.2)
    assert "scored 0.20 (pass mark 0.70): It names Lyon." in result.explanation


async def test_garbage_from_the_judge_is_a_failed_score_not_an_exception(tmp_path: Path) -> None:
    async with ScriptedModelServer([Reply(text="Looks fine to me!")]) as server:
        scorer = JudgeScorer(rubric=RUBRIC, model=f"{server.base_url}#scripted")
        result = await scorer.score(trial(tmp_path))
    assert not result.passed and result.value == 0.0
    assert "gave no usable verdict (it holds no JSON object)" in result.explanation
    assert "Looks fine to me!" in result.explanation
    assert result.metadata["judge_error"] == "it holds no JSON object"


async def test_a_score_out_of_range_is_refused(tmp_path: Path) -> None:
    async with ScriptedModelServer([Reply(text='{"score": 8, "reason": "good"}')]) as server:
        scorer = JudgeScorer(rubric=RUBRIC, model=f"{server.base_url}#scripted")
        result = await scorer.score(trial(tmp_path))
    assert not result.passed
    assert "its score 8 is outside 0 to 1" in result.explanation
    assert "judge_error" in result.metadata


async def test_a_judge_server_that_is_down_is_unavailable_naming_it(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    scorer = JudgeScorer(rubric=RUBRIC, model=f"{url}#judge")
    with pytest.raises(JudgeUnavailable, match=f"The judge model at {url} could not be asked"):
        await scorer.score(trial(tmp_path))


async def test_a_judge_that_is_down_makes_the_trial_an_infrastructure_error(
    tmp_path: Path,
) -> None:
    suite = Suite(
        name="judged",
        cases=[
            Case(
                id="paris",
                input="What is the capital of France?",
                scorers=[JudgeScorer(rubric=RUBRIC)],
            )
        ],
    )
    gone = ModelConfig(base_url=f"http://127.0.0.1:{closed_port()}/v1", model="j", max_retries=0)
    async with (
        ScriptedModelServer(policy=lambda request: Reply(text="It is Paris.")) as server,
        ModelClient(ModelConfig(base_url=server.base_url, model="m")) as model,
        ModelClient(gone) as judge,
        Store(f"sqlite:///{tmp_path}/s.db") as store,
    ):
        options = EvalOptions(attempts=2, retry_delay=0.01, judge=judge)
        results = await run_eval(suite, model, store=store, run_id="j", label="m", options=options)
    (result,) = results.trials
    assert result.status == "error" and result.attempts == 2 and result.scores == []
    assert result.error is not None and "could not be asked" in result.error
    assert len(server.requests) == 2  # the agent ran again on the retry
    assert summarize(results).overall.failed == 0  # not counted against the agent


async def test_without_any_judge_the_user_is_told_to_pass_one(tmp_path: Path) -> None:
    result = await JudgeScorer(rubric=RUBRIC).score(trial(tmp_path))
    assert not result.passed
    assert "--judge URL#NAME" in result.explanation
    assert result.metadata["judge_error"] == "no judge model"


async def test_the_runs_judge_is_used_and_tools_can_be_left_out(tmp_path: Path) -> None:
    # A server without structured output: the verdict comes fenced in prose.
    reply = Reply(text='Verdict:\n```json\n{"score": 1, "reason": "Exact."}\n```')
    async with ScriptedModelServer([reply], response_formats=("text",)) as server:
        config = ModelConfig(base_url=server.base_url, model="scripted", max_retries=0)
        async with ModelClient(config) as judge:
            scorer = JudgeScorer(rubric=RUBRIC, include_tools=False)
            result = await scorer.score(trial(tmp_path, judge=judge))
        body = server.requests[0].body
    assert result.passed and result.value == 1.0
    assert "response_format" not in body
    assert '"score"' in body["messages"][0]["content"]  # the schema, told in the prompt
    assert "search(" not in body["messages"][-1]["content"]


def test_the_prompt_shortens_long_trajectories(tmp_path: Path) -> None:
    context = trial(tmp_path)
    context.tool_calls = [
        ToolCallRecord(name="step", arguments={"i": i}, result="x" * 500, is_error=i == 0)
        for i in range(40)
    ]
    context.output = None
    prompt = judge_prompt(context, RUBRIC)
    assert "1. step" in prompt and "failed" in prompt
    assert "... and 10 more call(s)." in prompt and "31. step" not in prompt
    assert "x" * 200 not in prompt
    assert "(none: a limit stopped the agent)" in prompt


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ('{"score": 0.5, "reason": "ok"}', (0.5, "ok")),
        ('Sure! {"score": 1, "reason": "all good"} Hope that helps.', (1.0, "all good")),
        ('```\n{"score": 0}\n```', (0.0, "")),
        ('Checked [1, 2] twice. {"score": 1, "reason": "both"}', (1.0, "both")),
    ],
)
def test_parse_verdict_reads_bare_embedded_and_fenced_json(
    text: str, verdict: tuple[float, str]
) -> None:
    assert parse_verdict(text) == verdict


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no", "no JSON object"),
        ('{"score": "high"}', 'its score is "high"'),
        ('{"score": true}', "not a number"),
        ('{"score": -0.1}', "outside 0 to 1"),
    ],
)
def test_parse_verdict_refuses_what_is_not_a_verdict(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_verdict(text)


def test_the_judge_model_must_be_a_url() -> None:
    with pytest.raises(pydantic.ValidationError, match="not URL#NAME"):
        JudgeScorer(rubric=RUBRIC, model="qwen3-8b")
    with pytest.raises(pydantic.ValidationError, match="less than or equal to 1"):
        JudgeScorer(rubric=RUBRIC, threshold=2)
