"""Imprecision: does the 95% CrI of the absolute effect cross no effect or the threshold?

The minimally contextualised approach (Zeng et al. 2022, J Clin Epidemiol 150:216) rates
down one level when the interval crosses one threshold (no effect, or the smallest
important benefit or harm) and two when it crosses two or more: the evidence then cannot
say on which side of them the effect lies. Intervals from the posterior replace the
frequentist ones (Guyatt et al. 2011, GRADE 6, J Clin Epidemiol 64:1283).
"""

from __future__ import annotations

from .levels import NOT_SERIOUS, SERIOUS, VERY_SERIOUS, Domain, domain
from .thresholds import BenefitScale, as_scale, crossed, describe, marks

NAME = "imprecision"


def rate_imprecision(ci95: tuple[float, float], threshold: float | None,
                     unit: str | BenefitScale) -> Domain:
    """Rate imprecision from the 95% CrI of the absolute benefit.

    Parameters
    ----------
    ci95
        Central 95% credible interval of the absolute effect, signed so that positive
        favours preop (percentage points or months).
    threshold
        Smallest important benefit (and harm), positive; ``None``: no effect only.
    unit
        Unit suffix for the reason, e.g. ``" percentage points"``, or the
        :class:`~.thresholds.BenefitScale` (published ratios: shown as the ratio).
    """
    scale = as_scale(unit)
    lo, hi = ci95
    hits = crossed(lo, hi, marks(threshold))
    rating = NOT_SERIOUS if not hits else SERIOUS if len(hits) == 1 else VERY_SERIOUS
    shown = f"the 95% CrI of the {scale.what}, {scale.interval(lo, hi)}"
    if not hits:
        side = _side(lo, hi, threshold)
        reason = f"{shown}, lies {side}"
    else:
        reason = f"{shown}, includes {describe(hits, scale)}"
    return domain(NAME, rating, reason, ci95=[lo, hi], threshold=threshold,
                  thresholds_crossed=list(hits))


def _side(lo: float, hi: float, threshold: float | None) -> str:
    """Where an interval that crosses nothing lies, in words."""
    t = threshold
    if t is not None and lo >= t:
        return "wholly beyond the smallest important benefit"
    if t is not None and hi <= -t:
        return "wholly beyond the smallest important harm"
    if lo >= 0:
        return ("wholly on the side of benefit" if t is None
                else "between no effect and the smallest important benefit (a trivial benefit)")
    return ("wholly on the side of harm" if t is None
            else "between the smallest important harm and no effect (a trivial harm)")
