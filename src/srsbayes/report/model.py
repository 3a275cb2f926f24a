"""The report's data model: what ``build`` computes and the sections word.

Kept apart from :mod:`.build` so that sections depend on these types only, never on the
orchestration (no import cycle between building and rendering).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from ..audit import Finding
from ..errors import EXIT_UNCONVERGED
from ..inference.fitting import FitSettings
from ..inputs.data import StudyTable
from ..inputs.question import Question, bundled_question
from ..inputs.specs import OutcomeSpec

if TYPE_CHECKING:
    from ..certainty import CertaintyReport, OutcomeEvidence, SoFRow

# ---------------------------------------------------------------------------------------
# Progress


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


# ---------------------------------------------------------------------------------------
# What the report holds


@dataclass
class SweepInfo:
    """A sensitivity sweep as the report shows it.

    ``available`` is ``False`` (with ``note`` saying why) when no sweep was run.
    ``robust``/``text`` are the verdict over the prior settings, ``data_robust``/
    ``data_text`` over the data-level rows (leave-one-study-out, rounding), ``overall``
    the sweep's own verdict; ``rows`` are the sweep table's records.
    """

    available: bool
    note: str = ""
    robust: bool | None = None
    text: str = ""
    rows: list[dict[str, Any]] = field(default_factory=list)
    figure: bytes | None = None
    extra: list[str] = field(default_factory=list)
    reference: str = ""
    overall: dict[str, Any] = field(default_factory=dict)
    data_robust: bool | None = None
    data_text: str = ""
    failed: int = 0
    """Prior settings that failed the gate (then "every prior" must not be said)."""
    borderline: int = 0
    """Prior settings within 2 Monte Carlo SEs of the decision probability."""


@dataclass
class OutcomeReport:
    """One outcome: its fit (or why there is none), figures, sweep and paper comparison.

    ``status`` is ``"ok"`` (a result), ``"failed"`` (the convergence gate failed: no
    numbers are shown) or ``"unavailable"`` (the model family could not be loaded).
    """

    spec: OutcomeSpec
    status: str
    summary: dict[str, Any] | None = None
    message: str = ""
    figures: dict[str, bytes] = field(default_factory=dict)
    sweep: SweepInfo = field(default_factory=lambda: SweepInfo(False, "not run"))
    derived: dict[str, Any] = field(default_factory=dict)
    pooled: list[dict[str, Any]] = field(default_factory=list)
    claims: list[dict[str, Any]] = field(default_factory=list)
    count_table: list[dict[str, Any]] = field(default_factory=list)
    evidence: OutcomeEvidence | None = None
    """What the certainty rating reads of the fit (also for a fit that failed its gate)."""
    certainty: SoFRow | None = None
    """The outcome's summary-of-findings row with its GRADE rating."""
    fit: Any = None
    """The outcome's :class:`~srsbayes.inference.fitting.FitResult` (the trials under way are
    simulated from it)."""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class Report:
    """Everything :mod:`srsbayes.report.render` needs."""

    table: StudyTable
    outcomes: list[OutcomeReport]
    findings: list[Finding]
    settings: FitSettings
    specs: dict[str, OutcomeSpec]
    studies: list[dict[str, Any]]
    command: str
    reproduce: str
    versions: dict[str, str]
    created: str
    bundled: bool
    sweep_requested: bool = True
    paper_compared: bool = True
    certainty: CertaintyReport | None = None
    """Summary of findings, certainty ratings and the net clinical benefit."""
    provenance: dict[str, Any] | None = None
    """How the report was made (:func:`srsbayes.provenance.provenance`)."""
    trials: list[dict[str, Any]] | None = None
    """The trials under way (``TrialResult.as_dict`` per trial and outcome); None: not asked."""
    question: Question | None = None
    """The review question given (``--question``); None: the bundled one
    (:attr:`the_question`)."""

    @property
    def the_question(self) -> Question:
        """The review question the report answers: the one given, else the bundled one."""
        return self.question or bundled_question()

    @property
    def exit_status(self) -> int:
        return 0 if all(o.ok for o in self.outcomes) else EXIT_UNCONVERGED
