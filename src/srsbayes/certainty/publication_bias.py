"""Publication bias: Egger's regression test and the funnel data, with ten or more studies.

Tests for funnel-plot asymmetry have too little power with fewer than 10 studies
(Sterne et al. 2011, BMJ 343:d4002), so publication bias is then *not assessable* and
not rated down (GRADE rates down only when it is suspected: Guyatt et al. 2011, GRADE 5,
J Clin Epidemiol 64:1277). With 10 or more, Egger's test regresses the standardised
effect y/se on the precision 1/se; an intercept with p < 0.10 suggests small-study
effects (Egger et al. 1997, BMJ 315:629) and rates down one level.

For odds ratios from 2×2 counts Egger's test is biased, because the log odds ratio and
its standard error are correlated (Peters et al. 2006); when every study gives its events
and patients, Peters' test is used instead: a regression of the log odds ratio on 1/N
(N the study's patients), weighted by S F / N (S events, F non-events, both arms), whose
slope is tested at the same level (Sterne et al. 2011 recommend it for binary outcomes).

References
----------
Peters JL, Sutton AJ, Jones DR, Abrams KR, Rushton L (2006). Comparison of two methods to
detect publication bias in meta-analysis. JAMA 295:676-680.
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


@dataclass(frozen=True)
class Peters:
    """Peters' regression: slope on 1/N (the asymmetry), its SE, t, degrees of freedom, p."""

    slope: float
    se: float
    t: float
    df: int
    p: float


def peters_test(log_or: np.ndarray, n: np.ndarray, events: np.ndarray) -> Peters:
    """Peters' test: weighted least squares of ``log_or`` on ``1 / n`` with weights
    ``S F / n`` (``S`` = ``events``, ``F = n - events``, totals of both arms); two-sided p
    of the slope from a t distribution with k − 2 degrees of freedom (k ≥ 3)."""
    y, n, s = (np.asarray(v, dtype=float) for v in (log_or, n, events))
    k = y.size
    if k < 3:
        raise ValueError("Peters' test needs at least 3 studies")
    w = s * (n - s) / n
    x = np.column_stack([np.ones(k), 1.0 / n])
    xw = x * w[:, None]
    cov_unscaled = np.linalg.inv(x.T @ xw)
    coef = cov_unscaled @ (xw.T @ y)
    resid = y - x @ coef
    sigma2 = float(w @ resid**2) / (k - 2)  # residual variance as in an ordinary WLS fit
    se1 = float(np.sqrt(sigma2 * cov_unscaled[1, 1]))
    t = float(coef[1]) / se1 if se1 > 0 else np.inf * np.sign(coef[1])
    return Peters(float(coef[1]), se1, t, k - 2, float(2 * stats.t.sf(abs(t), k - 2)))


def rate_publication_bias(studies: list[str], estimate: np.ndarray, se: np.ndarray,
                          n: np.ndarray | None = None, events: np.ndarray | None = None
                          ) -> Domain:
    """Rate publication bias from the studies' observed log effects and standard errors.

    With ``n`` and ``events`` (patients and events of both arms, every study; log odds
    ratios from 2×2 counts) the test is Peters', otherwise Egger's. The funnel data
    (``funnel``: study, estimate, se) are returned whenever there are enough studies to
    test, for a funnel plot (:func:`srsbayes.plots.funnel.funnel_png`).
    """
    k = len(studies)
    if k < MIN_STUDIES:
        return domain(NAME, NOT_ASSESSABLE,
                      f"not assessable with fewer than {MIN_STUDIES} studies ({k} here): "
                      "tests of funnel-plot asymmetry have too little power", n_studies=k)
    funnel = [{"study": s, "estimate": float(y), "se": float(v)}
              for s, y, v in zip(studies, estimate, se, strict=True)]
    values: dict = {"n_studies": k, "funnel": funnel}
    counts = n is not None and events is not None and bool(
        np.all(np.isfinite(np.asarray(n, float))) and np.all(np.isfinite(np.asarray(events,
                                                                                  float))))
    if counts:
        pt = peters_test(estimate, n, events)  # type: ignore[arg-type]
        values["peters"] = pt.__dict__
        test, stat, p = "Peters' test", f"slope on 1/N {pt.slope:.2f}", pt.p
    else:
        e = egger_test(estimate, se)
        values["egger"] = e.__dict__
        test, stat, p = "Egger's test", f"intercept {e.intercept:.2f}", e.p
    if p < ALPHA:
        return domain(NAME, SERIOUS, f"{test} suggests small-study effects "
                      f"({stat}, p = {p:.3f}, {k} studies)", **values)
    return domain(NAME, NOT_SERIOUS, f"{test} finds no small-study effect "
                  f"({stat}, p = {p:.2f}, {k} studies)", **values)
