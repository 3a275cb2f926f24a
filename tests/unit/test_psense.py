"""Power-scaling: each prior is scaled on the scale it is stated on (τ² for Turner priors),
and a uniform prior, whose density is constant, is reported as insensitive by construction.

Draws are exact (seeded numpy), not MCMC, so the reference values are analytic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from srsbayes.priors.distributions import parse_prior
from srsbayes.sensitivity.variants import log_prior_dataset, psense_report

MU, SIGMA = -2.56, 1.74  # Turner et al. (2015), general: log tau^2 ~ N(-2.56, 1.74^2)


def _dataset(**draws: np.ndarray) -> xr.Dataset:
    return xr.Dataset({k: (("chain", "draw"), v) for k, v in draws.items()})


def _normal_mean(rng: np.random.Generator, tau: np.ndarray, prior_sd: float = 0.3):
    """Exact posterior of a normal mean (4 unit-SD observations near 1) under N(0, prior_sd)
    and its log-likelihood; ``tau`` is a parameter the likelihood does not involve."""
    y = np.array([1.0, 1.2, 0.8, 1.1])
    prec = 1 / prior_sd**2 + len(y)
    theta = rng.normal(y.sum() / prec, 1 / math.sqrt(prec), size=tau.shape)
    ll = xr.DataArray(stats.norm.logpdf(y[None, None, :], theta[..., None], 1.0),
                      dims=("chain", "draw", "obs"))
    return _dataset(effect=theta, tau=tau), {"y": ll}


# -- uniform priors ------------------------------------------------------------------------------


@pytest.mark.parametrize("bounds", [(0, 2), (0, 20)])
def test_uniform_prior_is_reported_as_insensitive_whatever_its_bounds(bounds):
    """A uniform density is constant on its support, so p^alpha is the same uniform: its
    sensitivity is 0 by construction for any bounds. arviz_stats cannot compute it (all
    power-scaling weights are equal: "All tail values are the same"), so it is reported as
    0 with a note on every variable, and the other priors are still assessed."""
    lo, hi = bounds
    rng = np.random.default_rng(11)
    post, ll = _normal_mean(rng, rng.uniform(lo, hi, size=(4, 1000)))
    priors = {"effect": parse_prior("normal(0, 0.3)"), "tau": parse_prior(f"uniform({lo}, {hi})")}
    assert set(log_prior_dataset(post, priors)) == {"effect"}
    rep = psense_report(post, priors, ll)
    assert rep["by_prior"]["tau"] == {"effect": 0.0, "tau": 0.0}
    assert len(rep["notes"]) == 1 and f"uniform({lo:g}, {hi:g})" in rep["notes"][0]
    assert "whatever its bounds" in rep["notes"][0]
    for v in ("effect", "tau"):
        (note,) = rep["variables"][v]["notes"]
        assert note.startswith(f"{v}: sensitivity to the uniform(") and "0 by construction" in note
    # The sceptical normal effect prior against data near 1 is still seen (over seeds 1-5
    # its prior sensitivity was >= 0.148; see test_sweep's conjugate check).
    assert rep["variables"]["effect"]["prior"] > 0.08
    assert rep["conflict"] == ["effect"]


def test_only_uniform_priors_still_gives_the_likelihood_sensitivity():
    rng = np.random.default_rng(12)
    post, ll = _normal_mean(rng, rng.uniform(0, 2, size=(4, 1000)))
    priors = {"effect": parse_prior("uniform(-5, 5)"), "tau": parse_prior("uniform(0, 2)")}
    rep = psense_report(post, priors, ll)
    assert all(r["prior"] == 0.0 and r["diagnosis"] == "ok" for r in rep["variables"].values())
    # The likelihood of 4 observations dominates effect's posterior (sensitivity ~0.09 here)
    # and does not involve tau (sensitivity ~0.005, a Monte Carlo artefact).
    assert rep["variables"]["effect"]["likelihood"] > 0.05
    assert rep["variables"]["tau"]["likelihood"] < 0.02
    assert len(rep["notes"]) == 2 and rep["flags"] == []
    assert rep["method"].startswith("no prior power-scaled (all uniform)")


# -- Turner priors are scaled on tau^2 -----------------------------------------------------------


def test_turner_log_prior_is_the_density_of_tau_squared():
    tau = np.random.default_rng(3).gamma(2.0, 0.2, size=(2, 50))
    lp = log_prior_dataset(_dataset(tau=tau), {"tau": parse_prior("turner(general)")})["tau"]
    # p(tau^2) = N(log tau^2; mu, sigma) / tau^2, not p(tau) = p(tau^2) * 2 tau.
    v = tau**2
    np.testing.assert_allclose(lp, stats.norm(MU, SIGMA).logpdf(np.log(v)) - np.log(v),
                               rtol=1e-12)
    p_tau = parse_prior("turner(general)").scipy().logpdf(tau)
    np.testing.assert_allclose(lp - p_tau, -np.log(2 * tau), rtol=1e-12)  # depends on tau


def test_power_scaling_the_turner_prior_on_tau_squared():
    """With tau's posterior equal to its Turner prior, power-scaling the stated density
    p(tau^2)^alpha gives log tau^2 ~ N(mu + (1 - alpha) sigma^2 / alpha, sigma^2 / alpha)
    exactly, so E[log tau] = mu / 2 + (1 - alpha) sigma^2 / (2 alpha). Scaling p(tau)^alpha
    instead shifts it by half as much, (1 - alpha) sigma^2 / (4 alpha): the factor (2 tau)^
    (alpha - 1) between the two depends on alpha. The importance weights p^(alpha - 1) of
    log_prior_dataset must give the first. alpha = 1.25 keeps the weights bounded; the
    tolerance is 4 Monte Carlo SEs of the self-normalised weighted mean (about 0.005, vs
    0.15 between the two answers)."""
    alpha = 1.25
    rng = np.random.default_rng(2015)
    tau = np.exp(rng.normal(MU, SIGMA, size=(4, 10000)) / 2)  # exact draws of the prior
    lp = log_prior_dataset(_dataset(tau=tau), {"tau": parse_prior("turner(general)")})["tau"]
    w = np.exp((alpha - 1) * (lp.values - lp.values.max())).ravel()
    w /= w.sum()
    x = np.log(tau).ravel()
    mean = float(np.sum(w * x))
    mcse = float(np.sqrt(np.sum(w**2 * (x - mean) ** 2)))
    on_tau_squared = MU / 2 + (1 - alpha) * SIGMA**2 / (2 * alpha)
    on_tau = MU / 2 + (1 - alpha) * SIGMA**2 / (4 * alpha)
    assert abs(mean - on_tau_squared) < 4 * mcse, (mean, on_tau_squared, mcse)
    assert abs(mean - on_tau) > 20 * mcse
    # and the report says which scale it used
    post, ll = _normal_mean(rng, tau)
    rep = psense_report(post, {"effect": parse_prior("normal(0, 1.5)"),
                               "tau": parse_prior("turner(general)")}, ll)
    assert "tau (on τ²)" in rep["method"]
    assert rep["notes"] == [] and rep["variables"]["tau"]["notes"] == []
