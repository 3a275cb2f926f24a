"""Publication bias: Egger's regression test and the funnel data, with ten or more studies.

Tests for funnel-plot asymmetry have too little power with fewer than 10 studies
(Sterne et al. 2011, BMJ 343:d4002), so publication bias is then *not assessable* and
not rated down (GRADE rates down only when it is suspected: Guyatt et al. 2011, GRADE 5,
J Clin Epidemiol 64:1277). With 10 or more, Egger's test regresses the standardised
effect y/se on the precision 1/se; an intercept with p < 0.10 suggests small-study
effects (Egger et al. 1997, BMJ 315:629) and rates down one level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from .levels import NOT_ASSESSABLE, NOT_SERIOUS, SERIOUS, Domain, domain

NAME = "publication bias"
MIN_STUDIES = 10
ALPHA = 0.10
"""Egger et al. (1997) judge the intercept at the 10% level."""


@dataclass(frozen=True)
class Egger:
    """Egger's regression: intercept (the asymmetry), its SE, t, degrees of freedom, p."""

    intercept: float
    se: float
    t: float
    df: int
    p: float


def egger_test(estimate: np.ndarray, se: np.ndarray) -> Egger:
    """Egger's test: least squares of ``estimate / se`` on ``1 / se``; two-sided p of the
    intercept from a t distribution with k − 2 degrees of freedom (k ≥ 3)."""
    y, s = np.asarray(estimate, dtype=float), np.asarray(se, dtype=float)
    k = y.size
    if k < 3:
        raise ValueError("Egger's test needs at least 3 studies")
    x = np.column_stack([np.ones(k), 1.0 / s])
    z = y / s
    coef, *_ = np.linalg.lstsq(x, z, rcond=None)
    resid = z - x @ coef
    sigma2 = float(resid @ resid) / (k - 2)
    cov = sigma2 * np.linalg.inv(x.T @ x)
    se0 = float(np.sqrt(cov[0, 0]))
    t = float(coef[0]) / se0 if se0 > 0 else np.inf * np.sign(coef[0])
    p = float(2 * stats.t.sf(abs(t), k - 2))
    return Egger(float(coef[0]), se0, float(t), k - 2, p)


def rate_publication_bias(studies: list[str], estimate: np.ndarray, se: np.ndarray
                          ) -> Domain:
    """Rate publication bias from the studies' observed log effects and standard errors.

    The funnel data (``funnel``: study, estimate, se) are returned whenever there are
    enough studies to test, for a funnel plot.
    """
    k = len(studies)
    if k < MIN_STUDIES:
        return domain(NAME, NOT_ASSESSABLE,
                      f"not assessable with fewer than {MIN_STUDIES} studies ({k} here): "
                      "tests of funnel-plot asymmetry have too little power", n_studies=k)
    e = egger_test(estimate, se)
    funnel = [{"study": s, "estimate": float(y), "se": float(v)}
              for s, y, v in zip(studies, estimate, se, strict=True)]
    values = {"n_studies": k, "egger": e.__dict__, "funnel": funnel}
    if e.p < ALPHA:
        return domain(NAME, SERIOUS, f"Egger's test suggests small-study effects "
                      f"(intercept {e.intercept:.2f}, p = {e.p:.3f}, {k} studies)", **values)
    return domain(NAME, NOT_SERIOUS, f"Egger's test finds no small-study effect "
                  f"(intercept {e.intercept:.2f}, p = {e.p:.2f}, {k} studies)", **values)
