"""Prior rows of a sweep by Pareto-smoothed importance sampling of the reference posterior.

A prior setting changes only the prior: its posterior is the reference posterior times the
ratio of the two priors, ``p_new(θ) / p_ref(θ)`` over the parameters whose prior changed
(the ratio of densities of the natural parameters: the transform the sampler used does not
enter). With the reference draws as proposals, the log ratios are Pareto-smoothed (PSIS,
Vehtari et al. 2024) and the setting's posterior is represented by the reference draws
resampled with the smoothed weights. Where the estimate is unreliable — Pareto k̂ > 0.7, or
an effective sample size of the weights below the gate's 400 — the setting is refitted.

The Monte Carlo error of a reweighted P(benefit) is the self-normalised importance
sampling error, ``sqrt(Σ w_i² (I_i − P)²)`` (Vehtari et al. 2024, section 3), plus the
resampling error ``sqrt(P (1 − P) / S)``; the sweep's borderline rule reads it from
``prob_benefit_mcse`` as it reads a refit's.

References
----------
Vehtari A, Simpson D, Gelman A, Yao Y, Gabry J (2024). Pareto smoothed importance sampling.
JMLR 25(72):1-58.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from ..inference.diagnostics import ESS_MIN
from ..priors.distributions import Prior

KHAT_MAX = 0.7
"""Largest Pareto k̂ at which a reweighted row is used (Vehtari et al. 2024: above 0.7 the
importance-sampling estimate is unreliable whatever the number of draws)."""

RESAMPLE_STREAM = 3
"""Random stream ``default_rng([seed, RESAMPLE_STREAM])`` of the importance resampling."""


@dataclass(frozen=True)
class Reweighted:
    """One prior setting from the reference posterior, or why it must be refitted."""

    khat: float
    ess: float
    posterior: xr.Dataset | None = None
    """The reference draws resampled with the smoothed weights (None: refit)."""
    weights: np.ndarray | None = None
    """The smoothed, normalised weights of the flattened reference draws."""

    @property
    def usable(self) -> bool:
        return self.posterior is not None

    def indicator_mcse(self, indicator: np.ndarray) -> float:
        """MCSE of the reweighted mean of a 0/1 indicator of the (flattened) reference
        draws: importance-sampling error plus resampling error."""
        assert self.weights is not None
        ind = np.asarray(indicator, dtype=float).ravel()
        p = float(np.sum(self.weights * ind))
        is_var = float(np.sum(self.weights**2 * (ind - p) ** 2))
        return math.sqrt(is_var + p * (1 - p) / ind.size)


def _log_prior(prior: Prior, values: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.asarray(prior.scipy().logpdf(values), dtype=float)


def log_ratios(post: xr.Dataset, ref: dict[str, Prior], new: dict[str, Prior]) -> np.ndarray:
    """``log p_new − log p_ref`` of every (flattened) draw, summed over the slots whose
    prior differs (a slot over studies sums over its elements)."""
    n = post.sizes["chain"] * post.sizes["draw"]
    out = np.zeros(n)
    for slot, prior in new.items():
        if ref.get(slot) == prior:
            continue
        values = post[slot].transpose("chain", "draw", ...).values.reshape(n, -1)
        out += (_log_prior(prior, values) - _log_prior(ref[slot], values)).sum(axis=1)
    return out


def reweight(post: xr.Dataset, ref: dict[str, Prior], new: dict[str, Prior], seed: int
             ) -> Reweighted:
    """The posterior under ``new`` priors from draws ``post`` made under ``ref``.

    Returns a :class:`Reweighted` whose ``posterior`` is None when k̂ > :data:`KHAT_MAX`,
    the weights' ESS (``1 / Σ w²``) is below the gate's 400, or a draw has an impossible
    weight (a new prior with zero density where the reference had draws)."""
    from arviz_stats.base import array_stats

    lr = log_ratios(post, ref, new)
    if not np.all(np.isfinite(lr)):
        return Reweighted(math.inf, 0.0)
    # arviz-stats' psislw takes the negated log ratios (a LOO log-likelihood's sign)
    lw, khat = array_stats.psislw(-(lr - lr.max()))
    w = np.exp(lw - np.logaddexp.reduce(lw))
    w /= w.sum()
    ess = float(1.0 / np.sum(w**2))
    khat = float(khat)
    if not khat <= KHAT_MAX or ess < ESS_MIN:
        return Reweighted(khat, ess)
    chains, draws = post.sizes["chain"], post.sizes["draw"]
    idx = np.random.default_rng([seed, RESAMPLE_STREAM]).choice(lw.size, size=lw.size, p=w)
    flat = post.stack(sample=("chain", "draw"))
    picked = flat.isel(sample=idx).drop_vars(["sample", "chain", "draw"])
    picked = picked.assign_coords(sample=np.arange(lw.size))
    resampled = picked.assign_coords(
        chain=("sample", np.repeat(np.arange(chains), draws)),
        draw=("sample", np.tile(np.arange(draws), chains))
    ).set_index(sample=["chain", "draw"]).unstack("sample")
    dims = {v: post[v].dims for v in post.data_vars}
    resampled = resampled.assign({v: resampled[v].transpose(*d) for v, d in dims.items()})
    return Reweighted(khat, ess, resampled, w)


def summary(rw: Reweighted) -> dict[str, Any]:
    """The row entries that say how a row was made."""
    return {"method": "reweighted" if rw.usable else "refit",
            "pareto_khat": rw.khat, "weights_ess": rw.ess}
