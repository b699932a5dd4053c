"""Progress of a long run: one line on stderr, rewritten in place, only when stderr is a terminal.

Quiet when stderr is a file or a pipe, or with --quiet, so logs and `--json` on stdout stay clean.
The core takes a plain callback (`on_file(n, total, name)`); this module turns it into the line, and
excel/buttons.py into Excel's status bar. Updates are throttled, so a caller may report as often as it likes.
"""
from __future__ import annotations

import sys
import time
from typing import Callable, TextIO

from xl_automation.model.labels import file_step  # noqa: F401  (offered here too)

Callback = Callable[[int, int, str], None]
MIN_INTERVAL = 0.1          # seconds between two redraws of the same kind of line


class Progress:
    def __init__(self, stream: TextIO | None, clock: Callable[[], float] = time.monotonic):
        self.stream = stream
        self.clock = clock
        self.last = float("-inf")
        self.width = 0
        self.shown: list[str] = []          # what was drawn (tests read it)

    @property
    def enabled(self) -> bool:
        return self.stream is not None

    def step(self, text: str, *, force: bool = True) -> None:
        if self.stream is None:
            return
        now = self.clock()
        if not force and now - self.last < MIN_INTERVAL:
            return
        self.last = now
        pad = " " * max(0, self.width - len(text))
        self.stream.write(f"\r{text}{pad}")
        self.stream.flush()
        self.width = len(text)
        self.shown.append(text)

    def on_file(self, n: int, total: int, name: str) -> None:
        self.step(file_step(n, total, name), force=n in (1, total))

    def done(self) -> None:
        if self.stream is not None and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0


def for_args(args, stream: TextIO | None = None) -> Progress:
    """Progress on stderr when it is a terminal and --quiet was not given."""
    stream = stream or sys.stderr
    quiet = getattr(args, "quiet", False)
    tty = hasattr(stream, "isatty") and stream.isatty()
    return Progress(stream if tty and not quiet else None)
