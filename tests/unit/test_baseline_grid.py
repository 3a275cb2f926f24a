"""The vectorised baseline-model grid against the implementation it replaced.

The reference below is the per-study computation ``families/baseline.py`` used before the
shared-node rewrite (log-density by :func:`scipy.stats.binom.logpmf` and
:func:`scipy.stats.norm.logpdf`, :func:`scipy.special.logsumexp` over the nodes). On every
bundled outcome the two must give the same grid posterior to rounding (log-likelihood within
1e-10, cell probabilities within a relative 1e-9) and so, seed for seed, the same predictive
draws of a new population's control-arm level (within 1e-12): every absolute effect is
computed from those draws.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from srsbayes.families import baseline as bl
from srsbayes.families import get_family
from srsbayes.inference.fitting import model_data, resolve_priors
from srsbayes.inputs.data import outcome_table


def _reference_binomial_loglik(events, n, mu, sigma, events_hi=None):
    """Per study: the pmf summed over its count set ``[events, events_hi]`` by brute force."""
    hi_all = events if events_hi is None else events_hi
    total = 0.0
    for y, hi, m in zip(events, hi_all, n, strict=True):
        a = mu[..., None] + sigma[..., None] * bl._GH_NODES
        p = special.expit(a)
        lp = special.logsumexp([stats.binom.logpmf(k, m, p) for k in range(int(y), int(hi) + 1)],
                               axis=0)
        total = total + special.logsumexp(lp + bl._GH_LOGW, axis=-1)
    return total


def _reference_normal_loglik(y, se, mu, sigma):
    sd = np.sqrt(se[None, None, :] ** 2 + sigma[None, :, None] ** 2)
    return stats.norm.logpdf(y[None, None, :], mu[:, None, None], sd).sum(axis=-1)


def _reference_model(data, priors, family):
    """The baseline grid as the replaced code computed it (same grid points)."""
    fam_mod = get_family(family)
    sd_prior = fam_mod.BASELINE_SD_PRIOR
    new = fam_mod.baseline_model(data, priors)
    y = np.asarray(data["y_postop"], float)
    if family == "binomial":
        lo, hi = fam_mod.count_bounds(data, "postop")
        loglik = _reference_binomial_loglik(lo, np.asarray(data["n_postop"], float),
                                            new.mu[:, None], new.sigma[None, :], hi)
    else:
        loglik = _reference_normal_loglik(y, np.asarray(data["se_postop"], float),
                                          new.mu, new.sigma)
    return new, loglik, bl._grid(loglik, new.mu, new.sigma, priors["baseline"], sd_prior)


@pytest.mark.parametrize("outcome", ["lmd", "lc", "rn", "dbf", "os"])
def test_grid_and_predictive_match_the_replaced_implementation(outcome, specs, bundled_table):
    spec = specs[outcome]
    wide = outcome_table(bundled_table, spec)
    data, priors = model_data(spec, wide), resolve_priors(spec, wide)
    new, ref_loglik, ref = _reference_model(data, priors, spec.family)
    if spec.family == "binomial":
        lo, hi = get_family(spec.family).count_bounds(data, "postop")
        got = bl.binomial_marginal_loglik_sum(lo, data["n_postop"], new.mu[:, None],
                                              new.sigma[None, :], hi)
        np.testing.assert_allclose(got, ref_loglik, rtol=0, atol=1e-10)
    np.testing.assert_allclose(new.prob, ref.prob, rtol=1e-9, atol=1e-300)
    draws_new = new.predictive(np.random.default_rng(7), 4000)
    draws_ref = ref.predictive(np.random.default_rng(7), 4000)
    np.testing.assert_allclose(draws_new, draws_ref, rtol=0, atol=1e-12)
    q = [0.025, 0.5, 0.975]
    np.testing.assert_allclose(np.quantile(draws_new, q), np.quantile(draws_ref, q),
                               rtol=0, atol=1e-12)


def test_summed_marginal_equals_the_sum_of_single_study_marginals():
    events, n = np.array([0.0, 5.0, 40.0]), np.array([40.0, 48.0, 41.0])
    mu, sigma = np.linspace(-6, 4, 7)[:, None], np.linspace(0.05, 2.5, 5)[None, :]
    single = sum(bl.binomial_marginal_loglik(y, m, mu, sigma)
                 for y, m in zip(events, n, strict=True))
    np.testing.assert_allclose(bl.binomial_marginal_loglik_sum(events, n, mu, sigma), single,
                               rtol=0, atol=1e-12)
    np.testing.assert_allclose(single, _reference_binomial_loglik(events, n, mu, sigma),
                               rtol=0, atol=1e-10)


def test_fit_builds_the_baseline_model_once_per_data(bundled_table, specs):
    """``derive`` and anything after it reuse the memoised grid of the same data."""
    spec = specs["lmd"]
    wide = outcome_table(bundled_table, spec)
    data, priors = model_data(spec, wide), resolve_priors(spec, wide)
    fam = get_family(spec.family)
    bl._binomial_baseline.cache_clear()
    first = fam.baseline_model(data, priors)
    assert fam.baseline_model(dict(data), dict(priors)) is first
    info = bl._binomial_baseline.cache_info()
    assert (info.misses, info.hits) == (1, 1)


def test_baseline_model_uses_the_count_sets_of_the_relative_effect_model(specs, bundled_table):
    """All four LMD postop arms are percentages that no count reproduces (GRIM failures):
    the baseline model's likelihood is P(count in its set), as in the relative-effect model,
    not the nearest count's pmf."""
    spec = specs["lmd"]
    wide = outcome_table(bundled_table, spec)
    data, priors = model_data(spec, wide), resolve_priors(spec, wide)
    fam = get_family(spec.family)
    lo, hi = fam.count_bounds(data, "postop")
    assert (hi > lo).all()  # every arm a set of two counts
    model = fam.baseline_model(data, priors)
    nearest = bl.binomial_baseline(data["y_postop"], data["n_postop"], priors["baseline"],
                                   fam.BASELINE_SD_PRIOR)
    set_ll = _reference_binomial_loglik(lo, np.asarray(data["n_postop"], float),
                                        model.mu[:, None], model.sigma[None, :], hi)
    ref = bl._grid(set_ll, model.mu, model.sigma, priors["baseline"], fam.BASELINE_SD_PRIOR)
    np.testing.assert_allclose(model.prob, ref.prob, rtol=1e-9, atol=1e-300)
    assert np.abs(model.prob - nearest.prob).max() > 1e-4  # not the nearest-count model


def test_pooled_risk_is_the_maximum_likelihood_over_count_sets():
    lo, hi, n = np.array([5, 8, 5, 6]), np.array([6, 9, 6, 7]), np.array([48, 65, 40, 55])
    grid = np.linspace(0.05, 0.25, 200001)
    ll = sum(np.log(stats.binom.cdf(h, m, grid) - stats.binom.cdf(lw - 1, m, grid))
             for lw, h, m in zip(lo, hi, n, strict=True))
    assert bl.pooled_risk(lo, n, hi) == pytest.approx(grid[np.argmax(ll)], abs=2e-6)
    assert bl.pooled_risk(lo, n) == 24 / 208  # exact counts: events / patients


def test_threads_asking_for_the_same_baseline_model_together_compute_it_once(bundled_table,
                                                                              specs):
    """A sweep's reference row and the refits sampled beside it reach the baseline model of
    the same data together: one computes it, the others wait for the memo."""
    import threading

    spec = specs["lmd"]
    wide = outcome_table(bundled_table, spec)
    data, priors = model_data(spec, wide), resolve_priors(spec, wide)
    fam = get_family(spec.family)
    bl._binomial_baseline.cache_clear()
    start = threading.Barrier(4)
    got = []

    def ask() -> None:
        start.wait()
        got.append(fam.baseline_model(data, priors))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    info = bl._binomial_baseline.cache_info()
    assert (info.misses, info.hits) == (1, 3)
    assert all(g is got[0] for g in got)


def test_cells_whose_quadrature_sum_underflows_are_recomputed_by_log_sum_exp():
    """Far out in the grid (200 events of 200 at a log-odds near -8, and 0 of 300 near +8)
    the scaled terms underflow to 0 and their log would be -inf: those cells take the
    log-sum-exp path and still equal the brute-force reference."""
    events, hi, n = np.array([200.0, 0.0]), np.array([200.0, 1.0]), np.array([200.0, 300.0])
    mu, sigma = np.array([-8.0, 0.0, 8.0])[:, None], np.array([0.05, 0.5])[None, :]
    scaled = np.exp(200 * -np.logaddexp(0.0, 8.0 - 0.05 * bl._GH_NODES)) @ bl._GH_WEIGHTS_N
    assert scaled < bl._UNDERFLOW  # the first cell does take the fallback
    got = bl.binomial_marginal_loglik_sum(events, n, mu, sigma, hi)
    ref = _reference_binomial_loglik(events, n, mu, sigma, hi)
    assert np.isfinite(got).all() and got.min() < -1000
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-9)
