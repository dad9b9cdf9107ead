"""The embedded model's engine: one llama.cpp context, one generation at a time, cancellable.

Generation runs in a worker thread. Each one checks a cancel flag after every token, so a
request whose client went away (a timeout, a retry, Ctrl-C) stops within a token instead of
running to `max_tokens` while the next request waits.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from ._llama_prompt import FAMILIES, OWN_TEMPLATE, ChatFamily, family_for, render_prompt
from ._llama_template import ModelTemplate, handles_tools
from ._types import without_large_limits

__all__ = ["Engine", "Generation", "RequestError", "Stats"]


class RequestError(Exception):
    """A request the engine cannot serve; the message says why, for the client."""


@dataclass(kw_only=True, slots=True)
class Stats:
    """What the engine has done, for `/covey/status`."""

    served: int = 0
    cancelled: int = 0
    busy: bool = False
    queued: int = 0
    last_tokens: int = 0
    last_end: str = ""


@dataclass(kw_only=True, slots=True)
class Generation:
    """One request's generation: its prompt, how to sample, and its cancel flag."""

    prompt: list[int]
    kwargs: dict[str, Any]
    tool_name: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    tokens: int = 0
    finish: str = "stop"


class Engine:
    """A loaded GGUF model that renders, tokenizes and generates."""

    def __init__(
        self,
        model_path: Path,
        *,
        n_ctx: int,
        n_threads: int,
        max_tokens: int,
        chat_family: str | None = None,
        template: str = "auto",
    ) -> None:
        """Load the model (seconds; run it before serving).

        Args:
            model_path: the GGUF file.
            n_ctx: context window in tokens.
            n_threads: CPU threads for generation and prompt processing.
            max_tokens: reply cap when a request sets none.
            chat_family: the turn format (`gemma`, `chatml`); default read from the model.
            template: how prompts are written: `model` (the GGUF's own chat template),
                `covey` (covey's rendering of the chat family), or `auto` (the model's own
                when it describes tools, else covey's).

        Raises:
            ValueError: the model's format is unknown, or its template cannot be used.
        """
        import llama_cpp

        self._llama_cpp: Any = llama_cpp
        self.llama: Any = llama_cpp.Llama(
            model_path=str(model_path),
            n_ctx=n_ctx,
            n_threads=n_threads,
            n_threads_batch=n_threads,
            verbose=False,
        )
        metadata = cast(dict[str, str], self.llama.metadata)
        own = metadata.get("tokenizer.chat_template", "")
        architecture = metadata.get("general.architecture", "")
        self.template: ModelTemplate | None = None
        use_own = template == "model" or (
            template == "auto" and not chat_family and handles_tools(own)
        )
        if use_own:
            if not own:
                raise ValueError(
                    "--template model: this GGUF carries no chat template; use --template covey"
                )
            self.template = ModelTemplate(
                own,
                bos_token=self._token_text(self.llama.token_bos()),
                eos_token=self._token_text(self.llama.token_eos()),
            )
        self.family: ChatFamily = self._family(chat_family, architecture, own)
        self.n_ctx = n_ctx
        self.max_tokens = max_tokens
        self.stats = Stats()
        self._running: Generation | None = None
        self._closing = False

    def cancel_all(self) -> None:
        """Stop the running generation and refuse new ones (the server is shutting down)."""
        self._closing = True
        running = self._running
        if running is not None:
            running.cancel.set()

    def _family(self, chat_family: str | None, architecture: str, own: str) -> ChatFamily:
        if chat_family:
            return FAMILIES[chat_family]
        try:
            return family_for(architecture, own)
        except ValueError:
            if self.template is None:
                raise
            return OWN_TEMPLATE  # the template writes the turns; EOS ends the reply

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        piece = cast(bytes, self.llama.detokenize([token], special=True))
        return piece.decode(errors="replace")

    def count(self, text: str) -> int:
        """Tokens in `text` as this model reads it."""
        return len(self.llama.tokenize(text.encode(), add_bos=False, special=True))

    def render(self, body: Mapping[str, Any]) -> str:
        """The prompt text for a chat request body."""
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise RequestError("'messages' must be a non-empty list of chat messages")
        tools: list[Mapping[str, Any]] = []
        if body.get("tool_choice") != "none":
            tools = cast(list[Mapping[str, Any]], body.get("tools") or [])
        chat = cast(list[Mapping[str, Any]], messages)
        try:
            if self.template is not None:
                return self.template.render(chat, tools)
            return render_prompt(self.family, chat, tools)
        except ValueError as exc:
            raise RequestError(str(exc)) from exc

    def prepare(self, body: Mapping[str, Any]) -> Generation:
        """Check a chat request and turn it into a generation (no model time spent)."""
        prompt_text = self.render(body)
        prompt = cast(
            list[int], self.llama.tokenize(prompt_text.encode(), add_bos=True, special=True)
        )
        room = self.n_ctx - len(prompt)
        if room < 1:
            raise RequestError(
                f"The prompt has {len(prompt)} tokens and the context holds {self.n_ctx}: "
                "shorten the conversation (an Agent's context=ContextBudget(...) does) or "
                "start the embedded model with a larger n_ctx."
            )
        max_tokens = body.get("max_tokens") or body.get("max_completion_tokens")
        limit = min(int(max_tokens) if max_tokens else self.max_tokens, room)
        kwargs: dict[str, Any] = {
            "max_tokens": limit,
            "temperature": float(body.get("temperature", 0.8) or 0.0),
            "top_p": float(body.get("top_p", 0.95) or 0.95),
            "stop": [*self.family.stop, *_stops(body.get("stop"))],
        }
        if body.get("seed") is not None:
            kwargs["seed"] = int(body["seed"])
        if body.get("ignore_eos"):
            kwargs["logit_bias"] = {self.llama.token_eos(): float("-inf")}
        generation = Generation(prompt=prompt, kwargs=kwargs)
        schema, generation.tool_name = self._grammar_schema(body)
        if schema is not None:
            grammar_type = self._llama_cpp.LlamaGrammar
            kwargs["grammar"] = grammar_type.from_json_schema(
                json.dumps(without_large_limits(schema)), verbose=False
            )
        return generation

    def _grammar_schema(self, body: Mapping[str, Any]) -> tuple[Any, str | None]:
        choice = body.get("tool_choice")
        if choice == "required":
            raise RequestError(
                "tool_choice 'required' is not supported by covey's embedded server: "
                "use 'auto' or name one tool"
            )
        if isinstance(choice, dict):
            name = cast(dict[str, Any], choice).get("function", {}).get("name")
            for tool in cast(list[dict[str, Any]], body.get("tools") or []):
                if tool.get("function", {}).get("name") == name:
                    return tool["function"].get("parameters", {"type": "object"}), name
            raise RequestError(f"tool_choice names {name!r}, which is not among the tools")
        form = cast(dict[str, Any], body.get("response_format") or {})
        if form.get("type") == "json_schema":
            return form.get("json_schema", {}).get("schema", {"type": "object"}), None
        if form.get("type") == "json_object":
            return form.get("schema", {"type": "object"}), None
        if form and form.get("type") != "text":
            raise RequestError(f"response_format type {form.get('type')!r} is not supported")
        return None, None

    def stream(self, generation: Generation) -> Generator[str]:
        """The generated text piece by piece; stops early once `generation.cancel` is set.

        One generation at a time: the caller holds the server's slot.
        """
        if self._closing:
            generation.cancel.set()
            return
        prompt_length = len(generation.prompt)

        def stop_when_cancelled(input_ids: Any, logits: Any) -> bool:
            # Called after each token is sampled, before it joins `input_ids`.
            generation.tokens = len(input_ids) - prompt_length + 1
            return generation.cancel.is_set()

        criteria = self._llama_cpp.StoppingCriteriaList([stop_when_cancelled])
        self.stats.busy = True
        self._running = generation
        end = "stop"
        try:
            chunks = self.llama.create_completion(
                prompt=generation.prompt,
                stream=True,
                stopping_criteria=criteria,
                **generation.kwargs,
            )
            for chunk in chunks:
                choice = chunk["choices"][0]
                if choice.get("text"):
                    yield choice["text"]
                end = choice.get("finish_reason") or end
                if generation.cancel.is_set():
                    break
        finally:
            cancelled = generation.cancel.is_set()
            self._running = None
            self.stats.busy = False
            self.stats.served += 1
            self.stats.cancelled += cancelled
            self.stats.last_tokens = generation.tokens
            generation.finish = end
            self.stats.last_end = "cancelled" if cancelled else end


def _stops(stop: object) -> list[str]:
    if stop is None:
        return []
    if isinstance(stop, str):
        return [stop]
    return [s for s in cast(list[object], stop) if isinstance(s, str)]
