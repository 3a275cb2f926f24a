"""Ctrl-C and SIGTERM stop a command: no partial trace is used, nothing new is written.

nutpie answers a ``KeyboardInterrupt`` during sampling by returning the draws it has so far
(``nutpie.sample`` catches it and calls ``abort()``), so a command that carried on would
gate, retry and report a fit the user asked to stop. The command line therefore installs
:func:`handling_signals`: SIGINT and SIGTERM record which signal arrived and raise
``KeyboardInterrupt`` (so nutpie stops its chains as it does for Ctrl-C), and the fitting
code calls :func:`check` after every sampler run, which raises :class:`Interrupted`.
:class:`Interrupted` derives from ``BaseException``, so no ``except Exception`` in the
library swallows it; the outputs being staged are discarded on the way out
(:class:`srsbayes.outputs.OutputUnit`) and the command exits with ``128 + signal``
(130 for SIGINT, 143 for SIGTERM, as a shell reports a process killed by that signal).

:func:`checkpoint` marks the points the interruption tests aim at (sampling, outputs staged,
outputs being moved into place): with ``SRSBAYES_TEST_CHECKPOINTS=1`` it prints
``srsbayes-checkpoint: NAME`` on stderr, and with ``SRSBAYES_TEST_SIGNAL=NAME:SIGTERM`` the
process sends itself that signal there. The names are ``sampling`` (before each nutpie
run), ``staged-COMMAND`` (every output of a command's unit staged, none moved yet) and
``commit-COMMAND`` (after the first file has moved into place). Neither variable is set in
normal use.

While :func:`deferred` is active (the few renames that move a command's finished outputs
into place) a signal is only recorded; it is acted on when the block ends, so the outputs
are either all old or all new.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""The signals a command handles (SIGKILL cannot be handled)."""

_received: int | None = None
_deferring = 0


class Interrupted(BaseException):
    """The command was stopped by ``signum``; its exit status is ``128 + signum``."""

    def __init__(self, signum: int, *, outputs_complete: bool = False) -> None:
        self.signum = signum
        self.outputs_complete = outputs_complete
        """The signal arrived while the outputs were being moved into place, and the
        command finished moving them first (:func:`deferred`)."""
        super().__init__(f"interrupted by {signal.Signals(signum).name}")

    @property
    def exit_status(self) -> int:
        return 128 + self.signum


def received() -> int | None:
    """The first signal received while :func:`handling_signals` was active, if any."""
    return _received


def check() -> None:
    """Raise :class:`Interrupted` if a handled signal has arrived."""
    if _received is not None and not _deferring:
        raise Interrupted(_received)


def _handler(signum: int, _frame: FrameType | None) -> None:
    global _received
    if _received is None:
        _received = signum
    if not _deferring:
        # KeyboardInterrupt, not Interrupted: nutpie (and other blocking loops) stop
        # cleanly on it; check() turns it into Interrupted where sampling returns.
        raise KeyboardInterrupt


@contextmanager
def handling_signals() -> Iterator[None]:
    """Handle SIGINT and SIGTERM as described in the module docstring (main thread only;
    elsewhere, where Python cannot install handlers, the block runs unchanged)."""
    global _received
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _handler) for s in SIGNALS}
    _received = None
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


@contextmanager
def masked() -> Iterator[None]:
    """Record but do not act on a signal during the block (cleaning up after an error or a
    signal: a second Ctrl-C must not leave the clean-up half done)."""
    global _deferring
    _deferring += 1
    try:
        yield
    finally:
        _deferring -= 1


@contextmanager
def deferred() -> Iterator[None]:
    """Record but do not act on a signal during the block; act on it when it ends."""
    with masked():
        yield
    if _received is not None and not _deferring:
        raise Interrupted(_received, outputs_complete=True)


def checkpoint(name: str) -> None:
    """A point an interruption test can aim at (see the module docstring)."""
    if os.environ.get("SRSBAYES_TEST_CHECKPOINTS"):
        print(f"srsbayes-checkpoint: {name}", file=sys.stderr, flush=True)
    point, _, signame = os.environ.get("SRSBAYES_TEST_SIGNAL", "").rpartition(":")
    if point == name and signame:
        os.kill(os.getpid(), signal.Signals[signame])
