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


def test_tool_mode_and_timeout_come_from_the_environment() -> None:
    env = {
        "COVEY_BASE_URL": "http://h:1/v1/",
        "COVEY_TOOL_MODE": "constrained",
        "COVEY_TIMEOUT": "600",
    }
    config = ModelConfig.from_env(env)
    assert config is not None
    assert (config.base_url, config.tool_mode, config.timeout) == (
        "http://h:1/v1",
        "constrained",
        600.0,
    )
    for_cli = ModelConfig.from_url("http://other:2/v1", "m", environ=env)
    assert (for_cli.model, for_cli.tool_mode, for_cli.timeout) == ("m", "constrained", 600.0)
    assert ModelConfig.from_url("http://h:1/v1", environ={}).tool_mode == "auto"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("COVEY_TOOL_MODE", "json", "use auto, native or constrained"),
        ("COVEY_TIMEOUT", "soon", "not a number of seconds"),
        ("COVEY_TIMEOUT", "-5", "not a number of seconds"),
    ],
)
def test_unusable_tool_mode_or_timeout_is_refused(name: str, value: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        ModelConfig.from_env({"COVEY_BASE_URL": "http://h:1/v1", name: value})
