"""The evidence certainty is rated from: each outcome's fit and bias-adjusted fit, reduced
to :class:`srsbayes.certainty.evidence.OutcomeEvidence`, and rated once.

The certainty command (:func:`fit_evidence`) and the report (:func:`rate`) run the same
pipeline: the main fit with the absolute effects at the SoF baselines, the bias-adjusted
fit (:func:`srsbayes.analysis.outcome.bias_adjusted_fit`), :func:`~srsbayes.certainty.
evidence.from_fit`, then the pure rating functions of :mod:`srsbayes.certainty`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..audit.findings import Finding
from ..certainty import (
    CertaintyReport,
    OutcomeEvidence,
    SoFRow,
    from_fit,
    net_benefit,
    rate_outcome,
)
from ..certainty.risk_of_bias import BiasAdjusted
from ..certainty.sof import outcome_baselines, sof_row
from ..certainty.weights import NetBenefitSettings
from ..inputs.data import outcome_table
from .data import OutcomeData
from .outcome import bias_adjusted_fit, main_fit

if TYPE_CHECKING:
    from ..inference.fitting import FitResult, FitSettings, ModelCache
    from ..inputs.data import StudyTable
    from ..inputs.question import Question
    from ..inputs.specs import OutcomeSpec


def fit_evidence(table: StudyTable, specs: dict[str, OutcomeSpec],
                 settings: FitSettings | None = None, cache: ModelCache | None = None,
                 stated: dict[str | None, list[float]] | None = None
                 ) -> list[OutcomeEvidence]:
    """Fit every outcome of ``table`` that has a spec (without the posterior checks), with
    its SoF baselines and its bias-adjusted refit, and reduce each fit to its evidence."""
    out = []
    for o in (o for o in table.outcomes() if o in specs):
        data = OutcomeData(specs[o], outcome_table(table, specs[o]))
        result = main_fit(table, data, settings, cache, checks=False, stated=stated)
        adjusted = bias_adjusted_fit(table, data, settings, cache) if result.ok else None
        out.append(from_fit(result, adjusted))
    return out


def rate(result: FitResult, data: OutcomeData, adjusted: BiasAdjusted | None,
         findings: list[Finding], question: Question | None = None
         ) -> tuple[OutcomeEvidence, SoFRow, FitResult]:
    """Rate one fitted outcome once (``summary.json``, ``certainty.json`` and the report
    all read this row): its evidence, its SoF row with the GRADE rating, and the fit with
    the row in its summary."""
    evidence = from_fit(result, adjusted)
    bases = outcome_baselines(data.spec, data.baseline, {})
    row = sof_row(evidence, rate_outcome(evidence, findings, question), bases, question)
    result.summary = result.summary.with_certainty(row.as_dict())
    return evidence, row, result


def certainty_report(rows: list[SoFRow], evidence: list[OutcomeEvidence],
                     weights: NetBenefitSettings, seed: int,
                     provenance: dict[str, object] | None) -> CertaintyReport:
    """The SoF table and the net clinical benefit across the outcomes whose fit passed."""
    benefits = {ev.spec.id: ev.benefit for ev in evidence if ev.ok}
    return CertaintyReport(tuple(rows), net_benefit(benefits, weights, seed), weights.path,
                           provenance=provenance)

