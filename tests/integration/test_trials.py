"""The trials under way (issue 24): designs as data, assurance against the normal-normal
formula, the martingale property of the preposterior, EVSI against EVPI, independent
simulation tasks and the ``trial`` command.

Data: the bundled study table (LMD), and the eight schools (Rubin 1981, J Educ Stat
6:377-401; the estimates and standard errors of ``tests/integration/test_contrast_fit.py``) as a
contrast outcome of ``tests/data/contrast_models/schools.toml``. For the normal-normal case
the heterogeneity prior is replaced by ``halfnormal(0.001)``, so that the posterior of the
pooled effect is, to a negligible tau, the conjugate normal one,
``N(m, v)`` with ``1/v = 1/50^2 + sum 1/s_i^2`` and ``m = v * sum y_i / s_i^2`` (the spec's
``normal(0, 50)`` prior on the effect).

Tolerances are Monte Carlo errors: a simulated proportion over ``n`` trials has
``sqrt(p (1 - p) / n)``; the posterior draws add the error of their mean (posterior SD /
sqrt(ESS)), propagated through the formula's derivative; we allow 4 of the combined error.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from srsbayes.certainty.weights import load_weights
from srsbayes.cli.main import main
from srsbayes.errors import InputError
from srsbayes.inference.fitting import FitSettings, fit_outcome
from srsbayes.inputs.data import default_table, read_table
from srsbayes.inputs.specs import load_specs
from srsbayes.priors.distributions import Prior
from srsbayes.trials.assurance import normal_assurance, parse_rule
from srsbayes.trials.design import arm_sizes, get_design, load_designs
from srsbayes.trials.run import population_size, run_trial
from srsbayes.trials.simulate import Posterior, setup_for, simulate
from srsbayes.trials.value import value_scale

MODELS = Path(__file__).parents[1] / "data" / "contrast_models"
SCHOOLS_Y = np.array([28.39, 7.94, -2.75, 6.82, -0.64, 0.63, 18.01, 12.16])
SCHOOLS_SE = np.array([14.9, 10.2, 16.3, 11.0, 9.4, 11.4, 10.4, 17.6])
EFFECT_PRIOR_SD = 50.0  # schools.toml: normal(0, 50)


@pytest.fixture(scope="module")
def schools(tmp_path_factory):
    """The schools outcome fitted with tau ~ halfnormal(0.001): a normal posterior."""
    specs = load_specs(MODELS)
    path = tmp_path_factory.mktemp("schools") / "s.csv"
    path.write_text("\n".join(
        ["study,outcome,arm,measure,estimate,ci_low,ci_high,se"]
        + [f"School {k},schools,,mean_difference,{y!r},,,{s!r}" for k, y, s in
           zip("ABCDEFGH", SCHOOLS_Y.tolist(), SCHOOLS_SE.tolist(), strict=True)]) + "\n",
        encoding="utf-8")
    table = read_table(path, specs)
    fit = fit_outcome(table, specs["schools"], priors={"tau": Prior("halfnormal", (0.001,))},
                      settings=FitSettings(draws=2000, seed=24), checks=False)
    assert fit.ok
    return table, specs, fit


def _conjugate(prior_sd: float = EFFECT_PRIOR_SD) -> tuple[float, float]:
    prec = 1 / prior_sd**2 + np.sum(1 / SCHOOLS_SE**2)
    return float(np.sum(SCHOOLS_Y / SCHOOLS_SE**2) / prec), float(1 / prec)


@pytest.fixture(scope="module")
def lmd():
    specs = load_specs(None)
    table = default_table(specs, None)
    fit = fit_outcome(table, specs["lmd"], checks=False)
    assert fit.ok
    return table, specs, fit


# -- designs as data -------------------------------------------------------------------------

def test_bundled_designs_hold_the_public_numbers_only():
    designs = load_designs()
    assert set(designs) == {"NCT03741673", "NCT03750227", "NRG-BN012", "Das2022",
                            "NCT05124236"}
    d = designs["NCT03741673"]
    assert (d.enrollment, d.enrollment_quote, d.outcomes) == (
        180, "Total Enrollment 180 participants", ("lmd",))
    assert d.source == "https://www.cancer.gov/clinicaltrials/NCI-2018-02220"
    assert designs["NCT03750227"].enrollment == 140
    assert designs["Das2022"].allocation == "1:1" and designs["Das2022"].enrollment == 88
    for unknown in ("NRG-BN012", "NCT05124236"):  # "not found" in the public record
        assert designs[unknown].enrollment is None
    assert get_design("nct05438212").id == "NRG-BN012"  # alias, any case
    assert get_design("PREOP-2").id == "NCT05124236"


def test_arm_sizes_never_default_a_size_that_is_not_public():
    with pytest.raises(InputError, match="not public"):
        arm_sizes(get_design("NRG-BN012"), None)
    assert arm_sizes(get_design("NRG-BN012"), (150, 150))[:2] == (150, 150)
    n1, n2, how = arm_sizes(get_design("NCT03741673"), None)
    assert (n1, n2) == (90, 90) and "1:1 allocation assumed" in how
    n1, n2, how = arm_sizes(get_design("Das2022"), None)
    assert (n1, n2) == (44, 44) and "as published" in how
    with pytest.raises(InputError, match="--n-per-arm"):
        arm_sizes(None, None)


@pytest.mark.parametrize("body, column", [
    ('[[trial]]\nid = "X"\nendpoint = "e"\nsource = "s"\nsize = 3\n', "trial[0].size"),
    ('[[trial]]\nid = "X"\nendpoint = "e"\nsource = "s"\nenrollment = 100\n',
     "trial[0].enrollment_quote"),
    ('[[trial]]\nid = "X"\nendpoint = "e"\nsource = "s"\nenrollment = 2.5\n'
     'enrollment_quote = "q"\n', "trial[0].enrollment"),
    ('[[trial]]\nid = "X"\nendpoint = "e"\n', "trial[0].source"),
    ('[[trial]]\nid = "X"\nendpoint = "e"\nsource = "s"\nallocation = "half"\n',
     "trial[0].allocation"),
])
def test_bad_trials_files_name_the_key(tmp_path, body, column):
    f = tmp_path / "trials.toml"
    f.write_text(body, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_designs(f)
    assert err.value.column == column


def test_success_rules():
    assert (parse_rule("p<0.05").kind, parse_rule("p<0.05").level) == ("test", 0.05)
    assert (parse_rule(" P > 0.975 ").kind, parse_rule("P>0.975").level) == ("posterior", 0.975)
    for bad in ("p>0.05", "P<0.9", "p<1.5", "P>0.3", "alpha=0.05"):
        with pytest.raises(InputError):
            parse_rule(bad)
    rule = parse_rule("p<0.05")
    hit, either = rule.outcomes(np.array([-2.0, 2.0, 0.5]), np.ones(3), sign=-1)
    assert hit.tolist() == [True, False, False] and either.tolist() == [True, True, False]


def test_population_needs_both_numbers():
    assert population_size(None, None) is None
    assert population_size(120, 60) == 600.0
    with pytest.raises(InputError):
        population_size(120, None)
    with pytest.raises(InputError):
        population_size(-1, 12)


# -- simulations are independent tasks --------------------------------------------------------

def test_simulations_do_not_depend_on_chunking(lmd):
    """Deterministic given the draws: a trial's data and post-trial numbers depend on its
    index and the seed only (exact equality: same draws, same process)."""
    table, specs, fit = lmd
    post = Posterior.from_fit(fit)
    setup = setup_for(fit, 90, 90, None)
    whole = simulate(post, setup, 7, np.arange(40))
    part = simulate(post, setup, 7, np.arange(25, 40))
    np.testing.assert_array_equal(whole.events_preop[25:], part.events_preop)
    np.testing.assert_array_equal(whole.estimate[25:], part.estimate)
    a = run_trial(fit, table, specs, n_preop=90, n_postop=90, sims=120, seed=3, chunk=120,
                  max_refits=0)
    b = run_trial(fit, table, specs, n_preop=90, n_postop=90, sims=120, seed=3, chunk=17,
                  max_refits=0)
    np.testing.assert_array_equal(a.updated.p_benefit, b.updated.p_benefit)
    np.testing.assert_array_equal(a.updated.khat, b.updated.khat)
    assert a.assurance == b.assurance


# -- validation: normal-normal assurance, martingale, EVSI/EVPI --------------------------------

def test_assurance_matches_the_normal_normal_formula(schools):
    table, specs, fit = schools
    m, v = _conjugate()
    post = Posterior.from_fit(fit)
    v_pred = v + float(np.mean(post.tau**2))
    s, alpha, n = 5.0, 0.05, 4000
    res = run_trial(fit, table, specs, n_preop=100, n_postop=100, se=s, sims=n, seed=11,
                    max_refits=0)
    expected = normal_assurance(m, v_pred, s, alpha)
    # derivative of the formula in m, for the Monte Carlo error of the draws' mean
    dm = (normal_assurance(m + 1e-3, v_pred, s, alpha)
          - normal_assurance(m - 1e-3, v_pred, s, alpha)) / 2e-3
    ess = float(fit.diagnostics.ess_bulk_min)  # the smallest over the gated variables
    err = math.sqrt(expected * (1 - expected) / n + (dm * math.sqrt(v / ess)) ** 2)
    assert 0.3 < expected < 0.5  # a trial that may or may not succeed: a real test
    assert res.either_direction.value == pytest.approx(expected, abs=4 * err)
    z = stats.norm.ppf(1 - alpha / 2)
    one_sided = float(stats.norm.cdf((m - z * s) / math.sqrt(v_pred + s * s)))
    assert res.assurance.value == pytest.approx(one_sided, abs=4 * err)
    # the draws' posterior is the conjugate one (NUTS within its Monte Carlo error)
    assert float(post.theta.mean()) == pytest.approx(m, abs=4 * math.sqrt(v / ess))


def test_preposterior_is_a_martingale_normal_case(schools):
    table, specs, fit = schools
    res = run_trial(fit, table, specs, n_preop=100, n_postop=100, se=5.0, sims=3000, seed=5,
                    max_refits=0)
    mart = res.martingale()
    assert 0.9 < mart["today"] < 0.99
    assert abs(mart["difference"]) < 4 * mart["mcse"]
    assert mart["mcse"] < 0.005  # the check has power to see a bias of 0.02


def test_preposterior_is_a_martingale_for_counts(lmd):
    table, specs, fit = lmd
    res = run_trial(fit, table, specs, n_preop=90, n_postop=90, sims=2000, seed=24,
                    max_refits=0)
    mart = res.martingale()
    assert mart["today"] == fit.estimates.prob_benefit
    assert abs(mart["difference"]) < 4 * mart["mcse"]
    k = res.khat()
    assert k["n_above"] <= 20  # reweighting is trusted for nearly every simulated trial
    # post-trial threshold probabilities are martingales too
    (t,) = res.as_dict()["post_trial"]["thresholds"]
    sd = float(np.std(res.updated.p_thresholds[0], ddof=1)) / math.sqrt(res.sims)
    assert t["post_trial_mean"] == pytest.approx(t["today"], abs=4 * sd)


def _normal_loss(mean: float, sd: float) -> float:
    """E[max(-X, 0)] for X ~ N(mean, sd^2): the expected loss of choosing preop."""
    return float(sd * stats.norm.pdf(mean / sd) - mean * stats.norm.cdf(-mean / sd))


SCEPTICAL_SD = 2.0
"""An effect prior normal(0, 2) for the value-of-information test: it keeps the decision
uncertain (P(benefit) about 0.8), so that EVSI and EVPI are far from zero."""


@pytest.fixture(scope="module")
def schools_sceptical(schools):
    table, specs, _ = schools
    fit = fit_outcome(table, specs["schools"],
                      priors={"tau": Prior("halfnormal", (0.001,)),
                              "effect": Prior("normal", (0.0, SCEPTICAL_SD))},
                      settings=FitSettings(draws=2000, seed=25), checks=False)
    assert fit.ok
    return table, specs, fit


def test_evsi_against_the_normal_normal_closed_form_and_evpi(schools_sceptical):
    """With a normal posterior N(m, v) and a trial estimate N(theta, s^2), the preposterior
    mean is N(m, v^2 / (v + s^2)), so EVSI = L(m, v / sqrt(v + s^2)) and EVPI = L(m, sqrt v),
    L(mu, sigma) = E[max(-X, 0)] (Ades, Lu & Claxton 2004; weight 1 on the effect scale).
    Tolerance: 4 x the combined Monte Carlo error of the simulated trials (``evsi_mcse``)
    and of the draws' mean (|dL/dm| = Phi(-m / sigma) times SD / sqrt(ESS))."""
    table, specs, fit = schools_sceptical
    m, v = _conjugate(SCEPTICAL_SD)
    scale = value_scale(specs["schools"], load_weights())
    assert scale.weight == 1.0 and scale.divisor == 1.0
    draws_err = math.sqrt(v / float(fit.diagnostics.ess_bulk_min))
    evsi, evpi = [], None
    for s in (5.0, 2.0, 1.0, 0.05):
        res = run_trial(fit, table, specs, n_preop=100, n_postop=100, se=s, sims=3000,
                        seed=8, max_refits=0)
        val = res.value
        evpi = val.evpi
        evsi.append((val.evsi, val.evsi_mcse))
        sd_pre = v / math.sqrt(v + s * s)
        expected = _normal_loss(m, sd_pre)
        err = math.hypot(val.evsi_mcse, stats.norm.cdf(-m / sd_pre) * draws_err)
        assert val.evsi == pytest.approx(expected, abs=4 * err)
        assert val.evsi <= val.evpi + 4 * val.evsi_mcse
    exact_evpi = _normal_loss(m, math.sqrt(v))
    assert 0.1 < exact_evpi < 0.3  # a decision worth informing: a test that can fail
    assert evpi == pytest.approx(exact_evpi, abs=4 * stats.norm.cdf(-m / math.sqrt(v))
                                 * draws_err + 0.01)
    values = [e for e, _ in evsi]
    assert values == sorted(values) and values[0] < values[-1] / 10  # increasing in size
    last, last_err = evsi[-1]
    assert last == pytest.approx(evpi, abs=4 * last_err + 0.02 * evpi)  # EVSI -> EVPI


def test_evsi_increases_with_the_size_of_a_count_trial(lmd):
    table, specs, fit = lmd
    vals = [run_trial(fit, table, specs, n_preop=n, n_postop=n, sims=1000, seed=2,
                      max_refits=0).value for n in (20, 90, 400)]
    assert all(v.evsi <= v.evpi + 4 * v.evsi_mcse for v in vals)
    assert vals[0].evsi <= vals[1].evsi <= vals[2].evsi
    assert vals[0].scale.units == "LMD-equivalent events avoided per patient"


# -- the command --------------------------------------------------------------------------------

def test_trial_command_on_the_bundled_lmd_design(tmp_path, capsys):
    out = tmp_path / "t"
    assert main(["trial", "lmd", "--design", "NCT03741673", "--sims", "300", "--json",
                 "--max-refits", "0", "--out", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    saved = json.loads((out / "trial.json").read_text(encoding="utf-8"))
    assert printed["assurance"] == saved["assurance"]
    assert (saved["n_preop"], saved["n_postop"], saved["sims"]) == (90, 90, 300)
    assert saved["design"]["enrollment_quote"] == "Total Enrollment 180 participants"
    assert 0 < saved["assurance"]["value"] < 1
    assert saved["provenance"]["data"]["sha256"]
    assert saved["value_of_information"]["units"] == "LMD-equivalent events avoided per patient"


def test_trial_command_on_a_contrast_outcome_and_bias_adjusted(tmp_path, capsys):
    """A contrast outcome (the eight schools, Rubin 1981) with --se, and the bundled RN design
    bias-adjusted: both run, say how they were made, and the contrast outcome's trial is a
    normal estimate with the stated SE."""
    data = tmp_path / "s.csv"
    data.write_text("\n".join(
        ["study,outcome,arm,measure,estimate,ci_low,ci_high,se"]
        + [f"School {k},schools,,mean_difference,{y!r},,,{s!r}" for k, y, s in
           zip("ABCDEFGH", SCHOOLS_Y.tolist(), SCHOOLS_SE.tolist(), strict=True)]) + "\n",
        encoding="utf-8")
    out = tmp_path / "c"
    assert main(["trial", "schools", "--models", str(MODELS), "--data", str(data),
                 "--n-per-arm", "100", "100", "--se", "5", "--sims", "300", "--max-refits", "0",
                 "--success", "P>0.975", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "chance of showing a benefit of preop SRS on sat coaching" in text
    saved = json.loads((out / "trial.json").read_text(encoding="utf-8"))
    assert saved["trial_result"] == "an estimate on the analysis scale with standard error 5"
    assert saved["success_rule"]["kind"] == "posterior"
    assert "no net-benefit weight" in saved["value_of_information"]["weighting"]
    out = tmp_path / "b"
    assert main(["trial", "rn", "--design", "NCT03750227", "--bias-adjusted", "--sims", "200",
                 "--max-refits", "0", "--out", str(out)]) == 0
    saved = json.loads((out / "trial.json").read_text(encoding="utf-8"))
    assert saved["bias_adjusted"] is True
    assert saved["provenance"]["bias_adjustment"]["rules"]
    assert (saved["n_preop"], saved["n_postop"]) == (70, 70)


@pytest.mark.parametrize("argv, column", [
    (["trial", "rn", "--design", "NRG-BN012"], "--n-per-arm"),
    (["trial", "lmd", "--n-per-arm", "90", "90", "--success", "p>0.05"], "--success"),
    (["trial", "lmd", "--design", "NOPE"], "--design"),
    (["trial", "lmd", "--n-per-arm", "90", "90", "--sims", "10"], "--sims"),
    (["trial", "lmd", "--n-per-arm", "90", "90", "--horizon-months", "60"],
     "--patients-per-year"),
])
def test_trial_command_bad_input_exits_2_and_writes_nothing(tmp_path, run_cli, argv, column):
    out = tmp_path / "t"
    status, _, err = run_cli([*argv, "--out", str(out)])
    assert status == 2
    assert column in err
    assert not out.exists()


def test_contrast_outcome_needs_se(schools):
    fit = schools[2]
    with pytest.raises(InputError, match="--se"):
        setup_for(fit, 100, 100, None)


# -- the report section -------------------------------------------------------------------------

def test_report_shows_the_trials_under_way_when_asked(tmp_path):
    """A report of the bundled LMD rows only (copied from the bundled table), with two
    designs: one with a public size, one without (listed, no number, no default size)."""
    from srsbayes.inputs.data import DEFAULT_DATA
    from srsbayes.report.build import write_report

    specs = load_specs(None)
    lines_ = DEFAULT_DATA.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "lmd.csv"
    path.write_text("\n".join([lines_[0]] + [r for r in lines_[1:] if ",lmd," in r]) + "\n",
                    encoding="utf-8")
    table = read_table(path, specs)
    designs = [get_design("NCT03741673"), get_design("NRG-BN012")]
    out = tmp_path / "r"
    report = write_report(table, specs, out, settings=FitSettings(draws=500, seed=3),
                          sweep=False, trials={"designs": designs, "sims": 200,
                                               "max_refits": 0})
    assert report.exit_status == 0
    rows = json.loads((out / "trials.json").read_text(encoding="utf-8"))
    assert [(r["design"]["id"], r["outcome"]) for r in rows] == [("NCT03741673", "lmd"),
                                                                 ("NRG-BN012", "lmd")]
    assert "missing" in rows[1] and "--trial-size NRG-BN012" in rows[1]["missing"]
    md = (out / "index.md").read_text(encoding="utf-8")
    html = (out / "index.html").read_text(encoding="utf-8")
    for page in (md, html):
        assert "The trials under way" in page
        assert "NCT03741673" in page and "size of NRG-BN012 is not public" in page
    assurance = rows[0]["assurance"]["value"]
    assert f"{100 * assurance:.0f}%" in md
    assert md.index("The trials under way") < md.index("## Evidence audit")


def test_report_has_no_trial_section_unless_asked():
    from types import SimpleNamespace

    from srsbayes.report.sections import section_names
    from srsbayes.report.sections.trials import trials_section

    assert "trials" in section_names()
    assert trials_section(SimpleNamespace(trials=None)) == []
    assert trials_section(SimpleNamespace(trials=[])) == []


def test_report_trial_options_are_checked_before_anything_runs(tmp_path, run_cli):
    import argparse

    from srsbayes.cli.report import trial_options

    ns = argparse.Namespace(trials="bundled", trial_size=["nrg-bn012=200,180"], trial_sims=500)
    opts = trial_options(ns)
    assert opts is not None and opts["sizes"] == {"nrg-bn012": (200, 180)}
    assert opts["sims"] == 500 and len(opts["designs"]) == 5
    assert trial_options(argparse.Namespace(trials=None, trial_size=[], trial_sims=1000)) is None
    for bad in (["--trials", "--trial-size", "NRG-BN012=200"],
                ["--trials", "--trial-size", "NOPE=1,1"],
                ["--trial-size", "NRG-BN012=200,200"],
                ["--trials", "--trial-sims", "5"]):
        out = tmp_path / "r"
        status, _, err = run_cli(["report", *bad, "--out", str(out), "--no-progress"])
        assert status == 2
        assert "--trial-" in err
        assert not out.exists()


def test_progress_bar_only_on_a_terminal():
    import io

    from srsbayes.trials.run import Bar

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    log, tty = io.StringIO(), Tty()
    for stream in (log, tty):
        bar = Bar(2000, "simulating", stream=stream)
        bar.show(1000)
        bar.close()
    assert log.getvalue() == ""
    assert "1000/2000" in tty.getvalue() and "#" * 12 + "." * 12 in tty.getvalue()
