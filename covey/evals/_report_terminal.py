"""The terminal report: a summary table, and a live progress bar for the runner."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from typing import Protocol, TextIO

from . import _format as fmt
from ._results import ProtocolStats, TrialResult
from ._summary import GroupStats, RunSummary

__all__ = ["Progress", "ProgressBar", "format_summary"]

WIDTH = 100


def _headline(stats: GroupStats, ks: list[int], currency: str | None) -> list[str]:
    success = stats.success
    rate = fmt.percent(success.rate if success else None)
    ci = f"{fmt.interval(success)}%" if success else fmt.MISSING
    lines = [
        f"Success {rate} (95% CI {ci}): {stats.passed} passed, "
        f"{stats.failed} failed, {stats.errors} infrastructure errors (not counted)"
    ]
    k = ks[-1] if ks else 1
    lines.append(
        f"pass@{k} {fmt.percent(stats.pass_at(k))}  pass^{k} {fmt.percent(stats.pass_hat(k))}  "
        f"mean score {fmt.score(stats.mean_score)}  limits hit {stats.limit_hits}"
    )
    latency = stats.latency
    lines.append(
        f"Tokens {fmt.count(stats.input_tokens)} in / {fmt.count(stats.output_tokens)} out  "
        f"cost {fmt.money(stats.cost, currency)}  latency p50 "
        f"{fmt.seconds(latency.p50 if latency else None)} s  p95 "
        f"{fmt.seconds(latency.p95 if latency else None)} s"
    )
    lines.append(_protocol(stats.protocol))
    return lines


def _share(part: int, whole: int) -> str:
    return fmt.percent(part / whole if whole else None)


def _protocol(p: ProtocolStats) -> str:
    return (
        f"Tool calls {fmt.count(p.tool_calls)}: valid names "
        f"{_share(p.valid_tool_names, p.tool_calls)}, valid arguments "
        f"{_share(p.schema_valid_arguments, p.tool_calls)}, errors "
        f"{_share(p.tool_errors, p.tool_calls)}"
    )


def _by_trial(summary: RunSummary) -> list[str]:
    """Success by trial index, when there are several: learning across trials shows here."""
    if len(summary.by_trial_index) < 2:
        return []
    cells = [
        f"#{index + 1} {fmt.percent(p.rate) if p else '-'}"
        for index, p in enumerate(summary.by_trial_index)
    ]
    return ["By trial  " + "  ".join(cells)]


def format_summary(summary: RunSummary, *, width: int = WIDTH) -> str:
    """The run's summary as aligned plain text no wider than `width` columns.

    A heading with the overall figures, one row per case, then one row per tag.
    """
    run = summary.run
    k = summary.ks[-1] if summary.ks else 1
    lines = [
        f"Run {run.run_id}  suite {run.suite}  model {run.model}  "
        f"{run.trials_per_case} trials per case",
        *_headline(summary.overall, summary.ks, summary.currency),
        *_by_trial(summary),
        "",
    ]
    rows: list[list[str]] = []
    for case in summary.cases:
        s = case.stats
        rows.append(
            [
                case.case_id,
                ",".join(case.tags),
                f"{s.passed}/{s.passed + s.failed}",
                str(s.errors),
                fmt.percent(s.success.rate if s.success else None),
                fmt.interval(s.success),
                fmt.percent(s.pass_hat(k)),
                fmt.score(s.mean_score),
                fmt.seconds(s.latency.p50 if s.latency else None),
                case.verdict,
            ]
        )
    headers = ["case", "tags", "pass", "err", "rate", "95% CI %", f"pass^{k}", "score"]
    headers += ["p50 s", "verdict"]
    align: list[fmt.Align] = ["<", "<", ">", ">", ">", ">", ">", ">", ">", "<"]
    lines += fmt.table(headers, rows, align=align, width=width)
    if summary.tags:
        tag_rows = [
            [
                t.tag,
                str(t.cases),
                f"{t.stats.passed}/{t.stats.passed + t.stats.failed}",
                str(t.stats.errors),
                fmt.percent(t.stats.success.rate if t.stats.success else None),
                fmt.interval(t.stats.success),
                fmt.percent(t.stats.pass_hat(k)),
                fmt.score(t.stats.mean_score),
            ]
            for t in summary.tags
        ]
        tag_headers = ["tag", "cases", "pass", "err", "rate", "95% CI %", f"pass^{k}", "score"]
        tag_align: list[fmt.Align] = ["<", ">", ">", ">", ">", ">", ">", ">"]
        lines += ["", *fmt.table(tag_headers, tag_rows, align=tag_align, width=width)]
    return "\n".join(lines)


class Progress(Protocol):
    """What the runner tells about its progress; implement it to show progress your way."""

    def start(self, total: int) -> None:
        """The run is about to execute `total` trials."""
        ...

    def begin(self, case_id: str, trial: int) -> None:
        """A trial has its slots and starts (it may wait for them before this)."""
        ...

    def advance(self, result: TrialResult) -> None:
        """One trial finished (passed, failed or errored)."""
        ...

    def finish(self) -> None:
        """The run ended, completely or not."""
        ...


def _clock_text(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


class ProgressBar:
    """A progress bar: redrawn in place on a terminal, one line per `every` trials otherwise.

    It shows trials done of the total, passed/failed/error counts, trials running, the
    success rate so far (errors not counted), trials per second, the time elapsed and the
    time left. Call `tick()` on a timer: a terminal is redrawn (the clock moves while slow
    trials run), and without one a line is printed when `quiet` seconds passed without one.

    Example:
        ```python
        bar = ProgressBar()
        bar.start(total=30)
        for result in results:
            bar.advance(result)
        bar.finish()
        ```
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        tty: bool | None = None,
        every: int = 1,
        quiet: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Configure the bar.

        Args:
            stream: Where to draw (default standard error).
            tty: Draw in place; default: whether `stream` is a terminal.
            every: Without a terminal, print a line after every `every` trials.
            quiet: Without a terminal, `tick()` prints a line after this many seconds
                without one.
            clock: Seconds source for elapsed time, rate and ETA.
        """
        self._stream = stream if stream is not None else sys.stderr
        self._tty = self._stream.isatty() if tty is None else tty
        self._every = max(every, 1)
        self._quiet = quiet
        self._clock = clock
        self.total = 0
        self.passed = 0
        self.failed = 0
        self.errors = 0
        self.running = 0
        self._started = 0.0
        self._printed = 0.0
        self._active = False
        self._drawn = 0

    @property
    def done(self) -> int:
        """Trials finished so far."""
        return self.passed + self.failed + self.errors

    def start(self, total: int) -> None:
        """Begin counting towards `total` trials."""
        self.total = total
        self.passed = self.failed = self.errors = self.running = 0
        self._started = self._printed = self._clock()
        self._active = True
        if self._tty:
            self._draw()

    def begin(self, case_id: str, trial: int) -> None:
        """Count one more trial running."""
        self.running += 1
        if self._tty:
            self._draw()

    def advance(self, result: TrialResult) -> None:
        """Count one finished trial and redraw."""
        if result.status == "passed":
            self.passed += 1
        elif result.status == "failed":
            self.failed += 1
        else:
            self.errors += 1
        self.running = max(self.running - 1, 0)
        if self._tty:
            self._draw()
        elif self.done % self._every == 0 or self.done == self.total:
            self._print()

    def tick(self) -> None:
        """Redraw with the time now (a terminal), or print a line after a quiet spell."""
        if not self._active:
            return
        if self._tty:
            self._draw()
        elif self._clock() - self._printed >= self._quiet:
            self._print()

    def finish(self) -> None:
        """End the bar's line (on a terminal) or print the final count."""
        self._active = False
        if self._tty:
            self._draw()
            print(file=self._stream, flush=True)
        elif self.done % self._every != 0 and self.done != self.total:
            self._print()

    def line(self, width: int = WIDTH) -> str:
        """The current state as one line of at most `width` characters."""
        elapsed = max(self._clock() - self._started, 0.0)
        counted = self.passed + self.failed
        rate = fmt.percent(self.passed / counted if counted else None)
        speed = self.done / elapsed if elapsed > 0 else 0.0
        eta = "-"
        if speed > 0 and self.total >= self.done:
            eta = _clock_text((self.total - self.done) / speed)
        text = (
            f" {self.done}/{self.total}  pass {self.passed} fail {self.failed} "
            f"err {self.errors}  running {self.running}  rate {rate}  {speed:.2f}/s  "
            f"{_clock_text(elapsed)} ETA {eta}"
        )
        room = width - len(text) - 2
        if room >= 10:
            filled = room * self.done // self.total if self.total else room
            text = "[" + "#" * filled + "." * (room - filled) + "]" + text
        return text[:width]

    def _print(self) -> None:
        self._printed = self._clock()
        print(self.line(), file=self._stream, flush=True)

    def _draw(self) -> None:
        width = min(shutil.get_terminal_size((WIDTH, 24)).columns, WIDTH) - 1
        text = self.line(width)
        pad = " " * max(self._drawn - len(text), 0)
        self._drawn = len(text)
        self._stream.write("\r" + text + pad)
        self._stream.flush()
