"""Inconsistency: would a new study's effect fall on another side of a threshold?

GRADE rates down for inconsistency when the studies' effects differ so much that they
lead to different conclusions (Guyatt et al. 2011, GRADE 7, J Clin Epidemiol 64:1294). The
Bayesian counterpart is the 95% prediction interval of the effect in a new study,
θ + τz (Higgins, Thompson & Spiegelhalter 2009, J R Stat Soc A 172:137): only the
thresholds it crosses *beyond* those the pooled interval crosses count, so one concern
is not rated down twice, once as imprecision and again as inconsistency.
"""

from __future__ import annotations

from .levels import NOT_SERIOUS, SERIOUS, VERY_SERIOUS, Domain, domain
from .thresholds import BenefitScale, as_scale, crossed, describe, marks

NAME = "inconsistency"


def rate_inconsistency(ci95: tuple[float, float], prediction95: tuple[float, float],
                       tau_median: float, tau_ci95: tuple[float, float],
                       threshold: float | None, unit: str | BenefitScale) -> Domain:
    """Rate inconsistency from τ and the prediction interval of the absolute benefit.

    Parameters
    ----------
    ci95, prediction95
        95% intervals of the pooled absolute benefit and of the benefit in a new study
        (positive favours preop).
    tau_median, tau_ci95
        Posterior median and 95% CrI of the between-study SD τ (log scale).
    threshold
        Smallest important benefit (and harm), positive; ``None``: no effect only.
    unit
        Unit suffix for the reason, or the :class:`~.thresholds.BenefitScale`.
    """
    scale = as_scale(unit)
    points = marks(threshold)
    pooled = set(crossed(*ci95, points))
    extra = tuple(p for p in crossed(*prediction95, points) if p not in pooled)
    rating = NOT_SERIOUS if not extra else SERIOUS if len(extra) == 1 else VERY_SERIOUS
    lo, hi = prediction95
    tau = f"τ {tau_median:.2f} (95% CrI {tau_ci95[0]:.2f} to {tau_ci95[1]:.2f})"
    if extra:
        reason = (f"{tau}: the 95% prediction interval of a new study's benefit, "
                  f"{scale.interval(lo, hi)}, also includes {describe(extra, scale)}, which "
                  "the pooled interval excludes")
    else:
        reason = (f"{tau}: the 95% prediction interval of a new study's benefit, "
                  f"{scale.interval(lo, hi)}, crosses no threshold that the pooled interval "
                  "does not")
    return domain(NAME, rating, reason, prediction95=[lo, hi], tau_median=tau_median,
                  tau_ci95=list(tau_ci95), extra_thresholds_crossed=list(extra))
