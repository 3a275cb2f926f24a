"""Sweeps: default grids and grid files, data-level variants, the verdict, power-scaling,
and small end-to-end runs.

Only the binomial structures with 4 and 3 studies are compiled (the latter for
leave-one-out; the likelihood forms the default sweep's rows need), all through
``DEFAULT_CACHE`` so other tests in the worker share them.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

from srsbayes.errors import InputError
from srsbayes.inference.fitting import (
    DEFAULT_CACHE,
    FitSettings,
    ModelCache,
    fit_outcome,
    resolve_priors,
)
from srsbayes.inputs.data import outcome_table
from srsbayes.priors.distributions import parse_prior
from srsbayes.sensitivity.sweep import (
    Setting,
    default_grid,
    load_grid,
    run_sweep,
    short_label,
    threshold_column,
    verdict,
)
from srsbayes.sensitivity.variants import (
    leave_one_out,
    log_prior_dataset,
    psense_report,
)

OUTCOMES = ("lc", "lmd", "rn", "dbf", "os")


# -- default grids -----------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_default_grid_has_12_labelled_settings_including_the_spec_default(
        outcome, specs, bundled_table):
    spec = specs[outcome]
    grid = default_grid(spec)
    assert len(grid.settings) >= 12
    labels = [s.label for s in grid.settings]
    assert len(set(labels)) == len(labels)
    wide = outcome_table(bundled_table, spec)
    resolved = [resolve_priors(spec, wide, dict(s.priors)) for s in grid.settings]
    effects = {str(p["effect"]) for p in resolved}
    taus = {str(p["tau"]) for p in resolved}
    assert len(effects) >= 3 and len(taus) >= 4
    for pri in resolved:  # every prior shown in a table or plot has a readable label
        for slot in ("effect", "tau"):
            assert pri[slot].label, (outcome, slot, pri[slot])
    # The spec's own priors are one of the settings (the verdict's reference).
    assert resolve_priors(spec, wide) in resolved
    assert any("sceptical" in label for label in labels)
    assert any("vague" in label for label in labels)


def test_default_binary_grid_has_turner_and_half_cauchy(specs):
    taus = {s.priors["tau"].dist for s in default_grid(specs["lmd"]).settings}
    assert {"halfnormal", "halfcauchy", "turner"} <= taus
    # OS is not on the log-OR scale: no Turner prior, a UISD-scaled one instead.
    os_taus = {s.priors["tau"].dist for s in default_grid(specs["os"]).settings}
    assert "turner" not in os_taus and "uisd" in os_taus


def test_spec_can_name_its_turner_setting(specs):
    spec = specs["lmd"]
    assert "\n[sweep]" in spec.text  # the bundled spec names its Turner setting
    base = spec.text.split("\n[sweep]")[0]
    assert default_grid(replace(spec, text=base)).settings[4].priors["tau"].label.startswith(
        "Turner 2015, general")
    named = replace(spec, text=base + '\n[sweep]\nturner = '
                    '"turner(infection, nonpharma_nonpharma)"\n')
    turner = [s.priors["tau"] for s in default_grid(named).settings
              if s.priors["tau"].dist == "turner"]
    assert turner and turner[0].params == (-2.05, 1.45)  # Turner 2015, Table IV
    assert "Turner (infection)" in {short_label(t) for t in turner}
    bad = replace(spec, text=base + '\n[sweep]\nturner = "turner(nonsense, x)"\n')
    with pytest.raises(InputError, match="Turner"):
        default_grid(bad)


# -- grid files --------------------------------------------------------------------------------


def test_grid_file_cross_and_settings(tmp_path, specs):
    path = tmp_path / "grid.toml"
    path.write_text(
        '[cross]\n'
        'effect = ["normal(0, 0.35)", {dist = "normal(0, 1.5)", label = "default effect"}]\n'
        'tau = ["halfnormal(0.25)", "turner(general)"]\n'
        '[[setting]]\n'
        'label = "wide baseline"\n'
        'baseline = "normal(0, 5)"\n'
        '[options]\n'
        'psense = false\n', encoding="utf-8")
    grid = load_grid(path, specs["lmd"])
    assert len(grid.settings) == 5
    assert grid.psense is False and grid.data_level is True
    assert grid.settings[-1] == Setting("wide baseline", {"baseline": parse_prior("normal(0, 5)")})
    assert grid.settings[0].label == "effect N(0, 0.35), τ HN(0.25)"
    assert grid.settings[2].priors["effect"].label == "default effect"
    assert grid.settings[1].priors["tau"].params == (-2.56, 1.74)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("[[setting]\neffect = 1", "malformed TOML"),
        ("[sweep]\nx = 1", "column 'sweep'"),
        ('[[setting]]\nslope = "normal(0, 1)"', "setting[0].slope"),
        ('[[setting]]\neffect = "gamma(1, 2)"', "unknown distribution"),
        ('[[setting]]\ntau = "halfnormal(-1)"', "sigma must be > 0"),
        ('[[setting]]\neffect = "halfnormal(1)"', "setting[0].effect"),
        ('[cross]\ntau = "halfnormal(1)"', "cross.tau"),
        ('[cross]\ntau = ["turner(nonsense, x)"]', "cross.tau[0]"),
        ('[[setting]]\nlabel = "a"\ntau = "halfnormal(1)"\n'
         '[[setting]]\nlabel = "a"\ntau = "halfnormal(2)"', "duplicate setting label"),
        ("[options]\npsense = false", "no settings"),
        ('[[setting]]\ntau = "halfnormal(1)"\n[options]\nloo = true', "options.loo"),
    ],
)
def test_bad_grid_files_exit_2_naming_file_and_key(tmp_path, run_cli, text, where):
    path = tmp_path / "grid.toml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    status, stdout, err = run_cli(["sweep", "lmd", "--grid", path, "--out", out])
    assert status == 2 and stdout == ""
    assert str(path) in err and where in err
    assert not out.exists()


def test_missing_grid_file_exits_2(tmp_path, run_cli):
    status, _, err = run_cli(["sweep", "lmd", "--grid", tmp_path / "none.toml"])
    assert status == 2 and "grid file not found" in err


# -- data-level variants -----------------------------------------------------------------------


def test_leave_one_out(specs, bundled_table):
    wide = outcome_table(bundled_table, specs["lmd"])
    variants = leave_one_out(wide)
    assert [v.left_out for v in variants] == list(wide["study"])
    for v in variants:
        assert len(v.wide) == 3 and v.left_out not in set(v.wide["study"])
        assert v.label == f"without {v.left_out}"
    assert leave_one_out(wide.iloc[:2]) == []  # one study left is not a meta-analysis


# -- verdict (a pure function of the table) ------------------------------------------------------


def _rows(probs, ok=None, labels=None):
    n = len(probs)
    return pd.DataFrame({
        "setting": labels or [f"s{i}" for i in range(n)],
        "ok": ok if ok is not None else [True] * n,
        "prob_benefit": probs,
        "p_risk_difference_5": [p / 2 if not math.isnan(p) else math.nan for p in probs],
    })


def test_verdict_robust_when_every_setting_meets_the_threshold():
    v = verdict(_rows([0.99, 0.97, 0.95]), 0.95, reference="s0")
    assert v["robust"] and v["holds_everywhere"] and v["flips"] == []
    assert v["conclusion"] == "P(benefit) >= 0.95"
    assert v["prob_benefit_range"] == [0.95, 0.99]  # exactly 0.95 meets the rule
    assert v["threshold_ranges"] == {"p_risk_difference_5": [0.475, 0.495]}
    assert v["text"].startswith("ROBUST") and "all 3 converged" in v["text"]


def test_verdict_names_the_settings_where_the_conclusion_flips():
    v = verdict(_rows([0.99, 0.90, 0.97, 0.94], labels=["default", "sceptical", "b", "c"]),
                0.95, reference="default")
    assert not v["robust"] and not v["holds_everywhere"]
    assert [f["setting"] for f in v["flips"]] == ["sceptical", "c"]
    assert v["flips"][0]["conclusion"] == "P(benefit) < 0.95"
    assert "NOT ROBUST" in v["text"] and "'sceptical' (0.900)" in v["text"]


def test_verdict_robust_absence_of_benefit():
    v = verdict(_rows([0.6, 0.7]), 0.95, reference="s0")
    assert v["robust"] and not v["holds_everywhere"]
    assert v["conclusion"] == "P(benefit) < 0.95" and "none of the 2" in v["text"]


def test_unconverged_settings_are_not_assessable_and_do_not_count():
    rows = _rows([0.99, math.nan, 0.98], ok=[True, False, True])
    v = verdict(rows, 0.95, reference="s0")
    assert v["robust"] and v["n_converged"] == 2 and v["not_assessable"] == ["s1"]
    assert "Not assessable" in v["text"] and "'s1'" in v["text"]
    # A failed reference: the majority of converged settings is the reference instead.
    v = verdict(_rows([math.nan, 0.99, 0.98, 0.5], ok=[False, True, True, True]), 0.95,
                reference="s0")
    assert v["reference"] is None and v["conclusion"] == "P(benefit) >= 0.95"
    assert [f["setting"] for f in v["flips"]] == ["s3"]
    assert "did not converge" in v["text"]
    none = verdict(_rows([math.nan], ok=[False]), 0.95, reference="s0")
    assert not none["robust"] and not none["assessable"]
    assert none["text"].startswith("NOT ASSESSABLE")


# -- power scaling -----------------------------------------------------------------------------


def test_log_prior_is_the_natural_scale_density():
    rng = np.random.default_rng(3)
    post = xr.Dataset({"effect": (("chain", "draw"), rng.normal(size=(2, 50))),
                       "tau": (("chain", "draw"), rng.gamma(2.0, 0.2, size=(2, 50)))})
    priors = {"effect": parse_prior("normal(0, 1.5)"), "tau": parse_prior("turner(general)")}
    lp = log_prior_dataset(post, priors)
    np.testing.assert_allclose(lp["effect"], stats.norm(0, 1.5).logpdf(post["effect"]))
    # Turner: log(tau^2) ~ N(-2.56, 1.74) is stated on tau^2, so the power-scaled density
    # is that of tau^2: p(tau^2) = N(log tau^2) / tau^2 (see test_psense.py).
    t = post["tau"].values
    expected = stats.norm(-2.56, 1.74).logpdf(2 * np.log(t)) - 2 * np.log(t)
    np.testing.assert_allclose(lp["tau"], expected)


def _conjugate(prior_sd: float, seed: int = 11):
    """Exact posterior draws of a normal mean (4 observations, unit SD) under N(0, prior_sd),
    and of a parameter the likelihood does not involve (posterior = its HN(1) prior)."""
    rng = np.random.default_rng(seed)
    y = np.array([1.0, 1.2, 0.8, 1.1])
    prec = 1 / prior_sd**2 + len(y)
    theta = rng.normal(y.sum() / prec, 1 / math.sqrt(prec), size=(4, 1000))
    tau = np.abs(rng.normal(0, 1, size=(4, 1000)))
    post = xr.Dataset({"effect": (("chain", "draw"), theta), "tau": (("chain", "draw"), tau)})
    ll = xr.DataArray(stats.norm.logpdf(y[None, None, :], theta[..., None], 1.0),
                      dims=("chain", "draw", "obs"))
    priors = {"effect": parse_prior(f"normal(0, {prior_sd})"),
              "tau": parse_prior("halfnormal(1)")}
    return psense_report(post, priors, {"y": ll})


def test_psense_separates_vague_priors_conflict_and_prior_only_parameters():
    # Over seeds 1-5 these were: effect prior sensitivity <= 0.0044 under N(0, 100);
    # >= 0.148 (prior) and >= 0.124 (likelihood) under N(0, 0.3) with data near 1;
    # tau prior 0.21-0.25 and likelihood <= 0.014. Bounds sit >= 4 Monte Carlo SDs away.
    vague = _conjugate(100.0)
    assert vague["variables"]["effect"]["prior"] < 0.02
    assert vague["variables"]["effect"]["diagnosis"] == "ok"
    assert vague["variables"]["tau"]["prior"] > 0.15
    assert vague["variables"]["tau"]["likelihood"] < 0.04
    assert vague["variables"]["tau"]["diagnosis"] == "potential strong prior / weak likelihood"
    assert vague["by_prior"]["tau"]["tau"] > 0.15 and vague["by_prior"]["effect"]["tau"] < 0.04
    conflict = _conjugate(0.3)
    assert conflict["variables"]["effect"]["prior"] > 0.08
    assert conflict["variables"]["effect"]["likelihood"] > 0.08
    assert conflict["conflict"] == ["effect"]
    assert any(f.startswith("effect: potential prior-data conflict") for f in conflict["flags"])


# -- end to end ---------------------------------------------------------------------------------


class SharedCompileCache(ModelCache):
    """A fresh cache that records which structures a sweep asks for; compiled models come
    from DEFAULT_CACHE so the worker compiles each structure at most once."""

    def get(self, family: str, k: int, structure=()):
        key = (family, k, *((structure,) if structure else ()))
        if key not in self._compiled:
            self._compiled[key] = DEFAULT_CACHE.get(family, k, structure)
        return self._compiled[key]


def test_default_sweep_needs_four_structures_and_compiles_nothing_else(
        specs, bundled_table, monkeypatch):
    """k = 4 and k = 3 (leave one out) with the pair likelihood (no set of more than two
    counts), k = 4 with the exact-count one (the "nearest counts as reported" row has no
    count set) and k = 4 with the general one (the "all rates KM" row widens the sets)."""
    import nutpie

    exact, pairs = (("count_sets", False),), (("pairs", True),)
    needed = {("binomial", 4, pairs), ("binomial", 3, pairs), ("binomial", 4, exact),
              ("binomial", 4)}
    for key in needed:
        DEFAULT_CACHE.get(*key)
    compiles = []
    real = nutpie.compile_pymc_model
    monkeypatch.setattr(nutpie, "compile_pymc_model",
                        lambda *a, **kw: compiles.append(1) or real(*a, **kw))
    cache = SharedCompileCache()
    # Few draws: this checks the plumbing only (most settings may fail the gate).
    result = run_sweep(bundled_table, specs["lmd"], settings=FitSettings(draws=100, tune=100,
                                                                          chains=2),
                       cache=cache, psense=False)
    assert set(cache._compiled) == needed
    assert compiles == []  # every setting swapped data and priors into the four models
    rows = result.rows
    # 3 effect x 5 tau priors; nearest counts, all rates KM, 0/1 coding, bias-adjusted
    # (default and wider family); 4 studies left out
    assert len(rows) == 15 + 5 + 4
    assert list(rows["kind"]).count("leave-one-out") == 4
    assert sorted(rows.loc[~rows["kind"].isin(["prior", "leave-one-out"]), "kind"]) == [
        "bias", "bias", "coding", "rate type", "rounding"]
    assert set(rows.loc[rows["kind"] == "leave-one-out", "n_studies"]) == {3}
    for r in rows.itertuples():  # unconverged rows carry no numbers, converged ones do
        assert r.ok == (r.failures == "")
        assert math.isnan(r.prob_benefit) != bool(r.ok)
        assert (r.conclusion == "not assessable") != bool(r.ok)
    # the bias row is fit --bias-adjusted: same data, priors, bias terms and seed
    from srsbayes.priors.bias import load_bias_priors

    ref_ok = bool(rows.loc[rows["setting"] == result.reference, "ok"].iloc[0])
    # sweep.json carries the reference fit's tipping points and reverse-Bayes prior
    assert (result.tolerance is not None) == ref_ok
    if ref_ok:
        assert {"tipping_points", "reverse_bayes"} <= set(result.as_dict())
    bias, wide = rows[rows["kind"] == "bias"].itertuples()
    for row, which in ((bias, "bundled"), (wide, "wide")):
        fit = fit_outcome(bundled_table, specs["lmd"],
                          settings=FitSettings(draws=100, tune=100, chains=2),
                          checks=False, bias=load_bias_priors(which))
        assert row.ok == fit.ok
        if fit.ok:  # exact: one machine, one process, the same draws
            assert row.prob_benefit == fit.summary["prob_benefit"]


def test_sweep_row_equals_fit_summary(specs, bundled_table):
    spec = specs["lmd"]
    tau = parse_prior("halfnormal(1)")
    settings = FitSettings(draws=500, tune=500, target_accept=0.95)
    result = run_sweep(bundled_table, spec, [Setting("wide tau", {"tau": tau})], settings,
                       data_level=False, psense=False, refit_all=True)
    assert list(result.rows["setting"]) == ["spec default priors", "wide tau"]
    assert result.reference == "spec default priors"
    fit = fit_outcome(bundled_table, spec, priors={"tau": tau}, settings=settings, checks=False)
    row = result.rows.iloc[1]
    s = fit.summary
    assert row["ok"] == fit.ok
    # Exact on purpose: same seed, data and priors in one process on one machine give the
    # same draws, bit for bit (across machines only within Monte Carlo error).
    if fit.ok:
        assert row["prob_benefit"] == s["prob_benefit"]
        assert row["effect_median"] == s["effect"]["median"]
        assert [row["effect_lo"], row["effect_hi"]] == s["effect"]["ci95"]
        assert row["tau_median"] == s["tau"]["median"]
        t = s["thresholds"][0]
        assert row[threshold_column(t["measure"], t["threshold"])] == t["probability"]


def test_sweep_cli_writes_table_json_and_plot(tmp_path, run_cli):
    grid = tmp_path / "grid.toml"
    grid.write_text('[[setting]]\nlabel = "default"\neffect = "normal(0, 1.5)"\n'
                    'tau = "halfnormal(0.5)"\n'
                    '[[setting]]\nlabel = "sceptical"\neffect = "normal(0, 0.35)"\n'
                    # Data-level rows are checked above; leaving them out here keeps the
                    # 3-study structure to one test (one compile per xdist worker).
                    '[options]\ndata_level = false\n', encoding="utf-8")
    out = tmp_path / "out"
    status, stdout, err = run_cli(["sweep", "lmd", "--grid", grid, "--draws", "500",
                                   "--tune", "500", "--out", out])
    assert status == 0, err
    assert "ROBUST" in stdout
    rows = pd.read_csv(out / "sweep.csv")
    assert list(rows["setting"][:2]) == ["default", "sceptical"]
    assert len(rows) == 2
    for col in ("effect_prior", "effect_prior_label", "tau_prior", "tau_prior_label",
                "effect_median", "effect_lo", "effect_hi", "tau_median", "prob_benefit",
                "p_risk_difference_5", "meets_decision", "conclusion", "ok", "rhat_max",
                "prob_benefit_mcse"):
        assert col in rows.columns, col
    ok = rows[rows["ok"]]
    # MCSE of an indicator mean: sqrt(p (1 - p) / ESS), here with an ESS of 100 or more.
    p, mcse = ok["prob_benefit"], ok["prob_benefit_mcse"]
    assert ((mcse > 0) | (p == 1) | (p == 0)).all()
    assert (mcse <= np.sqrt(p * (1 - p) / 100) + 1e-12).all()
    assert (ok["effect_lo"] <= ok["effect_median"]).all()
    assert (ok["effect_median"] <= ok["effect_hi"]).all()
    assert ok["prob_benefit"].between(0, 1).all()
    doc = json.loads((out / "sweep.json").read_text(encoding="utf-8"))
    assert doc["reference_setting"] == "default"
    assert doc["verdict"]["rule"] == "P(benefit) >= 0.95"
    assert isinstance(doc["verdict"]["robust"], bool)
    assert doc["verdict"]["n_failed"] == len(rows) - len(ok)
    assert doc["verdict"]["complete"] == (doc["verdict"]["n_failed"] == 0
                                          and doc["verdict"]["n_borderline"] == 0)
    assert {f["kind"] for f in doc["verdict"]["flips"]} <= {"prior"}
    assert set(doc["psense"]["variables"]) == {"effect", "tau"}
    assert len(doc["provenance"]["data"]["sha256"]) == 64
    assert doc["provenance"]["seed"] == 20260226
    assert [g["setting"] for g in doc["provenance"]["grid"]] == list(rows["setting"])
    # the one provenance block (srsbayes.provenance) of every output: spec text and hash
    assert doc["provenance"]["specs"]["lmd"]["text"].startswith("# Leptomeningeal")
    assert len(doc["provenance"]["specs"]["lmd"]["sha256"]) == 64
    assert doc["provenance"]["priors"]["lmd"]["tau"] == "halfnormal(0.5)"
    assert doc["provenance"]["lock_sha256"] == doc["provenance"]["versions"]["uv.lock sha256"]
    assert "srsbayes" in doc["provenance"]["command"]
    assert (out / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
