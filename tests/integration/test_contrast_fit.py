"""The contrast family fitted (issue 13): a published normal-normal analysis reproduced from
estimates with SEs and from rounded CIs, NUTS against the exact posterior, and ``fit`` on a
CSV of contrast rows.

Source of the reference numbers: bayesmeta vignette (Röver C, R package bayesmeta; Röver
2020, J Stat Softw 93(6)), file
cran/bayesmeta@10a27a7fc70992eeff959d0a48e509c767b73223:inst/doc/bayesmeta.html, as quoted in
tests/published/test_eight_schools_bayesmeta.py. Data Rubin1981 (eight schools; Rubin 1981, J Educ
Stat 6:377-401), unrounded as in bayesmeta; example 1 is
``bayesmeta(y, sigma, mu.prior.mean=0, mu.prior.sd=50, tau.prior=function(t)
dhalfcauchy(t, scale=25))``, printed (tau / mu): median 4.758539 / 7.962961, mean
5.884511 / 7.985729, sd 4.869904 / 4.995762; qposterior(tau.p=c(0.025, 0.975)) = 0.2199559,
18.0531718; 1 - pposterior(mu=0) = 0.9487521.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from conftest import Z, draws, exact_disagreements, mcse
from srsbayes.cli.main import main
from srsbayes.draws import central_interval
from srsbayes.families import get_family
from srsbayes.inference.exact import exact_failures, exact_reference, with_exact_check
from srsbayes.inference.fitting import FitSettings, fit_outcome
from srsbayes.inputs.data import outcome_table, read_table
from srsbayes.inputs.specs import load_specs

MODELS = Path(__file__).parents[1] / "data" / "contrast_models"
MINIMAL_SPEC = Path(__file__).parents[1] / "data" / "contrast_minimal_ar.toml"  # issue 13, verbatim
SCHOOLS = "ABCDEFGH"
SCHOOLS_Y = np.array([28.39, 7.94, -2.75, 6.82, -0.64, 0.63, 18.01, 12.16])
SCHOOLS_SE = np.array([14.9, 10.2, 16.3, 11.0, 9.4, 11.4, 10.4, 17.6])
BAYESMETA_TAU = {"median": 4.758539, "mean": 5.884511, "q025": 0.2199559, "q975": 18.0531718}
BAYESMETA_MU = {"median": 7.962961, "mean": 7.985729, "sd": 4.995762, "p_positive": 0.9487521}
Z975 = float(stats.norm.ppf(0.975))
HEADER = "study,outcome,arm,measure,estimate,ci_low,ci_high,se"


@pytest.fixture(scope="module")
def specs():
    return load_specs(MODELS)


def _write(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _se_rows() -> list[str]:
    """Each school's printed effect with its printed standard error."""
    return [f"School {k},schools,,mean_difference,{y!r},,,{s!r}"
            for k, y, s in zip(SCHOOLS, SCHOOLS_Y.tolist(), SCHOOLS_SE.tolist(), strict=True)]


def _ci_rows() -> list[str]:
    """Each school's effect with its 95% CI y +- 1.96 s as a paper would print it (0.1)."""
    return [f"School {k},schools,,mean_difference,{y!r},{round(y - Z975 * s, 1)!r},"
            f"{round(y + Z975 * s, 1)!r},"
            for k, y, s in zip(SCHOOLS, SCHOOLS_Y.tolist(), SCHOOLS_SE.tolist(), strict=True)]


def _hr_rows(outcome: str = "schools_hr", measure: str = "hr", sign: float = -1.0
             ) -> list[str]:
    """Each school as a ratio exp(sign y / 100) with its 95% CI, printed to 4 decimals."""
    rows = []
    for k, y, s in zip(SCHOOLS, SCHOOLS_Y.tolist(), SCHOOLS_SE.tolist(), strict=True):
        est, a, b = (round(math.exp(sign * (y + d * Z975 * s) / 100), 4) for d in (0, -1, 1))
        lo, hi = min(a, b), max(a, b)
        rows.append(f"School {k},{outcome},,{measure},{est!r},{lo!r},{hi!r},")
    return rows


def _exact(table, spec):
    wide = outcome_table(table, spec)
    data = get_family("contrast").model_data(wide)
    return wide, data, exact_reference(data["y"], data["s"], spec.priors)


def _assert_bayesmeta(ex, scale: float, sign: float, tol_tau: float, tol_mu: float) -> None:
    """The exact posterior (mu = sign * scale * theta, tau * scale) against bayesmeta."""
    med, lo, hi = (float(q) * scale for q in ex.tau_quantile([0.5, 0.025, 0.975]))
    assert med == pytest.approx(BAYESMETA_TAU["median"], abs=tol_tau)
    assert ex.tau_mean() * scale == pytest.approx(BAYESMETA_TAU["mean"], abs=tol_tau)
    assert lo == pytest.approx(BAYESMETA_TAU["q025"], abs=tol_tau)
    assert hi == pytest.approx(BAYESMETA_TAU["q975"], abs=tol_tau)
    assert sign * ex.mu_quantile(0.5) * scale == pytest.approx(BAYESMETA_MU["median"], abs=tol_mu)
    assert sign * ex.mu_mean_total() * scale == pytest.approx(BAYESMETA_MU["mean"], abs=tol_mu)
    assert ex.mu_sd_total() * scale == pytest.approx(BAYESMETA_MU["sd"], abs=tol_mu)
    p_benefit = 1 - ex.mu_cdf(0.0) if sign > 0 else ex.mu_cdf(0.0)
    assert p_benefit == pytest.approx(BAYESMETA_MU["p_positive"], abs=1e-4 + tol_mu / 50)


# -- exact posterior from contrast rows ----------------------------------------------------------

def test_exact_posterior_from_estimates_with_ses_matches_bayesmeta(tmp_path, specs):
    """Deterministic. Tolerances as tests/published/test_eight_schools_bayesmeta.py: bayesmeta
    prints tau to 7 significant digits (we allow 1e-4 absolute) and approximates mu's marginal
    to about 2e-3 (its defaults delta = 0.01, epsilon = 1e-4)."""
    table = read_table(_write(tmp_path / "s.csv", _se_rows()), specs)
    wide, data, ex = _exact(table, specs["schools"])
    assert list(wide["contrast_rule"]) == ["reported se"] * 8
    np.testing.assert_array_equal(data["y"], SCHOOLS_Y)
    np.testing.assert_array_equal(data["s"], SCHOOLS_SE)
    _assert_bayesmeta(ex, 1.0, 1.0, tol_tau=1e-4, tol_mu=2e-3)


def test_exact_posterior_from_rounded_cis_matches_bayesmeta(tmp_path, specs):
    """CIs printed to 0.1 give each SE to within 0.05 / 1.96 = 0.026 (0.3% of the smallest);
    that moves the exact posterior by about 2e-3 here, so 5e-3 on both scales."""
    table = read_table(_write(tmp_path / "s.csv", _ci_rows()), specs)
    wide, data, ex = _exact(table, specs["schools"])
    assert list(wide["contrast_rule"]) == ["confidence interval"] * 8
    assert np.max(np.abs(data["s"] - SCHOOLS_SE)) < 0.05 / Z975
    assert not wide["contrast_asymmetric"].any()
    _assert_bayesmeta(ex, 1.0, 1.0, tol_tau=5e-3, tol_mu=5e-3)


def test_exact_posterior_from_rounded_hazard_ratio_cis_matches_bayesmeta(tmp_path, specs):
    """Each school as HR = exp(-y / 100) with its 95% CI, all printed to 4 decimals: the SE
    comes from the CI on the log scale. Rounding to 1e-4 of ratios near 1 moves each log
    estimate by <= 9e-5 (x 100: 0.009), the posterior by about 2e-4 (x 100), so 1e-3 on
    tau and 3e-3 on mu."""
    table = read_table(_write(tmp_path / "h.csv", _hr_rows()), specs)
    wide, data, ex = _exact(table, specs["schools_hr"])
    assert list(wide["contrast_rule"]) == ["confidence interval"] * 8
    np.testing.assert_allclose(data["y"] * -100, SCHOOLS_Y, atol=0.01)
    np.testing.assert_allclose(data["s"] * 100, SCHOOLS_SE, atol=0.01)
    _assert_bayesmeta(ex, 100.0, -1.0, tol_tau=1e-3, tol_mu=3e-3)


# -- NUTS against the exact posterior ------------------------------------------------------------



@pytest.fixture(scope="module")
def schools_fit(tmp_path_factory, specs):
    path = _write(tmp_path_factory.mktemp("schools") / "s.csv", _se_rows())
    table = read_table(path, specs)
    return fit_outcome(table, specs["schools"], settings=FitSettings(draws=2500, seed=1981))


@pytest.mark.slow
def test_nuts_fit_matches_the_exact_posterior_and_bayesmeta(schools_fit):
    """NUTS within 3.5 MCSE (+ 1e-3 for the quadrature) of the exact posterior, which matches
    bayesmeta (above); the family's exact check (the gate's hook) passes."""
    res = schools_fit
    assert res.ok, res.diagnostics
    fam = get_family("contrast")
    data = fam.model_data(res.wide)
    ex = exact_reference(data["y"], data["s"], res.priors)
    assert exact_failures(fam, res.idata, data, res.priors) == []
    theta, tau = draws(res, "effect"), draws(res, "tau")
    bad = exact_disagreements(theta, tau, ex)
    assert not bad, bad
    # a difference is summarised on its own scale, not exponentiated
    s = res.summary
    assert s["measure"] == "mean_difference" and s["scale"] == "natural"
    assert s["effect"]["median"] == central_interval(theta)[1]
    assert s["effect"]["median"] == pytest.approx(BAYESMETA_MU["median"],
                                                  abs=Z * mcse(theta, "median") + 2e-3)
    assert s["prob_benefit"] == pytest.approx(BAYESMETA_MU["p_positive"], abs=0.02)
    assert set(s["ppc"]["pvalues"]) == {"estimate"} and len(s["ppc"]["loo"]["pareto_k"]) == 8
    # a difference threshold reads the natural-scale benefit: P(theta >= 5) as exact
    (t,) = s["thresholds"]
    assert (t["measure"], t["threshold"]) == ("difference", 5.0)
    p5 = 1 - ex.mu_cdf(5.0)
    ind = (theta >= 5).astype(float)
    assert t["probability"] == pytest.approx(p5, abs=Z * mcse(ind, "mean") + 1e-3)
    assert s["absolute"]["difference"]["median"] == s["effect"]["median"]


@pytest.mark.slow
def test_exact_check_fails_a_posterior_that_is_not_the_exact_one(schools_fit):
    """Power: the same draws against the exact posterior under another effect prior
    (normal(0, 5) pulls mu from 8.0 to about 4.2) fail the check, naming the statistic."""
    res = schools_fit
    fam = get_family("contrast")
    data = fam.model_data(res.wide)
    other = {**res.priors, "effect": type(res.priors["effect"])("normal", (0.0, 5.0))}
    failures = exact_failures(fam, res.idata, data, other)
    assert failures and "posterior mean of effect" in failures[0]
    assert "4 MCSE" in failures[0]
    # the gate's hook: a passing fit keeps its verdict, a disagreeing one fails
    assert with_exact_check(res.diagnostics, fam, res.idata, data, res.priors) is res.diagnostics
    failed = with_exact_check(res.diagnostics, fam, res.idata, data, other)
    assert not failed.ok and failed.failures == tuple(failures)
    # families without an exact posterior, and non-normal effect priors, are not checked
    assert exact_failures(get_family("binomial"), res.idata, data, other) == []
    t_prior = type(other["effect"])("studentt", (3.0, 0.0, 5.0))
    assert exact_failures(fam, res.idata, data, {**other, "effect": t_prior}) == []


# -- fit on a CSV of contrast rows ---------------------------------------------------------------

@pytest.mark.slow
def test_fit_command_on_contrast_rows_writes_the_pooled_odds_ratio(tmp_path):
    """``fit`` with the issue's minimal spec on eight contrast rows (the schools as odds
    ratios exp(y / 100) with 95% CIs printed to 4 decimals): exit 0, and summary.json
    has the pooled OR, whose median is exp of the exact posterior median within MC error."""
    models = tmp_path / "models"
    models.mkdir()
    (models / "ar.toml").write_text(MINIMAL_SPEC.read_text(encoding="utf-8"), encoding="utf-8")
    csv = _write(tmp_path / "ar.csv", _hr_rows("ar", "or", 1.0))
    out = tmp_path / "out"
    status = main(["fit", "ar", "--data", str(csv), "--models", str(models), "--out", str(out)])
    assert status == 0
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["ok"] and s["family"] == "contrast" and s["measure"] == "odds_ratio"
    assert s["n_studies"] == 8 and s["scale"] == "log"
    assert [r["rule"] for r in s["se_rules"]] == ["confidence interval"] * 8
    specs = load_specs(models)
    ex = _exact(read_table(csv, specs), specs["ar"])[2]
    ref = math.exp(ex.mu_quantile(0.5))
    sd_or = s["effect"]["sd"]  # MCSE of a median <= about 2 sd / sqrt(ESS); ESS >= 400 (gate)
    assert s["effect"]["median"] == pytest.approx(ref, abs=Z * 2 * sd_or / math.sqrt(400))
    assert s["effect"]["ci95"][0] < ref < s["effect"]["ci95"][1]
    assert s["diagnostics"]["failures"] == []
