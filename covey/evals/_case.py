"""Suites and cases: what to ask, in which world, with which tools, and how to score it.

A suite is written in YAML (see `suite_schema()` for its JSON Schema) or built in Python.
Python suites may give an `agent` factory, called once per trial with the trial's model and
its servers, so every trial gets a fresh agent; YAML suites get covey's default agent.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    InstanceOf,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from ..agents import Agent
from ..models import ModelClient
from ..tools import MCPToolset, Tool, Toolset
from ._environment import EnvironmentSpec, TrialSetup
from ._scorers import ScorerSpec
from ._trial import Scorer
from ._users import UserSpec
from ._world import ServerName, WorldSetup

__all__ = [
    "AgentFactory",
    "Case",
    "Limits",
    "Mistake",
    "Solver",
    "Step",
    "Suite",
    "TrialAgentFactory",
]

Solver = Callable[[str, Callable[[object], Awaitable[None]]], Awaitable[Any]]
"""Anything else that solves a task: `await solver(task, on_event)` returns the answer.

A graph fits as `lambda task, on_event: run_team(task, on_event)`; pass `on_event` as the
graph's `emit` so the trial records the inner agents' turns, tool calls and tokens.
With `--reflect`, the lessons of earlier trials follow the task text it is given.
"""

AgentFactory = Callable[
    [ModelClient, Sequence[MCPToolset], "Case"],
    "Agent[Any] | Solver | Awaitable[Agent[Any] | Solver]",
]
"""Makes what runs one trial (an agent, or a `Solver` such as a graph) from the trial's
model, its started servers and its case: every trial gets a fresh one."""

TrialAgentFactory = Callable[
    [ModelClient, Sequence[Tool | Toolset], "Case", TrialSetup],
    "Agent[Any] | Solver | Awaitable[Agent[Any] | Solver]",
]
"""Like `AgentFactory`, with every tool offered (the bundled servers and the environment's)
and the trial: its seed, its environment and a `state` dict the scorers see too."""

CASE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:/()\[\]+@-]{0,199}$"
"""What a case id may be: the characters benchmark ids use, nothing a list or shell splits."""

DEFAULT_INSTRUCTIONS = (
    "You are a careful assistant that completes tasks with the tools you are given. "
    "Use the tools to look things up and to make changes; do not guess. When the task is "
    "done, answer briefly with the result."
)


PythonScorerObject = Annotated[
    InstanceOf[Scorer],  # type: ignore[type-abstract]
    WithJsonSchema({"not": {}, "description": "Python suites only: any Scorer object"}),
]
"""A scorer object given in Python (anything with `name` and `async score(trial)`)."""


class Limits(BaseModel):
    """How much one trial may use; a trial that hits a limit is still scored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seconds: float = Field(default=120.0, gt=0)
    """Wall-clock time for the agent run."""
    turns: int = Field(default=12, ge=1)
    """Model turns."""
    tokens: int | None = Field(default=None, ge=1)
    """Input plus output tokens, or None for no limit."""


class Step(BaseModel):
    """One move of a known solution: a tool call, or the final answer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tool: str | None = None
    arguments: dict[str, Any] = Field(default_factory=dict[str, Any])
    answer: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Step:
        if (self.tool is None) == (self.answer is None):
            raise ValueError("a step is either {tool, arguments} or {answer}, not both or none")
        return self


class Mistake(BaseModel):
    """A wrong variant of the solution with a note: written as a mapping, not a step list."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    steps: list[Step] = Field(min_length=1)
    """The steps, as in `solution`."""
    passes_because: str | None = Field(default=None, min_length=1)
    """Why this mistake is expected to pass, e.g. "the dropped step is a write the
    environment rejects": `covey eval --check` then wants it to pass (and says why)."""


class Case(BaseModel):
    """One task: its input, its world, the servers the agent gets, and its scorers."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    id: str = Field(pattern=CASE_ID_PATTERN)
    """Letters, digits and `_ . - : / [ ] ( ) + @`, as benchmark ids use (`retail[3]`,
    `bfcl:simple_12`); no spaces or commas (`--cases` takes a comma-separated list)."""
    input: str = Field(min_length=1)
    """The task, as the user's message."""
    instructions: str | None = None
    """The agent's instructions (default: the suite's)."""
    servers: list[ServerName] | None = None
    """Bundled servers the agent gets (default: the suite's)."""
    setup: WorldSetup = Field(default_factory=WorldSetup)
    environment: EnvironmentSpec | None = None
    """The environment the agent acts in, made fresh per trial (default: the suite's)."""
    user: UserSpec | None = None
    """A simulated user who answers the agent back: the case becomes a conversation."""
    scorers: list[ScorerSpec | PythonScorerObject] = Field(default_factory=list[Any])
    """With the suite's `scorers`, all must pass for the trial to pass; the trial's score
    is their mean."""
    tags: list[str] = Field(default_factory=list[str])
    metadata: dict[str, Any] = Field(default_factory=dict[str, Any])
    limits: Limits | None = None
    """This case's limits (default: the suite's)."""
    solution: list[Step] | None = None
    """A known way to solve it, ending with an answer: the oracle policy replays it."""
    mistake: list[Step] | Mistake | None = None
    """The solution with one thing wrong, which the scorers must catch."""
    mistakes: list[list[Step] | Mistake] = Field(default_factory=list[list[Step] | Mistake])
    """More wrong variants, for scorers `mistake` leaves passing: `covey eval --check`
    wants every scorer to fail in at least one of them. A `Mistake` with
    `passes_because` is expected to pass instead."""

    @field_validator("id", mode="before")
    @classmethod
    def _readable_id(cls, value: object) -> object:
        if isinstance(value, str) and not re.fullmatch(CASE_ID_PATTERN, value):
            raise ValueError(
                f"case id {value!r} is not allowed: use 1 to 200 letters, digits and "
                "_ . - : / [ ] ( ) + @, starting with a letter or digit (no spaces or commas)"
            )
        return value

    def all_mistakes(self) -> list[Mistake]:
        """`mistake` (if any), then `mistakes`, each as a `Mistake`."""
        found = ([self.mistake] if self.mistake is not None else []) + list(self.mistakes)
        return [m if isinstance(m, Mistake) else Mistake(steps=m) for m in found]


class Suite(BaseModel):
    """A named list of cases with shared defaults."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
    description: str = ""
    instructions: str = DEFAULT_INSTRUCTIONS
    servers: list[ServerName] = Field(default_factory=list[ServerName])
    limits: Limits = Field(default_factory=Limits)
    environment: EnvironmentSpec | None = None
    """The environment of every case that names none."""
    scorers: list[ScorerSpec | PythonScorerObject] = Field(default_factory=list[Any])
    """Scorers of every case, after the case's own."""
    cases: list[Case] = Field(min_length=1)
    agent: SkipJsonSchema[AgentFactory | None] = Field(default=None, exclude=True)
    """Python suites only: makes each trial's agent (default: covey's `Agent`)."""
    trial_agent: SkipJsonSchema[TrialAgentFactory | None] = Field(default=None, exclude=True)
    """Python suites only, instead of `agent`: a factory that also gets the trial."""

    @model_validator(mode="after")
    def _unique_ids(self) -> Suite:
        if self.agent is not None and self.trial_agent is not None:
            raise ValueError("give the suite `agent` or `trial_agent`, not both")
        seen: set[str] = set()
        for case in self.cases:
            if case.id in seen:
                raise ValueError(f"case id {case.id!r} appears twice; ids must be unique")
            seen.add(case.id)
            if not self.scorers_for(case):
                raise ValueError(
                    f"case {case.id!r} has no scorers: give it `scorers:` or give the suite "
                    "`scorers:` for all its cases"
                )
        return self

    def scorers_for(self, case: Case) -> list[ScorerSpec | Scorer]:
        """A case's scorers, then the suite's."""
        return [*case.scorers, *self.scorers]

    def environment_for(self, case: Case) -> EnvironmentSpec | None:
        """The environment a case runs in, if any."""
        return case.environment or self.environment

    def servers_for(self, case: Case) -> list[ServerName]:
        """The servers a case's agent gets."""
        return list(case.servers if case.servers is not None else self.servers)

    def limits_for(self, case: Case) -> Limits:
        """A case's limits."""
        return case.limits or self.limits

    def instructions_for(self, case: Case) -> str:
        """A case's instructions."""
        return case.instructions or self.instructions

    def select(self, tags: Sequence[str] = (), ids: Sequence[str] = ()) -> Suite:
        """The cases with any of `tags` and, if given, one of `ids` (a filtered copy)."""
        cases = [
            c
            for c in self.cases
            if (not tags or set(tags) & set(c.tags)) and (not ids or c.id in ids)
        ]
        if not cases:
            raise ValueError(
                f"No case of suite {self.name!r} matches tags {list(tags)} / ids {list(ids)}."
            )
        return self.model_copy(update={"cases": cases})


CaseKind = Literal["yaml", "python"]
