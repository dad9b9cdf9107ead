"""Scripted-model policies for `python -m covey.testing --policy tests.evals.policies:NAME`."""

from __future__ import annotations

from pathlib import Path

from covey.evals._oracle import replay_policy
from covey.evals._suite_load import load_suite
from covey.testing import ChatRequest, Reply

MINI = Path(__file__).parent / "suites" / "mini.yaml"
RIDDLES = Path(__file__).parent / "suites" / "riddles.yaml"
SECRETS = {"bird": "heron", "tree": "rowan"}

mini_oracle = replay_policy(load_suite(str(MINI)), "solution")
"""Replays the solution of every case of the mini suite."""

mini_mistake = replay_policy(load_suite(str(MINI)), "mistake")
"""Replays the one-mistake variant of every case of the mini suite."""


def learner(request: ChatRequest) -> Reply:
    """Answers the riddles wrongly until a lesson naming the answer is in the instructions."""
    system = request.messages[0]["content"]
    task = request.last_user_text
    bird = "bird" in task.split("\n", 1)[0]  # the riddle; lessons may follow it
    if system.startswith("You write lessons"):
        secret = "heron" if bird else "rowan"
        return Reply(text=f"The expected answer was {secret}; say {secret}.")
    secret = SECRETS["bird" if bird else "tree"]
    if f"say {secret}" in system or f"say {secret}" in task:  # a solver gets them in the task
        return Reply(text=f"It is the {secret}.")
    return Reply(text="It is the sparrow." if bird else "It is the oak.")
