"""Prior rows of a sweep by Pareto-smoothed importance sampling (issue 25, item 3).

The default LMD sweep is run twice with the same seed: with ``reweight=True`` (prior rows
from the reference posterior where PSIS is reliable, refits elsewhere) and with every row
refitted. Every reweighted row must agree with its full refit within Monte Carlo error: the
two estimates of P(benefit) are independent, so their difference has standard deviation
``sqrt(mcse_rw² + mcse_refit²)`` (the reweighted row's MCSE being the importance-sampling
plus resampling error, the refit's the ESS-based one); we allow 3 of them. A refitted row
is the full sweep's row exactly (the same fit in the same process).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

from srsbayes.inference.diagnostics import ESS_MIN
from srsbayes.inference.fitting import FitSettings
from srsbayes.priors.distributions import parse_prior
from srsbayes.sensitivity.reweight import KHAT_MAX, log_ratios, reweight
from srsbayes.sensitivity.sweep import run_sweep


@pytest.fixture(scope="module")
def sweeps(bundled_table, specs):
    spec = specs["lmd"]
    kw = {"data_level": False, "psense": False}
    fast = run_sweep(bundled_table, spec, None, FitSettings(), reweight=True, **kw)
    full = run_sweep(bundled_table, spec, None, FitSettings(), **kw)
    return fast.rows.set_index("setting"), full.rows.set_index("setting")


def test_every_reweighted_row_agrees_with_its_refit(sweeps):
    fast, full = sweeps
    assert list(fast.index) == list(full.index)
    methods = fast["method"].value_counts().to_dict()
    assert methods.get("reweighted", 0) >= 3 and methods.get("refit", 0) >= 1, methods
    for label, row in fast[fast["method"] == "reweighted"].iterrows():
        ref = full.loc[label]
        assert row["pareto_khat"] <= KHAT_MAX and row["weights_ess"] >= ESS_MIN
        assert row["ok"] and ref["ok"]
        sd = math.hypot(row["prob_benefit_mcse"], ref["prob_benefit_mcse"])
        assert abs(row["prob_benefit"] - ref["prob_benefit"]) <= 3 * sd, (label, row, ref)
        # the reweighted MCSE includes the resampling error: never below sqrt(p(1-p)/S)
        p = row["prob_benefit"]
        assert row["prob_benefit_mcse"] >= math.sqrt(p * (1 - p) / 4000) - 1e-15


def test_refitted_rows_are_the_full_sweeps_rows(sweeps):
    fast, full = sweeps
    refit = fast[fast["method"] == "refit"]
    for label, row in refit.iterrows():
        assert not (row["pareto_khat"] <= KHAT_MAX and row["weights_ess"] >= ESS_MIN), label
        for col in ("prob_benefit", "effect_median", "tau_median", "prob_benefit_mcse"):
            assert row[col] == full.loc[label, col], (label, col)
    ref = fast[fast["method"] == "reference"]
    assert len(ref) == 1
    label = ref.index[0]
    assert ref.loc[label, "prob_benefit"] == full.loc[label, "prob_benefit"]


def _post(tau: np.ndarray) -> xr.Dataset:
    return xr.Dataset({"tau": (("chain", "draw"), tau.reshape(2, -1)),
                       "effect": (("chain", "draw"), np.zeros((2, tau.size // 2)))})


def test_log_ratios_are_the_prior_density_ratio_of_changed_slots_only():
    tau = np.array([0.1, 0.5, 1.0, 2.0])
    ref = {"tau": parse_prior("halfnormal(0.5)"), "effect": parse_prior("normal(0, 1)")}
    new = {"tau": parse_prior("halfnormal(1)"), "effect": parse_prior("normal(0, 1)")}
    got = log_ratios(_post(tau), ref, new)
    # log HN(t; 1) - log HN(t; 0.5) = log(0.5) + t^2 (1/(2 * 0.25) - 1/2), by hand
    np.testing.assert_allclose(got, np.log(0.5) + 1.5 * tau**2, rtol=1e-12)


def test_reweighting_recovers_a_known_posterior_and_refuses_a_bad_proposal():
    # Draws from N(0, 1) reweighted to N(0.3, 1): the reweighted mean is 0.3 within Monte
    # Carlo error.
    rng = np.random.default_rng(4)
    x = rng.normal(size=4000)
    post = xr.Dataset({"effect": (("chain", "draw"), x.reshape(4, -1))})
    rw = reweight(post, {"effect": parse_prior("normal(0, 1)")},
                  {"effect": parse_prior("normal(0.3, 1)")}, seed=1)
    assert rw.usable and rw.khat <= KHAT_MAX
    mean = float(np.sum(rw.weights * x))
    # SD of a self-normalised IS mean ~ sqrt(sum w^2 (x - mean)^2); 4 of them
    assert abs(mean - 0.3) <= 4 * math.sqrt(np.sum(rw.weights**2 * (x - mean) ** 2))
    assert rw.posterior["effect"].dims == ("chain", "draw")
    assert rw.posterior["effect"].shape == (4, 1000)
    # a target far in the proposal's tail: k-hat above 0.7 or too few effective draws
    far = reweight(post, {"effect": parse_prior("normal(0, 1)")},
                   {"effect": parse_prior("normal(4, 0.2)")}, seed=1)
    assert not far.usable and (far.khat > KHAT_MAX or far.ess < ESS_MIN)
