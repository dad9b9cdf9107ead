"""Configuration from code and from the environment."""

from __future__ import annotations

import pytest

from covey import ModelConfig, UsageError


def test_covey_variables_win_over_openai_ones() -> None:
    env = {
        "COVEY_BASE_URL": "http://127.0.0.1:9000/v1/",
        "OPENAI_BASE_URL": "http://elsewhere/v1",
        "COVEY_MODEL": "qwen3",
        "OPENAI_MODEL": "other",
        "OPENAI_API_KEY": "sk-openai",
    }
    config = ModelConfig.from_env(env)
    assert config is not None
    assert config.base_url == "http://127.0.0.1:9000/v1"
    assert config.model == "qwen3"
    assert config.api_key == "sk-openai"


def test_openai_variables_are_the_fallback() -> None:
    config = ModelConfig.from_env({"OPENAI_BASE_URL": "http://h:1/v1", "OPENAI_MODEL": "m"})
    assert config is not None
    assert (config.base_url, config.model, config.api_key) == ("http://h:1/v1", "m", "not-needed")


def test_no_base_url_means_the_embedded_model() -> None:
    assert ModelConfig.from_env({"COVEY_MODEL": "x", "COVEY_BASE_URL": "  "}) is None


def test_bad_values_are_refused_with_the_fix() -> None:
    with pytest.raises(UsageError, match="not an http"):
        ModelConfig(base_url="127.0.0.1:8000")
    with pytest.raises(UsageError, match="positive timeouts"):
        ModelConfig(base_url="http://h/v1", timeout=0)
