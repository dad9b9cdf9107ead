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
    if system.startswith("You write lessons"):
        secret = "heron" if "bird" in task else "rowan"
        return Reply(text=f"The expected answer was {secret}; say {secret}.")
    secret = SECRETS["bird" if "bird" in task else "tree"]
    if f"say {secret}" in system:
        return Reply(text=f"It is the {secret}.")
    return Reply(text="It is the sparrow." if "bird" in task else "It is the oak.")
