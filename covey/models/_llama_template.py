"""Prompts in a model's own chat template: the Jinja template a GGUF carries.

Instruction-tuned models that were trained to call tools (Qwen 2.5, Llama 3.x, Hermes, ...)
ship a template that describes tools and writes calls exactly as in training. Rendering it
gives them the prompt they know; covey's family rendering (`_llama_prompt`) is the fallback
for models whose template has no tool support, or none at all.

The template runs in Jinja's sandbox: it comes from a model file, not from covey.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, cast

__all__ = ["ModelTemplate", "handles_tools"]


def handles_tools(template: str) -> bool:
    """Whether a chat template describes tools to the model (it reads a `tools` variable)."""
    return "tools" in template and "tool_call" in template


def _raise(message: str) -> None:
    raise ValueError(f"the model's chat template refused the conversation: {message}")


def _tojson(value: object, indent: int | None = None) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent)


def _message(message: Mapping[str, Any]) -> dict[str, Any]:
    """An OpenAI chat message as templates expect it: text content, parsed call arguments."""
    out = dict(message)
    content = out.get("content")
    if isinstance(content, list):
        parts = cast(list[object], content)
        out["content"] = "".join(
            str(cast(dict[str, object], p).get("text", "")) for p in parts if isinstance(p, dict)
        )
    elif content is None:
        out["content"] = ""
    calls: list[dict[str, Any]] = []
    for call in cast(list[dict[str, Any]], out.get("tool_calls") or []):
        function = dict(cast(dict[str, Any], call.get("function", {})))
        arguments: object = function.get("arguments", "{}")
        if isinstance(arguments, str):
            try:
                function["arguments"] = json.loads(arguments)
            except json.JSONDecodeError:
                pass  # shown back as the model wrote it
        calls.append({**call, "function": function})
    if calls:
        out["tool_calls"] = calls
    return out


class ModelTemplate:
    """A GGUF's own Jinja chat template, compiled once and rendered per request."""

    def __init__(self, template: str, *, bos_token: str, eos_token: str) -> None:
        """Compile `template`.

        Raises:
            ValueError: the template is not valid Jinja.
        """
        from jinja2 import TemplateError
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        env = ImmutableSandboxedEnvironment(
            trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"]
        )
        filters = cast(dict[str, Any], env.filters)  # pyright: ignore[reportUnknownMemberType]
        filters["tojson"] = _tojson
        globals_ = cast(dict[str, Any], env.globals)  # pyright: ignore[reportUnknownMemberType]
        globals_["raise_exception"] = _raise
        try:
            self._template = env.from_string(template)
        except TemplateError as exc:
            raise ValueError(f"the model's chat template is not valid Jinja: {exc}") from exc
        self._bos = bos_token
        self._eos = eos_token

    def render(
        self, messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]] = ()
    ) -> str:
        """The prompt text, ending where the model's turn begins, without a leading BOS.

        Raises:
            ValueError: the template refused the messages (it says why).
        """
        from jinja2 import TemplateError

        try:
            text = self._template.render(
                messages=[_message(m) for m in messages],
                tools=list(tools) or None,
                add_generation_prompt=True,
                bos_token=self._bos,
                eos_token=self._eos,
            )
        except TemplateError as exc:
            raise ValueError(f"the model's chat template failed: {exc}") from exc
        # The tokenizer adds BOS itself; a template that writes it too would double it.
        return text.removeprefix(self._bos) if self._bos else text
