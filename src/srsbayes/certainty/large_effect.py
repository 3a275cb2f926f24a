"""Rating up observational evidence for a large effect.

GRADE may rate observational evidence up one level when the relative effect is large
(whole interval beyond 2 or below 0.5) and two when it is very large (beyond 5 or below
0.2), provided nothing was rated down (Guyatt et al. 2011, GRADE 9, J Clin Epidemiol
64:1311-1316). The odds ratio stands in for the risk ratio there; with risks below about
20% the two are close.
"""

from __future__ import annotations

from .levels import Domain, domain

NAME = "large effect"
LARGE, VERY_LARGE = 2.0, 5.0


def rate_large_effect(ratio_ci95: tuple[float, float], abbrev: str, eligible: bool
                      ) -> Domain:
    """+1 or +2 levels when the whole 95% CrI of the ratio is beyond 2 (or 1/2) or 5 (1/5)
    and ``eligible`` (observational evidence with nothing rated down)."""
    lo, hi = ratio_ci95
    shown = f"{abbrev} 95% CrI {lo:.2f} to {hi:.2f}"
    size = 0
    for i, bound in enumerate((LARGE, VERY_LARGE), start=1):
        if hi <= 1 / bound or lo >= bound:
            size = i
    rating = ("none", "large", "very large")[size]
    if size and not eligible:
        return domain(NAME, rating, f"{shown} is {rating}, but certainty is rated up only "
                      "for observational evidence with no reason to rate down", change=0)
    if not size:
        return domain(NAME, rating, f"{shown} is not wholly beyond {LARGE:g} or "
                      f"1/{LARGE:g}", change=0)
    return domain(NAME, rating, f"{shown} is wholly beyond "
                  f"{(LARGE, VERY_LARGE)[size - 1]:g} (or its inverse)", change=size)
