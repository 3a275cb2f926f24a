"""Risk of bias from the study-level ``rob`` column (ROBINS-I or RoB 2 overall judgements).

Risk of bias is counted once (Schünemann et al. 2019, GRADE 18):

* **no judgement** (any study without one): observational evidence starts *low*, which
  already accounts for the risk of bias of non-randomised studies; the domain is shown as
  *not assessed* and takes no further level. Randomised trials without a judgement (they
  start high, on the presumption of a low risk nobody has checked) are rated down one.
* **ROBINS-I judgements** for every study of non-randomised evidence: it starts *high*
  (:func:`srsbayes.certainty.levels.start_level`), and a study at moderate, serious or
  critical risk counts 1, 2 or 3 levels.
* **RoB 2** for randomised trials (GRADE 4, Guyatt et al. 2011, J Clin Epidemiol 64:407):
  some concerns (``moderate``) counts 0, high (``serious``) 1, and ``critical`` 2.

The evidence is rated down by the levels of the studies that carry most of the
information: the largest ``d`` such that at least half of the patients (of the studies,
when some study does not report its patients) are in studies counting ``d`` or more.

The bias-adjusted analyses (:mod:`srsbayes.priors.bias`) and the tipping points are shown
beside the rating and never add a level: they quantify how much bias the conclusion
tolerates, which is a sensitivity analysis, not a second judgement of the same bias.

References
----------
Schünemann HJ, Cuello C, Akl EA, et al. (2019). GRADE guidelines: 18. How ROBINS-I and
other tools to assess risk of bias in nonrandomized studies should be used to rate the
certainty of a body of evidence. J Clin Epidemiol 111:105-114.
"""

from __future__ import annotations

from dataclasses import dataclass

from .levels import NOT_ASSESSED, NOT_SERIOUS, SERIOUS, VERY_SERIOUS, Domain, Rating, domain

NAME = "risk of bias"
MAJORITY = 0.5
"""Share of the information at a level from which the evidence is rated down by it."""
EXTREMELY_SERIOUS = Rating.EXTREMELY_SERIOUS
RATINGS = {0: NOT_SERIOUS, 1: SERIOUS, 2: VERY_SERIOUS, 3: EXTREMELY_SERIOUS}
ROBINS_I = {"low": 0, "moderate": 1, "serious": 2, "critical": 3}
"""Levels a non-randomised study counts (ROBINS-I; GRADE 18)."""
ROB_2 = {"low": 0, "moderate": 0, "serious": 1, "critical": 2}
"""Levels a randomised trial counts (RoB 2 low / some concerns / high; GRADE 4)."""


@dataclass(frozen=True)
class StudyBias:
    """One study's judgement (``""`` = not assessed), its patients (both arms) and its
    design (``"rct"`` for a randomised trial; anything else is non-randomised)."""

    study: str
    rob: str
    n: int
    design: str = ""


def rate_risk_of_bias(studies: list[StudyBias]) -> Domain:
    """Rate risk of bias from the studies' overall judgements (see the module docstring).

    Returns
    -------
    Domain
        ``values`` hold the judgements, each study's levels and the share of the
        information at each level or worse.
    """
    missing = [s.study for s in studies if not s.rob]
    judgements = {s.study: s.rob or NOT_ASSESSED for s in studies}
    trials = bool(studies) and all(s.design == "rct" for s in studies)
    if missing:
        who = f"{len(missing)} of {len(studies)} studies ({', '.join(missing)})"
        if trials:
            return domain(NAME, NOT_ASSESSED,
                          f"no risk-of-bias judgement (column rob) for {who}: randomised "
                          "trials start high on a presumption of low risk nobody has checked",
                          change=-1, judgements=judgements)
        return domain(NAME, NOT_ASSESSED,
                      f"no risk-of-bias judgement (column rob) for {who}; the evidence "
                      "starts low as observational, which already accounts for it (GRADE "
                      "18), so no further level is taken", change=0,
                      judgements=judgements)
    known = all(s.n > 0 for s in studies)
    w = {s.study: s.n if known else 1 for s in studies}
    unit = "patients are in studies" if known else "studies are"
    total = sum(w.values())
    levels = {s.study: (ROB_2 if s.design == "rct" else ROBINS_I)[s.rob] for s in studies}
    shares = {d: sum(w[s] for s, v in levels.items() if v >= d) / total for d in (1, 2, 3)}
    down = max((d for d, share in shares.items() if share >= MAJORITY), default=0)
    tools = sorted({"RoB 2" if s.design == "rct" else "ROBINS-I" for s in studies})
    if down:
        why = (f"{shares[down]:.0%} of {unit} judged at a risk counting {down} level"
               f"{'s' if down > 1 else ''} or more ({', '.join(tools)})")
    else:
        why = f"{1 - shares[1]:.0%} of {unit} at a risk that takes no level ({', '.join(tools)})"
    high = sum(w[s.study] for s in studies if s.rob in ("serious", "critical")) / total
    critical = sum(w[s.study] for s in studies if s.rob == "critical") / total
    return domain(NAME, RATINGS[down], why, change=-down, judgements=judgements,
                  levels=levels, share_at_level={str(d): v for d, v in shares.items()},
                  share_high=high, share_critical=critical)


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
    """Risk of bias from the judgements, with the bias-adjusted analysis named beside it.

    The bias-adjusted fit (a bias shared by the studies, of the size meta-epidemiology
    suggests) is a sensitivity analysis of the same concern the judgements rate: it is
    reported in the reason and the values, and never takes a level of its own (risk of bias
    is counted once, GRADE 18).
    """
    if adjusted is None:
        return judged
    before = conclusion(p_unadjusted, decision_probability)
    values = {**judged.values, "bias_adjusted": {
        "ok": adjusted.ok, "prob_benefit": adjusted.prob_benefit,
        "prob_benefit_unadjusted": p_unadjusted, "detail": adjusted.detail}}
    if not adjusted.ok:
        return Domain(judged.name, judged.rating, judged.change,
                      f"{judged.reason}; the bias-adjusted fit did not converge", values)
    after = conclusion(adjusted.prob_benefit, decision_probability)
    shift = (f"P(benefit) {p_unadjusted:.3f} unadjusted, {adjusted.prob_benefit:.3f} with a "
             "shared bias of the size indirect meta-epidemiological evidence suggests")
    verb = ("keeps the conclusion" if after == before
            else f"would change the conclusion from {before} to {after}")
    return Domain(judged.name, judged.rating, judged.change,
                  f"{judged.reason}; the bias-adjusted analysis {verb} ({shift}; shown, not "
                  "counted again)", values)
