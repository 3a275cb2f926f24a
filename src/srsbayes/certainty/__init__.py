"""Certainty of evidence and the decision: GRADE ratings, a summary-of-findings table and
the net clinical benefit, computed from each outcome's posterior.

One module per concern: the GRADE vocabulary (:mod:`.levels`); one module per domain
(:mod:`.risk_of_bias`, :mod:`.inconsistency`, :mod:`.indirectness`, :mod:`.imprecision`,
:mod:`.publication_bias`), the source audit as a named consideration
(:mod:`.source_audit`) and rating up for a large effect (:mod:`.large_effect`), combined
by :mod:`.grade`; the SoF rows (:mod:`.sof`, :mod:`.statements`); the net benefit
(:mod:`.net_benefit`, :mod:`.weights`); and :mod:`.run`, which ties them together. Every
result is a typed dataclass; JSON is its serialisation.

References
----------
Guyatt GH, Oxman AD, Akl EA, et al. (2011). GRADE guidelines: 1. Introduction - GRADE
evidence profiles and summary of findings tables. J Clin Epidemiol 64:383-394.

Zeng L, et al. (2021). GRADE guidelines 32. J Clin Epidemiol 137:163-175; (2022) GRADE
Guidance 34. J Clin Epidemiol 150:216-224 (the minimally contextualised approach).

Santesso N, et al. (2020). GRADE guidelines 26. J Clin Epidemiol 119:126-135.
"""

from .evidence import Baseline, OutcomeEvidence, StudyInfo, from_fit
from .grade import Certainty, rate_outcome
from .levels import LEVELS, Domain
from .net_benefit import NetBenefit, net_benefit
from .run import CertaintyReport, assess, write_certainty
from .sof import AbsoluteEffect, SoFRow
from .weights import DEFAULT_WEIGHTS, NetBenefitSettings, load_weights

__all__ = [
    "DEFAULT_WEIGHTS",
    "LEVELS",
    "AbsoluteEffect",
    "Baseline",
    "Certainty",
    "CertaintyReport",
    "Domain",
    "NetBenefit",
    "NetBenefitSettings",
    "OutcomeEvidence",
    "SoFRow",
    "StudyInfo",
    "assess",
    "from_fit",
    "load_weights",
    "net_benefit",
    "rate_outcome",
    "write_certainty",
]
