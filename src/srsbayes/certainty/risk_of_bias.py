"""Risk of bias from the study-level ``rob`` column (ROBINS-I or RoB 2 overall judgements).

GRADE rates down for risk of bias by how much of the evidence comes from studies at high
risk (Guyatt et al. 2011, GRADE 4, J Clin Epidemiol 64:407): here the share of patients in
studies judged ``serious`` or ``critical``. A study without a judgement is *not assessed*,
and GRADE counts an unassessed risk against certainty, so it rates down one level.
"""

from __future__ import annotations

from dataclasses import dataclass

from .levels import NOT_ASSESSED, NOT_SERIOUS, SERIOUS, VERY_SERIOUS, Domain, domain

NAME = "risk of bias"
MAJORITY = 0.5
"""Share of patients at serious (or critical) risk from which the evidence is rated down:
then most of the information comes from studies at high risk."""


@dataclass(frozen=True)
class StudyBias:
    """One study's judgement (``""`` = not assessed) and its patients (both arms)."""

    study: str
    rob: str
    n: int


def rate_risk_of_bias(studies: list[StudyBias]) -> Domain:
    """Rate risk of bias from the studies' overall judgements.

    Not assessed (−1) when any study has no judgement; very serious (−2) when at least
    half the patients are in studies at critical risk; serious (−1) when at least half
    are in studies at serious or critical risk; otherwise not serious. Shares are of
    patients, or of studies when some study does not report its patients.
    """
    missing = [s.study for s in studies if not s.rob]
    judgements = {s.study: s.rob or NOT_ASSESSED for s in studies}
    if missing:
        return domain(NAME, NOT_ASSESSED,
                      f"no risk-of-bias judgement (column rob) for {len(missing)} of "
                      f"{len(studies)} studies ({', '.join(missing)}); an unassessed risk "
                      "counts against certainty", change=-1, judgements=judgements)
    # by patients; by studies when some study does not report its patients
    known = all(s.n > 0 for s in studies)
    w = {s.study: s.n if known else 1 for s in studies}
    unit = "patients are in studies" if known else "studies are"
    total = sum(w.values())
    critical = sum(w[s.study] for s in studies if s.rob == "critical") / total
    high = sum(w[s.study] for s in studies if s.rob in ("serious", "critical")) / total
    if critical >= MAJORITY:
        rating, why = VERY_SERIOUS, f"{critical:.0%} of {unit} at critical risk"
    elif high >= MAJORITY:
        rating, why = SERIOUS, f"{high:.0%} of {unit} at serious or critical risk"
    else:
        rating, why = NOT_SERIOUS, f"{1 - high:.0%} of {unit} at low or moderate risk"
    return domain(NAME, rating, why, judgements=judgements, share_high=high,
                  share_critical=critical)
