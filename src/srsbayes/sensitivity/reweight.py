"""Sweep rows by Pareto-smoothed importance sampling of the reference posterior.

A row whose model is the reference model with another prior, or with other data of the same
parameters, is an importance-sampling problem: its posterior is the reference posterior times
a ratio the reference draws let us compute.

* **A prior setting**: ``p_new(θ) / p_ref(θ)`` over the parameters whose prior changed (the
  ratio of densities of the natural parameters: the transform the sampler used does not
  enter; :func:`log_ratios`).
* **Leave one study out**: ``1 / p(y_i | θ)``, the study's likelihood removed (PSIS-LOO at
  the level of the study; Vehtari, Gelman & Gabry 2017). The left-out study's own
  parameters then follow their prior and are dropped (:func:`loo_log_ratios`).
* **Other data of the same model** (counts taken as exact instead of count sets, rates
  read as Kaplan-Meier): ``p(y' | θ) / p(y | θ)`` from the family's pointwise
  log-likelihood (:func:`data_log_ratios`).

The log ratios are Pareto-smoothed (PSIS, Vehtari et al. 2024) and the row's posterior is
represented by the reference draws resampled with the smoothed weights. Where the estimate
is unreliable — Pareto k̂ above the sample-size-dependent threshold
``min(1 − 1 / log10(S), 0.7)`` (:func:`khat_threshold`), or an effective sample size of the
weights below the gate's 400 — the row is refitted; so is a prior setting whose changed prior
reaches beyond the reference prior's support (:func:`covers`), where the reference draws say
nothing.

The Monte Carlo error of a reweighted P(benefit) is the self-normalised importance
sampling error, ``sqrt(Σ w_i² (I_i − P)²)`` (Vehtari et al. 2024, section 3), plus the
resampling error ``sqrt(P (1 − P) / S)``; the sweep's borderline rule reads it from
``prob_benefit_mcse`` as it reads a refit's, and a reweighted row within 2 of them of the
decision probability is refitted.

References
----------
Vehtari A, Simpson D, Gelman A, Yao Y, Gabry J (2024). Pareto smoothed importance sampling.
JMLR 25(72):1-58.

Vehtari A, Gelman A, Gabry J (2017). Practical Bayesian model evaluation using
leave-one-out cross-validation and WAIC. Stat Comput 27:1413-1432.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import xarray as xr

from ..inference.diagnostics import ESS_MIN
from ..priors.distributions import Prior

KHAT_MAX = 0.7
"""Largest Pareto k̂ at which a reweighted row is ever used (Vehtari et al. 2024: above 0.7
the importance-sampling estimate is unreliable whatever the number of draws)."""


def khat_threshold(draws: int) -> float:
    """Vehtari et al. (2024)'s sample-size-dependent k̂ threshold ``min(1 − 1/log10(S), 0.7)``:
    below it, ``S`` draws give a reliable estimate (0.7 from S = 2,154 on; 0.5 at S = 100)."""
    return min(1.0 - 1.0 / math.log10(draws), KHAT_MAX) if draws > 10 else 0.0


RESAMPLE_STREAM = 3
"""Random stream ``default_rng([seed, RESAMPLE_STREAM])`` of the importance resampling."""


@dataclass(frozen=True)
class Reweighted:
    """One prior setting from the reference posterior, or why it must be refitted."""

    khat: float
    ess: float
    threshold: float = KHAT_MAX
    """The k̂ threshold applied (:func:`khat_threshold` of the number of draws)."""
    posterior: xr.Dataset | None = None
    """The reference draws resampled with the smoothed weights (None: refit)."""
    weights: np.ndarray | None = None
    """The smoothed, normalised weights of the flattened reference draws."""
    note: str = ""
    """Why no weights were computed (e.g. a support the reference draws cannot cover)."""

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


@lru_cache(maxsize=256)
def _frozen(prior: Prior) -> Any:
    """``prior.scipy()``, frozen once per prior (a sweep asks for the same few priors for
    every row, and freezing a scipy distribution costs more than evaluating it)."""
    return prior.scipy()


def _log_prior(prior: Prior, values: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.asarray(_frozen(prior).logpdf(values), dtype=float)


def log_ratios(post: xr.Dataset, ref: dict[str, Prior], new: dict[str, Prior],
               memo: dict[tuple[str, Prior], np.ndarray] | None = None) -> np.ndarray:
    """``log p_new − log p_ref`` of every (flattened) draw, summed over the slots whose
    prior differs (a slot over studies sums over its elements).

    ``memo`` keeps each (slot, prior)'s log density at the draws of ``post`` across calls
    on the same ``post`` (a sweep's prior rows share the reference draws and priors)."""
    n = post.sizes["chain"] * post.sizes["draw"]
    memo = {} if memo is None else memo

    def log_prior(slot: str, prior: Prior) -> np.ndarray:
        if (slot, prior) not in memo:
            values = post[slot].transpose("chain", "draw", ...).values.reshape(n, -1)
            memo[slot, prior] = _log_prior(prior, values)
        return memo[slot, prior]

    out = np.zeros(n)
    for slot, prior in new.items():
        if ref.get(slot) == prior:
            continue
        out += (log_prior(slot, prior) - log_prior(slot, ref[slot])).sum(axis=1)
    return out


def loglik_total(post: xr.Dataset, loglik: dict[str, xr.DataArray]) -> xr.DataArray:
    """Sum of a family's pointwise log-likelihood (``family.loglik``) per draw and study
    (NaN entries, values a study does not have, count as 0)."""
    total = sum(v.fillna(0.0) for v in loglik.values())
    assert isinstance(total, xr.DataArray)
    return total.transpose("chain", "draw", "study")


def loo_log_ratios(post: xr.Dataset, loglik: dict[str, xr.DataArray], study: int
                   ) -> np.ndarray:
    """``−log p(y_i | θ)`` of every (flattened) draw: the weights of leaving out the study
    at position ``study`` (PSIS-LOO at the study level)."""
    ll = loglik_total(post, loglik).isel(study=study)
    return -np.asarray(ll.values, dtype=float).ravel()


def data_log_ratios(post: xr.Dataset, loglik_ref: dict[str, xr.DataArray],
                    loglik_new: dict[str, xr.DataArray]) -> np.ndarray:
    """``log p(y' | θ) − log p(y | θ)`` of every (flattened) draw: the weights of the same
    model with data ``y'`` (the same studies) in place of ``y``."""
    new, ref = loglik_total(post, loglik_new), loglik_total(post, loglik_ref)
    return np.asarray((new - ref).sum("study").values, dtype=float).ravel()


def _support(prior: Prior) -> tuple[float, float]:
    dist = _frozen(prior)
    if hasattr(dist, "support"):
        lo, hi = dist.support()
        return float(lo), float(hi)
    return 0.0, math.inf  # srsbayes' half-Student-t, the one family scipy lacks


def covers(ref: dict[str, Prior], new: dict[str, Prior]) -> bool:
    """Whether every changed prior of ``new`` lives inside the support of ``ref``'s: draws
    made under ``ref`` cannot represent mass outside it, and no k̂ would show that (e.g. a
    half-normal τ prior from draws under a uniform(0, 2) one)."""
    for slot, prior in new.items():
        if ref.get(slot) == prior:
            continue
        (lo, hi), (rlo, rhi) = _support(prior), _support(ref[slot])
        if lo < rlo or hi > rhi:
            return False
    return True


def reweight(post: xr.Dataset, ref: dict[str, Prior], new: dict[str, Prior], seed: int,
             memo: dict[tuple[str, Prior], np.ndarray] | None = None) -> Reweighted:
    """The posterior under ``new`` priors from draws ``post`` made under ``ref``
    (:func:`psis` of :func:`log_ratios`, ``memo`` as there), or none when a changed prior's
    support reaches beyond the reference prior's (:func:`covers`)."""
    if not covers(ref, new):
        n = post.sizes["chain"] * post.sizes["draw"]
        return Reweighted(math.nan, math.nan, khat_threshold(n),
                          note="a new prior's support reaches beyond the reference prior's, "
                               "where the reference fit has no draws")
    return psis(post, log_ratios(post, ref, new, memo), seed)


def psis(post: xr.Dataset, lr: np.ndarray, seed: int) -> Reweighted:
    """The posterior whose density is ``post``'s times ``exp(lr)`` (one log ratio per
    flattened draw, chain-major), by Pareto-smoothed importance resampling.

    Returns a :class:`Reweighted` whose ``posterior`` is None when k̂ exceeds
    :func:`khat_threshold` of the number of draws, the weights' ESS (``1 / Σ w²``) is below
    the gate's 400, or a draw has an impossible weight (a new prior with zero density where
    the reference had draws)."""
    from arviz_stats.base import array_stats

    limit = khat_threshold(lr.size)
    if not np.all(np.isfinite(lr)):
        return Reweighted(math.inf, 0.0, limit)
    # arviz-stats' psislw takes the negated log ratios (a LOO log-likelihood's sign)
    lw, khat = array_stats.psislw(-(lr - lr.max()))
    w = np.exp(lw - np.logaddexp.reduce(lw))
    w /= w.sum()
    ess = float(1.0 / np.sum(w**2))
    khat = float(khat)
    if not khat <= limit or ess < ESS_MIN:
        return Reweighted(khat, ess, limit)
    idx = np.random.default_rng([seed, RESAMPLE_STREAM]).choice(lw.size, size=lw.size, p=w)
    return Reweighted(khat, ess, limit, resample(post, idx), w)


def resample(post: xr.Dataset, idx: np.ndarray) -> xr.Dataset:
    """``post`` with its flattened (chain-major) draws replaced by draws ``idx``, laid out
    as ``post``'s chains and draws (chain and draw labelled from 0).

    NumPy indexing of each variable: the same values as stacking the draws into one
    dimension, selecting ``idx`` and unstacking, at a fraction of the cost for a sweep's
    handful of small variables."""
    chains, draws = post.sizes["chain"], post.sizes["draw"]
    out = {}
    for name, da in post.data_vars.items():
        if "chain" not in da.dims or "draw" not in da.dims:  # not a draw: as it is
            out[name] = da.variable
            continue
        rest = [d for d in da.dims if d not in ("chain", "draw")]
        values = da.transpose("chain", "draw", *rest).values
        picked = values.reshape(chains * draws, *values.shape[2:])[idx]
        out[name] = xr.Variable(("chain", "draw", *rest),
                                picked.reshape(chains, draws, *values.shape[2:]),
                                da.attrs).transpose(*da.dims)
    labels = {"chain": np.arange(chains), "draw": np.arange(draws)}
    coords = {k: labels.get(k, v.variable) for k, v in post.coords.items()
              if k in labels or not {"chain", "draw"} & set(v.dims)}
    coords.update({k: v for k, v in labels.items() if k not in coords})
    return xr.Dataset(out, coords=coords, attrs=post.attrs)


def refit_reason(rw: Reweighted) -> str:
    """Why a reweighting is not used ("" when it is)."""
    if rw.usable:
        return ""
    if rw.note:
        return rw.note
    if not math.isfinite(rw.khat):
        return "impossible importance weight (a density of 0 at a reference draw)"
    if not rw.khat <= rw.threshold:
        return f"Pareto k-hat {rw.khat:.3f} > {rw.threshold:.3f}"
    return f"importance-weighted ESS {rw.ess:.0f} < {ESS_MIN:g}"
