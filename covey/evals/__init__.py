"""Evaluate agents: suites of cases, fresh worlds per trial, scorers, runs and reports.

Example:
    ```python
    suite = load_suite("builtin:quick")
    async with Store.from_env() as store, open_model() as model:
        results = await run_eval(suite, model, store=store, run_id="first", label="mine")
    ```
"""

from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from ._case import AgentFactory, Case, Limits, Mistake, Solver, Step, Suite, TrialAgentFactory
from ._check import SuiteCheck, check_suite
from ._environment import Environment, EnvironmentSpec, TrialSetup, UserActions
from ._judge import JudgeScorer, JudgeUnavailable
from ._results import (
    CaseInfo,
    LimitHit,
    ProtocolStats,
    RunInfo,
    RunResults,
    ScoreResult,
    TrialResult,
    TrialStatus,
)
from ._runner import EndpointLimits, EvalOptions, run_eval, trial_seed
from ._scorers import ScorerSpec
from ._scorers_env import SaidScorer, StateScorer, agent_said
from ._scorers_output import (
    ContainsScorer,
    ExactScorer,
    JSONScorer,
    NormalizedScorer,
    NumberScorer,
    RegexScorer,
    ScorerBase,
)
from ._scorers_python import FunctionScorer, PythonScorer, scorer
from ._scorers_state import FileScorer, MemoryScorer, SQLScorer
from ._scorers_trajectory import ToolCalledScorer, ToolErrorsScorer, ToolSequenceScorer
from ._suite_load import load_suite, suite_schema
from ._trial import Scorer, ToolCallRecord, TrialContext
from ._users import UserPolicy, UserSpec, UserView
from ._world import MemorySeed, RelationSeed, ServerName, World, WorldSetup, create_world

if _TYPE_CHECKING:
    from ..rating import RateOptions, Rating, rate_server

_LAZY = {"rate_server": "covey.rating", "RateOptions": "covey.rating", "Rating": "covey.rating"}
"""Names loaded on first use: the rater is not imported with covey.evals."""


def __getattr__(name: str) -> _Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'covey.evals' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "Suite",
    "Case",
    "Limits",
    "Step",
    "Mistake",
    "AgentFactory",
    "TrialAgentFactory",
    "Solver",
    "load_suite",
    "suite_schema",
    "run_eval",
    "EvalOptions",
    "EndpointLimits",
    "trial_seed",
    "check_suite",
    "SuiteCheck",
    "World",
    "WorldSetup",
    "MemorySeed",
    "RelationSeed",
    "ServerName",
    "create_world",
    "Environment",
    "EnvironmentSpec",
    "TrialSetup",
    "UserActions",
    "UserSpec",
    "UserPolicy",
    "UserView",
    "TrialContext",
    "ToolCallRecord",
    "Scorer",
    "ScorerSpec",
    "ScorerBase",
    "ExactScorer",
    "NormalizedScorer",
    "ContainsScorer",
    "RegexScorer",
    "JSONScorer",
    "NumberScorer",
    "FileScorer",
    "SQLScorer",
    "MemoryScorer",
    "StateScorer",
    "SaidScorer",
    "agent_said",
    "ToolCalledScorer",
    "ToolSequenceScorer",
    "ToolErrorsScorer",
    "JudgeScorer",
    "JudgeUnavailable",
    "PythonScorer",
    "FunctionScorer",
    "scorer",
    "CaseInfo",
    "LimitHit",
    "ProtocolStats",
    "RunInfo",
    "RunResults",
    "ScoreResult",
    "TrialResult",
    "TrialStatus",
    "rate_server",
    "RateOptions",
    "Rating",
]
