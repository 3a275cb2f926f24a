"""Checks of contrast rows (hazard ratios, odds ratios, ... with a CI, SE or p-value).

The arithmetic lives with the rows' reader (:mod:`srsbayes.inputs.contrasts`); these
register it as audit checks.
"""

from __future__ import annotations

from ..inputs.contrasts import ci_asymmetry_findings, p_value_findings
from .findings import Finding
from .registry import AuditInputs


def check_ci_asymmetry(inputs: AuditInputs) -> list[Finding]:
    """A CI asymmetric on the log scale beyond what rounding explains (a profile interval,
    a transcription error, or a CI on another scale): flagged, never silently averaged."""
    return [Finding(**d) for d in ci_asymmetry_findings(inputs.table)]


def check_p_vs_ci(inputs: AuditInputs) -> list[Finding]:
    """A statcheck-style recomputation of the p-value from the CI, over every rounding of
    the printed numbers (Nuijten et al. 2016, Behav Res Methods 48:1205)."""
    return [Finding(**d) for d in p_value_findings(inputs.table)]


def check_se_approximation(inputs: AuditInputs) -> list[Finding]:
    """A row whose SE is approximate (from a p-value of the study's own test, or a log-rank
    variance from the number of events; :func:`srsbayes.inputs.contrast_forms.derive_from_form`):
    named, with how, so that no approximation is silent."""
    frame = inputs.table.frame
    if "contrast_approximate" not in frame.columns:
        return []
    rows = frame[(frame["arm"] == "") & (frame["contrast_approximate"] == True)]  # noqa: E712
    return [Finding(r.study, r.outcome, None, "contrast_se_approximation", "info",
                    f"{r.contrast_rule}: {r.contrast_detail}", int(r.row),
                    {"rule": r.contrast_rule, "se": float(r.contrast_se)})
            for r in rows.itertuples()]
