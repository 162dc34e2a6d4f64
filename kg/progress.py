"""Progress lines on stderr, so long builds say what they are doing and how long each step took."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Numbered steps with elapsed seconds; silent when ``quiet``."""

    def __init__(self, total: int, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.total = total
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.number = 0
        self.started = time.monotonic()

    def step(self, text: str) -> None:
        self.number += 1
        self._write(f"[{self.number}/{self.total}] {text}")

    def detail(self, text: str) -> None:
        self._write(f"      {text}")

    def _write(self, text: str) -> None:
        if not self.quiet:
            elapsed = time.monotonic() - self.started
            print(f"{elapsed:6.1f}s {text}", file=self.stream, flush=True)
