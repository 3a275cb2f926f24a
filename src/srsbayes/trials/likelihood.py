"""The likelihood of a simulated trial's data given each posterior draw ``(theta_j, tau_j)``.

The trial is a new study of the random-effects model: its effect is
``theta' ~ N(theta_j, tau_j^2)``, integrated out. The likelihood is that of the process the
data were simulated from (:mod:`.simulate`), so that reweighting today's draws by it is an
exact Bayesian update and the post-trial P(benefit) is a martingale:

* an estimate ``y`` with known standard error ``s``: ``N(y | theta_j, s^2 + tau_j^2)``;
* event counts: ``p(y_t, y_c | theta_j, tau_j) = ∫∫ Bin(y_c | n_c, expit(a))
  Bin(y_t | n_t, expit(a + theta')) p(a) N(theta' | theta_j, tau_j^2) da dtheta'``, with
  ``p(a)`` the baseline model's predictive density of a new population's postop log-odds
  (:mod:`srsbayes.families.baseline`; Dias et al. 2013). It is computed on one grid of step
  ``h`` for ``a`` and ``theta'``: the inner integral over ``a`` is a correlation of two
  vectors on the grid of ``eta = a + theta'`` (no transcendental function per pair), and
  the outer one a product with the fixed matrix of cell probabilities
  ``Phi((t_{g+1/2} - theta_j) / tau_j) - Phi((t_{g-1/2} - theta_j) / tau_j)`` (exact as
  ``tau_j -> 0``), one sparse matrix product per chunk of trials.

References
----------
Dias S, Welton NJ, Sutton AJ, Ades AE (2013). NICE DSU Technical Support Document 5:
evidence synthesis in the baseline natural history model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse, stats

from .simulate import Posterior, Simulated, TrialSetup

GRID_STEP = 0.05
"""Largest grid step (log-odds) of the count likelihood."""
THETA_LIMIT = 15.0
"""The grid of a trial's true log odds ratio stops at ± this (folded into the end cells)."""
_TINY = 1e-300


def grid_step(setup: TrialSetup) -> float:
    """Grid step: :data:`GRID_STEP`, finer for large arms, so that the log-likelihood is
    nearly linear within a step (its curvature grows like ``n p (1 - p)``)."""
    return min(GRID_STEP, 0.6 / np.sqrt(max(setup.n_preop, setup.n_postop)))


@dataclass(frozen=True)
class CountGrid:
    """The fixed parts of the count likelihood: ``a`` grid with log predictive density
    ``log_pa``, ``theta'`` grid with the cell-probability matrix ``cells`` (draws x grid),
    and the step."""

    a: np.ndarray
    log_pa: np.ndarray
    t: np.ndarray
    cells: sparse.csr_array
    step: float


def count_grid(post: Posterior, setup: TrialSetup) -> CountGrid:
    """Build the :class:`CountGrid` of an outcome with counts (once per run)."""
    assert setup.baseline is not None
    h = grid_step(setup)
    base = setup.baseline
    # predictive density of a new population's control log-odds: mixture over the grid
    # posterior's cells of N(mu, sigma^2) (cell centres)
    mu, sig = np.meshgrid(base.mu, base.sigma, indexing="ij")
    keep = base.prob.ravel() > 1e-12
    mu, sig, prob = mu.ravel()[keep], sig.ravel()[keep], base.prob.ravel()[keep]
    sd_all = np.sqrt(np.sum(prob * (sig**2 + mu**2)) - np.sum(prob * mu) ** 2)
    lo = float(np.sum(prob * mu) - 8 * sd_all)
    a = lo + h * np.arange(int(np.ceil(16 * sd_all / h)) + 1)
    dens = (prob[:, None] * stats.norm.pdf(a[None, :], mu[:, None], sig[:, None])).sum(0)
    log_pa = np.log(np.maximum(dens * h, _TINY))
    z = 6.0
    t_lo = max(float(np.min(post.theta - z * post.tau)), -THETA_LIMIT)
    t_hi = min(float(np.max(post.theta + z * post.tau)), THETA_LIMIT)
    t = t_lo + h * np.arange(int(np.ceil((t_hi - t_lo) / h)) + 1)
    edges = np.concatenate([[-np.inf], t[:-1] + h / 2, [np.inf]])
    tau = np.maximum(post.tau, 1e-12)[:, None]
    cdf = stats.norm.cdf((edges[None, :] - post.theta[:, None]) / tau)
    cells = np.diff(cdf, axis=1)
    return CountGrid(a, log_pa, t, sparse.csr_array(np.where(cells < CELL_FLUSH, 0.0, cells)), h)


FLUSH = 1e-30
"""Relative size below which a term of the count likelihood is set to 0: far below any
weight that matters, and it keeps subnormal numbers (100 times slower to multiply on x86)
out of the products."""
CELL_FLUSH = 1e-14
"""Cell probabilities below this are 0 (a draw's normal beyond about 7.5 SD): the matrix of
cell probabilities is then sparse (each draw's row covers its own theta_j ± 7.5 tau_j)."""


def _flush(x: np.ndarray) -> np.ndarray:
    return np.where(x < FLUSH, 0.0, x)


def _log_binom(y: float, n: float, logit: np.ndarray) -> np.ndarray:
    """``log Bin(y | n, expit(logit))`` without the binomial coefficient."""
    return -y * np.logaddexp(0.0, -logit) - (n - y) * np.logaddexp(0.0, logit)


def count_loglik(grid: CountGrid, setup: TrialSetup, sims: Simulated) -> np.ndarray:
    """Log-likelihood of each simulated trial's counts under each draw (trials x draws),
    up to a constant per trial."""
    eta = grid.a[0] + grid.t[0] + grid.step * np.arange(grid.a.size + grid.t.size - 1)
    rows = np.empty((sims.index.size, grid.t.size))
    offsets = np.empty(sims.index.size)
    for k in range(sims.index.size):
        lu = grid.log_pa + _log_binom(sims.events_postop[k], setup.n_postop, grid.a)
        lv = _log_binom(sims.events_preop[k], setup.n_preop, eta)
        mu_, mv = lu.max(), lv.max()
        rows[k] = _flush(np.correlate(_flush(np.exp(lv - mv)), _flush(np.exp(lu - mu_)),
                                      mode="valid"))
        offsets[k] = mu_ + mv
    # a sparse (CSR) product sums each draw's nonzero cells in a fixed order, whatever the
    # number of trials in the chunk: identical results for any split (a dense BLAS product
    # would block the sums differently and change the last bits)
    lik = np.asarray(grid.cells @ rows.T).T  # (trials, draws)
    m = np.maximum(lik.max(axis=1, keepdims=True), _TINY)
    return np.log(np.maximum(lik / m, _TINY)) + np.log(m) + offsets[:, None]


def normal_loglik(post: Posterior, y: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``log N(y_i | theta_j, s_i^2 + tau_j^2)``, shape ``(len(y), draws)``."""
    var = np.square(np.asarray(s, float))[:, None] + np.square(post.tau)[None, :]
    resid = np.asarray(y, float)[:, None] - post.theta[None, :]
    return -0.5 * (np.log(2 * np.pi * var) + resid * resid / var)


class TrialLikelihood:
    """The log-likelihood of simulated trials under each draw of ``post``."""

    def __init__(self, post: Posterior, setup: TrialSetup) -> None:
        self.post, self.setup = post, setup
        self.grid = count_grid(post, setup) if setup.counts else None

    def __call__(self, sims: Simulated) -> np.ndarray:
        if self.grid is not None:
            return count_loglik(self.grid, self.setup, sims)
        return normal_loglik(self.post, sims.estimate, sims.se)

