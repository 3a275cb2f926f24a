"""Certainty of evidence: each GRADE domain's rule on constructed numbers whose right
rating is known, the SoF arithmetic, the wording and the net benefit."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from conftest import at_baseline_entry
from srsbayes.audit.findings import Finding
from srsbayes.certainty import Baseline, OutcomeEvidence, StudyInfo, rate_outcome
from srsbayes.certainty.evidence import pooled_baseline
from srsbayes.certainty.formatting import format_text
from srsbayes.certainty.imprecision import rate_imprecision
from srsbayes.certainty.inconsistency import rate_inconsistency
from srsbayes.certainty.indirectness import rate_indirectness
from srsbayes.certainty.large_effect import rate_large_effect
from srsbayes.certainty.levels import final_level, start_level
from srsbayes.certainty.net_benefit import copula_draws, net_benefit, paired_draws, verdict
from srsbayes.certainty.publication_bias import egger_test, rate_publication_bias
from srsbayes.certainty.risk_of_bias import StudyBias, rate_risk_of_bias
from srsbayes.certainty.run import assess
from srsbayes.certainty.sof import absolute_at, baselines_for, direction, stated_baseline
from srsbayes.certainty.source_audit import rate_source_audit
from srsbayes.certainty.statements import plain_language
from srsbayes.certainty.weights import Criterion, NetBenefitSettings
from srsbayes.families.baseline import pooled_risk
from srsbayes.inputs.data import outcome_table
from srsbayes.inputs.specs import Indirectness

PP = " percentage points"

# -- imprecision -------------------------------------------------------------------------------


@pytest.mark.parametrize(("ci", "rating", "change", "crossed"), [
    ((6.0, 12.0), "not serious", 0, []),           # wholly beyond the threshold
    ((1.0, 4.0), "not serious", 0, []),            # certainly trivial
    ((2.0, 12.0), "serious", -1, [5.0]),           # important or trivial?
    ((-2.0, 12.0), "very serious", -2, [0.0, 5.0]),
    ((-8.0, 9.0), "very serious", -2, [-5.0, 0.0, 5.0]),
])
def test_imprecision_counts_the_thresholds_the_interval_crosses(ci, rating, change, crossed):
    d = rate_imprecision(ci, 5.0, PP)
    assert (d.rating, d.change, d.values["thresholds_crossed"]) == (rating, change, crossed)
    assert f"{ci[0]:.1f} to {ci[1]:.1f}" in d.reason


def test_imprecision_without_a_threshold_judges_no_effect_only():
    assert rate_imprecision((-1.0, 3.0), None, PP).rating == "serious"
    d = rate_imprecision((0.5, 3.0), None, PP)
    assert d.rating == "not serious" and "side of benefit" in d.reason


def test_imprecision_reason_names_what_is_crossed_in_words():
    d = rate_imprecision((-2.0, 1.5), 1.0, " months")
    assert d.reason.endswith("includes a harm of 1 month, no effect and a benefit of 1 month")

# -- inconsistency ----------------------------------------------------------------------------


@pytest.mark.parametrize(("ci", "pi", "rating", "extra"), [
    ((6.0, 12.0), (5.5, 13.0), "not serious", []),
    ((6.0, 12.0), (4.0, 14.0), "serious", [5.0]),
    ((6.0, 12.0), (-1.0, 20.0), "very serious", [0.0, 5.0]),
    # the pooled interval already crosses 5: counted once, under imprecision
    ((2.0, 12.0), (1.0, 14.0), "not serious", []),
    ((2.0, 12.0), (-1.0, 14.0), "serious", [0.0]),
])
def test_inconsistency_counts_only_thresholds_beyond_the_pooled_interval(ci, pi, rating, extra):
    # consistent estimates; tau's posterior (width 0.88) is less than half its prior's (2.0):
    # informed by the data, so the prediction interval is read
    d = rate_inconsistency([-0.5, -0.4, -0.6], [0.3, 0.3, 0.3], ci, pi, 0.3, (0.02, 0.9),
                           (0.0, 2.0), 5.0, PP)
    assert (d.rating, d.values["extra_thresholds_crossed"]) == (rating, extra)
    assert "τ 0.30 (95% CrI 0.02 to 0.90)" in d.reason

# -- risk of bias -----------------------------------------------------------------------------


def test_risk_of_bias_not_assessed_is_counted_once():
    # observational evidence without judgements starts low: "not assessed", no level taken
    d = rate_risk_of_bias([StudyBias("A", "", 100), StudyBias("B", "low", 100)])
    assert (d.rating, d.change) == ("not assessed", 0)
    assert "1 of 2 studies (A)" in d.reason and "already accounts for it" in d.reason
    # randomised trials start high: an unchecked presumption of low risk takes one level
    d = rate_risk_of_bias([StudyBias("A", "", 100, "rct"), StudyBias("B", "low", 100, "rct")])
    assert (d.rating, d.change) == ("not assessed", -1)


@pytest.mark.parametrize(("robs", "design", "rating", "change"), [
    # ROBINS-I (GRADE 18): moderate / serious / critical count 1 / 2 / 3 levels
    (("low", "low", "moderate"), "retrospective", "not serious", 0),   # 100 of 300
    (("low", "moderate", "moderate"), "retrospective", "serious", -1),
    (("serious", "serious", "low"), "prospective", "very serious", -2),
    (("critical", "critical", "serious"), "", "extremely serious", -3),
    (("serious", "critical", "low"), "retrospective", "very serious", -2),  # 200 at >= 2
    # RoB 2 (GRADE 4): some concerns 0, high 1, critical 2
    (("low", "moderate", "moderate"), "rct", "not serious", 0),
    (("serious", "low", "low"), "rct", "not serious", 0),       # 100 of 300 patients
    (("serious", "critical", "low"), "rct", "serious", -1),     # 200 of 300
    (("critical", "critical", "low"), "rct", "very serious", -2),
])
def test_risk_of_bias_by_share_of_patients_at_each_level(robs, design, rating, change):
    d = rate_risk_of_bias([StudyBias(s, r, 100, design)
                           for s, r in zip("ABC", robs, strict=True)])
    assert (d.rating, d.change) == (rating, change)


def test_risk_of_bias_weights_by_patients():
    # one small trial at critical risk is not most of the evidence
    d = rate_risk_of_bias([StudyBias("A", "critical", 40, "rct"),
                           StudyBias("B", "low", 60, "rct")])
    assert d.rating == "not serious" and math.isclose(d.values["share_critical"], 0.4)

# -- publication bias --------------------------------------------------------------------------


def test_publication_bias_not_assessable_with_fewer_than_10_studies():
    d = rate_publication_bias(list("ABCD"), np.zeros(4), np.ones(4))
    assert (d.rating, d.change) == ("not assessable", 0)
    assert "fewer than 10 studies (4 here)" in d.reason


def test_egger_matches_an_independent_regression():
    rng = np.random.default_rng(3)
    se = rng.uniform(0.1, 0.8, 12)
    y = 0.4 * se + 0.2 + rng.normal(0, 0.05, 12)  # small studies show larger effects
    e = egger_test(y, se)
    fit = stats.linregress(1 / se, y / se)
    t = fit.intercept / fit.intercept_stderr
    assert math.isclose(e.intercept, fit.intercept, rel_tol=1e-9)
    assert math.isclose(e.se, fit.intercept_stderr, rel_tol=1e-9)
    assert math.isclose(e.p, 2 * stats.t.sf(abs(t), 10), rel_tol=1e-9) and e.df == 10


def test_publication_bias_with_10_studies_runs_egger_and_returns_the_funnel():
    se = np.linspace(0.1, 1.0, 10)
    asym = rate_publication_bias(list("ABCDEFGHIJ"), 0.1 + 0.8 * se
                                 + np.tile([0.01, -0.01], 5), se)
    assert (asym.rating, asym.change) == ("serious", -1)
    assert asym.values["egger"]["p"] < 0.10
    assert [f["se"] for f in asym.values["funnel"]] == pytest.approx(list(se))
    sym = rate_publication_bias(list("ABCDEFGHIJ"),
                                0.3 + np.tile([0.05, -0.05], 5) * se, se)
    assert (sym.rating, sym.change) == ("not serious", 0)
    assert sym.values["egger"]["p"] > 0.5

# -- indirectness, source audit, large effect, levels ------------------------------------------


def test_indirectness_is_the_spec_declaration():
    d = rate_indirectness(Indirectness("serious", "half the patients had no resection"))
    assert (d.rating, d.change, d.reason) == ("serious", -1, "half the patients had no resection")
    d = rate_indirectness(None)
    assert (d.rating, d.change) == ("not assessed", 0) and "[indirectness]" in d.reason


def _f(check, outcome, severity="warning"):
    return Finding("Study A", outcome, "preop", check, severity, "detail")


def test_source_audit_counts_data_problems_and_names_the_rest():
    findings = [_f("grim", "lmd"), _f("grim", "lmd"), _f("pooled_mean", "lmd"),
                _f("grim", None), _f("identification", None), _f("grim", "lc", "info")]
    d = rate_source_audit(findings, "lmd")
    assert (d.rating, d.change) == ("serious", -1)
    # the overall GRIM summary is counted through lmd's own findings, not again
    assert d.values["checks"] == {"grim": 2, "pooled_mean": 1, "identification": 1}
    assert d.values["counted"] == ["grim", "identification"]
    assert "also noted: pooled_mean (1)" in d.reason
    only_paper = rate_source_audit([_f("pooled_mean", "os"), _f("reporting", None)], "os")
    assert (only_paper.rating, only_paper.change) == ("not serious", 0)
    assert "pooled_mean (1); reporting (1)" in only_paper.reason


def test_large_effect_rates_up_only_eligible_evidence():
    assert rate_large_effect((0.10, 0.45), "OR", True).change == 1
    assert rate_large_effect((0.05, 0.18), "OR", True).change == 2
    assert rate_large_effect((2.5, 9.0), "OR", True).change == 1
    assert rate_large_effect((0.10, 0.45), "OR", False).change == 0
    assert rate_large_effect((0.30, 0.80), "OR", True).rating == "none"


def test_start_and_final_levels():
    assert start_level(["rct", "rct"])[0] == "high"
    assert start_level(["rct", "retrospective"]) == (
        "low", "observational evidence (1 rct, 1 retrospective)")
    assert start_level(["", ""])[0] == "low"
    assert start_level(["rct", ""])[1] == "observational evidence (1 rct, 1 not recorded)"
    # ROBINS-I judgements for every study: non-randomised evidence starts high (GRADE 18)
    assert start_level(["retrospective", ""], ["low", "serious"])[0] == "high"
    assert start_level(["retrospective", ""], ["low", ""])[0] == "low"
    assert final_level("low", [-1, -2]) == "very low"
    assert final_level("high", [-1]) == "moderate"
    assert final_level("low", [2]) == "high"

# -- whole ratings on constructed evidence ------------------------------------------------------


def _evidence(spec, *, ci=(6.0, 12.0), pi=(5.5, 13.0), ratio=(0.3, 0.7), design="rct",
              rob="low", median_rd=-9.0, k=4, ok=True, baselines=(0.125,)):
    summary = {"absolute": {"benefit": {"median": spec.sign * median_rd,
                                        "ci95": list(ci)},
                            "benefit_new": {"median": 9.0, "ci95": list(pi)},
                            "risk_difference": {"median": median_rd}},
               "tau": {"median": 0.1, "ci95": [0.01, 0.4]},
               "effect": {"median": 0.5, "ci95": list(ratio)}}
    studies = tuple(StudyInfo(f"S{i}", 100, design, rob, 0.0, 0.3) for i in range(k))
    theta = np.full(4000, np.log(0.5))
    summary["absolute_at_baseline"] = [at_baseline_entry(spec, theta, b) for b in baselines]
    return OutcomeEvidence(spec, ok, summary if ok else {}, studies,
                           Baseline(0.125, "pooled"), theta if ok else np.empty(0),
                           np.full(4000, 8.0) if ok else np.empty(0))


def test_trials_with_nothing_to_rate_down_are_high(specs):
    lmd = replace(specs["lmd"], indirectness=Indirectness("not serious", "direct"))
    c = rate_outcome(_evidence(lmd), [])
    assert (c.start, c.level, c.reasons) == ("high", "high", [])


def test_observational_evidence_loses_a_level_per_concern(specs):
    lmd = specs["lmd"]  # declares indirectness "not serious"
    ev = _evidence(lmd, ci=(2.0, 12.0), design="retrospective", rob="", ratio=(0.3, 0.9))
    c = rate_outcome(ev, [_f("grim", "lmd")])
    assert c.start == "low" and c.level == "very low"
    # risk of bias not assessed: shown, but the low start already counts it
    assert [d.name for d in c.domains if d.change] == ["imprecision", "source audit"]
    assert c.domains[0].rating == "not assessed" and c.domains[0].change == 0
    assert len(c.reasons) == 2 and c.reasons[0].startswith("rated down 1 for imprecision")


def test_observational_evidence_rated_up_for_a_large_effect(specs):
    ev = _evidence(specs["lmd"], design="prospective", rob="", ratio=(0.10, 0.45))
    c = rate_outcome(ev, [])
    assert (c.start, c.level) == ("low", "moderate")
    assert c.reasons == ["rated up 1 for large effect: OR 95% CrI 0.10 to 0.45 is wholly "
                         "beyond 2 (or its inverse)"]


def test_a_failed_fit_is_not_rated(specs):
    c = rate_outcome(_evidence(specs["lmd"], ok=False), [])
    assert c.level is None and not c.assessable
    assert c.note == "not assessable: the fit did not converge"

# -- statements and the SoF arithmetic --------------------------------------------------------


@pytest.mark.parametrize(("level", "change", "text"), [
    ("high", -1, "Preoperative SRS reduces LMD compared with postoperative SRS."),
    ("moderate", -1, "Preoperative SRS probably reduces LMD compared with postoperative SRS."),
    ("low", 1, "Preoperative SRS may increase LMD compared with postoperative SRS."),
    ("low", 0, "Preoperative SRS may result in little to no difference in LMD compared with "
               "postoperative SRS."),
    ("moderate", 0, "Preoperative SRS probably results in little to no difference in LMD "
                    "compared with postoperative SRS."),
    ("very low", -1, "The evidence is very uncertain about the effect of preoperative SRS on "
                     "LMD compared with postoperative SRS."),
])
def test_plain_language_uses_grades_standard_wording(level, change, text):
    assert plain_language(level, change, "LMD") == text


def test_direction_is_trivial_below_the_smallest_important_difference(specs):
    assert direction(_evidence(specs["lmd"], median_rd=-9.0)) == -1
    small = _evidence(specs["lmd"], median_rd=-3.0)
    small.summary["absolute"]["benefit"]["median"] = 3.0
    assert direction(small) == 0


def _with_baseline(spec, theta, baseline: Baseline) -> OutcomeEvidence:
    """Evidence whose summary holds the family's absolute effects at ``baseline``, made by
    the same functions as a fit's (``absolute_at`` per draw, then :class:`DrawStats`)."""
    at = at_baseline_entry(spec, theta, baseline.value)
    return OutcomeEvidence(spec, True, {"absolute_at_baseline": [at]}, (), baseline)


def test_absolute_effects_per_100_are_the_fits_own(specs):
    stated = Baseline(0.2, "stated")
    a = absolute_at(_with_baseline(specs["lmd"], np.full(1000, np.log(0.5)), stated), stated)
    # odds 0.25 halved = 0.125, risk 0.125 / 1.125 = 0.1111; per 100 patients, the unit of
    # the thresholds and the new-population effect
    assert (a.unit, a.control) == ("per 100 patients", pytest.approx(20.0))
    assert a.intervention.median == pytest.approx(100 / 9)
    assert a.difference.median == pytest.approx(100 / 9 - 20)
    pooled = Baseline(15.0, "pooled")
    m = absolute_at(_with_baseline(specs["os"], np.full(10, np.log(1.1)), pooled), pooled)
    assert (m.unit, m.intervention.median) == ("months", pytest.approx(16.5))
    draws = np.random.default_rng(1).normal(np.log(0.5), 0.3, 20000)
    spread = absolute_at(_with_baseline(specs["lmd"], draws, stated), stated)
    assert spread.difference.ci95[0] < -8.89 < spread.difference.ci95[1]
    with pytest.raises(ValueError, match="fitted without the baseline"):
        absolute_at(_with_baseline(specs["lmd"], draws, stated), Baseline(0.3, "other"))


def test_baselines_stated_per_outcome_or_for_all(specs):
    lmd, os_ = _evidence(specs["lmd"]), _evidence(specs["os"])
    assert [b.value for b in baselines_for(lmd, {})] == [0.125]
    assert [b.value for b in baselines_for(lmd, {None: [0.1, 0.2]})] == [0.1, 0.2]
    assert [b.value for b in baselines_for(lmd, {None: [0.1], "lmd": [0.05]})] == [0.05]
    assert baselines_for(os_, {None: [0.1]}) == [os_.baseline]  # a risk is no median
    assert stated_baseline(0.12).label == "stated baseline risk 12%"


def test_pooled_baseline_is_computed_from_the_data(specs, bundled_table):
    # the four LMD postop arms are GRIM failures: each enters with its two counts (as in the
    # relative-effect model), so the pooled risk is the ML risk over those sets
    b = pooled_baseline(outcome_table(bundled_table, specs["lmd"]), specs["lmd"])
    assert b.value == pooled_risk(np.array([5, 8, 5, 6]), np.array([48, 65, 40, 55]),
                                  np.array([6, 9, 6, 7]))
    assert b.value != 26 / 208 and "12.5% of 208 patients" in b.label
    m = pooled_baseline(outcome_table(bundled_table, specs["os"]), specs["os"])
    assert m.value == pytest.approx((15 * 48 + 17 * 65 + 14 * 40 + 16 * 55) / 208)

# -- net benefit --------------------------------------------------------------------------------


def _settings(criteria, weights, multipliers=(0.5, 1.0, 2.0)):
    return NetBenefitSettings(tuple(criteria), weights, {}, multipliers, 0.95)


def test_joint_probability_of_independent_outcomes_is_the_product():
    rng = np.random.default_rng(5)
    n = 200_000
    b = {"lmd": rng.normal(6, 2, n), "rn": rng.normal(1, 1, n), "lc": rng.normal(0, 3, n)}
    s = _settings([Criterion("lmd", 5), Criterion("rn", 0), Criterion("lc", -3)],
                  {"lmd": 1.0, "rn": 1.0, "lc": 1.0})
    nb = net_benefit(b, s, seed=1)
    p = stats.norm.sf(5, 6, 2) * stats.norm.sf(0, 1, 1) * stats.norm.sf(-3, 0, 3)
    assert abs(nb.p_all_criteria - p) < 4 * math.sqrt(p * (1 - p) / n)
    assert nb.net.median == pytest.approx(7.0, abs=0.05)
    assert "independent" in nb.assumption


def test_weight_grid_shows_where_the_verdict_flips():
    # net = 2 w_lmd - 3 w_lc: harm at equal weights, benefit when w_lmd / w_lc > 1.5
    b = {"lmd": np.full(100, 2.0), "lc": np.full(100, -3.0)}
    nb = net_benefit(b, _settings([Criterion("lmd", 0)], {"lmd": 1.0, "lc": 1.0}), seed=1)
    assert (nb.p_net_positive, nb.verdict) == (0.0, "net harm")
    benefit = sorted((s.multipliers["lmd"], s.multipliers["lc"]) for s in nb.sensitivity
                     if s.verdict == "net benefit")
    assert benefit == [(1.0, 0.5), (2.0, 0.5), (2.0, 1.0)]
    assert (nb.holds_in, len(nb.sensitivity)) == (6, 9)


def test_net_benefit_needs_every_outcome_it_names():
    nb = net_benefit({"lmd": np.ones(10)}, _settings([Criterion("lmd", 0)],
                                                     {"lmd": 1.0, "rn": 1.0}), seed=1)
    assert not nb.available and nb.note == "not assessable: no converged fit for rn"


def test_copula_keeps_each_marginal_and_sets_the_rank_correlation():
    rng = np.random.default_rng(5)
    paired = {"a": rng.normal(size=20000), "b": rng.gamma(2.0, size=20000)}
    for rho in (0.0, 0.3, 0.6, 0.9):
        d = copula_draws(paired, rho, seed=1)
        assert all(np.array_equal(np.sort(d[k]), np.sort(paired[k])) for k in paired)
        # Spearman's rho of a Gaussian copula: (6 / pi) asin(rho / 2); SE about 1 / sqrt(n)
        expected = 6 / math.pi * math.asin(rho / 2)
        assert stats.spearmanr(d["a"], d["b"]).statistic == pytest.approx(expected, abs=0.03)


def test_correlated_outcomes_change_the_verdict_and_give_a_tipping_rho():
    """Two benefits N(1, 1) each: independent, the net N(2, 2) is positive with P 0.921;
    with correlation rho its variance is 2 + 2 rho, so the verdict at 0.9 falls as rho
    grows. Constructed so that P(net > 0) crosses 0.9 (the decision probability) at
    rho = 2 / 1.2816**2 - 1 = 0.218 (Phi^-1(0.9) = 1.2816)."""
    rng = np.random.default_rng(11)
    b = {"x": rng.normal(1, 1, 40000), "y": rng.normal(1, 1, 40000)}
    s = NetBenefitSettings((Criterion("x", 0),), {"x": 1.0, "y": 1.0}, {}, (1.0,), 0.9)
    nb = net_benefit(b, s, seed=2)
    assert nb.verdict == "net benefit" and nb.unit == "weighted events avoided per 100 patients"
    ps = {c.rho: c.p_net_positive for c in nb.correlation}
    assert list(ps) == [0.0, 0.3, 0.6, 0.9] and ps[0.0] == nb.p_net_positive
    for rho, p in ps.items():  # Monte Carlo SE of a proportion of 40,000 draws < 0.0025
        assert p == pytest.approx(stats.norm.cdf(2 / math.sqrt(2 + 2 * rho)), abs=0.01)
    assert [c.verdict for c in nb.correlation] == ["net benefit"] + ["inconclusive"] * 3
    assert nb.tipping_rho == pytest.approx(2 / stats.norm.ppf(0.9) ** 2 - 1, abs=0.04)
    d = nb.as_dict()["correlation"]
    assert d["tipping_rho"] == nb.tipping_rho and len(d["settings"]) == 4


def test_p_all_criteria_is_no_longer_only_the_product_of_marginals():
    rng = np.random.default_rng(3)
    b = {"x": rng.normal(0.5, 1, 40000), "y": rng.normal(0.5, 1, 40000)}
    s = NetBenefitSettings((Criterion("x", 0), Criterion("y", 0)), {"x": 1.0}, {}, (1.0,), 0.95)
    nb = net_benefit(b, s, seed=2)
    by_rho = {c.rho: c.p_all_criteria for c in nb.correlation}
    marg = stats.norm.cdf(0.5) ** 2  # independent: the product of the marginals
    assert by_rho[0.0] == pytest.approx(marg, abs=0.01)
    # rho = 0.9: the bivariate normal orthant probability, well above the product
    biv = stats.multivariate_normal([0, 0], [[1, 0.9], [0.9, 1]]).cdf([0.5, 0.5])
    assert by_rho[0.9] == pytest.approx(biv, abs=0.01) and biv > marg + 0.1


def test_a_nested_outcome_is_weighted_without_the_outcome_it_contains():
    # DBF includes LMD: the state "DBF without LMD" has benefit 3 - 2 = 1, so with unit
    # weights the net is 2 (LMD) + 1 = 3, not 5 (LMD counted twice)
    b = {"lmd": np.full(100, 2.0), "dbf": np.full(100, 3.0)}
    s = NetBenefitSettings((Criterion("lmd", 0),), {"lmd": 1.0, "dbf": 1.0}, {}, (1.0,), 0.95,
                           contains={"dbf": ("lmd",)})
    nb = net_benefit(b, s, seed=1)
    assert nb.net.median == 3.0
    assert nb.as_dict()["states"]["dbf"] == {"weight": 1.0, "excludes": ["lmd"]}
    plain = net_benefit(b, NetBenefitSettings(s.criteria, s.weights, {}, (1.0,), 0.95), seed=1)
    assert plain.net.median == 5.0


def test_pairing_is_a_seeded_shuffle_of_each_outcomes_draws():
    b = {"a": np.arange(10.0), "b": np.arange(12.0)}
    p1, p2 = paired_draws(b, 3), paired_draws(b, 3)
    assert all(np.array_equal(p1[k], p2[k]) for k in b)
    assert len(p1["a"]) == len(p1["b"]) == 10
    assert sorted(p1["a"]) == list(range(10))
    assert verdict(0.96, 0.95) == "net benefit" and verdict(0.5, 0.95) == "inconclusive"


def test_assess_serialises_and_formats(specs):
    # evidence fitted with the stated baseline, as fit_evidence(stated=...) fits it
    lmd, rn = _evidence(specs["lmd"], baselines=(0.2,)), _evidence(specs["rn"], ok=False)
    s = _settings([Criterion("lmd", 5)], {"lmd": 1.0})
    report = assess([lmd, rn], [], s, stated={"lmd": [0.2]})
    d = report.as_dict()
    assert not report.converged and d["converged"] is False
    assert d["outcomes"]["rn"]["certainty"]["note"] == "not assessable: the fit did not converge"
    assert d["outcomes"]["rn"]["relative"] is None
    row = d["outcomes"]["lmd"]
    assert row["absolute"][0]["control"] == pytest.approx(20.0)
    assert row["n_studies"] == 4 and row["n_patients"] == 400
    assert d["net_benefit"]["p_all_criteria"] == 1.0
    assert any("Zeng" in r for r in d["references"])
    text = format_text(report)
    assert ("absolute (primary): 8.9 fewer per 100 patients (95% CrI 8.9 to 8.9 fewer): "
            "postop 20.0 vs preop 11.1" in text)
    assert "certainty: not assessable: the fit did not converge" in text


def test_no_baseline_without_arm_level_data(specs):
    # published contrasts have no control-arm level: no absolute row, patients from ``n``
    import pandas as pd

    from srsbayes.certainty.evidence import patients

    wide = pd.DataFrame({"study": ["A", "B"], "n": [100.0, np.nan]})
    assert pooled_baseline(wide, specs["lmd"]) is None
    assert np.array_equal(patients(wide), [100.0, np.nan], equal_nan=True)
    ev = replace(_evidence(specs["os"]), baseline=None)
    assert baselines_for(ev, {None: [0.1]}) == []


def test_risk_of_bias_by_studies_when_patients_are_unknown():
    d = rate_risk_of_bias([StudyBias("A", "serious", 0, "rct"),
                           StudyBias("B", "serious", 500, "rct"),
                           StudyBias("C", "low", 900, "rct")])
    assert d.rating == "serious" and d.reason == (
        "67% of studies are judged at a risk counting 1 level or more (RoB 2)")


def test_published_ratios_are_rated_on_the_ratio_itself():
    """A contrast HR outcome has no absolute scale: imprecision reads the benefit
    sign * log HR and says it as the HR (lower HR = benefit: sign -1)."""
    from dataclasses import replace as _replace

    from srsbayes.certainty.grade import benefit_scale
    from srsbayes.inputs.specs import Threshold, load_specs

    spec = load_specs(Path(__file__).parents[1] / "data" / "contrast_models")["schools_hr"]
    spec = _replace(spec, thresholds=(Threshold("ratio", 0.8),))
    scale, t = benefit_scale(spec)
    assert t == pytest.approx(-math.log(0.8)) and scale.ratio == "HR"
    # benefit -0.05 .. 0.36 is HR exp(0.05) = 1.05 .. exp(-0.36) = 0.70
    d = rate_imprecision((-0.05, 0.36), t, scale)
    assert (d.rating, d.change) == ("very serious", -2)
    assert "the 95% CrI of the hazard ratio (rated on the relative effect), 0.70 to " \
           "1.05, includes no effect and a benefit of HR 0.80" in d.reason


def test_bias_adjusted_analysis_is_shown_not_counted_again():
    from srsbayes.certainty.risk_of_bias import BiasAdjusted, with_bias_adjustment

    judged = rate_risk_of_bias([StudyBias("A", "low", 60, "rct"),
                                StudyBias("B", "moderate", 40, "rct")])
    assert (judged.rating, judged.change) == ("not serious", 0)
    keeps = with_bias_adjustment(judged, BiasAdjusted(True, 0.97), 0.99, 0.95)
    assert (keeps.rating, keeps.change) == ("not serious", 0)
    assert "keeps the conclusion (P(benefit) 0.990 unadjusted, 0.970" in keeps.reason
    flips = with_bias_adjustment(judged, BiasAdjusted(True, 0.93), 0.99, 0.95)
    assert (flips.rating, flips.change) == ("not serious", 0)  # risk of bias counted once
    assert "would change the conclusion from benefit to inconclusive" in flips.reason
    assert flips.values["bias_adjusted"]["prob_benefit"] == 0.93
    unjudged = rate_risk_of_bias([StudyBias("A", "", 60)])
    both = with_bias_adjustment(unjudged, BiasAdjusted(True, 0.5), 0.99, 0.95)
    assert (both.rating, both.change) == ("not assessed", 0)
    failed = with_bias_adjustment(judged, BiasAdjusted(False, math.nan), 0.99, 0.95)
    assert failed.change == 0 and "did not converge" in failed.reason
    assert with_bias_adjustment(judged, None, 0.99, 0.95) is judged
