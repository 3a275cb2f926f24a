"""A one-line progress bar on stderr: the steps of an analysis (fits, sweeps, writing)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


class Progress:
    """A one-line progress bar on stderr.

    On a terminal the line is redrawn in place; otherwise (CI logs, files) each step is
    one line. ``enabled=False`` prints nothing.
    """

    def __init__(self, total: int, *, enabled: bool = True, stream: TextIO | None = None,
                 width: int = 24) -> None:
        self.total, self.done, self.width = max(total, 1), 0, width
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.t0 = time.monotonic()

    def _line(self, message: str) -> str:
        filled = round(self.width * self.done / self.total)
        bar = "#" * filled + "-" * (self.width - filled)
        secs = time.monotonic() - self.t0
        return f"[{bar}] {self.done}/{self.total} {secs:5.0f}s  {message}"

    @contextmanager
    def step(self, message: str) -> Iterator[None]:
        """Show ``message`` while the block runs, then count the step as done."""
        if self.enabled:
            if self.tty:
                self.stream.write("\r\x1b[2K" + self._line(message + " ..."))
            else:
                self.stream.write(self._line(message) + "\n")
            self.stream.flush()
        yield
        self.done += 1

    def update(self, message: str) -> None:
        """Redraw the current step's message (terminals only: logs keep one line a step)."""
        if self.enabled and self.tty:
            self.stream.write("\r\x1b[2K" + self._line(message + " ..."))
            self.stream.flush()

    def close(self, message: str = "done") -> None:
        if self.enabled:
            line = self._line(message)
            self.stream.write(("\r\x1b[2K" + line + "\n") if self.tty else line + "\n")
            self.stream.flush()
