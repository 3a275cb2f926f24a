"""Exact posterior of the normal-normal random-effects model by numerical integration.

For estimates ``y_i`` with known standard errors ``s_i``::

    y_i ~ Normal(mu, sqrt(s_i^2 + tau^2)),   mu ~ Normal(m0, sd0),   tau ~ p(tau)

the conditional posterior of ``mu`` given ``tau`` is normal, so the joint posterior only needs
a one-dimensional integral over ``tau``. This module evaluates ``p(tau | y)`` on a dense grid
and the marginal of ``mu`` as the corresponding mixture of normals, as the R package
bayesmeta does (there with the DIRECT algorithm). It is the reference that MCMC fits of the
same model are checked against.

References
----------
Röver C (2020). Bayesian random-effects meta-analysis using the bayesmeta R package.
J Stat Softw 93(6):1-51. doi:10.18637/jss.v093.i06 (Section 2: the marginal likelihood
p(y | tau) and the conditional posterior p(mu | tau, y) used below).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats
from scipy.integrate import cumulative_trapezoid, trapezoid


@dataclass(frozen=True)
class NormalNormalPosterior:
    """Posterior of (mu, tau) on a grid of tau values.

    Attributes
    ----------
    tau
        Grid of tau values (increasing, starting at 0).
    density
        Normalised marginal posterior density of tau on the grid.
    mu_mean, mu_sd
        Conditional posterior mean and SD of mu given each grid value of tau.
    """

    tau: np.ndarray
    density: np.ndarray
    mu_mean: np.ndarray
    mu_sd: np.ndarray

    @property
    def _tau_cdf(self) -> np.ndarray:
        c = cumulative_trapezoid(self.density, self.tau, initial=0.0)
        return c / c[-1]

    def tau_quantile(self, q: float | np.ndarray) -> np.ndarray:
        """Quantile(s) of the marginal posterior of tau (linear interpolation of the CDF)."""
        cdf = self._tau_cdf
        keep = np.concatenate([[True], np.diff(cdf) > 0])
        return np.interp(q, cdf[keep], self.tau[keep])

    def tau_mean(self) -> float:
        """Posterior mean of tau."""
        return float(trapezoid(self.tau * self.density, self.tau))

    def mu_cdf(self, x: float) -> float:
        """Marginal posterior CDF of mu at ``x`` (a mixture of normals over tau)."""
        cond = stats.norm.cdf(x, self.mu_mean, self.mu_sd)
        return float(trapezoid(cond * self.density, self.tau))

    def mu_quantile(self, q: float) -> float:
        """Quantile of the marginal posterior of mu (root of the mixture CDF)."""
        lo = float(np.min(self.mu_mean - 40 * self.mu_sd))
        hi = float(np.max(self.mu_mean + 40 * self.mu_sd))
        return float(optimize.brentq(lambda x: self.mu_cdf(x) - q, lo, hi, xtol=1e-10))

    def mu_mean_total(self) -> float:
        """Posterior mean of mu."""
        return float(trapezoid(self.mu_mean * self.density, self.tau))

    def mu_sd_total(self) -> float:
        """Posterior SD of mu (law of total variance)."""
        m = self.mu_mean_total()
        second = trapezoid((self.mu_sd**2 + self.mu_mean**2) * self.density, self.tau)
        return float(np.sqrt(second - m**2))


def _conditional(y: np.ndarray, s: np.ndarray, tau: np.ndarray, m0: float, sd0: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log marginal likelihood log p(y | tau) and the moments of p(mu | tau, y), per tau."""
    v = s[None, :] ** 2 + tau[:, None] ** 2  # (grid, k)
    w = 1.0 / v
    prec = w.sum(axis=1) + 1.0 / sd0**2
    mean = ((w * y[None, :]).sum(axis=1) + m0 / sd0**2) / prec
    # p(y|tau) = prod N(y_i; m, v_i) N(m; m0, sd0) / N(m; m, 1/prec) at m = mean (Bayes).
    loglik = (stats.norm.logpdf(y[None, :], mean[:, None], np.sqrt(v)).sum(axis=1)
              + stats.norm.logpdf(mean, m0, sd0) + 0.5 * np.log(2 * np.pi / prec))
    return loglik, mean, 1.0 / np.sqrt(prec)


def normal_normal_posterior(y: np.ndarray, s: np.ndarray, mu_prior_sd: float, tau_prior,
                            *, mu_prior_mean: float = 0.0, n_grid: int = 4001
                            ) -> NormalNormalPosterior:
    """Exact posterior of the normal-normal random-effects model.

    Parameters
    ----------
    y, s
        Study estimates and their (known) standard errors.
    mu_prior_sd, mu_prior_mean
        Normal prior of the overall effect mu.
    tau_prior
        Prior of tau: a frozen :mod:`scipy.stats` distribution on tau >= 0, or a
        :class:`srsbayes.priors.distributions.Prior` (anything with ``.scipy()``).
    n_grid
        Points in each of the two grids that are merged (one even in prior probability, one
        even in log tau), so both a diffuse and a sharply peaked posterior are resolved.

    Returns
    -------
    NormalNormalPosterior
        Quantiles, means and SDs of mu and tau.
    """
    y, s = np.asarray(y, float), np.asarray(s, float)
    prior = tau_prior.scipy() if hasattr(tau_prior, "scipy") else tau_prior
    top = float(prior.ppf(1 - 1e-10))
    lo_tau = 1e-4 * float(s.min())
    grid = np.unique(np.concatenate([
        [0.0],
        prior.ppf(np.linspace(0.0, 1 - 1e-10, n_grid)),
        np.geomspace(lo_tau, max(top, 10 * lo_tau), n_grid),
    ]))
    grid = grid[np.isfinite(grid) & (grid >= 0)]
    loglik, mean, sd = _conditional(y, s, grid, mu_prior_mean, mu_prior_sd)
    logprior = prior.logpdf(grid)
    logpost = loglik + logprior
    finite = np.isfinite(logpost)
    dens = np.where(finite, np.exp(logpost - np.max(logpost[finite])), 0.0)
    dens /= trapezoid(dens, grid)
    return NormalNormalPosterior(grid, dens, mean, sd)


# -- the exact check of NUTS fits ----------------------------------------------------------------

EXACT_Z = 4.0
"""Monte Carlo standard errors by which a NUTS moment may miss the exact one (a false
alarm has probability about 6e-5 per moment for a well-mixed chain)."""
EXACT_ABS = 1e-6
"""Absolute slack for the quadrature itself (its error is far below this)."""


def exact_reference(y: np.ndarray, s: np.ndarray, priors: dict) -> NormalNormalPosterior | None:
    """The exact posterior under a fit's ``effect`` and ``tau`` priors, or None when the
    ``effect`` prior is not normal (the conditional posterior of mu is then not normal)."""
    effect = priors["effect"]
    if effect.dist != "normal":
        return None
    mean, sd = (float(p) for p in effect.params[:2])
    return normal_normal_posterior(y, s, sd, priors["tau"], mu_prior_mean=mean)


def moment_failures(draws, mcse_mean: float, mcse_sd: float, ex: NormalNormalPosterior,
                    z: float = EXACT_Z) -> list[str]:
    """Messages for the posterior mean and SD of theta that miss the exact ones by more
    than ``z`` Monte Carlo standard errors (none when both agree)."""
    v = np.asarray(draws, dtype=float).ravel()
    out = []
    for what, ours, exact, se in (("mean", v.mean(), ex.mu_mean_total(), mcse_mean),
                                  ("SD", v.std(ddof=1), ex.mu_sd_total(), mcse_sd)):
        tol = z * se + EXACT_ABS
        if not abs(ours - exact) <= tol:
            out.append(f"NUTS posterior {what} of effect {ours:.4f} differs from the exact "
                       f"(quadrature) {exact:.4f} by more than {z:g} MCSE ({tol:.4f})")
    return out


def exact_failures(fam, idata, data: dict[str, np.ndarray], priors: dict,
                   z: float = EXACT_Z) -> list[str]:
    """Gate failures of a NUTS fit against the exact posterior (empty when they agree).

    Applies to families whose module has ``normal_normal(data) -> (y, s)`` (the contrast
    family): their posterior is the normal-normal one computed here by quadrature, so the
    sampler's posterior mean and SD of theta must match it within Monte Carlo error.
    Families without the hook, and fits whose effect prior is not normal, pass.
    """
    import arviz as az

    pair = fam.normal_normal(data)
    if pair is None:  # no exact posterior, or a model it does not cover (a shared bias)
        return []
    y, s = pair
    ex = exact_reference(np.asarray(y, float), np.asarray(s, float), priors)
    if ex is None:
        return []
    mcse = {m: float(np.asarray(az.mcse(idata, var_names=["effect"], method=m)
                                .to_dataset()["effect"]))
            for m in ("mean", "sd")}
    return moment_failures(idata["posterior"]["effect"], mcse["mean"], mcse["sd"], ex, z)


def with_exact_check(diag, fam, idata, data: dict[str, np.ndarray], priors: dict):
    """The convergence gate's :class:`~srsbayes.inference.diagnostics.Diagnostics` with the
    exact check's failures (:func:`exact_failures`) added: what
    ``inference.fitting.sample_gated`` applies to every fit (``diag`` unchanged when the
    family has no exact posterior or the fit agrees with it)."""
    from dataclasses import replace

    extra = exact_failures(fam, idata, data, priors)
    return replace(diag, failures=(*diag.failures, *extra)) if extra else diag
