"""Pinned virtual environments under `.bench/` for the frameworks covey is compared with.

Each peer gets its own venv, made on first use from PyPI, so that its dependencies never
meet covey's. A venv whose pinned packages are already there is used as it is.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / ".bench"

# The peers' pins, newest on PyPI when pinned: the figures depend on them.
LANGGRAPH = {"langgraph": "1.2.24", "langchain-openai": "1.8.1"}
PYDANTIC_AI = {"pydantic-ai-slim": "2.68.0"}
OPENAI_AGENTS = {"openai-agents": "0.24.0"}


def _installed(python: Path, distributions: dict[str, str]) -> bool:
    probe = (
        "import sys; from importlib.metadata import version\n"
        "try:\n"
        f"    print(all(version(d) == v for d, v in {distributions!r}.items()))\n"
        "except Exception:\n"
        "    print(False)\n"
    )
    done = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=False)
    return done.stdout.strip() == "True"


def peer_python(name: str, pins: dict[str, str], extras: str = "") -> Path | str:
    """The python of `.bench/NAME-venv` with `requirements` installed, or why there is none.

    Args:
        name: The venv's name (`langgraph` gives `.bench/langgraph-venv`).
        pins: Distribution name to version, installed with pip.
        extras: Extras of the first distribution, such as `[openai]`.
    """
    venv = BENCH / f"{name}-venv"
    requirements = [f"{d}{extras if i == 0 else ''}=={v}" for i, (d, v) in enumerate(pins.items())]
    python = venv / "bin" / "python"
    try:
        if not python.exists():
            print(f"creating {venv.relative_to(ROOT)} (once)...", flush=True)
            subprocess.run(["python3", "-m", "venv", str(venv)], check=True, timeout=300)
        if not _installed(python, pins):
            print(f"installing {' '.join(requirements)} into {venv.relative_to(ROOT)}...")
            pip = [python, "-m", "pip", "install", "-q", *requirements]
            done = subprocess.run(pip, capture_output=True, text=True, timeout=1200)
            if done.returncode != 0:
                return f"could not install {name} in {venv}: {done.stderr.strip()[-500:]}"
    except (OSError, subprocess.SubprocessError) as e:
        return f"could not set up {name} in {venv}: {e}"
    return python
