"""The source audit's findings as a named consideration of each outcome's certainty.

Data that cannot be what they claim (percentages no whole count gives: GRIM, Brown &
Heathers 2017, Soc Psychol Personal Sci 8:363), studies that agree more closely than
chance allows, and studies that cannot be identified are concerns about the evidence
itself, beyond the GRADE domains; they rate down one level. The audit's other warnings
(e.g. pooled rows that are unweighted means, methods claimed but never reported) concern
the paper's own analysis, which this re-analysis does not use: they are named, not
counted. Only findings about the data analysed (the checks of the study table itself, see
:func:`about_the_data`) can rate down: a finding about a paper's pooled rows, claims or
text never does, even when it is an error.
counted. When inconsistency is rated down for too much spread, the ``homogeneity``
finding (too little spread) is named but not counted: never both.
"""

from __future__ import annotations

from collections import Counter

from ..audit.findings import Finding
from ..audit.registry import REGISTRY
from .levels import NOT_SERIOUS, SERIOUS, Domain, domain

NAME = "source audit"
INTEGRITY_CHECKS = ("grim", "events", "homogeneity", "identification")
"""Audit checks whose warnings question the study data themselves."""


def about_the_data(check: str) -> bool:
    """Whether a check reads only the study table and specs (the data analysed), not a
    paper's pooled rows, claims or text; an unregistered check id counts as about the data."""
    c = REGISTRY.get(check)
    return c is None or set(c.needs) <= {"table", "specs"}


def relevant(findings: list[Finding], outcome: str) -> list[Finding]:
    """Errors and warnings about ``outcome``, and those about no outcome in particular from
    checks that never name one (e.g. unidentifiable studies): a check that reports per
    outcome has its overall summary counted through the outcome's own findings."""
    per_outcome = {f.check for f in findings if f.outcome is not None}
    return [f for f in findings if f.severity in ("error", "warning")
            and (f.outcome == outcome or (f.outcome is None and f.check not in per_outcome))]


def rate_source_audit(findings: list[Finding], outcome: str, exclude: tuple[str, ...] = ()
                      ) -> Domain:
    """Name the audit's errors and warnings for ``outcome``; rate down one level when any
    of them questions the data analysed (:data:`INTEGRITY_CHECKS`, or an error, of a check
    that reads the study table), except the checks in ``exclude`` (named, not counted)."""
    mine = relevant(findings, outcome)
    counts = Counter(f.check for f in mine)
    integrity = {c: n for c, n in counts.items()
                 if c not in exclude and about_the_data(c)
                 and (c in INTEGRITY_CHECKS or any(f.check == c and f.severity == "error"
                                                   for f in mine))}
    named = "; ".join(f"{c} ({n})" for c, n in counts.items())
    if integrity:
        shown = ", ".join(f"{c} ({n})" for c, n in integrity.items())
        reason = f"the audit questions the data: {shown}"
        others = {c: n for c, n in counts.items() if c not in integrity}
        if others:
            reason += "; also noted: " + ", ".join(f"{c} ({n})" for c, n in others.items())
        return domain(NAME, SERIOUS, reason, checks=dict(counts),
                      counted=sorted(integrity))
    if mine:
        return domain(NAME, NOT_SERIOUS, f"noted, not counted (about the paper's own "
                      f"analysis): {named}", checks=dict(counts), counted=[])
    return domain(NAME, NOT_SERIOUS, "no audit warning", checks={}, counted=[])
