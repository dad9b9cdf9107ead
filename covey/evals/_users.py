"""Simulated users: multi-turn cases where someone answers the agent back.

A case's `user` is a scripted list of turns, a Python policy, or a model with instructions
(a user simulator). The case's `input` is the user's opening message; after each answer of
the agent the user speaks again, until the user ends the conversation, the user's turn limit,
or the agent's final answer (a phrase the case names). A policy may act on the environment
itself; a model user gets the environment's `user_tools()`.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_serializer,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from .._errors import UsageError
from ..agents import Agent
from ..models import AssistantMessage, Message, ModelClient, UserMessage
from ..tools import Tool, Toolset
from ._environment import Environment, TrialSetup, UserActions, import_reference, reference_of

__all__ = ["Conversation", "UserPolicy", "UserSpec", "UserView", "simulated_user"]

USER_INSTRUCTIONS = (
    "You play a customer talking to an assistant. Stay in character and follow your "
    "instructions below; say only what the customer would say, one message at a time. "
    "When your goal is met, or cannot be met, reply with exactly {stop} and nothing else."
)


@dataclass(kw_only=True, slots=True, frozen=True)
class UserView:
    """What a simulated user knows when it is its turn to speak."""

    messages: tuple[Message, ...]
    """The conversation so far, as the agent saw it, ending with the agent's answer."""
    reply: str
    """The agent's latest answer to the user."""
    turn: int
    """User messages sent so far (1 after the opening message)."""
    environment: Environment | None
    """The trial's environment, for a user who acts on it (None without one)."""
    setup: TrialSetup
    """The trial: its seed, directory and shared state."""
    arguments: dict[str, Any] = field(default_factory=dict[str, Any])
    """The `arguments` the case gave its user."""


UserPolicy = Callable[[UserView], "str | Awaitable[str | None] | None"]
"""A Python user: the next message, or None to end the conversation; sync or async."""


class UserSpec(BaseModel):
    """The simulated user of a multi-turn case.

    Give exactly one of `turns`, `policy` or `instructions`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    turns: list[str] | None = None
    """Scripted: said in order, one after each answer of the agent; then the user ends."""
    policy: str | SkipJsonSchema[UserPolicy] | None = None
    """A Python policy, `package.module:function` (or the function in Python suites): it
    gets a `UserView` and returns the next message, or None to end."""
    instructions: str | None = None
    """A model plays the user with these instructions (the run's `--user-model`, else the
    agent's model); it ends the conversation by saying `stop`."""
    arguments: dict[str, Any] = Field(default_factory=dict[str, Any])
    """Handed to the policy as `UserView.arguments` (a persona, a goal)."""
    max_turns: int = Field(default=8, ge=1)
    """User messages at most, the opening one included."""
    stop: str = Field(default="###STOP###", min_length=1)
    """What a model user says to end the conversation."""
    agent_done: str | None = Field(default=None, min_length=1)
    """Text that, in an answer of the agent, makes it the final one: the conversation ends."""

    @model_validator(mode="after")
    def _one_kind(self) -> UserSpec:
        given = [self.turns is not None, self.policy is not None, self.instructions is not None]
        if sum(given) != 1:
            raise ValueError(
                "a user has exactly one of `turns` (scripted messages), `policy` "
                "(module:function) or `instructions` (a model plays the user)"
            )
        return self

    @field_serializer("policy")
    def _as_reference(self, policy: str | UserPolicy | None) -> str | None:
        return policy if policy is None or isinstance(policy, str) else reference_of(policy)

    @field_validator("policy")
    @classmethod
    def _is_reference(cls, policy: str | UserPolicy | None) -> str | UserPolicy | None:
        if isinstance(policy, str) and not all(p.strip() for p in policy.partition(":")):
            raise ValueError(f"{policy!r} is not module:function, e.g. my_suite.users:customer")
        return policy


class _User(Protocol):
    async def reply(self, view: UserView) -> str | None: ...


@dataclass(kw_only=True, slots=True)
class _Scripted:
    turns: Sequence[str]

    async def reply(self, view: UserView) -> str | None:
        return self.turns[view.turn - 1] if view.turn <= len(self.turns) else None


@dataclass(kw_only=True, slots=True)
class _Policy:
    policy: UserPolicy

    async def reply(self, view: UserView) -> str | None:
        said = cast(object, self.policy(view))  # user code: checked at run time
        if inspect.isawaitable(said):
            said = cast(object, await said)
        if said is not None and not isinstance(said, str):
            raise UsageError(
                f"User policy {self.policy!r} returned {type(said).__name__}: a policy "
                "returns the next message (str) or None to end the conversation."
            )
        return said


@dataclass(kw_only=True, slots=True)
class _ModelUser:
    agent: Agent[str]
    stop: str
    history: list[Message]

    async def reply(self, view: UserView) -> str | None:
        result = await self.agent.run(view.reply, history=self.history)
        self.history = list(result.messages)
        said = result.output.strip()
        return None if self.stop in said else said


def simulated_user(
    spec: UserSpec, opening: str, environment: Environment | None, model: ModelClient
) -> _User:
    """The user of one trial (a model user keeps its own side of the conversation)."""
    if spec.turns is not None:
        return _Scripted(turns=spec.turns)
    if spec.policy is not None:
        policy = spec.policy
        if isinstance(policy, str):
            policy = cast(UserPolicy, import_reference(policy, "User policy"))
        return _Policy(policy=policy)
    tools: Sequence[Tool | Toolset] = ()
    if isinstance(environment, UserActions):
        tools = environment.user_tools()
    instructions = f"{USER_INSTRUCTIONS.format(stop=spec.stop)}\n\n{spec.instructions}"
    user: Agent[str] = Agent("user", model, instructions, tools=tools)
    start: list[Message] = [
        UserMessage(content="(The assistant is ready. Say what you came for.)"),
        AssistantMessage(content=opening),
    ]
    return _ModelUser(agent=user, stop=spec.stop, history=start)


@dataclass(kw_only=True, slots=True)
class Conversation:
    """One trial's conversation between the agent and its simulated user."""

    agent: Agent[Any]
    user: _User
    spec: UserSpec
    environment: Environment | None
    setup: TrialSetup
    on_event: Callable[[Any], Awaitable[None]]

    async def run(self, opening: str) -> object:
        """Talk until the user ends it, its turn limit, or the agent's final answer."""
        history: tuple[Message, ...] = ()
        message, turn = opening, 1
        while True:
            result = await self.agent.run(message, history=history, on_event=self.on_event)
            history = result.messages
            text = result.output if isinstance(result.output, str) else str(result.output)
            done = self.spec.agent_done is not None and self.spec.agent_done in text
            if done or turn >= self.spec.max_turns:
                return result.output
            view = UserView(
                messages=history,
                reply=text,
                turn=turn,
                environment=self.environment,
                setup=self.setup,
                arguments=self.spec.arguments,
            )
            said = await self.user.reply(view)
            if said is None:
                return result.output
            message, turn = said, turn + 1
