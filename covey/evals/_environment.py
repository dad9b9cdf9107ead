"""Environments: a Python object with tools and state, made fresh for every trial.

A booking system, a CRM, a shop database with its own policy rules, or the environment of
a published agent benchmark: the case names a factory (`environment: package.module:make`
with arguments), covey calls it with the trial's `TrialSetup` (its seed and its own
directory), gives the agent the environment's tools next to any bundled servers, lets the
scorers read its end state, and closes it when the trial ends, also when the trial fails.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import anyio
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    field_serializer,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue, SkipJsonSchema
from pydantic_core import CoreSchema

from .._errors import UsageError
from ..tools import Tool, Toolset

__all__ = [
    "Environment",
    "EnvironmentFactory",
    "EnvironmentSpec",
    "TrialSetup",
    "UserActions",
    "open_environment",
]


@runtime_checkable
class Environment(Protocol):
    """What a trial's environment offers: tools for the agent, its state, and a close.

    Example:
        ```python
        class Counter:
            def __init__(self, trial: TrialSetup) -> None:
                self.count = 0

            def tools(self) -> list[Tool]:
                return [schema_tool(self.add, {"type": "object", "properties": {}})]

            def add(self) -> str:
                self.count += 1
                return f"count is {self.count}"

            def state(self) -> dict[str, int]:
                return {"count": self.count}

            async def aclose(self) -> None:
                pass
        ```
    """

    def tools(self) -> Sequence[Tool | Toolset]:
        """The agent's tools: `schema_tool`s, `FunctionTool`s, or MCP toolsets it started."""
        ...  # protocol member

    def state(self) -> Any:
        """The end state as JSON-ready data, for `state` scorers (a dict of tables, say)."""
        ...  # protocol member

    async def aclose(self) -> None:
        """Release what the environment holds; called once, after scoring, even on failure."""
        ...  # protocol member


@runtime_checkable
class UserActions(Protocol):
    """An environment whose simulated user can act on it too (a model user's tools)."""

    def user_tools(self) -> Sequence[Tool | Toolset]:
        """The tools a model-driven simulated user gets."""
        ...  # protocol member


@dataclass(kw_only=True, slots=True)
class TrialSetup:
    """One trial, as its environment factory and its scorers know it."""

    case_id: str
    """The case being run."""
    trial: int
    """The trial's index, from 0."""
    seed: int
    """The trial's seed (stable for the same base seed, case and index)."""
    directory: Path
    """A directory of this trial's own, removed after it (for a database file, say)."""
    state: dict[str, Any] = field(default_factory=dict[str, Any])
    """Free per-trial values the environment, the agent factory and scorers may share."""
    environment: Environment | None = None
    """The trial's environment, once made (what a suite's `trial_agent` factory sees)."""

    @property
    def trial_id(self) -> str:
        """`case#index`, unique in a run."""
        return f"{self.case_id}#{self.trial}"


EnvironmentFactory = Callable[..., Any]
"""Called as `factory(setup, **arguments)`; returns an `Environment` (or an awaitable of one)."""


class EnvironmentSpec(BaseModel):
    """Which environment a case runs in: a factory and the arguments it is called with.

    In YAML, `environment: package.module:make` or
    `environment: {factory: package.module:make, arguments: {rules: strict}}`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    factory: str | SkipJsonSchema[EnvironmentFactory]
    """`package.module:function` (importable, e.g. from the directory `covey eval` runs in),
    or in Python suites the function itself; it gets the `TrialSetup` and the arguments."""
    arguments: dict[str, Any] = Field(default_factory=dict[str, Any])
    """Keyword arguments for the factory."""

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """The mapping form, or the short form: the factory's `module:function` alone."""
        short = {"type": "string", "pattern": r"^[^:]+:[^:]+$", "description": "module:function"}
        return {"anyOf": [short, handler(core_schema)]}

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, data: Any) -> Any:
        return {"factory": data} if isinstance(data, str) or callable(data) else data

    @field_validator("factory")
    @classmethod
    def _is_reference(cls, factory: str | EnvironmentFactory) -> str | EnvironmentFactory:
        if isinstance(factory, str):
            module, colon, attribute = factory.partition(":")
            if not colon or not module.strip() or not attribute.strip():
                raise ValueError(
                    f"{factory!r} is not module:function, e.g. my_suite.shop:make_shop"
                )
        return factory

    @field_serializer("factory")
    def _as_reference(self, factory: str | EnvironmentFactory) -> str:
        return factory if isinstance(factory, str) else reference_of(factory)

    def resolve(self) -> EnvironmentFactory:
        """The factory function.

        Raises:
            UsageError: the module cannot be imported or has no such callable.
        """
        if not isinstance(self.factory, str):
            return self.factory
        return import_reference(self.factory, "Environment factory")


def import_reference(reference: str, what: str) -> Callable[..., Any]:
    """The callable `package.module:name` names, importable from the current directory too.

    Raises:
        UsageError: the module cannot be imported or has no such callable.
    """
    module_name, _, attribute = reference.partition(":")
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        found: object = importlib.import_module(module_name.strip())
    except ImportError as exc:
        raise UsageError(
            f"Cannot import {module_name!r} for {what} {reference!r} ({exc}): run covey from "
            "the directory that holds the package, or install it."
        ) from exc
    for part in attribute.strip().split("."):
        found = getattr(found, part, None)
    if not callable(found):
        raise UsageError(f"{what} {reference!r} is not a callable in {module_name!r}.")
    return found


def reference_of(function: object) -> str:
    """`module:qualname` of a Python function, as suites and fingerprints name it."""
    module = getattr(function, "__module__", "?")
    return f"{module}:{getattr(function, '__qualname__', type(function).__qualname__)}"


async def _made(spec: EnvironmentSpec, setup: TrialSetup) -> Environment:
    made: object = spec.resolve()(setup, **spec.arguments)
    if inspect.isawaitable(made):
        made = await made
    if not isinstance(made, Environment):
        raise UsageError(
            f"Environment factory {spec.factory!r} returned {type(made).__name__}, which is "
            "not an Environment: it needs tools(), state() and async aclose()."
        )
    return made


@asynccontextmanager
async def open_environment(
    spec: EnvironmentSpec | None, setup: TrialSetup
) -> AsyncGenerator[Environment | None]:
    """Make the trial's environment (None without a spec) and close it when the block ends.

    The close runs shielded from cancellation, so a trial stopped by its time limit or by an
    error still releases its environment.
    """
    if spec is None:
        yield None
        return
    environment = await _made(spec, setup)
    try:
        yield environment
    finally:
        with anyio.CancelScope(shield=True):
            await environment.aclose()
