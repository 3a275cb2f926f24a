"""Control-arm (baseline) models: the outcome level of a new population under postop SRS.

Absolute effects need the control-arm level of the population they are meant for. Taking
it from the relative-effect model's own study intercepts mixes their estimation noise with
the spread between populations and ignores the uncertainty in that spread. Instead the
postop arms get a hierarchical model of their own,

    level_i ~ Normal(mu, sigma^2),   mu ~ the spec's ``baseline`` prior,   sigma ~ a
    half-normal declared by the family,

whose predictive distribution ``mu + sigma * z`` describes a new population; it is fitted
separately, so it does not feed back on the relative effect (Dias S, Welton NJ, Sutton AJ,
Ades AE 2013, NICE DSU Technical Support Document 5: evidence synthesis in the baseline
natural history model, sections 2-3). With two parameters the posterior is computed
exactly on a grid: each study's level is integrated out in closed form (normal data) or by
Gauss-Hermite quadrature (binomial counts).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from scipy import special

from ..priors.distributions import Prior

if TYPE_CHECKING:
    import pandas as pd

_GH_NODES, _GH_WEIGHTS = np.polynomial.hermite_e.hermegauss(64)
_GH_WEIGHTS_N = _GH_WEIGHTS / np.sqrt(2 * np.pi)  # weights of E[f(Z)], Z ~ N(0, 1)
_GH_LOGW = np.log(_GH_WEIGHTS_N)


@dataclass(frozen=True)
class BaselineModel:
    """Grid posterior of the baseline model's ``(mu, sigma)``.

    Attributes
    ----------
    mu, sigma
        Increasing grid points (cell centres).
    prob
        Posterior probability of each cell, shape ``(len(mu), len(sigma))``.
    """

    mu: np.ndarray
    sigma: np.ndarray
    prob: np.ndarray

    def draws(self, rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
        """``size`` draws of ``(mu, sigma)``: a cell by its probability, then uniformly
        within it."""
        idx = rng.choice(self.prob.size, size=size, p=self.prob.ravel())
        i, j = np.unravel_index(idx, self.prob.shape)
        dmu, dsig = self.mu[1] - self.mu[0], self.sigma[1] - self.sigma[0]
        mu = self.mu[i] + dmu * (rng.random(size) - 0.5)
        sigma = np.abs(self.sigma[j] + dsig * (rng.random(size) - 0.5))
        return mu, sigma

    def predictive(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` draws of a new population's level, ``mu + sigma * z``."""
        mu, sigma = self.draws(rng, size)
        return mu + sigma * rng.standard_normal(size)


def _grid(loglik: np.ndarray, mu: np.ndarray, sigma: np.ndarray, mu_prior: Prior,
          sigma_prior: Prior) -> BaselineModel:
    logpost = (loglik + mu_prior.scipy().logpdf(mu)[:, None]
               + sigma_prior.scipy().logpdf(sigma)[None, :])
    p = np.exp(logpost - logpost.max())
    return BaselineModel(mu, sigma, p / p.sum())


def _sigma_grid(sigma_prior: Prior, n: int) -> np.ndarray:
    top = float(sigma_prior.scipy().ppf(0.9999))
    step = top / n
    return step * (np.arange(n) + 0.5)


def binomial_baseline(events: np.ndarray, n: np.ndarray, mu_prior: Prior, sigma_prior: Prior,
                      *, events_hi: np.ndarray | None = None, n_mu: int = 161,
                      n_sigma: int = 101) -> BaselineModel:
    """Baseline model of control-arm log-odds from event counts (memoised, once per data
    even when threads ask together: a sweep's prior rows share their data, and so their
    baseline model).

    Each study's log-odds ``a_i ~ N(mu, sigma^2)`` is integrated out by 64-point
    Gauss-Hermite quadrature of ``Binomial(events_i | n_i, expit(a_i))``. With
    ``events_hi`` the count of study ``i`` is only known to lie in ``[events_i,
    events_hi_i]`` (the count set the relative-effect model uses for a percentage, e.g. a
    GRIM failure's two neighbouring counts), and its likelihood is ``P(events_i <= X <=
    events_hi_i)``, as in that model.
    """
    hi = events if events_hi is None else events_hi
    key = (tuple(np.asarray(events, float)), tuple(np.asarray(hi, float)),
           tuple(np.asarray(n, float)), mu_prior, sigma_prior, n_mu, n_sigma)
    # lru_cache alone lets threads that ask for the same key together each compute it (a
    # sweep's reference row and the refits sampled beside it): the first computes it under
    # the key's lock while the others wait, then read the memo
    with _key_lock(key):
        return _binomial_baseline(*key)


_KEY_LOCKS: dict[tuple, threading.Lock] = {}
_KEY_LOCKS_GUARD = threading.Lock()


def _key_lock(key: tuple) -> threading.Lock:
    """The lock of one :func:`binomial_baseline` key (the same object for equal keys)."""
    with _KEY_LOCKS_GUARD:
        return _KEY_LOCKS.setdefault(key, threading.Lock())


@lru_cache(maxsize=64)
def _binomial_baseline(events_t: tuple[float, ...], hi_t: tuple[float, ...],
                       n_t: tuple[float, ...], mu_prior: Prior, sigma_prior: Prior, n_mu: int,
                       n_sigma: int) -> BaselineModel:
    events, hi, n = np.array(events_t), np.array(hi_t), np.array(n_t)
    emp = special.logit(((events + hi) / 2 + 0.5) / (n + 1.0))
    mu = np.linspace(emp.min() - 4.0, emp.max() + 4.0, n_mu)
    sigma = _sigma_grid(sigma_prior, n_sigma)
    loglik = binomial_marginal_loglik_sum(events, n, mu[:, None], sigma[None, :], hi)
    return _grid(loglik, mu, sigma, mu_prior, sigma_prior)


def pooled_risk(events: np.ndarray, n: np.ndarray, events_hi: np.ndarray | None = None
                ) -> float:
    """The pooled risk of arms with counts known to lie in ``[events_i, events_hi_i]``: the
    maximum-likelihood common risk ``argmax_p sum_i log P(events_i <= X_i <= events_hi_i)``,
    ``X_i ~ Binomial(n_i, p)``. With exact counts this is ``sum(events) / sum(n)``, returned
    as that ratio."""
    from scipy import optimize, stats

    lo, n = np.asarray(events, float), np.asarray(n, float)
    hi = lo if events_hi is None else np.asarray(events_hi, float)
    if np.array_equal(lo, hi):
        return float(lo.sum() / n.sum())

    def nll(a: float) -> float:
        p = float(special.expit(a))
        prob = stats.binom.cdf(hi, n, p) - stats.binom.cdf(lo - 1, n, p)
        return -float(np.log(np.maximum(prob, 1e-300)).sum())

    start = special.logit(((lo + hi) / 2).sum() / n.sum())
    res = optimize.minimize_scalar(nll, bounds=(start - 3, start + 3), method="bounded",
                                   options={"xatol": 1e-10})
    return float(special.expit(res.x))


def binomial_marginal_loglik(events: float, n: float, mu: np.ndarray, sigma: np.ndarray
                             ) -> np.ndarray:
    """log ∫ Binomial(events | n, expit(a)) Normal(a | mu, sigma²) da, by Gauss-Hermite
    quadrature (``mu`` and ``sigma`` broadcast)."""
    return binomial_marginal_loglik_sum(np.atleast_1d(events), np.atleast_1d(n), mu, sigma)


def binomial_marginal_loglik_sum(events: np.ndarray, n: np.ndarray, mu: np.ndarray,
                                 sigma: np.ndarray, events_hi: np.ndarray | None = None
                                 ) -> np.ndarray:
    """Sum over studies of :func:`binomial_marginal_loglik` (``mu`` and ``sigma`` broadcast).

    Every study is integrated at the same nodes ``a = mu + sigma * x_k``, so the one
    transcendental term is computed once for all of them: ``log p = -log1p(e^-a)`` and
    ``log(1 - p) = log p - a`` (stable in both tails). Study ``i``'s integrand is then
    ``exp(log C(n, y) + y log p + (n - y) log(1 - p))``, summed over its count set
    ``[events_i, events_hi_i]`` when ``events_hi`` is given. Each term is taken relative to
    its largest possible value (the pmf at ``p = y / n``), so it lies in ``(0, 1]`` and the
    quadrature sum is one matrix-vector product with the weights, with no log-sum-exp; the
    rare cells where that sum underflows (data far out in the grid's tail) are recomputed by
    log-sum-exp. This equals the per-study sum to rounding (about 1e-13 in the
    log-likelihood).
    """
    a = np.asarray(mu)[..., None] + np.asarray(sigma)[..., None] * _GH_NODES
    log_p = -np.logaddexp(0.0, -a)
    log_q = log_p - a
    total = np.zeros(a.shape[:-1])
    lo_all = np.asarray(events, float)
    hi_all = lo_all if events_hi is None else np.asarray(events_hi, float)
    for y, y_hi, m in zip(lo_all, hi_all, np.asarray(n, float), strict=True):
        ks = np.arange(y, y_hi + 1)
        log_c = np.array([_log_choose(m, k) for k in ks])
        top = float(np.max(log_c + special.xlogy(ks, ks / m) + special.xlogy(m - ks, 1 - ks / m)))
        inner = np.zeros(a.shape)
        for k, lc in zip(ks, log_c, strict=True):
            inner += np.exp((lc - top) + k * log_p + (m - k) * log_q)
        integral = inner @ _GH_WEIGHTS_N
        ll = np.log(integral, out=np.full(integral.shape, -np.inf), where=integral > 0) + top
        low = integral < _UNDERFLOW
        if low.any():  # far tail: the same sum by log-sum-exp
            terms = log_c + ks * log_p[low][..., None] + (m - ks) * log_q[low][..., None]
            ll[low] = _logsumexp_last(_GH_LOGW + _logsumexp_last(terms))
        total = total + ll
    return total


_UNDERFLOW = 1e-250
"""Below this a quadrature sum of terms scaled to ``(0, 1]`` may have lost digits to
subnormal numbers, and is recomputed by log-sum-exp."""


def _log_choose(n: float, k: float) -> float:
    return float(special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1))


def _logsumexp_last(x: np.ndarray) -> np.ndarray:
    """``log(sum(exp(x), axis=-1))`` for finite ``x`` (scipy's general one is ~3x slower)."""
    top = x.max(axis=-1, keepdims=True)
    return top[..., 0] + np.log(np.exp(x - top).sum(axis=-1))


def normal_baseline(y: np.ndarray, se: np.ndarray, mu_prior: Prior, sigma_prior: Prior,
                    *, n_mu: int = 161, n_sigma: int = 101) -> BaselineModel:
    """Baseline model of control-arm levels observed with known standard errors
    (``y_i ~ N(mu, se_i^2 + sigma^2)`` after integrating out each study's level)."""
    y, se = np.asarray(y, float), np.asarray(se, float)
    spread = max(float(np.ptp(y)), float(se.max()))
    mu = np.linspace(y.min() - 4 * spread, y.max() + 4 * spread, n_mu)
    sigma = _sigma_grid(sigma_prior, n_sigma)
    var = se[None, None, :] ** 2 + sigma[None, :, None] ** 2
    resid = y[None, None, :] - mu[:, None, None]
    loglik = -0.5 * (np.log(2 * np.pi * var) + resid**2 / var).sum(axis=-1)  # normal log-density
    return _grid(loglik, mu, sigma, mu_prior, sigma_prior)


def pooled_level(wide: pd.DataFrame, family: str) -> tuple[float, str] | None:
    """The control-arm level of the studies and how it was computed: the pooled postop
    risk for count data, over the same count sets as the relative-effect model (an arm
    given as a percentage that several counts, or for a GRIM failure no count, reproduce
    enters with every count it allows; :func:`pooled_risk`), the patient-weighted mean
    postop level (e.g. median) for arm-level data on a ratio scale, over the studies that
    report one; ``None`` when none does. Used as the default baseline of the primary
    absolute effect (the summary-of-findings one) by ``fit``, ``certainty`` and ``report``."""
    from . import FAMILIES

    level = f"{FAMILIES[family].audit_column}_postop"
    if level not in wide.columns or "n_postop" not in wide.columns:
        return None
    n = np.asarray(wide["n_postop"], dtype=float)
    known = np.isfinite(n)  # published contrasts of a mixed outcome have no postop arm
    if FAMILIES[family].count_data:
        return _pooled_risk(wide, family, known)
    m = np.asarray(wide[level], dtype=float)
    known &= np.isfinite(m)
    if not known.any():
        return None
    k, m, n = int(known.sum()), m[known], n[known]
    v = float((m * n).sum() / n.sum())
    return v, f"patient-weighted mean postop median of the {k} studies ({v:.1f} months)"


def _pooled_risk(wide: pd.DataFrame, family: str, known: np.ndarray
                 ) -> tuple[float, str] | None:
    """The pooled postop risk over the count sets of the relative-effect model (maximum
    likelihood of a common risk, :func:`pooled_risk`)."""
    from . import get_family

    fam = get_family(family)
    events = np.asarray(wide["events_postop"], dtype=float)
    known = known & np.isfinite(events)
    if not known.any():
        return None
    data = fam.model_data(wide)
    lo, hi = fam.count_bounds(data, "postop")
    lo, hi, n = lo[known], hi[known], np.asarray(data["n_postop"], float)[known]
    r = pooled_risk(lo, n, hi)
    k = int(known.sum())
    if np.array_equal(lo, hi):
        how = f"{lo.sum():.0f}/{n.sum():.0f} = {100 * r:.1f}%"
    else:
        how = (f"{100 * r:.1f}% of {n.sum():.0f} patients, over the counts each reported "
               "percentage allows")
    return float(r), f"pooled postop risk of the {k} studies ({how})"
