"""The binomial-normal fit: outputs, the convergence gate, checks and recovery of a known truth.

Monte Carlo tolerances: with ESS >= 400 (the gate), the MCSE of a posterior probability p is
at most sqrt(p (1 - p) / 400) <= 0.025, and of a posterior mean at most sd / 20.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace

import arviz as az
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy.special import expit

from conftest import nothing_written, write_csv
from srsbayes.families.binomial import ARM_CODINGS
from srsbayes.inference.diagnostics import Diagnostics, check_convergence
from srsbayes.inference.fitting import FitSettings, fit_outcome
from srsbayes.inputs.data import read_table
from srsbayes.outputs import write_json

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
    # Quantiles are order statistics (summaries.draw_stats), so they commute with the
    # monotone exp: the OR median and limits are exp of one log-OR draw each. rel=1e-12
    # allows only the last-bit difference between numpy's vectorised exp and math.exp.
    assert s["effect"]["median"] == pytest.approx(math.exp(s["log_effect"]["median"]),
                                                  rel=1e-12)
    for got, log in zip(s["effect"]["ci95"], s["log_effect"]["ci95"], strict=True):
        assert got == pytest.approx(math.exp(log), rel=1e-12)
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
    # 1000 draws per chain, or 2000 if the first run failed the gate: whether it does is
    # up to the sampler's floating-point path, so the test accepts both.
    draws = dt["posterior"].sizes["draw"]
    assert draws in (1000, 2000) and dt.attrs["srsbayes_seed"] == 7
    assert rep.shape == (4, draws, 4)
    assert (rep.values >= 0).all() and (rep.values <= np.array([45, 60, 38, 52])).all()


def test_ppc_pvalues_and_loo_recorded(lmd_fit):
    s = json.loads((lmd_fit[1] / "summary.json").read_text())
    p = s["ppc"]["pvalues"]
    assert set(p) == {"events_preop", "events_postop"}
    assert all(0 <= v <= 1 for v in p["events_preop"] + p["events_postop"])
    assert len(s["ppc"]["loo"]["pareto_k"]) == 4


def test_same_seed_same_numbers(specs, bundled_table):
    # Exact on purpose: two runs in one process on one machine take the same floating-point
    # path, so the same seed gives the same bits. Across machines (CPUs, BLAS, package
    # versions) the draws differ, and numbers agree only within Monte Carlo error.
    st = FitSettings(draws=300, tune=300, seed=11)
    a = fit_outcome(bundled_table, specs["rn"], settings=st, checks=False)
    b = fit_outcome(bundled_table, specs["rn"], settings=st, checks=False)
    assert a.summary["log_effect"] == b.summary["log_effect"]
    assert a.summary["prob_benefit"] == b.summary["prob_benefit"]


def test_gate_failure_exits_3_and_says_so(run_cli, tmp_path):
    # 25 draws per chain (the least --draws takes) cannot reach ESS >= 400 from 4 x 25,
    # nor from the retry's 4 x 50.
    status, out, _ = run_cli(["fit", "dbf", "--draws", "25", "--tune", "50", "--out", tmp_path])
    assert status == 3
    assert "NOT a result" in out
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["ok"] is False and s["diagnostics"]["ok"] is False
    assert s["diagnostics"]["attempts"] == 2
    assert s["draws"] == 50  # the retry doubled the draws
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
    # one study is analysed as one study; an outcome no study reports is an input error
    csv = write_csv(tmp_path, "study,outcome,arm,n,events\nA,rn,preop,10,1\nA,rn,postop,10,2\n")
    with nothing_written(tmp_path):
        status, _, err = run_cli(["fit", "lmd", "--data", csv, "--out", tmp_path / "o"])
    assert status == 2 and "outcome 'lmd' has no study" in err and str(csv) in err


def test_informative_studies_default_coding_recover_or_are_refused(specs, tmp_path):
    """The hardest geometry we know: with four studies of 1,500 patients per arm and tau =
    0.1, tau's posterior spans two orders of magnitude, over which no single parametrisation
    of the study effects suits them (``docs/methods/binomial.md``). With the per-study
    parametrisation the first attempt may diverge a few times and the retry passed at 12
    of 12 seed x coding runs (seeds 1-6); whether a given seed needs the retry depends on
    the machine's last bits, so the test asserts what must hold either way: a fit that
    passes its gate recovers the known odds ratio, and one that does not is refused after
    its retry, its failures named and no estimate."""
    res = _recovers_known_odds_ratio(specs, tmp_path, "symmetric", require_ok=False)
    if not res.ok:
        assert res.estimates is None and "effect" not in res.summary
        assert res.diagnostics.failures and res.diagnostics.attempts == 2  # retried, named


REFERENCE_CODING_SEEDS = (3, 4, 5)
"""Seeds tried in turn: whether one passes its gate depends on the CPU's last bits (seed 3
failed on one CPU with R-hat 1.014 after its retry, passed on another)."""


def test_recovers_known_odds_ratio_reference_coding(specs, tmp_path):
    """Under 0/1 coding, what holds on any CPU: a fit either passes its gate (the retry
    included) and recovers the known odds ratio, or is refused after its retry with its
    failures named and no estimate; and of three seeds one passes (a failed retry is rare:
    the retry passed at all of seeds 1-6 of this coding, see the test above)."""
    for seed in REFERENCE_CODING_SEEDS:
        res = _recovers_known_odds_ratio(specs, tmp_path, "postop_reference",
                                         require_ok=False, seed=seed)
        if res.ok:
            break
        assert res.estimates is None and "effect" not in res.summary
        assert res.diagnostics.failures and res.diagnostics.attempts == 2
    assert res.ok, f"no seed of {REFERENCE_CODING_SEEDS} passed the gate"


def _recovers_known_odds_ratio(specs, tmp_path, coding, require_ok=True, seed=3):
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
    spec = replace(specs["lmd"], model_options={"arm_coding": ARM_CODINGS[coding]})
    res = fit_outcome(table, spec, settings=FitSettings(seed=seed), checks=False)
    assert res.ok or not require_ok, res.diagnostics.failures
    if res.ok:
        s = res.summary["log_effect"]
        assert s["ci95"][0] < theta < s["ci95"][1]
        assert abs(s["median"] - theta) < 3 * s["sd"]
        assert s["sd"] < 0.2
    return res


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


# -- the convergence gate on constructed draws (no sampling) ------------------------------------


def _tree(rng: np.random.Generator, draws: int = 500, k: int = 4, chains: int = 4
          ) -> xr.DataTree:
    """Independent N(0, 1) draws of the binomial family's gated variables, with sample
    stats of a healthy run: they pass the gate unless edited."""
    def dims(*extra):
        return ("chain", "draw", *extra)

    c = chains
    post = xr.Dataset({
        "effect": (dims(), rng.standard_normal((c, draws))),
        "tau": (dims(), np.abs(rng.standard_normal((c, draws)))),
        "baseline": (dims("study"), rng.standard_normal((c, draws, k))),
        "z": (dims("study"), rng.standard_normal((c, draws, k))),
    })
    stats_ = xr.Dataset({"diverging": (dims(), np.zeros((c, draws), dtype=bool)),
                         "energy": (dims(), rng.standard_normal((c, draws)))})
    return xr.DataTree.from_dict({"posterior": post, "sample_stats": stats_})


GATED = ("effect", "tau", "baseline", "z")


def test_gate_passes_healthy_draws():
    d = check_convergence(_tree(np.random.default_rng(1)), GATED)
    assert d.ok, d.failures
    assert d.rhat_max < 1.01 and d.ess_bulk_min > 1000


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_nan_rhat_fails_the_gate_and_names_the_variable(tmp_path):
    # One study's deviation stuck at one value in every chain: its R-hat is 0/0 = NaN,
    # which np.nanmax used to drop while the other variables passed.
    tree = _tree(np.random.default_rng(2))
    z = tree["posterior"]["z"].values.copy()
    z[:, :, 1] = 0.3
    tree["posterior"] = tree["posterior"].to_dataset().assign(z=(("chain", "draw", "study"), z))
    d = check_convergence(tree, GATED)
    assert not d.ok
    assert d.failures == ("R-hat is NaN for z[1] (a stuck chain or non-finite draws)",)
    assert math.isnan(d.rhat_max)
    write_json(tmp_path / "d.json", d.as_dict())  # as summary.json is written
    back = json.loads((tmp_path / "d.json").read_text())
    assert back["rhat_max"] is None and back["ok"] is False


def test_nan_draw_fails_rhat_and_both_ess():
    tree = _tree(np.random.default_rng(3))
    tau = tree["posterior"]["tau"].values.copy()
    tau[2, 17] = np.nan
    tree["posterior"] = tree["posterior"].to_dataset().assign(tau=(("chain", "draw"), tau))
    d = check_convergence(tree, GATED)
    assert [f.split(" is NaN for ")[0] for f in d.failures] == ["R-hat", "bulk ESS", "tail ESS"]
    assert all(f.split(" is NaN for ")[1].startswith("tau ") for f in d.failures)
    assert math.isnan(d.ess_bulk_min) and math.isnan(d.ess_tail_min)


def test_nan_energy_fails_bfmi():
    tree = _tree(np.random.default_rng(4))
    energy = tree["sample_stats"]["energy"].values.copy()
    energy[3, 5] = np.nan
    tree["sample_stats"] = tree["sample_stats"].to_dataset().assign(
        energy=(("chain", "draw"), energy))
    d = check_convergence(tree, GATED)
    assert d.failures == ("E-BFMI is NaN for chain 3 (a stuck chain or non-finite draws)",)


# -- the retry ------------------------------------------------------------------------------------


def test_retry_doubles_chains_draws_and_tuning_and_raises_target_accept():
    assert FitSettings(tune=300).retry() == FitSettings(draws=2000, tune=1000, chains=8,
                                                        target_accept=0.999)
    assert FitSettings().retry() == FitSettings(draws=2000, tune=1000, chains=8,
                                                target_accept=0.999)
    small = FitSettings(draws=300, tune=3000, target_accept=0.9995, seed=5)
    assert small.retry() == FitSettings(draws=600, tune=6000, chains=8, target_accept=0.9995,
                                        seed=5)
    # a divergence needs a smaller step, not more draws or chains
    assert small.retry(more_draws=False) == replace(small.retry(), draws=300, chains=4)


def test_only_a_mixing_failure_asks_for_more_draws():
    def diag(rhat=1.0, bulk=1000.0, tail=1000.0, div=0, bfmi=1.0):
        return Diagnostics(rhat, bulk, tail, div, bfmi, ("x",))

    assert not diag(div=3).mixing_failed and not diag(bfmi=0.1).mixing_failed
    assert diag(rhat=1.02).mixing_failed and diag(bulk=399.0).mixing_failed
    assert diag(tail=100.0).mixing_failed and diag(rhat=float("nan")).mixing_failed


def test_an_ess_failure_recovers_on_retry(monkeypatch):
    """A stand-in sampler whose draws are independent (ESS about the number of draws),
    seeded by the number of draws (numpy's generator gives the same draws on every
    machine, so this is one fixed example): 4 x 100 draws fail the gate (min ESS 300,
    R-hat 1.011); the retry's 8 chains x 200 draws pass it (min ESS 1348, R-hat 1.004). A
    retry that kept 4 x 100 draws would sample the same failing tree again."""
    from srsbayes.inference import fitting

    calls = []

    def fake_sample(family, data, priors, settings, cache=None):
        calls.append(settings)
        return _tree(np.random.default_rng(settings.draws), draws=settings.draws,
                     chains=settings.chains)

    monkeypatch.setattr(fitting, "sample_posterior", fake_sample)
    _, diag, used = fitting.sample_gated("binomial", {}, {}, FitSettings(draws=100))
    assert [(c.chains, c.draws) for c in calls] == [(4, 100), (8, 200)]
    assert (used.chains, used.draws) == (8, 200)
    assert diag.ok and diag.attempts == 2, diag.failures


def test_a_divergence_is_retried_with_a_smaller_step_and_the_same_draws(monkeypatch):
    from srsbayes.inference import fitting

    calls = []

    def fake_sample(family, data, priors, settings, cache=None):
        calls.append(settings)
        tree = _tree(np.random.default_rng(settings.draws), draws=settings.draws)
        if len(calls) == 1:
            tree["sample_stats"]["diverging"][0, 7] = True
        return tree

    monkeypatch.setattr(fitting, "sample_posterior", fake_sample)
    _, diag, used = fitting.sample_gated("binomial", {}, {}, FitSettings(draws=500, tune=300))
    assert [(c.draws, c.tune, c.target_accept) for c in calls] == [(500, 300, 0.95),
                                                                   (500, 1000, 0.999)]
    assert diag.ok and diag.attempts == 2 and used == calls[1]


# -- summaries: quantiles commute with monotone transforms ---------------------------------------


def test_draw_stats_quantiles_are_order_statistics():
    """An even number of draws: an interpolated median would average the two middle draws,
    and exp of that average is not the average of their exps. Order-statistic quantiles
    are draws themselves, so ``draw_stats(exp x)`` is exp of ``draw_stats(x)`` on any
    machine (up to the last bit of exp)."""
    from srsbayes.inference.summaries import draw_stats

    x = np.random.default_rng(8).normal(size=4000)
    a, b = draw_stats(x), draw_stats(np.exp(x))
    assert a["median"] in x and all(q in x for q in a["ci95"])
    assert b["median"] == pytest.approx(math.exp(a["median"]), rel=1e-12)
    for got, q in zip(b["ci95"], a["ci95"], strict=True):
        assert got == pytest.approx(math.exp(q), rel=1e-12)
