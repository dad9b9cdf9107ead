"""What importing covey costs: time and resident memory, against importing `openai`.

Run: `.venv/bin/python -m benchmarks.imports [--runs 7]`

Each statement runs in a fresh interpreter, `--runs` times; prints the median import time
with its range and the RSS after the import. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

STATEMENTS = ["import openai", "import covey", "from covey.agents import Agent"]
PROBE = """
import json, time
start = time.perf_counter()
{statement}
took = time.perf_counter() - start
with open("/proc/self/status") as status:
    rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
print(json.dumps({{"s": took, "rss_mib": rss / 1024}}))
"""


def import_figures(statement: str, runs: int) -> dict[str, float]:
    """Median, min and max import time (s) and median RSS after it (MiB), over `runs`."""
    seconds: list[float] = []
    rss: list[float] = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", PROBE.format(statement=statement)],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        seconds.append(figures["s"])
        rss.append(figures["rss_mib"])
    return {
        "s": statistics.median(seconds),
        "min": min(seconds),
        "max": max(seconds),
        "rss_mib": statistics.median(rss),
    }


def print_imports(runs: int) -> None:
    """Print the import table."""
    print(f"import cost, fresh interpreter each (median of {runs} [min-max]):")
    for statement in STATEMENTS:
        f = import_figures(statement, runs)
        print(
            f"  {statement:<34} {f['s'] * 1000:7.0f} ms [{f['min'] * 1000:.0f}-"
            f"{f['max'] * 1000:.0f}]  RSS {f['rss_mib']:6.1f} MiB"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    print_imports(parser.parse_args().runs)
