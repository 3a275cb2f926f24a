"""The report's data model: what ``build`` computes and the sections word.

Kept apart from :mod:`.build` so that sections depend on these types only, never on the
orchestration (no import cycle between building and rendering).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from ..analysis.data import StudyEntry
from ..analysis.results import OutcomeAnalysis
from ..audit import Finding
from ..errors import EXIT_UNCONVERGED
from ..inference.fitting import FitSettings
from ..inputs.data import StudyTable
from ..inputs.question import Question, bundled_question
from ..inputs.specs import OutcomeSpec

if TYPE_CHECKING:
    from ..certainty import CertaintyReport

# ---------------------------------------------------------------------------------------
# What the report holds


@dataclass
class OutcomeReport(OutcomeAnalysis):
    """One outcome's analysis (:class:`srsbayes.analysis.results.OutcomeAnalysis`) with the
    figures the report draws of it."""

    figures: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def of(cls, analysis: OutcomeAnalysis, figures: dict[str, bytes]) -> OutcomeReport:
        """``analysis`` with its ``figures``."""
        return cls(**{f.name: getattr(analysis, f.name) for f in fields(analysis)},
                   figures=figures)


@dataclass
class Report:
    """Everything :mod:`srsbayes.report.render` needs."""

    table: StudyTable
    outcomes: list[OutcomeReport]
    findings: list[Finding]
    settings: FitSettings
    specs: dict[str, OutcomeSpec]
    studies: list[StudyEntry]
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
