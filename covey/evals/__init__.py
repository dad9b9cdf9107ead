"""Evaluate agents: suites of cases, fresh worlds per trial, scorers, runs and reports."""

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

__all__ = [
    "CaseInfo",
    "LimitHit",
    "ProtocolStats",
    "RunInfo",
    "RunResults",
    "ScoreResult",
    "TrialResult",
    "TrialStatus",
]
