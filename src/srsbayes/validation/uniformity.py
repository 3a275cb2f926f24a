"""Uniformity tests of SBC ranks: the simultaneous ECDF test of Säilynoja, Bürkner & Vehtari
(2022) and a chi-square test on binned ranks (:mod:`srsbayes.validation.sbc`).

References
----------
Säilynoja T, Bürkner P-C, Vehtari A (2022). Graphical test for discrete uniformity and
its applications in goodness-of-fit evaluation and multiple sample comparison.
Stat Comput 32:32.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import stats
from scipy.special import bdtr, bdtrc

N_NULL = 20_000
"""Simulated uniform rank sets that calibrate the ECDF test's p-value."""


def eval_points(n_sims: int, max_rank: int) -> np.ndarray:
    """Rank cut-points ``k`` (ECDF evaluated at ``z = k / (max_rank + 1)``).

    Säilynoja et al. (2022) evaluate the ECDF at ``K <= N`` equally spaced points; ``K``
    is the largest divisor of ``max_rank + 1`` not above ``n_sims``, so every point is a
    boundary between rank values and the test is exact for discrete ranks.
    """
    m = max_rank + 1
    K = max(d for d in range(1, min(m, n_sims) + 1) if m % d == 0)
    return np.arange(1, K) * (m // K)


def _min_tail_prob(counts_below: np.ndarray, n: int, z: np.ndarray) -> np.ndarray:
    """Smallest one-sided binomial tail probability over the evaluation points.

    ``counts_below[..., j]`` is the number of ranks below cut ``j``; under uniformity it
    is Binomial(n, z_j). This is ``(1 - gamma) / 2`` in the notation of Säilynoja et al.
    """
    lower = bdtr(counts_below, n, z)
    # P(X >= c); written out for c = 0 because bdtr(-1, ...) is NaN, which would silently
    # drop the upper tail from a min() (as in arviz_stats 1.3's band simulation).
    upper = np.where(counts_below > 0, bdtrc(np.maximum(counts_below - 1, 0), n, z), 1.0)
    return np.minimum(lower, upper).min(axis=-1)


@lru_cache(maxsize=32)
def _null_min_tail(n: int, max_rank: int) -> np.ndarray:
    cuts = eval_points(n, max_rank)
    z = cuts / (max_rank + 1)
    rng = np.random.default_rng([n, max_rank, 20220301])
    draws = rng.multinomial(n, np.full(max_rank + 1, 1.0 / (max_rank + 1)), size=N_NULL)
    below = np.cumsum(draws, axis=1)[:, cuts - 1]
    return np.sort(_min_tail_prob(below, n, z))


def ecdf_uniformity_pvalue(ranks: np.ndarray, max_rank: int) -> float:
    """P-value of the simultaneous ECDF test for discrete uniformity on ``0..max_rank``.

    The statistic is the smallest pointwise binomial tail probability of the rank ECDF;
    its null distribution is simulated (``N_NULL`` rank sets, fixed seed), which is how
    Säilynoja et al. (2022) calibrate their simultaneous confidence bands. The ECDF lies
    outside the ``1 - a`` band of :func:`ecdf_band` when this p-value is below ``a`` (up to
    the discreteness of the statistic).
    """
    r = np.asarray(ranks, dtype=np.int64)
    cuts = eval_points(len(r), max_rank)
    z = cuts / (max_rank + 1)
    below = (r[:, None] < cuts[None, :]).sum(axis=0)
    stat = float(_min_tail_prob(below, len(r), z))
    null = _null_min_tail(len(r), max_rank)
    return float((1 + np.searchsorted(null, stat, side="right")) / (1 + len(null)))


def chisq_uniformity_pvalue(ranks: np.ndarray, max_rank: int, bins: int = 10) -> float:
    """Pearson chi-square test of ``bins`` equally wide rank bins (Talts et al. 2018)."""
    m = max_rank + 1
    if m % bins:
        raise ValueError(f"{m} rank values do not split into {bins} bins")
    counts = np.bincount(np.asarray(ranks) // (m // bins), minlength=bins)
    return float(stats.chisquare(counts).pvalue)


def ecdf_band(n_sims: int, max_rank: int, prob: float
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Simultaneous ``prob`` band for the rank ECDF (Säilynoja et al. 2022, simulation method).

    Returns ``(z, lower, upper)`` at the evaluation points of :func:`eval_points`: the
    ECDF values whose pointwise binomial tail probabilities are all above the
    ``1 - prob`` quantile of the simulated null statistic. The band is computed from the
    same null simulation as :func:`ecdf_uniformity_pvalue`, so the ECDF leaves the band
    when that p-value is below ``1 - prob`` (up to the discreteness of the statistic).
    """
    cuts = eval_points(n_sims, max_rank)
    z = cuts / (max_rank + 1)
    null = _null_min_tail(n_sims, max_rank)
    threshold = np.quantile(null, 1 - prob, method="lower")
    c = np.arange(n_sims + 1)[:, None]
    lower_tail = bdtr(c, n_sims, z)
    upper_tail = np.where(c > 0, bdtrc(np.maximum(c - 1, 0), n_sims, z), 1.0)
    inside = np.minimum(lower_tail, upper_tail) > threshold
    lo = np.argmax(inside, axis=0)
    hi = n_sims - np.argmax(inside[::-1], axis=0)
    return z, lo / n_sims, hi / n_sims


def rank_ecdf(ranks: np.ndarray, max_rank: int) -> tuple[np.ndarray, np.ndarray]:
    """``(z, F(z))``: the fraction of ranks below each cut-point of :func:`eval_points`."""
    r = np.asarray(ranks, dtype=np.int64)
    cuts = eval_points(len(r), max_rank)
    return cuts / (max_rank + 1), (r[:, None] < cuts[None, :]).mean(axis=0)
