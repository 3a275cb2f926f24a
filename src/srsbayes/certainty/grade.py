"""Certainty of the evidence for one outcome (GRADE), computed where the posterior answers.

Certainty starts at low for observational evidence (high when every study is an RCT),
is rated down per domain with the reason for each downgrade, may be rated up for a large
effect, and names the source audit's findings as a consideration of its own.

Imprecision and inconsistency read the fit's own absolute effect (``summary["absolute"]``:
``benefit`` and ``benefit_new``, at the baseline model of the fit), so the rating does not
change with the baselines the SoF table is shown at.

References
----------
Guyatt GH, Oxman AD, Akl EA, et al. (2011). GRADE guidelines: 1. Introduction - GRADE
evidence profiles and summary of findings tables. J Clin Epidemiol 64:383-394.

Zeng L, Brignardello-Petersen R, Hultcrantz M, et al. (2021). GRADE guidelines 32: GRADE
offers guidance on choosing targets of GRADE certainty of evidence ratings. J Clin
Epidemiol 137:163-175; and (2022) GRADE Guidance 34: update on rating imprecision using a
minimally contextualized approach. J Clin Epidemiol 150:216-224.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..audit.findings import Finding
from ..families import FAMILIES, measure_info
from ..inputs.question import Question
from ..inputs.specs import OutcomeSpec
from .evidence import OutcomeEvidence, primary_absolute
from .imprecision import information_size, rate_imprecision
from .inconsistency import rate_inconsistency
from .indirectness import rate_indirectness
from .large_effect import rate_large_effect
from .levels import Domain, Level, final_level, start_level
from .publication_bias import rate_publication_bias
from .risk_of_bias import StudyBias, rate_risk_of_bias, with_bias_adjustment
from .source_audit import rate_source_audit
from .thresholds import BenefitScale, absolute_threshold
from .tipping import Tolerance, reverse_bayes_sentence, tipping_sentence

if TYPE_CHECKING:
    from ..outputs import JSONObject

NOT_CONVERGED = "not assessable: the fit did not converge"
TARGET = ("the certainty that the true effect lies on the side of no effect and of the "
          "smallest important benefit where the posterior puts it (minimally "
          "contextualised approach, Zeng et al. 2021)")


@dataclass(frozen=True)
class Certainty:
    """The certainty rating of one outcome.

    Attributes
    ----------
    outcome
        Outcome id.
    level
        ``high``, ``moderate``, ``low`` or ``very low``; ``None`` when not assessable.
    start, start_reason
        Where the rating started and why.
    domains
        The five GRADE domains, then the source audit and the large-effect check.
    note
        Why the outcome is not assessable, or ``""``.
    """

    outcome: str
    level: Level | None
    start: Level
    start_reason: str
    domains: tuple[Domain, ...]
    note: str = ""
    tolerance: Tolerance | None = None
    """How much bias, and how sceptical a prior, the conclusion tolerates: the fit's
    ``tipping_points`` and ``reverse_bayes`` with their sentences
    (:mod:`srsbayes.certainty.tipping`); None when the fit carries none."""

    @property
    def assessable(self) -> bool:
        return self.level is not None

    @property
    def reasons(self) -> list[str]:
        """One line per level moved: ``"rated down for imprecision: ..."``."""
        return [f"rated {'down' if d.change < 0 else 'up'} {abs(d.change)} for {d.name}: "
                f"{d.reason}" for d in self.domains if d.change]

    def as_dict(self) -> JSONObject:
        return {"outcome": self.outcome, "level": self.level, "assessable": self.assessable,
                "start": self.start, "start_reason": self.start_reason, "target": TARGET,
                "reasons": self.reasons, "domains": [d.as_dict() for d in self.domains],
                "note": self.note, **(self.tolerance or {})}


UNITS = {"risk_difference": " percentage points", "months": " months"}
"""Unit suffix of each absolute measure in reasons (none for a measure's own scale)."""


def unit_of(family: str) -> str:
    """Unit suffix of a family's absolute measure in reasons."""
    return UNITS.get(FAMILIES[family].absolute_measure, "")


def benefit_scale(spec: OutcomeSpec) -> tuple[BenefitScale, float | None]:
    """The scale imprecision and inconsistency rate the benefit on, and its threshold.

    The family's absolute measure where it has one (a baseline model: percentage points,
    months); for published ratios, which have none, the signed log ratio shown as the ratio,
    with the spec's ratio threshold as ``|log threshold|``.
    """
    info = measure_info(spec.family, spec.measure)
    if "baseline" in info.slots or not info.log_scale:
        return BenefitScale(unit=unit_of(spec.family)), absolute_threshold(spec)
    t = next((abs(math.log(t.threshold)) for t in spec.thresholds
              if t.measure == "ratio" and t.threshold > 0 and t.threshold != 1), None)
    return (BenefitScale(what=f"{info.measure_name} (rated on the relative effect)",
                         ratio=info.measure_abbrev, sign=spec.sign), t)


def not_assessable(ev: OutcomeEvidence) -> Certainty:
    """The rating of an outcome whose fit failed its convergence gate."""
    start, why = start_level([s.design for s in ev.studies], [s.rob for s in ev.studies])
    return Certainty(ev.spec.id, None, start, why, (), NOT_CONVERGED)


def tau_prior95(summary: JSONObject) -> tuple[float, float] | None:
    """The central 95% interval of the fit's prior on τ (``summary["priors"]``), or None."""
    from ..errors import InputError
    from ..priors.distributions import parse_prior

    text = summary.get("priors", {}).get("tau")
    if not text:
        return None
    try:
        dist = parse_prior(text).scipy()
    except (InputError, ValueError, KeyError, TypeError):
        return None
    return float(dist.ppf(0.025)), float(dist.ppf(0.975))


def _information_size(ev: OutcomeEvidence):
    """The OIS check's numbers for count data (None otherwise)."""
    events = np.array([st.events for st in ev.studies], dtype=float)
    if (not FAMILIES[ev.spec.family].count_data or ev.baseline is None
            or not np.isfinite(events).all()):
        return None
    return information_size(ev.n_patients, float(events.sum()), ev.baseline.value)


def rate_outcome(ev: OutcomeEvidence, findings: list[Finding],
                 question: Question | None = None) -> Certainty:
    """Rate the certainty of one outcome's evidence.

    Parameters
    ----------
    ev
        The outcome's evidence (:func:`srsbayes.certainty.evidence.from_fit`).
    findings
        The source audit's findings (:func:`srsbayes.audit.run_audit`).
    question
        The review question whose arms the tipping sentence names (default: the bundled
        one).

    Returns
    -------
    Certainty
        Not assessable (level ``None``) when the fit failed its gate.
    """
    if not ev.ok:
        return not_assessable(ev)
    s, spec = ev.summary, ev.spec
    unit, threshold = benefit_scale(spec)
    # imprecision reads the primary absolute effect, the one the SoF table shows
    ci = tuple(primary_absolute(s)["benefit"]["ci95"])
    pred = tuple(s["absolute"]["benefit_new"]["ci95"])
    start, why = start_level([st.design for st in ev.studies], [st.rob for st in ev.studies])
    inconsistency = rate_inconsistency(
        [st.estimate for st in ev.studies], [st.se for st in ev.studies], ci, pred,
        s["tau"]["median"], tuple(s["tau"]["ci95"]), tau_prior95(s), threshold, unit)
    domains = [
        with_bias_adjustment(
            rate_risk_of_bias([StudyBias(st.study, st.rob, st.n, st.design)
                               for st in ev.studies]),
            ev.bias_adjusted, float(s.get("prob_benefit", math.nan)), spec.decision_probability),
        inconsistency,
        rate_indirectness(spec.indirectness),
        rate_imprecision(ci, threshold, unit, _information_size(ev)),
        rate_publication_bias([st.study for st in ev.studies],
                              np.array([st.estimate for st in ev.studies]),
                              np.array([st.se for st in ev.studies]),
                              np.array([st.n for st in ev.studies], dtype=float),
                              np.array([st.events for st in ev.studies])),
        # never rated down for both too much and too little spread
        rate_source_audit(findings, spec.id,
                          exclude=("homogeneity",) if inconsistency.change else ()),
    ]
    eligible = start == Level.LOW and not any(d.change for d in domains)
    domains.append(rate_large_effect(tuple(s["effect"]["ci95"]),
                                     FAMILIES[spec.family].measure_abbrev, eligible))
    level = final_level(start, [d.change for d in domains])
    return Certainty(spec.id, level, start, why, tuple(domains),
                     tolerance=tolerance(s, question))


def tolerance(summary: JSONObject, question: Question | None = None) -> Tolerance | None:
    """The fit's tipping points and reverse-Bayes prior, with their sentences."""
    if "tipping_points" not in summary:
        return None
    return Tolerance(tipping_points=summary["tipping_points"],
                     reverse_bayes=summary.get("reverse_bayes"),
                     tipping_text=tipping_sentence(summary, question),
                     reverse_bayes_text=reverse_bayes_sentence(summary))
