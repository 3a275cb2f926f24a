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


@dataclass(frozen=True)
class BiasAdjusted:
    """The bias-adjusted fit of an outcome (:mod:`srsbayes.priors.bias`), as the rule reads
    it: whether it passed its gate and its P(benefit) (NaN when it did not)."""

    ok: bool
    prob_benefit: float
    detail: str = ""


def conclusion(p: float, decision_probability: float) -> str:
    """What P(benefit) supports at the spec's decision probability."""
    if p >= decision_probability:
        return "benefit"
    if p <= 1 - decision_probability:
        return "harm"
    return "inconclusive"


def with_bias_adjustment(judged: Domain, adjusted: BiasAdjusted | None, p_unadjusted: float,
                         decision_probability: float) -> Domain:
    """Risk of bias from the judgements and from the bias-adjusted analysis.

    When the bias-adjusted fit (study biases as large as meta-epidemiology reports) no
    longer supports the conclusion the unadjusted fit supports — P(benefit) on another side
    of the decision probability — bias that size would change the decision, so the domain
    is at least serious (−1), whatever the judgements say (GRADE rates down for risk of bias
    when it would change the conclusion: Guyatt et al. 2011, GRADE 4). The two concerns are
    one domain, so they are not added.
    """
    if adjusted is None:
        return judged
    before = conclusion(p_unadjusted, decision_probability)
    values = {**judged.values, "bias_adjusted": {
        "ok": adjusted.ok, "prob_benefit": adjusted.prob_benefit,
        "prob_benefit_unadjusted": p_unadjusted, "detail": adjusted.detail}}
    if not adjusted.ok:
        return Domain(judged.name, judged.rating, judged.change,
                      f"{judged.reason}; the bias-adjusted fit did not converge, so it cannot "
                      "inform the rating", values)
    after = conclusion(adjusted.prob_benefit, decision_probability)
    shift = (f"P(benefit) {p_unadjusted:.3f} unadjusted, {adjusted.prob_benefit:.3f} with "
             "study biases as large as meta-epidemiology reports")
    if after == before:
        return Domain(judged.name, judged.rating, judged.change,
                      f"{judged.reason}; the bias-adjusted analysis keeps the conclusion "
                      f"({shift})", values)
    change = min(judged.change, -1)
    rating = judged.rating if judged.change <= -1 and judged.rating != NOT_ASSESSED else SERIOUS
    return Domain(judged.name, rating, change,
                  f"{judged.reason}; the bias-adjusted analysis changes the conclusion from "
                  f"{before} to {after} ({shift})", values)
