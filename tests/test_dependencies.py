"""Every package covey imports is declared in pyproject.toml, in the list that brings it."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[1]
EXTRA_ONLY = {"llama_cpp": "local", "numpy": "local", "jinja2": "local"}
"""Modules imported only when present, by the extra that brings them."""


def _imported_modules() -> dict[str, str]:
    """Top-level third-party modules that covey/ imports, each with one file importing it."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "covey").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ("covey", "__future__"):
                    found.setdefault(top, path.relative_to(ROOT).as_posix())
    return found


def _names(requirements: list[str]) -> set[str]:
    """Distribution names of requirement strings, normalised."""
    return {_normal(re.split(r"[\s\[<>=!~;]", r, maxsplit=1)[0]) for r in requirements}


def _normal(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def test_every_third_party_import_is_a_declared_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = _names(project["dependencies"])
    extras = {name: _names(reqs) for name, reqs in project["optional-dependencies"].items()}
    providers = importlib.metadata.packages_distributions()
    imported = _imported_modules()
    assert {"mcp", "openai", "yaml"} <= set(imported)  # the walk found the imports
    undeclared = []
    for module, where in sorted(imported.items()):
        distributions = {_normal(d) for d in providers.get(module, [module])}
        extra = EXTRA_ONLY.get(module)
        if not distributions & (extras[extra] if extra else core):
            listed = f"optional-dependencies.{extra}" if extra else "dependencies"
            undeclared.append(f"{module} ({where}): add one of {sorted(distributions)} to {listed}")
    assert undeclared == []
