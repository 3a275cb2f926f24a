"""The control-arm (baseline) model behind every absolute effect (Dias et al. 2013, TSD 5)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, special, stats

from srsbayes.families.baseline import (
    binomial_baseline,
    binomial_marginal_loglik,
    normal_baseline,
)
from srsbayes.inference.exact import normal_normal_posterior
from srsbayes.inference.fitting import FitSettings, fit_outcome
from srsbayes.priors.distributions import Prior, parse_prior


def _mu_moments(model):
    p_mu = model.prob.sum(axis=1)
    m = float((model.mu * p_mu).sum())
    return m, float(np.sqrt(((model.mu - m) ** 2 * p_mu).sum()))


def test_normal_baseline_equals_the_exact_normal_normal_posterior():
    """Two independent computations of the same posterior: the grid over (mu, sigma) and
    the exact one-dimensional integral over sigma of :mod:`srsbayes.inference.exact`."""
    y, se = np.log([12.0, 15.0, 10.0, 14.0]), np.array([0.20, 0.25, 0.18, 0.30])
    mu_prior, sd_prior = parse_prior("normal(2.7, 1.0)"), parse_prior("halfnormal(0.5)")
    grid = normal_baseline(y, se, mu_prior, sd_prior, n_mu=801, n_sigma=601)
    exact = normal_normal_posterior(y, se, 1.0, sd_prior, mu_prior_mean=2.7)
    m, s = _mu_moments(grid)
    assert m == pytest.approx(exact.mu_mean_total(), abs=1e-4)
    assert s == pytest.approx(exact.mu_sd_total(), rel=2e-3)


@pytest.mark.parametrize(("events", "n", "mu", "sigma"),
                         [(5, 48, -2.0, 0.5), (0, 40, -3.0, 1.2), (26, 208, -1.5, 0.1)])
def test_gauss_hermite_marginal_equals_numerical_integration(events, n, mu, sigma):
    def f(a):
        return stats.binom.pmf(events, n, special.expit(a)) * stats.norm.pdf(a, mu, sigma)
    want, _ = integrate.quad(f, mu - 12 * sigma, mu + 12 * sigma, epsabs=1e-14)
    got = binomial_marginal_loglik(events, n, np.asarray(mu), np.asarray(sigma))
    assert float(got) == pytest.approx(np.log(want), abs=1e-9)


def test_predictive_spreads_with_the_populations():
    """Postop arms that disagree give a wider predictive for a new population."""
    prior, sd = Prior("normal", (0.0, 2.5)), Prior("halfnormal", (1.0,))
    rng = np.random.default_rng(1)
    alike = binomial_baseline([10, 10, 10, 10], [100] * 4, prior, sd).predictive(rng, 20000)
    apart = binomial_baseline([2, 8, 20, 35], [100] * 4, prior, sd).predictive(rng, 20000)
    assert np.std(apart) > 2 * np.std(alike)
    assert np.median(special.expit(alike)) == pytest.approx(0.10, abs=0.01)


@pytest.fixture(scope="module")
def lmd_fit(bundled_table, specs):
    return fit_outcome(bundled_table, specs["lmd"], settings=FitSettings(seed=2), checks=False,
                       baselines=[0.05, 0.2])


def test_absolute_effects_take_the_postop_risk_from_the_baseline_model(lmd_fit):
    """The new population's postop risk does not feed back from, or move with, θ: its draws
    are uncorrelated with θ's (the study intercepts of the ±1/2-coded effect model are not)."""
    d = lmd_fit.idata["derived"]
    theta = np.asarray(d["log_effect"]).ravel()
    risk = np.asarray(d["risk_postop"]).ravel()
    n = theta.size
    assert abs(np.corrcoef(theta, risk)[0, 1]) < 4 / np.sqrt(n)
    post = lmd_fit.idata["posterior"]
    intercepts = np.asarray(post["logit_postop"].mean("study")).ravel()
    assert abs(np.corrcoef(theta, intercepts)[0, 1]) > 10 / np.sqrt(n)


def test_stated_baseline_risks(lmd_fit):
    d = lmd_fit.idata["derived"]
    theta = np.asarray(d["log_effect"]).ravel()
    for r in (0.05, 0.2):
        want = 100 * (special.expit(special.logit(r) + theta) - r)
        got = np.asarray(d["at_baseline_risk_difference"].sel(baseline=r)).ravel()
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    at = lmd_fit.summary["absolute_at_baseline"]
    assert [a["label"] for a in at] == ["at a postop risk of 5%",
                                        "at a postop risk of 20%"]
    # per 100 patients: the difference is the risk difference in percentage points
    assert at[0]["difference"]["median"] == pytest.approx(at[0]["risk_difference"]["median"])
