"""Mixed evidence in one binary outcome (issue 13, item 5) and the exact-count model
structure (issue 15).

Some studies give arm rows (counts), others a contrast row (a published odds ratio): one
binomial model with shared theta and tau, arm rows through the arm-based likelihood and
contrast rows through ``y ~ Normal(theta + delta, s)``. The known answers:

- importance sampling: the mixed posterior of (theta, tau) is the arm-only posterior times
  ``Normal(y_A | theta, s_A^2 + tau^2) / L_A(theta, tau)``, where ``L_A`` is study A's
  arm likelihood integrated over its intercept and deviation (computed here by
  quadrature); reweighting the arm-only draws must reproduce the mixed fit within Monte
  Carlo error, and the difference from the arm-only fit is the normal approximation;
- a binomial outcome of contrast rows only is the normal-normal model, whose posterior
  :mod:`srsbayes.inference.exact` computes by quadrature.

``tests/data/mixed_lmd.csv`` is the bundled LMD data with Study A's arms replaced by a
contrast row: the Wald OR and log-OR SE of its own (nearest) counts, 1/45 vs 5/48
(``test_mixed_csv_is_the_bundled_data_with_study_a_as_its_wald_contrast`` checks this).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import arviz as az
import numpy as np
import pytest
import xarray as xr
from scipy import special, stats

from conftest import Z, draws, exact_disagreements, mcse
from srsbayes.cli.main import main
from srsbayes.errors import InputError
from srsbayes.families import get_family
from srsbayes.families.binomial import _log_set_prob
from srsbayes.inference import compile_cache
from srsbayes.inference.diagnostics import _study_log_lik, loo_by_study, ppc_pvalues
from srsbayes.inference.exact import exact_reference
from srsbayes.inference.fitting import (
    FitSettings,
    ModelCache,
    fit_outcome,
    model_structure,
    sample_posterior,
)
from srsbayes.inputs.data import outcome_table, read_table
from srsbayes.inputs.specs import load_spec_file, load_specs
from srsbayes.priors.distributions import slot_data
from srsbayes.resources import BUNDLED_DATA, default_models_dir

DATA = Path(__file__).parents[1] / "data"
MIXED = DATA / "mixed_lmd.csv"
FAM = get_family("binomial")


@pytest.fixture(scope="module")
def specs():
    return load_specs()


@pytest.fixture(scope="module")
def bundled(specs):
    return read_table(BUNDLED_DATA / "studies.csv", specs)


def _wald(wide, i: int) -> tuple[float, float]:
    """Study ``i``'s Wald log OR and SE from its counts (no zero cells in the LMD data)."""
    a, n1 = wide["events_preop"].iloc[i], wide["n_preop"].iloc[i]
    c, n2 = wide["events_postop"].iloc[i], wide["n_postop"].iloc[i]
    return (math.log(a * (n2 - c) / ((n1 - a) * c)),
            math.sqrt(1 / a + 1 / (n1 - a) + 1 / c + 1 / (n2 - c)))


def _models_with(tmp_path: Path, extra: str) -> Path:
    """The bundled specs, with ``extra`` prepended to the LMD spec."""
    d = tmp_path / "models"
    d.mkdir(exist_ok=True)
    for p in default_models_dir().glob("*.toml"):
        text = p.read_text(encoding="utf-8")
        (d / p.name).write_text(extra + text if p.stem == "lmd" else text, encoding="utf-8")
    return d


def _csv(tmp_path: Path, *extra: str, drop: str = "") -> Path:
    """``mixed_lmd.csv`` with rows appended (and rows containing ``drop`` removed)."""
    lines = MIXED.read_text(encoding="utf-8").splitlines()
    lines = [x for x in lines if not drop or drop not in x]
    p = tmp_path / "mixed.csv"
    p.write_text("\n".join([*lines, *extra]) + "\n", encoding="utf-8")
    return p


# -- loading ------------------------------------------------------------------------------------

def test_mixed_csv_is_the_bundled_data_with_study_a_as_its_wald_contrast(specs, bundled):
    arms = outcome_table(bundled, specs["lmd"])
    wide = outcome_table(read_table(MIXED, specs), specs["lmd"])
    assert list(wide["study"]) == list(arms["study"])
    y, s = _wald(arms, 0)
    assert wide["contrast_y"].iloc[0] == pytest.approx(y, abs=1e-15)
    assert wide["contrast_se"].iloc[0] == s
    assert wide["contrast_rule"].iloc[0] == "reported se"
    assert np.isnan(wide["contrast_y"].iloc[1:]).all()
    for col in ("n_preop", "events_preop", "n_postop", "events_postop"):
        assert np.isnan(wide[col].iloc[0])
        np.testing.assert_array_equal(wide[col].iloc[1:], arms[col].iloc[1:])


def test_mixed_model_data_masks_each_likelihood(specs, bundled):
    wide = outcome_table(read_table(MIXED, specs), specs["lmd"])
    data = FAM.model_data(wide)
    ref = FAM.model_data(outcome_table(bundled, specs["lmd"]))
    np.testing.assert_array_equal(data["arm_rows"], [0, 1, 1, 1])
    assert data["contrast_y"][0] == wide["contrast_y"].iloc[0]
    np.testing.assert_array_equal(data["contrast_y"][1:], 0.0)
    np.testing.assert_array_equal(data["contrast_s"], [wide["contrast_se"].iloc[0], 1, 1, 1])
    for key in ("n_preop", "y_preop", "k_below_postop", "k_width_postop"):
        np.testing.assert_array_equal(data[key][1:], ref[key][1:])  # arm studies as before
    assert [data[k][0] for k in ("n_postop", "y_postop", "k_below_postop",
                                 "k_width_postop")] == [1, 0, 0, 1]  # dummy arms
    np.testing.assert_array_equal(ref["arm_rows"], 1.0)
    assert ref["contrast_s"].tolist() == [1.0] * 4 and ref["contrast_y"].tolist() == [0.0] * 4


def test_observed_effects_uisd_and_summary_cover_both_kinds_of_row(specs, bundled):
    arms = outcome_table(bundled, specs["lmd"])
    wide = outcome_table(read_table(MIXED, specs), specs["lmd"])
    ref, eff = FAM.observed_effects(arms), FAM.observed_effects(wide)
    y, s = wide["contrast_y"].iloc[0], wide["contrast_se"].iloc[0]
    assert (eff["estimate"].iloc[0], eff["lo"].iloc[0], eff["hi"].iloc[0]) == (
        y, y - 1.959964 * s, y + 1.959964 * s)
    np.testing.assert_allclose(eff.iloc[:, 1:], ref.iloc[:, 1:], rtol=1e-12)  # Wald == Wald
    # uisd: the contrast row's SE (the Wald one) with its n = 45 + 48 gives the arm value
    assert FAM.uisd(wide) == pytest.approx(FAM.uisd(arms), rel=1e-12)
    data = FAM.model_data(wide)
    benefit = np.random.default_rng(1).normal(5, 2, 4000)
    extra = FAM.extra_summary(wide, data, {"benefit": benefit})
    assert [(r["study"], r["arm"]) for r in extra["count_rules"]][:2] == [
        ("Study B", "preop"), ("Study B", "postop")] and len(extra["count_rules"]) == 6
    (rule,) = extra["se_rules"]
    assert (rule["study"], rule["rule"], rule["se"], rule["n"]) == ("Study A", "reported se",
                                                                    s, 93)
    assert extra["approximations"] == [] and extra["ci_asymmetry"] == []
    assert "count_rules" in FAM.extra_summary(arms, FAM.model_data(arms), {"benefit": benefit})
    assert "se_rules" not in FAM.extra_summary(arms, FAM.model_data(arms),
                                               {"benefit": benefit})


def test_baseline_model_uses_the_postop_arms_of_arm_studies_only(specs):
    wide = outcome_table(read_table(MIXED, specs), specs["lmd"])
    data = FAM.model_data(wide)
    bl = FAM.baseline_model(data, specs["lmd"].priors)
    three = {k: v[1:] for k, v in data.items()}
    ref = FAM.baseline_model(three, specs["lmd"].priors)
    np.testing.assert_array_equal(bl.prob, ref.prob)
    with pytest.raises(InputError, match="postop arm of at least one study"):
        FAM.baseline_model({**data, "arm_rows": np.zeros(4)}, specs["lmd"].priors)


def test_hazard_ratio_row_needs_approximate_measures_and_is_then_listed(tmp_path, specs):
    row = "Study E,lmd,,120,,,,hr,0.45,0.40,Table 9"
    with pytest.raises(InputError) as exc:
        read_table(_csv(tmp_path, row), specs)
    e = exc.value
    assert (Path(e.file).name, e.row, e.column) == ("mixed.csv", 9, "measure")
    assert "approximate_measures" in e.message and "\n" not in e.oneline()
    models = _models_with(tmp_path, 'approximate_measures = ["hr"]\n')
    specs_hr = load_specs(models)
    assert specs_hr["lmd"].approximate_measures == ("hr",)
    assert FAM.contrast_measures(specs_hr["lmd"]) == ("or", "hr")
    wide = outcome_table(read_table(_csv(tmp_path, row), specs_hr), specs_hr["lmd"])
    assert list(wide["study"]) == ["Study A", "Study B", "Study C", "Study D", "Study E"]
    assert wide["contrast_y"].iloc[4] == math.log(0.45)
    extra = FAM.extra_summary(wide, FAM.model_data(wide), {"benefit": np.ones(10)})
    assert extra["approximations"] == [{"study": "Study E", "row": 9, "measure": "hr",
                                         "pooled_as": "or"}]


@pytest.mark.parametrize(("extra", "column", "message"), [
    ('approximate_measures = ["rd"]\n', "approximate_measures", "another scale"),
    ('approximate_measures = ["hazard"]\n', "approximate_measures", "unknown measure"),
    ('measure = "odds_ratio"\n', "measure", "not a key of family 'binomial'"),
])
def test_bad_binomial_spec_key_is_one_line_error(tmp_path, extra, column, message):
    models = _models_with(tmp_path, extra)
    with pytest.raises(InputError) as exc:
        load_spec_file(models / "lmd.toml")
    assert exc.value.column == column and message in exc.value.message


def test_a_study_with_arm_rows_and_a_contrast_row_is_an_error(tmp_path, specs):
    row = "Study B,lmd,,125,,,,or,0.25,0.8,Table 9"
    with pytest.raises(InputError) as exc:
        read_table(_csv(tmp_path, row), specs)
    assert exc.value.row == 9 and exc.value.column == "arm"
    assert "both arm rows and a contrast row" in exc.value.message


def test_contrast_rows_of_a_median_outcome_stay_an_error(tmp_path, specs):
    row = "Study B,os,,125,,,,ratio_of_medians,1.1,0.2,Table 9"
    with pytest.raises(InputError) as exc:
        read_table(_csv(tmp_path, row), specs)
    assert (exc.value.row, exc.value.column) == (9, "arm")
    assert "takes arm rows only" in exc.value.message


def test_a_contrast_row_alone_beside_arm_studies_is_enough(tmp_path, specs):
    """Two studies in all: one arm study and one contrast study are a meta-analysis."""
    p = _csv(tmp_path, drop="Study C")
    p.write_text("\n".join(x for x in p.read_text().splitlines() if "Study D" not in x) + "\n")
    wide = outcome_table(read_table(p, specs), specs["lmd"])
    assert list(wide["study"]) == ["Study A", "Study B"]
    one = _csv(tmp_path, drop="Study ")
    one.write_text(one.read_text() + MIXED.read_text().splitlines()[1] + "\n")
    # one contrast study alone is analysed as one study (issue 23.7)
    assert list(outcome_table(read_table(one, specs), specs["lmd"])["study"]) == ["Study A"]


# -- the model: masks, structures, compile cache -----------------------------------------------

def _point_terms(data: dict, priors: dict, count_sets: bool, seeds=(0,)):
    """The model's potentials, logp and its gradient at random points (one per seed); a
    single point's triple when ``seeds`` is the default."""
    import pymc as pm

    k = len(data["y_postop"])
    model = FAM.build_model(k, priors, count_sets=count_sets)
    with model:
        values = dict(data)
        for slot, prior in priors.items():
            values |= slot_data(slot, prior)
        pm.set_data(values)
    names = ["events_preop", "events_postop", "estimate", "delta", "logit_postop", "effect"]
    outs = model.replace_rvs_by_values([model[n] for n in names])
    fn = model.compile_fn(outs, inputs=model.value_vars, on_unused_input="ignore")
    logp, dlogp = model.compile_logp(), model.compile_dlogp()
    results = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        point = {v: x + rng.normal(0, 0.4, np.shape(x))
                 for v, x in model.initial_point().items()}
        results.append((dict(zip(names, fn(point), strict=True)), float(logp(point)),
                        dlogp(point)))
    return results[0] if seeds == (0,) else results


def _scipy_arm_logp(data, terms, arm, rows):
    logit = terms["logit_postop"] + (0 if arm == "postop" else terms["effect"] + terms["delta"])
    lo = data[f"y_{arm}"] - data[f"k_below_{arm}"]
    hi = lo + data[f"k_width_{arm}"] - 1
    return float(_log_set_prob(special.expit(logit), data[f"n_{arm}"], lo, hi)[rows].sum())


def test_masked_potentials_are_each_studys_own_likelihood(specs, bundled):
    """Arm-only data: the normal term is exactly 0 and the arm terms are the count-set
    likelihood (so arm-only fits keep their logp); mixed data: study A enters only through
    Normal(y_A | theta + delta_A, s_A)."""
    priors = specs["lmd"].priors
    pure = FAM.model_data(outcome_table(bundled, specs["lmd"]))
    terms, _, _ = _point_terms(pure, priors, count_sets=True)
    assert terms["estimate"] == 0.0
    for arm in ("preop", "postop"):
        assert terms[f"events_{arm}"] == pytest.approx(
            _scipy_arm_logp(pure, terms, arm, slice(None)), rel=1e-10)
    data = FAM.model_data(outcome_table(read_table(MIXED, specs), specs["lmd"]))
    terms, _, _ = _point_terms(data, priors, count_sets=True)
    mu = terms["effect"] + terms["delta"][0]
    assert terms["estimate"] == pytest.approx(
        stats.norm.logpdf(data["contrast_y"][0], mu, data["contrast_s"][0]), rel=1e-12)
    for arm in ("preop", "postop"):
        assert terms[f"events_{arm}"] == pytest.approx(
            _scipy_arm_logp(data, terms, arm, slice(1, None)), rel=1e-10)


def test_exact_count_structure_has_the_count_set_logp_on_exact_data(specs, bundled):
    """All counts exact (the nearest counts taken as reported): the binomial log-pmf and
    the incomplete-beta count-set likelihood agree in logp and gradient."""
    data = FAM.model_data(outcome_table(bundled, specs["lmd"]))
    assert FAM.structure(data) == {"count_sets": True, "pairs": True}
    exact = {**data, **{f"k_{w}_{a}": np.full(4, d) for w, d in (("below", 0), ("width", 1))
                        for a in ("preop", "postop")}}
    assert FAM.structure(exact) == {"count_sets": False}
    sets = _point_terms(exact, specs["lmd"].priors, True, seeds=(0, 1, 2))
    plain = _point_terms(exact, specs["lmd"].priors, False, seeds=(0, 1, 2))
    for (_, lp_sets, g_sets), (_, lp_exact, g_exact) in zip(sets, plain, strict=True):
        assert lp_exact == pytest.approx(lp_sets, rel=1e-10)
        np.testing.assert_allclose(g_exact, g_sets, rtol=1e-7, atol=1e-9)
    # a set wider than one count cannot be fitted with the exact structure by mistake
    _, lp_wrong, _ = _point_terms(data, specs["lmd"].priors, False)
    assert lp_wrong == -np.inf
    # a contrast study's dummy arms do not ask for count sets
    mixed = FAM.model_data(outcome_table(read_table(MIXED, specs), specs["lmd"]))
    exact_mixed = {**mixed, "k_below_postop": np.zeros(4, int),
                   "k_width_postop": np.array([3, 1, 1, 1])}
    assert FAM.structure(exact_mixed) == {"count_sets": False}


def test_model_cache_keys_compiled_models_by_structure(monkeypatch, specs, bundled):
    monkeypatch.setattr(compile_cache, "compile_structure",
                        lambda description, module_file, build, root: build())
    cache = ModelCache(root=None)
    data = FAM.model_data(outcome_table(bundled, specs["lmd"]))
    exact = {**data, "k_width_postop": np.ones(4, int), "k_below_postop": np.zeros(4, int)}
    wide_sets = {**data, "k_width_postop": np.array([3, 2, 2, 2])}
    pairs, plain = cache.for_data("binomial", data), cache.for_data("binomial", exact)
    with_sets = cache.for_data("binomial", wide_sets)
    # the default structure (count sets of any width) keeps the (family, k) key
    assert set(cache._compiled) == {("binomial", 4), ("binomial", 4, (("count_sets", False),)),
                                    ("binomial", 4, (("pairs", True),))}
    assert cache.get("binomial", 4) is with_sets
    assert "Betainc" in _ops(with_sets)
    assert "Betainc" not in _ops(plain) and "Betainc" not in _ops(pairs)
    assert cache.for_data("binomial", data) is pairs and len(cache) == 3
    # a family without the hook keeps its (family, k) key
    assert model_structure("contrast", {"y": np.zeros(3), "s": np.ones(3)}) == ()
    cache.for_data("contrast", {"y": np.zeros(3), "s": np.ones(3)})
    assert ("contrast", 3) in cache._compiled


def _ops(model) -> str:
    """The names of every op in the model's logp graph."""
    from pytensor.graph.traversal import ancestors

    return " ".join(str(v.owner.op) for v in ancestors([model.logp()]) if v.owner is not None)


# -- diagnostics with studies that have no value for a name ------------------------------------

def test_ppc_and_loo_leave_out_names_a_study_does_not_have():
    rng = np.random.default_rng(5)
    dims = ("chain", "draw", "study")
    rep_ev = rng.integers(0, 10, (2, 50, 3)).astype(float)
    rep_ev[..., 0] = np.nan
    rep_est = np.full((2, 50, 3), np.nan)
    rep_est[..., 0] = rng.normal(size=(2, 50))
    obs = {"events": np.array([np.nan, 4.0, 6.0]), "estimate": np.array([0.1, np.nan, np.nan])}
    rep = {"events": xr.DataArray(rep_ev, dims=dims), "estimate": xr.DataArray(rep_est,
                                                                                dims=dims)}
    p = ppc_pvalues(obs, rep)
    assert np.isnan(p["events"][0]) and np.isnan(p["estimate"][1:]).all()
    r = rep_ev[..., 1]
    assert p["events"][1] == pytest.approx((r > 4).mean() + 0.5 * (r == 4).mean())
    assert p["estimate"][0] == pytest.approx((rep_est[..., 0] > 0.1).mean())
    ll_ev = rng.normal(-3, 0.3, (2, 50, 3))
    ll_ev[..., 0] = np.nan
    ll_est = np.full((2, 50, 3), np.nan)
    ll_est[..., 0] = rng.normal(-1, 0.3, (2, 50))
    post = xr.Dataset({"effect": (("chain", "draw"), rng.normal(size=(2, 50)))})
    got = loo_by_study(post, {"events": xr.DataArray(ll_ev, dims=dims),
                              "estimate": xr.DataArray(ll_est, dims=dims)})
    ref = loo_by_study(post, {"all": xr.DataArray(np.where(np.isnan(ll_ev), ll_est, ll_ev),
                                                  dims=dims)})
    assert got == ref and np.isfinite(got["elpd_loo"])
    # a NaN in only some draws is a numerical failure, not "not observed": it stays NaN
    ll_ev[0, 3, 1] = np.nan
    total = _study_log_lik({"events": xr.DataArray(ll_ev, dims=dims),
                            "estimate": xr.DataArray(ll_est, dims=dims)})
    assert np.isnan(total.values[0, 3, 1]) and np.isfinite(total.values[1, 3, 1])
    assert np.isfinite(total.values[..., [0, 2]]).all()


# -- fits ---------------------------------------------------------------------------------------

def _log_lik_a(data: dict, baseline_prior, theta: np.ndarray, tau: np.ndarray,
               arms: dict) -> np.ndarray:
    """log L_A(theta, tau): study A's arm likelihood (count sets, ±1/2 coding) integrated
    over its intercept alpha ~ the baseline prior (fine grid) and its deviation
    delta = tau z (64-point Gauss-Hermite), per posterior draw."""
    alpha = np.linspace(-30.0, 25.0, 2751)
    log_prior = baseline_prior.scipy().logpdf(alpha) + np.log(alpha[1] - alpha[0])
    u = np.linspace(-25.0, 20.0, 4501)  # theta + delta
    lp = log_prior[None, :].copy()
    for arm, sign in (("preop", 0.5), ("postop", -0.5)):
        n, lo, hi = arms[arm]
        p = special.expit(alpha[None, :] + sign * u[:, None])
        lp = lp + _log_set_prob(p, np.full(p.shape, n), np.full(p.shape, lo),
                                np.full(p.shape, hi))
    log_l_u = special.logsumexp(lp, axis=1)
    nodes, weights = np.polynomial.hermite_e.hermegauss(64)
    log_w = np.log(weights / np.sqrt(2 * np.pi))
    x = theta[:, None] + tau[:, None] * nodes[None, :]
    # nodes beyond the grid (clamped by interp) carry weights below 1e-12 of the total
    inside = x[:, log_w > np.log(1e-12)]
    assert inside.min() > u[0] and inside.max() < u[-1]
    return special.logsumexp(np.interp(x, u, log_l_u) + log_w, axis=1)


@pytest.fixture(scope="module")
def arm_fit(specs, bundled):
    return fit_outcome(bundled, specs["lmd"], settings=FitSettings(seed=11))


@pytest.fixture(scope="module")
def mixed_cli(tmp_path_factory):
    out = tmp_path_factory.mktemp("mixed") / "out"
    status = main(["fit", "lmd", "--data", str(MIXED), "--out", str(out), "--seed", "12"])
    return status, out


@pytest.mark.slow
def test_fit_command_on_a_mixed_csv_writes_a_summary(mixed_cli):
    status, out = mixed_cli
    assert status == 0
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["ok"] and s["family"] == "binomial" and s["n_studies"] == 4
    assert s["studies"] == ["Study A", "Study B", "Study C", "Study D"]
    assert [r["study"] for r in s["se_rules"]] == ["Study A"] and s["approximations"] == []
    assert {r["study"] for r in s["count_rules"]} == {"Study B", "Study C", "Study D"}
    pv = s["ppc"]["pvalues"]
    assert set(pv) == {"events_preop", "events_postop", "estimate"}
    assert pv["estimate"][1:] == [None] * 3 and 0 < pv["estimate"][0] < 1
    assert pv["events_preop"][0] is None and all(0 < p < 1 for p in pv["events_preop"][1:])
    assert len(s["ppc"]["loo"]["pareto_k"]) == 4
    obs = s["study_effects"][0]["observed"]
    y, se = math.log(0.19545454545454544), 1.116236124966739
    assert obs["estimate"] == pytest.approx(y, abs=1e-12)
    assert obs["ci95"] == pytest.approx([y - 1.959964 * se, y + 1.959964 * se], abs=1e-12)


@pytest.mark.slow
def test_mixed_fit_is_the_arm_fit_reweighted_by_the_contrast_row(arm_fit, mixed_cli, specs):
    """Known answer by importance sampling. The arm-only posterior of (theta, tau) times
    Normal(y_A | theta, s_A^2 + tau^2) / L_A(theta, tau) is the mixed posterior exactly
    (study A's intercept and deviation integrate out of both), so the weighted mean of the
    arm-only draws must match the mixed fit within Z Monte Carlo SEs: the mixed fit's
    ArviZ MCSE and the weighted mean's delta-method SE, inflated by the arm fit's
    N / ESS. The arm-only and mixed fits then differ by the normal approximation of study
    A's likelihood (the reweighted minus the arm-only mean, computed from the same draws)
    within Monte Carlo error."""
    status, out = mixed_cli
    assert status == 0 and arm_fit.ok
    mixed = xr.open_datatree(out / "posterior.nc", engine="h5netcdf")
    theta_m = np.asarray(mixed["posterior"]["effect"].transpose("chain", "draw"), float)
    theta, tau = draws(arm_fit, "effect").ravel(), draws(arm_fit, "tau").ravel()
    data = FAM.model_data(arm_fit.wide)
    arms = {a: (data[f"n_{a}"][0], data[f"y_{a}"][0] - data[f"k_below_{a}"][0],
                data[f"y_{a}"][0] - data[f"k_below_{a}"][0] + data[f"k_width_{a}"][0] - 1)
            for a in ("preop", "postop")}
    y_a, s_a = _wald(arm_fit.wide, 0)
    log_w = (stats.norm.logpdf(y_a, theta, np.sqrt(s_a**2 + tau**2))
             - _log_lik_a(data, arm_fit.priors["baseline"], theta, tau, arms))
    w = np.exp(log_w - log_w.max())
    w /= w.sum()
    is_mean = float(np.sum(w * theta))
    ess_arm = float(az.ess(xr.Dataset({"x": (("chain", "draw"), draws(arm_fit, "effect"))}))
                    ["x"])
    se_is = math.sqrt(np.sum(w**2 * (theta - is_mean) ** 2) * theta.size / ess_arm)
    se_mixed = mcse(theta_m, "mean")
    assert 1 / np.sum(w**2) > 0.5 * theta.size  # the weights are well behaved
    assert theta_m.mean() == pytest.approx(is_mean, abs=Z * math.hypot(se_is, se_mixed))
    approximation = is_mean - theta.mean()
    se_arm = mcse(draws(arm_fit, "effect"), "mean")
    assert theta_m.mean() - theta.mean() == pytest.approx(
        approximation, abs=Z * math.hypot(se_arm, se_mixed) + Z * se_is)


@pytest.mark.slow
def test_contrast_rows_only_reproduce_the_exact_normal_normal_posterior(tmp_path, specs,
                                                                          bundled):
    """Each LMD study as its Wald contrast row inside the binomial family: the dummy arms
    contribute nothing, so NUTS must match the exact posterior of the contrast family
    (:func:`srsbayes.inference.exact.exact_reference`) within Monte Carlo error."""
    arms = outcome_table(bundled, specs["lmd"])
    rows = []
    for i, study in enumerate(arms["study"]):
        y, s = _wald(arms, i)
        rows.append(f"{study},lmd,,or,{math.exp(y)!r},{s!r}")
    p = tmp_path / "contrasts.csv"
    p.write_text("study,outcome,arm,measure,estimate,se\n" + "\n".join(rows) + "\n")
    wide = outcome_table(read_table(p, specs), specs["lmd"])
    data = FAM.model_data(wide)
    assert data["arm_rows"].tolist() == [0.0] * 4 and FAM.structure(data) == {
        "count_sets": False}
    priors = specs["lmd"].priors
    idata = sample_posterior("binomial", data, priors, FitSettings(draws=2000, seed=13))

    class Fit:  # what conftest.draws reads
        pass

    fit = Fit()
    fit.idata = idata
    ex = exact_reference(data["contrast_y"], data["contrast_s"], priors)
    bad = exact_disagreements(draws(fit, "effect"), draws(fit, "tau"), ex)
    assert not bad, bad
