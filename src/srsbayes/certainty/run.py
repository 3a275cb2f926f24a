"""Certainty of every outcome, the summary-of-findings table and the net benefit.

:func:`assess` is pure (evidence in, :class:`CertaintyReport` out; the fits it rates are
made by :func:`srsbayes.analysis.evidence.fit_evidence`); :func:`write_certainty` writes
``certainty.json``, the serialisation of :meth:`CertaintyReport.as_dict`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..audit.findings import Finding
from ..outputs import OutputUnit, write_json
from ..values import DEFAULT_SEED
from .evidence import OutcomeEvidence
from .grade import TARGET, rate_outcome
from .net_benefit import NetBenefit, net_benefit
from .sof import SoFRow, baselines_for, sof_row
from .weights import NetBenefitSettings

if TYPE_CHECKING:
    from ..inputs.question import Question

REFERENCES = (
    "Guyatt GH, Oxman AD, Akl EA, et al. (2011). GRADE guidelines: 1. Introduction - GRADE "
    "evidence profiles and summary of findings tables. J Clin Epidemiol 64:383-394.",
    "Zeng L, Brignardello-Petersen R, Hultcrantz M, et al. (2021). GRADE guidelines 32: "
    "choosing targets of GRADE certainty of evidence ratings. J Clin Epidemiol 137:163-175.",
    "Zeng L, Brignardello-Petersen R, Hultcrantz M, et al. (2022). GRADE Guidance 34: update "
    "on rating imprecision using a minimally contextualized approach. J Clin Epidemiol "
    "150:216-224.",
    "Santesso N, Glenton C, Dahm P, et al. (2020). GRADE guidelines 26: informative "
    "statements to communicate the findings of systematic reviews of interventions. "
    "J Clin Epidemiol 119:126-135.",
)


@dataclass(frozen=True)
class CertaintyReport:
    """The SoF table (one row per outcome) and the net clinical benefit."""

    rows: tuple[SoFRow, ...]
    net_benefit: NetBenefit
    weights_path: str = ""
    provenance: dict[str, Any] | None = None
    """How it was made (:func:`srsbayes.analysis.provenance.run_provenance`)."""

    @property
    def converged(self) -> bool:
        """Whether every outcome's fit passed its gate."""
        return all(r.certainty.assessable for r in self.rows)

    def row(self, outcome: str) -> SoFRow:
        return next(r for r in self.rows if r.outcome == outcome)

    def as_dict(self) -> dict[str, Any]:
        """``certainty.json``; ``["outcomes"][id]`` is what ``summary.json`` can carry."""
        return {"target": TARGET, "references": list(REFERENCES),
                "outcomes": {r.outcome: r.as_dict() for r in self.rows},
                "net_benefit": self.net_benefit.as_dict(), "weights": self.weights_path,
                "converged": self.converged, "provenance": self.provenance}


def assess(evidence: list[OutcomeEvidence], findings: list[Finding],
           settings: NetBenefitSettings, *, stated: dict[str | None, list[float]] | None = None,
           seed: int = DEFAULT_SEED, question: Question | None = None) -> CertaintyReport:
    """Rate every outcome, build its SoF row and the net benefit across outcomes.

    Parameters
    ----------
    evidence
        One per outcome (:func:`srsbayes.certainty.evidence.from_fit`).
    findings
        The source audit's findings.
    settings
        Net-benefit criteria and weights.
    stated
        Stated baseline risks: outcome id (or ``None`` for every binary outcome) -> risks.
    seed
        Seed of the net benefit's pairing shuffle.
    question
        The review question whose arms the statements name (default: the bundled one).
    """
    rows = tuple(sof_row(ev, rate_outcome(ev, findings, question),
                         baselines_for(ev, stated or {}), question)
                 for ev in evidence)
    benefits = {ev.spec.id: ev.benefit for ev in evidence if ev.ok}
    return CertaintyReport(rows, net_benefit(benefits, settings, seed), settings.path)


def write_certainty(report: CertaintyReport, path: Path) -> None:
    """Write ``certainty.json`` as one unit (:class:`srsbayes.outputs.OutputUnit`)."""
    path = Path(path)
    with OutputUnit(path.parent, "certainty", report.provenance) as unit:
        write_json(unit.folder() / path.name, report.as_dict())
