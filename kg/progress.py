"""Progress on stderr, so long builds say what they are doing, how far they are and how long is left.

Numbered step lines with elapsed seconds; for steps with many items a bar with an ETA, drawn in
place only on a terminal. Not on a terminal (logs, CI), a bar prints one summary line when done;
``quiet`` prints nothing.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

BAR_WIDTH = 30
REDRAW_SECONDS = 0.2


class Progress:
    """Numbered steps with elapsed seconds; silent when ``quiet``."""

    def __init__(self, total: int, quiet: bool = False, stream: TextIO | None = None, tty: bool | None = None) -> None:
        self.total = total
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.tty = tty if tty is not None else bool(getattr(self.stream, "isatty", lambda: False)())
        self.number = 0
        self.started = time.monotonic()

    def step(self, text: str) -> None:
        self.number += 1
        self._write(f"[{self.number}/{self.total}] {text}")

    def detail(self, text: str) -> None:
        self._write(f"      {text}")

    def bar(self, text: str) -> Bar:
        """A bar for ``text``; feed it with ``update(done, total)``, end it with ``close()``."""
        return Bar(self, text)

    def _write(self, text: str) -> None:
        if not self.quiet:
            elapsed = time.monotonic() - self.started
            print(f"{elapsed:6.1f}s {text}", file=self.stream, flush=True)


class Bar:
    """``[#####.....] 120/400  ETA 1:05`` redrawn in place on a terminal; the ETA assumes the items
    left take as long as the ones done so far (items of one build are of similar size)."""

    def __init__(self, progress: Progress, text: str) -> None:
        self.progress = progress
        self.text = text
        self.started = time.monotonic()
        self.drawn = 0.0
        self.done = 0
        self.total = 0

    def update(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        now = time.monotonic()
        if self.progress.quiet or not self.progress.tty or (now - self.drawn < REDRAW_SECONDS and done < total):
            return
        self.drawn = now
        filled = BAR_WIDTH * done // total if total else BAR_WIDTH
        line = f"      {self.text} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total}"
        eta = self.eta(now)
        if eta is not None:
            line += f"  ETA {int(eta) // 60}:{int(eta) % 60:02d}"
        print(f"\r{line}\033[K", end="", file=self.progress.stream, flush=True)

    def eta(self, now: float | None = None) -> float | None:
        """Seconds left, once at least one item is done."""
        if not self.done or not self.total:
            return None
        spent = (now or time.monotonic()) - self.started
        return spent / self.done * (self.total - self.done)

    def close(self, summary: str | None = None) -> None:
        """End the bar with one line: what was done and how long it took."""
        if self.progress.quiet:
            return
        if self.progress.tty and self.drawn:
            print("\r\033[K", end="", file=self.progress.stream, flush=True)
        seconds = time.monotonic() - self.started
        self.progress.detail(summary or f"{self.text}: {self.done}/{self.total} in {seconds:.1f} s")
