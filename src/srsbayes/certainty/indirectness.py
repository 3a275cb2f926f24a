"""Indirectness as declared in the outcome's spec (``[indirectness]``: rating, reason).

Whether the studies' populations, interventions and outcomes are the ones the question is
about is a judgement, not something the posterior can answer (Guyatt et al. 2011, GRADE 8,
J Clin Epidemiol 64:1303), so the spec states it with its reason.
"""

from __future__ import annotations

from ..inputs.specs import Indirectness
from .levels import NOT_ASSESSED, Domain, domain

NAME = "indirectness"


def rate_indirectness(declared: Indirectness | None) -> Domain:
    """The spec's rating and reason; not declared = *not assessed*, not rated down (say so)."""
    if declared is None:
        return domain(NAME, NOT_ASSESSED, "not declared in the outcome's spec (add an "
                      "[indirectness] table with rating and reason); not rated down",
                      change=0)
    return domain(NAME, declared.rating, declared.reason)
