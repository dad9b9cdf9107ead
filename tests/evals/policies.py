"""Scripted-model policies for `python -m covey.testing --policy tests.evals.policies:NAME`."""

from __future__ import annotations

import json
import re
from pathlib import Path

from covey.evals._oracle import replay_policy
from covey.evals._suite_load import load_suite
from covey.testing import ChatRequest, Reply

MINI = Path(__file__).parent / "suites" / "mini.yaml"
RIDDLES = Path(__file__).parent / "suites" / "riddles.yaml"
SECRETS = {"bird": "heron", "tree": "rowan"}
WRITES_LESSONS = "You write lessons"
"""How the system prompt of a lesson-writing request starts."""

mini_oracle = replay_policy(load_suite(str(MINI)), "solution")
"""Replays the solution of every case of the mini suite."""

mini_mistake = replay_policy(load_suite(str(MINI)), "mistake")
"""Replays the one-mistake variant of every case of the mini suite."""


def learner(request: ChatRequest) -> Reply:
    """Answers a riddle wrongly until a lesson telling it to say the secret is in its prompt.

    Its lessons are written by `write_lesson`, from what the runner reports of the failure.
    """
    system = request.messages[0]["content"]
    if system.startswith(WRITES_LESSONS):
        return Reply(text=write_lesson(request.last_user_text))
    task = request.last_user_text
    bird = "bird" in task.split("\n", 1)[0]  # the riddle; lessons may follow it
    secret = SECRETS["bird" if bird else "tree"]
    if f"say {secret}" in system or f"say {secret}" in task:  # a solver gets them in the task
        return Reply(text=f"It is the {secret}.")
    return Reply(text="It is the sparrow." if bird else "It is the oak.")


def write_lesson(report: str) -> str:
    """A lesson from a failure report alone: what the scorers said the answer lacked.

    The report is what `covey.agents.Lessons.write` sends; its "Why it failed" part holds
    the failed scorers' explanations, such as `contains: The answer lacks ["heron"]; ...`.
    Without such an explanation the lesson cannot name the answer.
    """
    answer = report.split("Answer given: ", 1)[1].split("\n", 1)[0]
    why = report.split("Why it failed:\n", 1)[1]
    lacking = [word for found in re.findall(r"lacks (\[.*?\]);", why) for word in json.loads(found)]
    if not lacking:
        return f"The answer {answer!r} was wrong; think harder."
    return f"The answer {answer!r} lacked {', '.join(lacking)}; say {' '.join(lacking)}."
