"""Issue 22 item 1: a bias shared by the studies (Welton et al. 2009), the wider prior
family, BRANDO's outcome-specific numbers, tipping points and the reverse-Bayes prior.

The sampler-derived checks compare NUTS with the exact normal-normal posterior computed by
quadrature (``srsbayes.inference.exact``), within 3.5 Monte Carlo SEs (ArviZ ``mcse``) plus
1e-3 for the grid. The study estimates are constructed (as in ``tests/integration/test_bias.py``),
not data from any study.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import draws, mcse
from srsbayes.families import get_family
from srsbayes.inference.exact import exact_reference
from srsbayes.inference.fitting import FitSettings, outcome_table, resolve_priors, sample_gated
from srsbayes.inference.tipping import reverse_bayes, tipping_points
from srsbayes.inputs.data import read_table
from srsbayes.inputs.specs import load_specs
from srsbayes.priors.bias import load_bias_priors, study_bias
from srsbayes.priors.distributions import Prior

MODELS = Path(__file__).parents[1] / "data" / "contrast_models"
Y = np.array([-0.35, -0.1, -0.6, 0.05, -0.25])  # constructed log hazard ratios
S = np.array([0.2, 0.25, 0.3, 0.15, 0.35])
Z = 3.5


def _fit(tmp_path, overrides=None, seed=22, y=Y):
    specs = load_specs(MODELS)
    rows = ["study,outcome,arm,measure,estimate,se"] + [
        f"S{i},schools_hr,,hr,{math.exp(v)!r},{e!r}"
        for i, (v, e) in enumerate(zip(y.tolist(), S.tolist(), strict=True))]
    (tmp_path / "h.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    spec = specs["schools_hr"]
    wide = outcome_table(read_table(tmp_path / "h.csv", specs), spec)
    priors = resolve_priors(spec, wide)
    data = {**get_family("contrast").model_data(wide), **(overrides or {})}
    idata, diag, _ = sample_gated("contrast", data, priors, FitSettings(draws=2500, seed=seed))
    assert diag.ok, diag

    class Fit:  # what conftest.draws reads
        pass

    fit = Fit()
    fit.idata = idata
    return spec, priors, draws(fit, "effect")


def test_bundled_rules_follow_welton_and_the_brando_rule():
    rules = {r.name: r for r in load_bias_priors().rules}
    obs, rct = rules["observational"], rules["rct_high_risk"]
    se = (math.log(1.14) - math.log(1.04)) / (2 * 1.959963984540054)
    # shared SD = sqrt(phi^2 + SE(mean)^2); Schwingshackl reports no per-study part
    assert obs.shared == pytest.approx(math.sqrt(0.021 + se**2), rel=1e-12)
    assert obs.sd == 0.0 and obs.mean == pytest.approx(math.log(1.09), rel=1e-12)
    assert "nutrition" in obs.caveat and "0.81 to 1.46 in either direction" in obs.caveat
    se_r = (math.log(0.99) - math.log(0.81)) / (2 * 1.959963984540054)
    assert rct.shared == pytest.approx(math.hypot(0.05, se_r), rel=1e-12) and rct.sd == 0.06
    mort, subj = rct.by_outcome["mortality"], rct.by_outcome["subjective"]
    assert "Mortality ROR 1.03 (0.82, 1.31)" in mort.quote
    assert "Subjective ROR 0.82 (0.70, 0.94)" in subj.quote
    # ROR > 1 for mortality: flawed trials show *less* benefit, so the bias is against preop
    assert mort.mean == pytest.approx(-math.log(1.03)) and mort.mean < 0
    assert subj.mean == pytest.approx(-math.log(0.82)) and subj.sd == 0.08


def test_outcome_type_selects_brando_outcome_numbers():
    wide = pd.DataFrame({"study": ["A", "B"], "design": ["rct", "rct"],
                         "rob": ["serious", "low"]})
    pri = load_bias_priors()
    allo = study_bias(wide, -1, pri)
    mort = study_bias(wide, -1, pri, "mortality")
    subj = study_bias(wide, -1, pri, "subjective")
    np.testing.assert_allclose(allo.mean, [math.log(0.89), 0.0])
    np.testing.assert_allclose(mort.mean, [math.log(1.03), 0.0])
    np.testing.assert_allclose(subj.mean, [math.log(0.82), 0.0])
    assert subj.sd[0] == 0.08 and allo.rules == ("rct_high_risk", "")


def test_wide_family_is_mean_zero_spanning_the_prediction_interval():
    (obs, rct) = load_bias_priors("wide").rules
    assert obs.mean == 0.0 and obs.shared == pytest.approx(math.log(1.46) / 1.959963984540054)
    assert obs.shared > load_bias_priors().rules[0].shared
    assert "either direction" in obs.direction and rct.name == "rct_high_risk"


@pytest.mark.slow
def test_shared_bias_matches_its_exact_posterior(tmp_path):
    """A bias beta ~ N(m, phi^2) shared by all studies: theta' = theta + beta is the NNHM's
    mean under a N(mu0, sd0^2 + phi^2) prior, and theta | theta' is normal with
    E = mu0 + r (theta' - mu0), Var = sd0^2 phi^2 / (sd0^2 + phi^2), r = sd0^2 / (sd0^2 + phi^2).
    Independent biases of the same SD would shrink by sqrt(k): the shared one does not."""
    m, phi = -0.1, 0.3
    k = len(Y)
    _spec, priors, theta = _fit(tmp_path, {"bias_mean": np.full(k, m),
                                          "bias_shared": np.full(k, phi),
                                          "bias_sd": np.zeros(k)})
    mu0, sd0 = priors["effect"].params[:2]
    wider = {**priors, "effect": Prior("normal", (mu0, math.hypot(sd0, phi)))}
    ex = exact_reference(Y - m, S, wider)
    r = sd0**2 / (sd0**2 + phi**2)
    mean = mu0 + r * (ex.mu_mean_total() - mu0)
    sd = math.sqrt(r**2 * ex.mu_sd_total() ** 2 + sd0**2 * phi**2 / (sd0**2 + phi**2))
    assert abs(theta.mean() - mean) <= Z * mcse(theta, "mean") + 1e-3
    assert abs(theta.std(ddof=1) - sd) <= Z * mcse(theta, "sd") + 1e-3
    independent = exact_reference(Y - m, np.sqrt(S**2 + phi**2), priors)
    assert sd > independent.mu_sd_total() + 0.05  # the shared bias does not average out


@pytest.mark.slow
def test_tipping_points_and_reverse_bayes_are_exact(tmp_path):
    """Reweighted draws of the unshifted fit against the exact posterior of shifted data
    (a bias b shared by every study: y - b), and of the sceptical prior."""
    y = Y - 0.15  # constructed: P(benefit) about 0.99
    spec, priors, theta = _fit(tmp_path, y=y)
    sign, dp = spec.sign, 0.95
    flat = theta.ravel()
    p_fit = float((sign * flat > 0).mean())
    assert p_fit > dp  # the constructed data support benefit
    tp = tipping_points(flat, priors["effect"], sign, dp, math.log(1.09))
    assert tp["applies"] and tp["prob_benefit"] == p_fit
    # exact P(benefit) with the studies' effects exaggerated by the tipping mean
    ex = exact_reference(y + tp["mean"], S, priors)  # sign -1: the bias is -mean
    ind = (sign * theta > 0).astype(float)
    tol = Z * mcse(ind, "mean") + 0.01
    assert abs(ex.mu_cdf(0.0) - dp) <= tol, (ex.mu_cdf(0.0), tp)
    below = exact_reference(y + 0.8 * tp["mean"], S, priors)
    assert below.mu_cdf(0.0) > dp  # a smaller bias keeps the conclusion
    assert tp["sd"] > 0 and tp["ess_min"] > 500
    rb = reverse_bayes(flat, priors["effect"], sign, dp)
    assert rb["applies"] and rb["sceptical_limit"] == pytest.approx(math.exp(1.96 * rb["sd"]),
                                                                     rel=1e-3)
    sceptic = exact_reference(y, S, {**priors, "effect": Prior("normal", (0.0, rb["sd"]))})
    # Monte Carlo error of a reweighted probability: its own binomial variance over the
    # weights' ESS, times the chains' autocorrelation inflation (MCSE of the unweighted
    # indicator over its independent-draws value)
    pw = rb["prob_benefit_exact"]
    inflation = max(1.0, mcse(ind, "mean") / (p_fit * (1 - p_fit) / len(flat)) ** 0.5)
    assert abs(pw - sceptic.mu_cdf(0.0)) <= Z * inflation * (pw * (1 - pw) / rb["ess"]) ** 0.5 \
        + 1e-3
    assert abs(sceptic.mu_cdf(0.0) - dp) < 0.02  # the normal approximation is close
