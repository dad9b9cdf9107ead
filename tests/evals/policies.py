"""Scripted-model policies for `python -m covey.testing --policy tests.evals.policies:NAME`."""

from __future__ import annotations

from pathlib import Path

from covey.evals._oracle import replay_policy
from covey.evals._suite_load import load_suite

MINI = Path(__file__).parent / "suites" / "mini.yaml"

mini_oracle = replay_policy(load_suite(str(MINI)), "solution")
"""Replays the solution of every case of the mini suite."""
