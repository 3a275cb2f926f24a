"""The per-study parametrisation of the study deviations (``srsbayes.inference.parametrisation``,
``srsbayes.families.bias_term.study_deviation``): deterministic checks, no sampling.

The battery of ``tests/published/test_metadat.py`` checks the sampling side (every dataset passes
the gate and agrees with metafor; the contrast fits also with the exact posterior)."""

from __future__ import annotations

import numpy as np
import pytest

from srsbayes.families import get_family
from srsbayes.families.bias_term import centring
from srsbayes.inference.exact import normal_normal_posterior
from srsbayes.inference.parametrisation import TAU_QUANTILE, centring_data, reference_tau
from srsbayes.priors.distributions import Prior

TAU_PRIOR = Prior("halfnormal", (1.0,))


def test_weights_follow_the_information_ratio():
    """w = s^2 / (s^2 + v) (Papaspiliopoulos et al. 2007, sec. 3), by hand: s = 0.5 and
    variances 0.25 (w = 1/2), 0.0025 (100/101), 25 (1/101), none (0)."""
    w = centring(np.array([0.25, 0.0025, 25.0, np.inf]), 0.5)
    assert w == pytest.approx([0.5, 100 / 101, 1 / 101, 0.0])
    # a bias SD adds to the deviation's spread: s^2 = 0.25 + 0.75 = 1 against v = 1
    assert centring(np.array([1.0]), 0.5, np.array([np.sqrt(0.75)])) == pytest.approx([0.5])


def test_reference_tau_is_a_low_quantile_of_the_approximate_posterior():
    y = np.array([-0.9, -0.2, -0.7, 0.1, -1.6])
    s = np.array([0.3, 0.2, 0.4, 0.25, 0.5])
    exact = normal_normal_posterior(y, s, 1e4, TAU_PRIOR, n_grid=4001)
    assert reference_tau(y, s**2, TAU_PRIOR) == pytest.approx(
        float(exact.tau_quantile(TAU_QUANTILE)), rel=0.02)
    # no usable study: the prior's quantile
    assert reference_tau(np.array([np.nan]), np.array([np.nan]), TAU_PRIOR) == pytest.approx(
        float(TAU_PRIOR.scipy().ppf(TAU_QUANTILE)))


def test_large_trials_are_centred_and_small_ones_not():
    """Three trials of 10,000 per arm whose log ORs differ by about 0.75 (500 vs 1,000,
    1,000 vs 1,000, 1,000 vs 500 events), so tau is surely large, and a trial of 20 per arm
    (2 vs 1 events): the large trials' log ORs have variances of about 3e-3, the small one's
    about 1.7, so the large ones are centred and the small one nearly non-centred."""
    data = {"n_preop": np.array([10_000, 10_000, 10_000, 20]),
            "y_preop": np.array([500, 1_000, 1_000, 2]),
            "n_postop": np.array([10_000, 10_000, 10_000, 20]),
            "y_postop": np.array([1_000, 1_000, 500, 1])}
    w = centring_data(get_family("binomial"), data, {"tau": TAU_PRIOR})["centring"]
    assert np.all(w[:3] > 0.95) and w[3] < 0.2, w
    # weights given in the data are kept (e.g. to force the non-centred form)
    assert centring_data(get_family("binomial"), {**data, "centring": np.zeros(4)},
                         {"tau": TAU_PRIOR}) == {}


def test_the_model_is_the_same_in_every_parametrisation():
    """The contrast model's log density in the centred form (w = 1, free variable z = theta +
    delta) equals the non-centred one (w = 0, z = delta / tau) at the same (theta, tau,
    delta) less k log tau, the log Jacobian of z -> delta, and a partial weight likewise
    (z = tau^(w - 1) delta + w theta: w log tau per study)."""
    import pymc as pm
    import pytensor

    fam = get_family("contrast")
    k = 3
    model = fam.build_model(k, {"effect": Prior("normal", (0.0, 2.0)), "tau": TAU_PRIOR})
    with model:
        pm.set_data({"y": np.array([0.1, -0.3, 0.6]), "s": np.array([0.2, 0.5, 0.3])})
    logp = model.compile_logp()
    # the prior slots' inputs, and the shared bias's u (no bias: it enters no other term)
    raw = {"effect_raw": np.array(0.15), "tau_raw": np.array(-0.9), "bias_u": np.array(0.0)}
    outs = model.replace_rvs_by_values([model["effect"], model["tau"]])
    values = pytensor.function(model.value_vars, outs, on_unused_input="ignore")
    point = {**raw, "z": np.zeros(k)}
    theta, tau = (float(v) for v in values(*(point[v.name] for v in model.value_vars)))
    delta = np.array([0.2, -0.5, 0.1])

    def at(w: np.ndarray) -> float:
        with model:
            pm.set_data({"centring": w})
        z = tau ** (w - 1) * delta + w * theta
        return float(logp({**raw, "z": z}))

    w0, w1, wh = np.zeros(k), np.ones(k), np.array([0.0, 0.5, 1.0])
    assert 0 < tau != 1 and theta != 0
    assert at(w1) == pytest.approx(at(w0) - k * np.log(tau), abs=1e-10)
    assert at(wh) == pytest.approx(at(w0) - wh.sum() * np.log(tau), abs=1e-10)
