"""Policies that replay each case's known solution (or its one mistake) as a scripted model.

Served by `covey.testing.ScriptedModelServer`, the oracle proves a suite can be passed: every
case's `solution` must pass its scorers. The mistake policy proves every scorer can fail:
each case's `mistake` must fail it. `covey eval SUITE --check` runs both.
"""

from __future__ import annotations

from typing import Any, Literal

from .._errors import UsageError
from ..models import ToolCall
from ..testing import ChatRequest, Reply
from ._case import Step, Suite

__all__ = ["Replay", "replay_policy"]


class Replay:
    """A scripted-server policy answering each case's conversation with its steps.

    The case is found by the conversation's first user message; the number of tool results
    and answers so far says which step comes next. With a simulated user, a step `answer`
    before the last ends one of the agent's turns, and the steps go on after the user's
    reply; after the last step comes the last answer.
    """

    def __init__(self, suite: Suite, which: Literal["solution", "mistake"]) -> None:
        """Replay `which` steps of every case of `suite` that has them."""
        self.which = which
        self.steps: dict[str, list[Step]] = {}
        for case in suite.cases:
            steps = case.solution if which == "solution" else case.mistake
            if steps is not None:
                self.steps[case.input.strip()] = steps

    def __call__(self, request: ChatRequest) -> Reply:
        """The next step of the case this conversation is about."""
        messages = request.messages
        task = next((m.get("content") for m in messages if m.get("role") == "user"), None)
        steps = self.steps.get(str(task or "").strip())
        if steps is None:
            return Reply(text=f"(no {self.which} for this task)")
        done = sum(1 for m in messages if _step_taken(m))
        if done < len(steps) and steps[done].tool is not None:
            step = steps[done]
            assert step.tool is not None
            return Reply(
                tool_calls=[ToolCall(id=f"call_{done}", name=step.tool, arguments=step.arguments)]
            )
        if done < len(steps):
            return Reply(text=steps[done].answer or "")
        answer = next((s.answer for s in reversed(steps) if s.answer is not None), "")
        return Reply(text=answer)


def _step_taken(message: dict[str, Any]) -> bool:
    """A tool result, or an answer to the user (a conversation's steps go on after it)."""
    role = message.get("role")
    return role == "tool" or (role == "assistant" and not message.get("tool_calls"))


def replay_policy(suite: Suite, which: Literal["solution", "mistake"]) -> Replay:
    """The policy replaying every case's `solution` or `mistake`.

    Raises:
        UsageError: no case of the suite has such steps.
    """
    policy = Replay(suite, which)
    if not policy.steps:
        raise UsageError(
            f"No case of suite {suite.name!r} has a `{which}`: add the steps that solve a case "
            "(tool calls, then an answer) to check the suite."
        )
    return policy
