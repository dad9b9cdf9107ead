"""Policies that replay each case's known solution (or its one mistake) as a scripted model.

Served by `covey.testing.ScriptedModelServer`, the oracle proves a suite can be passed: every
case's `solution` must pass its scorers. The mistake policy proves every scorer can fail:
each case's `mistake` must fail it. `covey eval SUITE --check` runs both.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import quote, unquote

from .._errors import UsageError
from ..models import ToolCall
from ..testing import ChatRequest, Reply
from ._case import Case, Step, Suite

__all__ = ["Replay", "case_path", "replay_policy"]

_CASE_PATH = re.compile(r"/cases/([^/]+)/")


def case_path(case_id: str) -> str:
    """The path prefix that tells a replay which case a request is about (`/cases/ID`)."""
    return f"/cases/{quote(case_id, safe='')}"


def _steps(case: Case, which: Literal["solution", "mistake"]) -> list[Step] | None:
    if which == "solution":
        return case.solution
    mistakes = case.all_mistakes()
    return mistakes[0].steps if mistakes else None


class Replay:
    """A scripted-server policy answering each case's conversation with its steps.

    The case is the one named in the request's path (`case_path`: `covey eval` gives each
    case its own base URL), else the one whose input is the conversation's first user
    message; the number of tool results and answers so far says which step comes next. With
    a simulated user, a step `answer` before the last ends one of the agent's turns, and the
    steps go on after the user's reply; after the last step comes the last answer.
    """

    def __init__(self, suite: Suite, which: Literal["solution", "mistake"]) -> None:
        """Replay `which` steps of every case of `suite` that has them."""
        self.which = which
        self.by_id: dict[str, list[Step]] = {}
        self.steps: dict[str, list[Step]] = {}
        inputs: dict[str, list[str]] = {}
        for case in suite.cases:
            steps = _steps(case, which)
            if steps is not None:
                self.by_id[case.id] = steps
                self.steps[case.input.strip()] = steps
                inputs.setdefault(case.input.strip(), []).append(case.id)
        self.shared = {task: ids for task, ids in inputs.items() if len(ids) > 1}
        """First user messages that several cases share: only their paths tell them apart."""

    def _find(self, request: ChatRequest) -> list[Step] | str:
        found = _CASE_PATH.search(request.path)
        if found is not None:
            case_id = unquote(found.group(1))
            return self.by_id.get(case_id, f"(no {self.which} for case {case_id!r})")
        messages = request.messages
        task = str(next((m.get("content") for m in messages if m.get("role") == "user"), ""))
        if task.strip() in self.shared:
            return (
                f"(cases {', '.join(self.shared[task.strip()])} share this task: only "
                "`covey eval --model scripted:...` tells them apart)"
            )
        return self.steps.get(task.strip(), f"(no {self.which} for this task)")

    def __call__(self, request: ChatRequest) -> Reply:
        """The next step of the case this conversation is about."""
        steps = self._find(request)
        if isinstance(steps, str):
            return Reply(text=steps)
        done = sum(1 for m in request.messages if _step_taken(m))
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
    """The policy replaying every case's `solution` or (first) `mistake`.

    Raises:
        UsageError: no case of the suite has such steps.
    """
    policy = Replay(suite, which)
    if not policy.by_id:
        raise UsageError(
            f"No case of suite {suite.name!r} has a `{which}`: add the steps that solve a case "
            "(tool calls, then an answer) to check the suite."
        )
    return policy
