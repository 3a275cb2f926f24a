"""Sweep rows by Pareto-smoothed importance sampling, the default (issue 25, item 3).

The default LMD sweep is run twice with the same seed: as by default (prior, leave-one-out
and same-model data rows from the reference posterior where PSIS is reliable, refits
elsewhere) and with ``refit_all=True``. Every reweighted row must agree with its full refit
within Monte Carlo error: the two estimates of P(benefit) are independent, so their
difference has standard deviation ``sqrt(mcse_psis² + mcse_refit²)`` (the reweighted row's
MCSE being the importance-sampling plus resampling error, the refit's the ESS-based one); we
allow 3 of them (a two-sided 0.27% chance per row of a false alarm under normality). A
refitted row is the full sweep's row exactly (the same fit in the same process), and the
reference row is the fit itself.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

from srsbayes.inference.diagnostics import ESS_MIN
from srsbayes.inference.fitting import FitSettings, fit_outcome
from srsbayes.priors.distributions import parse_prior
from srsbayes.sensitivity.grid import Setting
from srsbayes.sensitivity.importance import psis_decisions, psis_row
from srsbayes.sensitivity.plan import plan_jobs
from srsbayes.sensitivity.reweight import (
    KHAT_MAX,
    covers,
    data_log_ratios,
    khat_threshold,
    log_ratios,
    loo_log_ratios,
    resample,
    reweight,
)
from srsbayes.sensitivity.rows import Method
from srsbayes.sensitivity.sweep import _reference, _sweep_settings, default_grid, run_sweep
from srsbayes.sensitivity.verdict import BORDERLINE_MCSE

PSIS_KINDS = {"prior", "leave-one-out", "rounding", "rate type"}


@pytest.fixture(scope="module")
def sweeps(bundled_table, specs):
    spec = specs["lmd"]
    fast = run_sweep(bundled_table, spec, None, FitSettings(), psense=False)
    full = run_sweep(bundled_table, spec, None, FitSettings(), psense=False, refit_all=True)
    return fast, full


def test_every_reweighted_row_agrees_with_its_refit(sweeps):
    fast, full = (s.rows.set_index("setting") for s in sweeps)
    assert list(fast.index) == list(full.index)
    methods = fast["method"].value_counts().to_dict()
    # 8 of 14 other prior rows and "nearest counts as reported" on the bundled data (seed
    # 20260226); leave-one-out rows have k-hat > 0.7 with 4 studies and are refitted
    assert methods.get("psis", 0) >= 5 and methods.get("refit", 0) >= 3, methods
    assert set(full["method"]) == {"reference", "refit"}
    psis = fast[fast["method"] == "psis"]
    assert {"prior", "rounding"} <= set(psis["kind"])
    for label, row in psis.iterrows():
        ref = full.loc[label]
        assert row["pareto_khat"] <= KHAT_MAX and row["weights_ess"] >= ESS_MIN
        assert row["ok"] and ref["ok"] and row["attempts"] == 0
        sd = math.hypot(row["prob_benefit_mcse"], ref["prob_benefit_mcse"])
        assert abs(row["prob_benefit"] - ref["prob_benefit"]) <= 3 * sd, (label, row, ref)
        # the reweighted MCSE includes the resampling error: never below sqrt(p(1-p)/S)
        p = row["prob_benefit"]
        assert row["prob_benefit_mcse"] >= math.sqrt(p * (1 - p) / 4000) - 1e-15
        # a reweighted row is never borderline: within 2 MCSE it is refitted instead
        assert abs(p - 0.95) >= BORDERLINE_MCSE * row["prob_benefit_mcse"], label


def test_refitted_rows_are_the_full_sweeps_rows_and_say_why(sweeps):
    fast, full = (s.rows.set_index("setting") for s in sweeps)
    refit = fast[fast["method"] == "refit"]
    for label, row in refit.iterrows():
        assert row["refit_reason"], label
        if row["kind"] in PSIS_KINDS:  # a reweighting was tried and judged unreliable
            assert ("k-hat" in row["refit_reason"]) == (row["pareto_khat"] > KHAT_MAX)
            assert (row["pareto_khat"] > KHAT_MAX or row["weights_ess"] < ESS_MIN
                    or "importance-sampling SEs" in row["refit_reason"]), label
        else:  # bias term, arm coding: another model
            assert "model differs" in row["refit_reason"] and math.isnan(row["pareto_khat"])
        for col in ("prob_benefit", "effect_median", "tau_median", "prob_benefit_mcse"):
            assert row[col] == full.loc[label, col], (label, col)
    loo = fast[fast["kind"] == "leave-one-out"]
    assert len(loo) == 4 and loo["pareto_khat"].notna().all()


def test_reference_row_is_the_fit_itself(sweeps, bundled_table, specs):
    fast, _ = sweeps
    row = fast.rows.set_index("setting").loc[fast.reference]
    assert row["method"] == Method.REFERENCE == "reference"
    fit = fit_outcome(bundled_table, specs["lmd"], settings=FitSettings(), checks=False)
    s = fit.summary
    # exact: same seed, data, priors and sampler settings in one process
    assert row["prob_benefit"] == s["prob_benefit"]
    assert row["effect_median"] == s["effect"]["median"]
    assert [row["effect_lo"], row["effect_hi"]] == s["effect"]["ci95"]
    assert row["tau_median"] == s["tau"]["median"]


def test_every_row_records_how_it_was_made(sweeps):
    fast, _ = sweeps
    doc = fast.as_dict()
    for r in doc["rows"]:
        assert r["method"] in ("reference", "refit", "psis")
        assert {"pareto_khat", "weights_ess", "refit_reason"} <= set(r)
    counts = doc["provenance"]["methods"]["rows"]
    assert sum(counts.values()) == len(doc["rows"])
    assert [r.method for r in fast.sweep_rows] == list(fast.rows["method"])


def test_a_row_with_high_khat_is_refitted(bundled_table, specs):
    # A prior far from the LMD posterior (log OR ~ N(2, 0.1), the data say about -1): the
    # reference draws are a poor proposal, k-hat > 0.7, so the row must be refitted.
    conflict = Setting("conflicting effect", {"effect": parse_prior("normal(2, 0.1)")})
    res = run_sweep(bundled_table, specs["lmd"], [conflict], FitSettings(), data_level=False,
                    psense=False)
    row = res.rows.set_index("setting").loc["conflicting effect"]
    assert row["pareto_khat"] > KHAT_MAX
    assert row["method"] == "refit" and "k-hat" in row["refit_reason"]
    assert row["ok"] and row["attempts"] >= 1
    assert 1.5 < math.log(row["effect_median"]) < 2.1  # the prior dominates: a real refit


def test_khat_threshold_depends_on_the_number_of_draws():
    # min(1 - 1/log10(S), 0.7) (Vehtari et al. 2024, section 3.2.4)
    assert khat_threshold(100) == pytest.approx(0.5)
    assert khat_threshold(1000) == pytest.approx(2 / 3)
    assert khat_threshold(4000) == KHAT_MAX


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


def test_loo_and_data_log_ratios_from_pointwise_loglik():
    # two draws (one chain), three studies, two observed arms; NaN (no such value) is 0
    post = xr.Dataset({"effect": (("chain", "draw"), np.zeros((1, 2)))})
    a = xr.DataArray([[[-1.0, -2.0, -3.0], [-0.5, -0.25, np.nan]]],
                     dims=("chain", "draw", "study"))
    b = xr.DataArray([[[-0.1, -0.2, -0.3], [-1.0, -1.0, -1.0]]],
                     dims=("chain", "draw", "study"))
    ll = {"events_postop": a, "events_preop": b}
    np.testing.assert_allclose(loo_log_ratios(post, ll, 1), [2.2, 1.25])
    np.testing.assert_allclose(loo_log_ratios(post, ll, 2), [3.3, 1.0])
    new = {"events_postop": a + 0.5, "events_preop": b}
    # + 0.5 per study where the value exists: 3 studies in draw 0, 2 in draw 1
    np.testing.assert_allclose(data_log_ratios(post, ll, new), [1.5, 1.0])


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


def test_a_prior_reaching_beyond_the_reference_support_is_never_reweighted():
    # draws under tau ~ uniform(0, 2) say nothing about tau > 2: a half-normal(1) row must be
    # refitted whatever k-hat would say; narrowing the support is fine
    ref = {"tau": parse_prior("uniform(0, 2)"), "effect": parse_prior("normal(0, 1)")}
    wider = {**ref, "tau": parse_prior("halfnormal(1)")}
    narrower = {**ref, "tau": parse_prior("uniform(0, 1)")}
    assert not covers(ref, wider) and covers(ref, narrower)
    assert covers(wider, ref)  # (0, 2) lies inside (0, inf)
    tau = np.random.default_rng(2).uniform(0, 2, size=4000)
    rw = reweight(_post(tau), ref, wider, seed=1)
    assert not rw.usable and "support" in rw.note


def test_resampling_picks_the_draws_it_names_and_keeps_every_label():
    # a variable with dims in another order, a labelled study coordinate and attributes:
    # the result is, exactly, the draws idx of the flattened (chain-major) draws laid out as
    # chains x draws, as stacking, selecting and unstacking with xarray gives it
    rng = np.random.default_rng(7)
    post = xr.Dataset(
        {"effect": (("chain", "draw"), rng.normal(size=(2, 3)), {"units": "log OR"}),
         "delta": (("study", "chain", "draw"), rng.normal(size=(2, 2, 3)))},
        coords={"chain": [0, 1], "draw": [0, 1, 2], "study": ["A", "B"]},
        attrs={"sample_dims": ["chain", "draw"]})
    idx = np.array([5, 0, 0, 3, 2, 1])
    flat = post.stack(sample=("chain", "draw")).isel(sample=idx)
    flat = flat.drop_vars(["sample", "chain", "draw"]).assign_coords(
        sample=np.arange(6), chain=("sample", np.repeat([0, 1], 3)),
        draw=("sample", np.tile([0, 1, 2], 2)))
    by_xarray = flat.set_index(sample=["chain", "draw"]).unstack("sample")
    by_xarray = by_xarray.assign({v: by_xarray[v].transpose(*post[v].dims)
                                  for v in post.data_vars})
    got = resample(post, idx)
    xr.testing.assert_identical(got, by_xarray)
    assert got["effect"].values.ravel().tolist() == post["effect"].values.ravel()[idx].tolist()
    assert got["delta"].dims == ("study", "chain", "draw")


def test_log_ratios_memo_gives_the_same_ratios():
    tau = np.array([0.1, 0.5, 1.0, 2.0])
    ref = {"tau": parse_prior("halfnormal(0.5)"), "effect": parse_prior("normal(0, 1)")}
    memo: dict = {}
    for new_tau in ("halfnormal(1)", "halfcauchy(0.5)", "halfnormal(1)"):
        new = {**ref, "tau": parse_prior(new_tau)}
        np.testing.assert_array_equal(log_ratios(_post(tau), ref, new, memo),
                                      log_ratios(_post(tau), ref, new))
    assert set(memo) == {("tau", ref["tau"]), ("tau", parse_prior("halfnormal(1)")),
                         ("tau", parse_prior("halfcauchy(0.5)"))}


def test_refit_decisions_come_before_the_rows_and_agree_with_them(bundled_table, specs):
    # psis_decisions applies every refit rule (k-hat, ESS, support, both borderline checks)
    # before any row is made, so that refits start at once; each row then made by psis_row
    # reports the P(benefit) the decision read, and is not borderline
    from srsbayes.inference.fitting import DEFAULT_CACHE
    from srsbayes.inputs.data import outcome_table
    from srsbayes.sensitivity.verdict import is_borderline

    spec = specs["lmd"]
    settings, _ = _sweep_settings(FitSettings(), None)
    wide = outcome_table(bundled_table, spec)
    settings = settings.resolved(spec.family, len(wide))
    jobs, ref_idx = plan_jobs(spec, wide, default_grid(spec), True)
    post, diag, used, _ = _reference(jobs[ref_idx], spec, settings, DEFAULT_CACHE)
    decided = psis_decisions(jobs, jobs[ref_idx], spec, post, diag, used)
    kept = {i: a for i, a in decided.items() if not a.refit}
    assert kept and len(kept) < len(decided)  # some rows of each kind
    for a in decided.values():
        assert a.row is None  # no row is made by a decision
        assert a.refit == (a.reason != "")
    for i, a in kept.items():
        row = psis_row(jobs[i], spec, a, diag, used).row
        assert row is not None and row.method == Method.PSIS
        assert row.prob_benefit == a.prob_benefit
        assert row.prob_benefit_mcse == a.mcse
        assert not is_borderline(row.prob_benefit, a.mcse, spec.decision_probability)
