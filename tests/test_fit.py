"""The binomial-normal fit: outputs, the convergence gate, checks and recovery of a known truth.

Monte Carlo tolerances: with ESS >= 400 (the gate), the MCSE of a posterior probability p is
at most sqrt(p (1 - p) / 400) <= 0.025, and of a posterior mean at most sd / 20.
"""

from __future__ import annotations

import json
import math

import arviz as az
import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from conftest import nothing_written, write_csv
from srsbayes.inference.fitting import FitSettings, fit_outcome
from srsbayes.inputs.data import read_table

SUMMARY_KEYS = {
    "outcome", "family", "measure", "benefit", "n_studies", "log_effect", "effect", "tau",
    "prediction", "prob_benefit", "thresholds", "diagnostics", "priors", "seed", "draws",
    "chains",
}


@pytest.fixture(scope="module")
def lmd_fit(tmp_path_factory, specs, bundled_table):
    from srsbayes.cli.main import main

    out = tmp_path_factory.mktemp("lmd")
    status = main(["fit", "lmd", "--out", str(out), "--seed", "7"])
    return status, out


def test_fit_writes_posterior_and_summary(lmd_fit):
    status, out = lmd_fit
    assert status == 0
    s = json.loads((out / "summary.json").read_text())
    assert SUMMARY_KEYS <= set(s)
    assert s["measure"] == "odds_ratio" and s["benefit"] == "lower" and s["n_studies"] == 4
    for key in ("mean", "sd", "median", "ci95"):
        assert key in s["log_effect"]
    assert set(s["diagnostics"]) >= {"rhat_max", "ess_bulk_min", "ess_tail_min", "divergences",
                                     "bfmi_min", "ok"}
    assert s["diagnostics"]["ok"] is True
    assert set(s["priors"]) == {"effect", "tau", "baseline"}
    lo, hi = s["effect"]["ci95"]
    assert lo < s["effect"]["median"] < hi
    # exp is monotone, so the odds-ratio median is exp of the log-OR median (up to quantile
    # interpolation between draws).
    assert s["effect"]["median"] == pytest.approx(math.exp(s["log_effect"]["median"]), rel=1e-3)
    assert [t["measure"] for t in s["thresholds"]] == ["risk_difference"]
    assert 0 <= s["thresholds"][0]["probability"] <= s["prob_benefit"]


def test_lmd_result_matches_the_data(lmd_fit):
    """Pooled counts are 7/195 preop vs 26/208 postop (nearest counts): a crude OR of 0.26.

    The posterior must agree that preop lowers LMD; with ESS >= 400 the MCSE of
    prob_benefit (~0.998) is below 0.003.
    """
    s = json.loads((lmd_fit[1] / "summary.json").read_text())
    assert s["prob_benefit"] > 0.98
    assert 0.15 < s["effect"]["median"] < 0.45
    assert s["absolute"]["risk_difference"]["median"] < 0


def test_posterior_nc_groups_and_provenance(lmd_fit, bundled_table):
    dt = az.from_netcdf(lmd_fit[1] / "posterior.nc")
    for group in ("posterior", "posterior_predictive", "log_likelihood", "observed_data",
                  "sample_stats"):
        assert group in dt.children, group
    assert dt.attrs["srsbayes_data_sha256"] == bundled_table.sha256
    assert json.loads(dt.attrs["srsbayes_priors"])["tau"] == "halfnormal(0.5)"
    assert dt.attrs["srsbayes_seed"] == 7
    assert "pymc" in json.loads(dt.attrs["srsbayes_versions"])
    obs = dt["observed_data"]["events_postop"].values
    assert obs.tolist() == [5, 8, 6, 7]
    rep = dt["posterior_predictive"]["events_preop"]
    assert rep.shape == (4, 1000, 4)
    assert (rep.values >= 0).all() and (rep.values <= np.array([45, 60, 38, 52])).all()


def test_ppc_pvalues_and_loo_recorded(lmd_fit):
    s = json.loads((lmd_fit[1] / "summary.json").read_text())
    p = s["ppc"]["pvalues"]
    assert set(p) == {"events_preop", "events_postop"}
    assert all(0 <= v <= 1 for v in p["events_preop"] + p["events_postop"])
    assert len(s["ppc"]["loo"]["pareto_k"]) == 4


def test_same_seed_same_numbers(specs, bundled_table):
    st = FitSettings(draws=300, tune=300, seed=11)
    a = fit_outcome(bundled_table, specs["rn"], settings=st, checks=False)
    b = fit_outcome(bundled_table, specs["rn"], settings=st, checks=False)
    assert a.summary["log_effect"] == b.summary["log_effect"]
    assert a.summary["prob_benefit"] == b.summary["prob_benefit"]


def test_gate_failure_exits_3_and_says_so(run_cli, tmp_path):
    # 20 draws per chain cannot reach ESS >= 400, before or after the retry.
    status, out, _ = run_cli(["fit", "dbf", "--draws", "20", "--tune", "50", "--out", tmp_path])
    assert status == 3
    assert "NOT a result" in out
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["ok"] is False and s["diagnostics"]["ok"] is False
    assert s["diagnostics"]["attempts"] == 2
    assert any("ESS" in f for f in s["diagnostics"]["failures"])


def test_prior_override_is_used(run_cli, tmp_path):
    status, _, _ = run_cli(["fit", "lc", "--prior", "tau=halfcauchy(0.25)",
                            "--prior", "effect=normal(0, 0.35)", "--out", tmp_path])
    assert status == 0
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["priors"]["tau"] == "halfcauchy(0.25)"
    assert s["priors"]["effect"] == "normal(0, 0.35)"
    # A sceptical effect prior (sd 0.35) pulls the LC log-OR towards 0.
    assert abs(s["log_effect"]["median"]) < 0.3


@pytest.mark.parametrize("prior, message", [
    ("sigma=halfnormal(1)", "unknown prior name 'sigma'"),
    ("tau=gamma(1, 1)", "unknown distribution 'gamma'"),
    ("tau=normal(0, 1)", "needs a prior on positive values"),
    ("tau halfnormal(1)", "expected NAME=DIST"),
])
def test_bad_prior_exits_2_and_writes_nothing(run_cli, tmp_path, prior, message):
    with nothing_written(tmp_path):
        status, _out, err = run_cli(["fit", "lmd", "--prior", prior, "--out", tmp_path / "o"])
    assert status == 2
    assert message in err and err.count("\n") == 1


def test_unknown_outcome_and_too_few_studies_exit_2(run_cli, tmp_path):
    status, _, err = run_cli(["fit", "xyz", "--out", tmp_path / "o"])
    assert status == 2 and "unknown outcome 'xyz'" in err
    csv = write_csv(tmp_path, "study,outcome,arm,n,events\nA,lmd,preop,10,1\nA,lmd,postop,10,2\n")
    with nothing_written(tmp_path):
        status, _, err = run_cli(["fit", "lmd", "--data", csv, "--out", tmp_path / "o"])
    assert status == 2 and "needs >= 2" in err and str(csv) in err


def test_recovers_known_odds_ratio(specs, tmp_path):
    """Four large simulated studies with log OR = -0.7 and tau = 0.1.

    The pooled log OR is then known to within about 0.1 (posterior sd); the truth must lie
    inside the central 95% interval, and the posterior median within 3 posterior sds.
    """
    rng = np.random.default_rng(2024)
    theta, tau, n = -0.7, 0.1, 1500
    rows = []
    for i in range(4):
        alpha = rng.normal(-1.5, 0.4)
        for arm, shift in (("postop", 0.0), ("preop", theta + tau * rng.normal())):
            rows.append({"study": f"S{i}", "outcome": "lmd", "arm": arm, "n": n,
                         "events": rng.binomial(n, expit(alpha + shift))})
    path = tmp_path / "sim.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    table = read_table(path, specs)
    res = fit_outcome(table, specs["lmd"], settings=FitSettings(seed=3), checks=False)
    s = res.summary["log_effect"]
    assert res.ok
    assert s["ci95"][0] < theta < s["ci95"][1]
    assert abs(s["median"] - theta) < 3 * s["sd"]
    assert s["sd"] < 0.2


def test_threshold_probability_direction_and_measure():
    """Hand-made draws: absolute thresholds read the signed benefit, ratio thresholds the
    effect on the benefit side of 1 (OR <= 0.8 when fewer events is benefit)."""
    import xarray as xr

    from srsbayes.families import threshold_probability

    def d(a):
        return xr.DataArray(np.asarray(a, dtype=float))

    absolute = {"benefit": d([4, 6, 7, 1]), "benefit_new": d([6, 2])}
    assert threshold_probability("binomial", "risk_difference", 5, -1, d([0]), d([0]),
                                 absolute) == (0.5, 0.5)
    log_or = d(np.log([0.5, 0.9, 0.7, 1.2]))
    assert threshold_probability("binomial", "odds_ratio", 0.8, -1, log_or, log_or, {}) == (
        0.5, 0.5)
    assert threshold_probability("lognormal_median", "ratio", 1.1, 1, d(np.log([1.2, 1.0])),
                                 d(np.log([1.05])), {}) == (0.5, 0.0)
    assert threshold_probability("lognormal_median", "months", 1, 1, d([0]), d([0]),
                                 {"benefit": d([0.5, 2, 3]), "benefit_new": d([3])}) == (
        pytest.approx(2 / 3), 1.0)
