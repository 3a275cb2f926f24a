"""Inconsistency, judged from the studies' own results.

GRADE rates down for inconsistency when the studies' effects differ so much that they lead
to different conclusions (Guyatt et al. 2011, GRADE 7; Guyatt et al. 2023, GRADE 36). The
rule reads the data, not the prior:

1. **Point estimates and their intervals** (GRADE 36's first criteria): do the studies'
   point estimates lie on both sides of no effect, and do their 95% intervals fail to
   overlap?
2. **Cochran's Q and I²**, with I²'s 95% interval (Higgins & Thompson 2002, the test-based
   interval of H), which says how much the studies' spread is known at all from a few
   studies.
3. **The prediction interval** of a new study's benefit (θ + τz; Higgins, Thompson &
   Spiegelhalter 2009) only when τ is informed by the data: its posterior 95% interval is
   at most half as wide as its prior's (:data:`INFORMED`). Otherwise the prediction
   interval mostly restates the prior on τ and says nothing about these studies. Only the
   thresholds it crosses *beyond* those the pooled interval crosses count (no concern
   rated twice, once as imprecision).

Rated *serious* when the point estimates lie on both sides of no effect and the spread is
beyond chance (non-overlapping intervals, Q's p < 0.10 or I² >= 50%), *very serious* when
in addition the intervals do not overlap and I² >= 75%; a prediction interval from an
informed τ can raise this (the larger downgrade counts, never the sum). Studies that agree
*more* closely than chance allows are the source audit's concern (``homogeneity``) and are
never counted here; the certainty rule counts at most one of the two.

References
----------
Guyatt GH, Zhao Y, Mayer M, et al. (2023). GRADE guidance 36: updates to GRADE's approach
to addressing inconsistency. J Clin Epidemiol 158:70-83.

Higgins JPT, Thompson SG (2002). Quantifying heterogeneity in a meta-analysis. Stat Med
21:1539-1558.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

from .levels import NOT_SERIOUS, SERIOUS, VERY_SERIOUS, Domain, domain
from .thresholds import BenefitScale, as_scale, crossed, describe, marks

NAME = "inconsistency"
INFORMED = 0.5
"""τ is informed by the data when its posterior 95% interval is at most this share of the
width of its prior's central 95% interval."""
Q_ALPHA = 0.10
Z95 = 1.959963984540054


def heterogeneity(estimates: Sequence[float], ses: Sequence[float]) -> dict[str, float]:
    """Cochran's Q (inverse-variance weights), its df and upper-tail p, and I² with the
    Higgins-Thompson 95% interval (via ln H)."""
    y, s = np.asarray(estimates, float), np.asarray(ses, float)
    ok = np.isfinite(y) & np.isfinite(s) & (s > 0)
    y, s = y[ok], s[ok]
    k = len(y)
    if k < 2:
        return {"k": k, "q": math.nan, "df": max(k - 1, 0), "p": math.nan, "i2": math.nan,
                "i2_low": math.nan, "i2_high": math.nan}
    w = 1 / s**2
    q = float((w * (y - (w * y).sum() / w.sum()) ** 2).sum())
    df = k - 1
    i2 = max(0.0, (q - df) / q) if q > 0 else 0.0
    if k > 2 and q > k:
        se_ln_h = 0.5 * (math.log(q) - math.log(df)) / (math.sqrt(2 * q) - math.sqrt(2 * k - 3))
    elif k > 2:
        se_ln_h = math.sqrt(1 / (2 * (k - 2)) * (1 - 1 / (3 * (k - 2) ** 2)))
    else:
        se_ln_h = math.nan
    ln_h = 0.5 * math.log(max(q / df, 1e-12))
    lo_h, hi_h = math.exp(ln_h - Z95 * se_ln_h), math.exp(ln_h + Z95 * se_ln_h)

    def i2_of(h: float) -> float:
        return max(0.0, (h * h - 1) / (h * h)) if math.isfinite(h) else math.nan

    return {"k": k, "q": q, "df": df, "p": float(stats.chi2.sf(q, df)), "i2": i2,
            "i2_low": i2_of(lo_h), "i2_high": i2_of(hi_h)}


def rate_inconsistency(estimates: Sequence[float], ses: Sequence[float],
                       ci95: tuple[float, float], prediction95: tuple[float, float],
                       tau_median: float, tau_ci95: tuple[float, float],
                       tau_prior95: tuple[float, float] | None,
                       threshold: float | None, unit: str | BenefitScale) -> Domain:
    """Rate inconsistency from the studies' estimates (see the module docstring).

    Parameters
    ----------
    estimates, ses
        Each study's observed effect on the analysis (log) scale, 0 = no effect, and its
        standard error.
    ci95, prediction95
        95% intervals of the pooled absolute benefit and of the benefit in a new study
        (positive favours preop).
    tau_median, tau_ci95
        Posterior median and 95% CrI of the between-study SD τ.
    tau_prior95
        The central 95% interval of τ's prior; ``None``: unknown (the prediction interval
        is then not used).
    threshold
        Smallest important benefit (and harm), positive; ``None``: no effect only.
    unit
        Unit suffix for the reason, or the :class:`~.thresholds.BenefitScale`.
    """
    scale = as_scale(unit)
    y, s = np.asarray(estimates, float), np.asarray(ses, float)
    known = np.isfinite(y) & np.isfinite(s)
    y, s = y[known], s[known]
    het = heterogeneity(y, s)
    split = bool((y < 0).any() and (y > 0).any())
    lo, hi = y - Z95 * s, y + Z95 * s
    disjoint = bool(len(y) > 1 and lo.max() > hi.min())
    beyond_chance = disjoint or (het["p"] < Q_ALPHA) or (het["i2"] >= 0.5)
    data_down = (2 if split and disjoint and het["i2"] >= 0.75
                 else 1 if split and beyond_chance else 0)
    q_text = (f"Q {het['q']:.2f} on {het['df']} df (p {het['p']:.2f}), I² {het['i2']:.0%} "
              f"(95% CI {het['i2_low']:.0%} to {het['i2_high']:.0%})"
              if math.isfinite(het["q"]) else "one study: no spread to judge")
    sides = ("the studies' point estimates lie on both sides of no effect" if split
             else "the studies' point estimates all lie on one side of no effect")
    overlap = "some 95% intervals do not overlap" if disjoint else "their 95% intervals overlap"
    tau = f"τ {tau_median:.2f} (95% CrI {tau_ci95[0]:.2f} to {tau_ci95[1]:.2f})"
    informed = (tau_prior95 is not None and tau_ci95[1] - tau_ci95[0]
                <= INFORMED * (tau_prior95[1] - tau_prior95[0]))
    pooled = set(crossed(*ci95, marks(threshold)))
    extra = (tuple(p for p in crossed(*prediction95, marks(threshold)) if p not in pooled)
             if informed else ())
    pi_down = 0 if not extra else 1 if len(extra) == 1 else 2
    down = max(data_down, pi_down)
    if informed:
        pl, ph = prediction95
        pi_text = (f"{tau} is informed by the data; the 95% prediction interval of a new "
                   f"study's benefit, {scale.interval(pl, ph)}, "
                   + (f"also includes {describe(extra, scale)}, which the pooled interval "
                      "excludes" if extra else "crosses no threshold the pooled interval "
                      "does not"))
    elif tau_prior95 is None:
        pi_text = (f"{tau}; its prior's interval is not known here, so the prediction "
                   "interval is not used")
    else:
        pi_text = (f"{tau} is barely narrower than its prior (prior 95% interval "
                   f"{tau_prior95[0]:.2f} to {tau_prior95[1]:.2f}), so the prediction "
                   "interval is not used: it would restate the prior")
    reason = f"{sides} and {overlap}; {q_text}; {pi_text}"
    rating = {0: NOT_SERIOUS, 1: SERIOUS, 2: VERY_SERIOUS}[down]
    return domain(NAME, rating, reason, heterogeneity=het, estimates_split=split,
                  intervals_disjoint=disjoint, tau_informed=informed,
                  prediction95=list(prediction95), tau_median=tau_median,
                  tau_ci95=list(tau_ci95),
                  tau_prior95=None if tau_prior95 is None else list(tau_prior95),
                  extra_thresholds_crossed=list(extra))
