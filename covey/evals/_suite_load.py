"""Loading a suite: a YAML file, a Python `module:attribute`, or a built-in suite by name.

Errors name the file, the case and the field, and say what is allowed there.
"""

from __future__ import annotations

import importlib
import json
import sys
from importlib import resources
from pathlib import Path
from typing import Any, cast

import yaml
from pydantic import ValidationError

from .._errors import UsageError
from ._case import Suite

__all__ = ["BUILTIN", "load_suite", "suite_schema"]

BUILTIN = "builtin"
"""The name of covey's built-in suite; `builtin:quick` is its quick part (tag `quick`)."""

SCHEMA_ID = "https://covey.dev/schemas/suite.schema.json"


def suite_schema() -> dict[str, Any]:
    """The JSON Schema of a YAML suite (as published in `covey/evals/suite.schema.json`)."""
    schema = Suite.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def _where(document: dict[str, Any], loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for index, part in enumerate(loc):
        if isinstance(part, int):
            parts[-1:] = [f"{parts[-1]}[{part}]"] if parts else [f"[{part}]"]
            if loc[index - 1] == "cases" and isinstance(document.get("cases"), list):
                cases: list[Any] = document["cases"]
                if part < len(cases) and isinstance(cases[part], dict):
                    parts[-1] += f" (id {cases[part].get('id')!r})"
        elif "[" in part or "-" in part:  # pydantic's union branch names: not a user's path
            continue
        else:
            parts.append(part)
    return ".".join(parts) or "the suite"


def _explain(source: str, document: Any, error: ValidationError) -> UsageError:
    problems: list[str] = []
    seen: set[str] = set()
    mapping: dict[str, Any] = cast("dict[str, Any]", document) if isinstance(document, dict) else {}
    for item in error.errors(include_url=False):
        where = _where(mapping, item["loc"])
        if where in seen:  # a union reports every branch: the first says enough
            continue
        seen.add(where)
        problems.append(f"  {where}: {item['msg']}")
    shown = "\n".join(problems[:8])
    more = f"\n  ... and {len(problems) - 8} more" if len(problems) > 8 else ""
    return UsageError(
        f"Suite {source} is not valid:\n{shown}{more}\n"
        "The format is described by `covey eval --schema` (a JSON Schema editors can use)."
    )


def parse_suite(text: str, source: str) -> Suite:
    """A suite from YAML text; `source` names it in errors."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"Suite {source} is not valid YAML: {exc}") from None
    if not isinstance(document, dict):
        raise UsageError(f"Suite {source} must be a mapping with `name` and `cases`.")
    try:
        return Suite.model_validate(document)
    except ValidationError as exc:
        raise _explain(source, document, exc) from None


def _builtin(part: str | None) -> Suite:
    text = resources.files("covey.evals").joinpath("suites/builtin.yaml").read_text()
    suite = parse_suite(text, "builtin")
    return suite.select(tags=[part]) if part else suite


def _python(spec: str) -> Suite:
    module_name, _, attribute = spec.partition(":")
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"Cannot import suite module {module_name!r}: {exc}.") from exc
    found = getattr(module, attribute, None)
    if callable(found) and not isinstance(found, Suite):
        found = found()
    if not isinstance(found, Suite):
        raise UsageError(
            f"{spec} is not a covey.evals.Suite (or a function returning one): "
            f"got {type(found).__name__}."
        )
    return found


def load_suite(spec: str) -> Suite:
    """Load `builtin`, `builtin:TAG`, a `.yaml`/`.yml`/`.json` file, or `module:attribute`.

    Raises:
        UsageError: the suite cannot be found, read or validated (the message says where).
    """
    name, _, part = spec.partition(":")
    if name == BUILTIN:
        return _builtin(part or None)
    path = Path(spec)
    if path.suffix in (".yaml", ".yml", ".json"):
        try:
            text = path.read_text()
        except OSError as exc:
            raise UsageError(f"Cannot read suite file {spec!r}: {exc.strerror}.") from None
        return parse_suite(text, spec)
    if ":" in spec:
        return _python(spec)
    raise UsageError(
        f"Suite {spec!r} is neither a YAML file nor module:attribute: pass e.g. "
        "suites/mine.yaml, mypackage.evals:suite, or builtin (covey's own tasks)."
    )


def schema_text() -> str:
    """The published JSON Schema, as a file holds it."""
    return json.dumps(suite_schema(), indent=2, sort_keys=True) + "\n"
