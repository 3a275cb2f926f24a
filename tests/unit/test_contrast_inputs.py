"""Contrast rows (issue 13): parsing, validation, standard errors, audit-style findings and
the contrast spec. Deterministic; no sampling."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from srsbayes.errors import InputError
from srsbayes.families import FAMILIES, get_family
from srsbayes.inputs import contrasts
from srsbayes.inputs.data import outcome_table, read_table
from srsbayes.inputs.specs import load_spec_file, load_specs
from srsbayes.resources import BUNDLED_MODELS

# The minimal spec of issue 13, verbatim (tests/data/contrast_minimal_ar.toml).
MINIMAL_SPEC = (Path(__file__).parents[1] / "data" / "contrast_minimal_ar.toml").read_text(
    encoding="utf-8")

LMD_SPEC = '''\
id = "lmd"
label = "Leptomeningeal disease"
family = "binomial"
benefit = "lower"
[priors.effect]
dist = "normal(0, 2)"
[priors.tau]
dist = "halfnormal(0.5)"
[priors.baseline]
dist = "normal(0, 2)"
'''

HEADER = "study,outcome,arm,n,measure,estimate,ci_low,ci_high,ci_level,se,p_value"


@pytest.fixture()
def models(tmp_path: Path) -> Path:
    d = tmp_path / "models"
    d.mkdir()
    (d / "ar.toml").write_text(MINIMAL_SPEC, encoding="utf-8")
    (d / "lmd.toml").write_text(LMD_SPEC, encoding="utf-8")
    (d / "os.toml").write_text((BUNDLED_MODELS / "os.toml").read_text(encoding="utf-8"),
                               encoding="utf-8")  # a family that takes arm rows only
    return d


def _table(tmp_path: Path, models: Path, *rows: str, header: str = HEADER):
    p = tmp_path / "studies.csv"
    p.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return read_table(p, load_specs(models))


# -- the spec ------------------------------------------------------------------------------------

def test_minimal_spec_of_the_issue_is_accepted(models):
    spec = load_spec_file(models / "ar.toml")
    assert spec.family == "contrast"
    assert spec.measure == "odds_ratio"
    assert spec.approximate_measures == ()
    assert spec.thresholds == ()
    assert set(spec.priors) == {"effect", "tau"} == set(FAMILIES["contrast"].slots)
    assert str(spec.priors["effect"]) == "normal(0, 4)"
    assert get_family("contrast").contrast_measures(spec) == ("or",)


@pytest.mark.parametrize(("edit", "column", "message"), [
    (lambda s: s.replace('measure = "odds_ratio"', ""), "measure", "missing required key"),
    (lambda s: s.replace('"odds_ratio"', '"odds"'), "measure", "unknown measure 'odds'"),
    (lambda s: 'approximate_measures = ["rd"]\n' + s, "approximate_measures",
     "another scale"),
    (lambda s: s.replace('decision_probability = 0.95',
                         'decision_probability = 0.95\n[[thresholds]]\nmeasure = "difference"'
                         '\nthreshold = 1'), "thresholds[0]", "takes 'ratio' thresholds"),
    (lambda s: s.replace('[priors.tau]', '[priors.baseline]\ndist = "normal(0, 1)"\n'
                         '[priors.tau]'), "priors.baseline", "unknown prior name"),
])
def test_bad_contrast_spec_is_one_line_error(tmp_path, edit, column, message):
    p = tmp_path / "ar.toml"
    p.write_text(edit(MINIMAL_SPEC), encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_spec_file(p)
    assert exc.value.column == column and message in exc.value.message
    assert "\n" not in exc.value.oneline()


def test_measure_key_is_rejected_for_other_families(tmp_path):
    p = tmp_path / "lmd.toml"
    p.write_text('measure = "odds_ratio"\n' + LMD_SPEC, encoding="utf-8")
    with pytest.raises(InputError, match="not a key of family 'binomial'"):
        load_spec_file(p)


def test_spec_accepts_long_and_short_measure_names_and_approximations(tmp_path):
    p = tmp_path / "ar.toml"
    p.write_text('approximate_measures = ["or", "shr"]\n'
                 + MINIMAL_SPEC.replace('"odds_ratio"', '"HR"'), encoding="utf-8")
    spec = load_spec_file(p)
    assert spec.measure == "hazard_ratio"
    assert get_family("contrast").contrast_measures(spec) == ("hr", "or", "shr")


# -- standard errors -----------------------------------------------------------------------------

def test_se_from_a_ratio_ci_is_on_the_log_scale(tmp_path, models):
    t = _table(tmp_path, models, "A,ar,,,or,0.45,0.20,1.01,,,", "B,ar,,,or,0.7,,,,0.3,")
    w = outcome_table(t, load_specs(models)["ar"])
    z = stats.norm.ppf(0.975)
    assert w["contrast_y"][0] == pytest.approx(math.log(0.45), abs=1e-15)
    assert w["contrast_se"][0] == pytest.approx((math.log(1.01) - math.log(0.20)) / (2 * z),
                                                rel=1e-12)
    assert list(w["contrast_rule"]) == ["confidence interval", "reported se"]
    assert w["contrast_se"][1] == 0.3


def test_se_from_a_90_percent_ci_uses_its_own_quantile(tmp_path, models):
    t = _table(tmp_path, models, "A,ar,,,or,0.5,0.3,0.8,90,,", "B,ar,,,or,0.7,,,,0.3,")
    w = outcome_table(t, load_specs(models)["ar"])
    assert w["contrast_se"][0] == pytest.approx(math.log(0.8 / 0.3) / (2 * 1.6448536269514722),
                                                rel=1e-12)


def test_se_from_a_p_value_follows_altman_bland():
    """Altman & Bland (2011, BMJ 343:d2090), worked example: RR 0.81, P = 0.04:
    z = 2.05 (their approximation -0.862 + sqrt(0.743 - 2.404 log P) gives 2.044),
    SE = |log 0.81| / z = 0.210 / 2.054 = 0.103, 95% CI 0.66 to 0.99 (printed to 2 decimals)."""
    h = {"estimate": 0.005, "ci_low": 0.005, "ci_high": 0.005}
    out = contrasts.derive_se("rr", 0.81, math.nan, math.nan, 95, math.nan, 0.04, h)
    assert out["contrast_rule"] == "p-value"
    assert out["contrast_se"] == pytest.approx(abs(math.log(0.81)) / stats.norm.isf(0.02),
                                               rel=1e-12)
    assert out["contrast_se"] == pytest.approx(0.1026, abs=1e-4)
    z = 1.959964
    lo, hi = (math.exp(math.log(0.81) + k * z * out["contrast_se"]) for k in (-1, 1))
    assert (round(lo, 2), round(hi, 2)) == (0.66, 0.99)
    assert "Altman & Bland" in out["contrast_detail"]


def test_se_of_a_difference_is_on_the_natural_scale():
    h = {"estimate": 0.05, "ci_low": 0.05, "ci_high": 0.05}
    out = contrasts.derive_se("rd", -13.4, -24.1, -2.7, 95, math.nan, math.nan, h)
    assert out["contrast_y"] == -13.4
    assert out["contrast_se"] == pytest.approx(21.4 / (2 * stats.norm.ppf(0.975)), rel=1e-12)
    assert not out["contrast_asymmetric"]


def test_p_value_at_the_null_gives_no_se(tmp_path, models):
    with pytest.raises(InputError) as exc:
        _table(tmp_path, models, "A,ar,,,or,1.0,,,,,0.5", "B,ar,,,or,0.7,,,,0.3,")
    assert exc.value.column == "p_value" and exc.value.row == 2


# -- asymmetric intervals ------------------------------------------------------------------------

def test_rounding_alone_is_not_asymmetry():
    """HR 0.45 with its CI exp(log 0.45 +- 1.96 x 0.4) = 0.2054 to 0.9859, printed to two
    decimals (0.21 to 0.99), is symmetric up to rounding."""
    h = {"estimate": 0.005, "ci_low": 0.005, "ci_high": 0.005}
    asym, a, b, tol = contrasts.ci_asymmetry("hr", 0.45, 0.21, 0.99, h)
    assert not asym and abs(a - b) <= tol


def test_asymmetry_beyond_rounding_is_flagged_in_row_summary_and_findings(tmp_path, models):
    specs = load_specs(models)
    # printed to one decimal, 0.5 (0.3 to 0.9) may be rounding alone
    t = _table(tmp_path, models, "A,ar,,,or,0.5,0.3,0.9,,,", "B,ar,,,or,0.45,0.20,1.01,,,")
    assert not outcome_table(t, specs["ar"])["contrast_asymmetric"].any()
    t = _table(tmp_path, models, "A,ar,,,or,0.50,0.30,0.90,,,", "B,ar,,,or,0.45,0.20,1.01,,,")
    w = outcome_table(t, specs["ar"])
    assert list(w["contrast_asymmetric"]) == [True, False]
    # log half-widths: log(0.5/0.3) = 0.5108 below, log(0.9/0.5) = 0.5878 above
    assert "0.5108 below and 0.5878 above" in w["contrast_detail"][0]
    found = contrasts.ci_asymmetry_findings(t)
    assert [(f["study"], f["row"], f["check"], f["severity"]) for f in found] == [
        ("A", 2, "contrast_ci_asymmetry", "warning")]
    summary = get_family("contrast").extra_summary(w, {}, {})
    assert [r["study"] for r in summary["ci_asymmetry"]] == ["A"]
    assert summary["measure"] == "odds_ratio" and summary["scale"] == "log"
    assert [r["rule"] for r in summary["se_rules"]] == ["confidence interval"] * 2


# -- p-value against CI (statcheck-style) --------------------------------------------------------

def test_p_value_consistent_with_its_ci():
    """OR 0.50 (0.30 to 0.83): SE = log(0.83/0.30)/3.92 = 0.2596, z = 2.670, p = 0.0076, so a
    reported p = 0.008 agrees (and p = 0.01 too, since the CI's rounding allows 0.0062-0.0095
    and 0.01 may be any p in [0.005, 0.015))."""
    h = {"estimate": 0.005, "ci_low": 0.005, "ci_high": 0.005}
    for p, d in ((0.008, 3), (0.01, 2)):
        out = contrasts.p_value_consistency("or", 0.50, 0.30, 0.83, 95, p, h, d)
        assert out["contrast_p_check"] == "consistent", out


@pytest.mark.parametrize(("p", "decimals", "verdict"), [(0.03, 2, "inconsistent"),
                                                        (0.20, 2, "gross")])
def test_p_value_inconsistent_with_its_ci_is_found(tmp_path, models, p, decimals, verdict):
    h = {"estimate": 0.005, "ci_low": 0.005, "ci_high": 0.005}
    out = contrasts.p_value_consistency("or", 0.50, 0.30, 0.83, 95, p, h, decimals)
    assert out["contrast_p_check"] == verdict
    t = _table(tmp_path, models, f"A,ar,,,or,0.50,0.30,0.83,,,{p}", "B,ar,,,or,0.7,,,,0.3,")
    found = contrasts.p_value_findings(t)
    assert len(found) == 1 and found[0]["row"] == 2 and found[0]["check"] == "contrast_p_ci"
    assert found[0]["detail"].startswith("gross" if verdict == "gross" else "inconsistent")


def test_consistent_rows_give_no_p_finding(tmp_path, models):
    t = _table(tmp_path, models, "A,ar,,,or,0.50,0.30,0.83,,,0.008", "B,ar,,,or,0.7,,,,0.3,")
    assert contrasts.p_value_findings(t) == []


# -- bad values: one line naming file, row and column --------------------------------------------

@pytest.mark.parametrize(("row", "column", "message"), [
    ("A,ar,,,or,0.5,0.6,0.9,,,", "ci_low", "does not contain the estimate 0.5"),
    ("A,ar,,,or,0.95,0.6,0.9,,,", "ci_high", "does not contain the estimate 0.95"),
    ("A,ar,,,or,-0.5,,,,0.3,", "estimate", "must be > 0"),
    ("A,ar,,,or,0,,,,0.3,", "estimate", "must be > 0"),
    ("A,ar,,,or,0.5,0,0.9,,,", "ci_low", "must be > 0"),
    ("A,ar,,,or,0.5,,,,,0", "p_value", "must be in (0, 1]"),
    ("A,ar,,,or,0.5,,,,,1.2", "p_value", "must be in (0, 1]"),
    ("A,ar,,,or,0.5,,,,,<0.001", "p_value", "not a number"),
    ("A,ar,,,or,0.5,0.3,0.9,ninety-five,,", "ci_level", "not a number"),
    ("A,ar,,,or,0.5,0.3,0.9,0.95,,", "ci_level", "percentage in (50, 100)"),
    ("A,ar,,,or,0.5,,,95,0.3,", "ci_level", "without ci_low"),
    ("A,ar,,,or,0.5,0.3,,,,", "ci_high", "go together"),
    ("A,ar,,,or,0.5,0.9,0.3,,,", "ci_high", "must be > ci_low"),
    ("A,ar,,,or,0.5,,,,-0.1,", "se", "must be > 0"),
    ("A,ar,,,or,0.5,,,,,", "se", "needs ci_low + ci_high, se or p_value"),
    ("A,ar,,,hr,0.5,,,,0.3,", "measure", "does not match outcome 'ar'"),
    ("A,ar,,,hazard,0.5,,,,0.3,", "measure", "unknown measure 'hazard'"),
    ("A,ar,,,,0.5,,,,0.3,", "measure", "needs a measure"),
    ("A,ar,,,or,,,,,0.3,", "estimate", "missing value"),
    ("A,ar,,2.5,or,0.5,,,,0.3,", "n", "whole number"),
    ("A,os,,,ratio_of_medians,1.2,,,,0.3,", "arm", "takes arm rows"),
    ("A,xx,,,or,0.5,,,,0.3,", "outcome", "unknown outcome"),
    ("A,ar,preop,10,,,,,,,", "arm", "is a contrast outcome"),
])
def test_bad_contrast_value_is_one_line_error(tmp_path, models, row, column, message):
    with pytest.raises(InputError) as exc:
        _table(tmp_path, models, "B,ar,,,or,0.7,,,,0.3,", row)
    e = exc.value
    assert (e.row, e.column) == (3, column), e.oneline()
    assert message in e.message
    assert e.file == str(tmp_path / "studies.csv") and "\n" not in e.oneline()


def test_events_on_a_contrast_row_is_an_error(tmp_path, models):
    with pytest.raises(InputError) as exc:
        _table(tmp_path, models, "A,ar,,,or,0.5,,,,0.3,,4", "B,ar,,,or,0.7,,,,0.3,,",
               header=HEADER + ",events")
    assert (exc.value.row, exc.value.column) == (2, "events")


def test_two_contrast_rows_for_one_study_is_an_error(tmp_path, models):
    with pytest.raises(InputError) as exc:
        _table(tmp_path, models, "A,ar,,,or,0.5,,,,0.3,", "A,ar,,,or,0.6,,,,0.3,")
    assert exc.value.row == 3 and "second contrast row" in exc.value.message


def test_optional_columns_are_normalised_and_kept(tmp_path, models):
    t = _table(tmp_path, models, "A,ar,,66,OR,0.5,,,,0.3,,Yes,RCT,24,Patel 2016",
               "B,ar,,,or,0.7,,,,0.3,,no,retrospective,,",
               header=HEADER + ",adjusted,design,time_months,source")
    w = outcome_table(t, load_specs(models)["ar"])
    assert list(w["adjusted"]) == ["yes", "no"] and list(w["design"]) == ["rct",
                                                                          "retrospective"]
    assert w["n"][0] == 66 and np.isnan(w["n"][1]) and w["time_months"][0] == 24
    assert t.covariates == []  # contrast columns are not study-level covariates
    with pytest.raises(InputError) as exc:
        _table(tmp_path, models, "A,ar,,,or,0.5,,,,0.3,,maybe,,,", "B,ar,,,or,0.7,,,,0.3,,,,,",
               header=HEADER + ",adjusted,design,time_months,source")
    assert exc.value.column == "adjusted"


def test_arm_rows_of_other_outcomes_still_load_beside_contrast_rows(tmp_path, models):
    t = _table(tmp_path, models, "A,ar,,,or,0.5,,,,0.3,,", "B,ar,,,or,0.7,,,,0.3,,",
               "S1,lmd,preop,50,,,,,,,,3", "S1,lmd,postop,60,,,,,,,,9",
               "S2,lmd,preop,40,,,,,,,,2", "S2,lmd,postop,45,,,,,,,,6",
               header=HEADER + ",events")
    specs = load_specs(models)
    assert len(outcome_table(t, specs["ar"])) == 2
    lmd = outcome_table(t, specs["lmd"])
    assert list(lmd["events_preop"]) == [3, 2] and list(lmd["n_postop"]) == [60, 45]


def test_one_study_is_analysed_as_one_study(tmp_path, models):
    t = _table(tmp_path, models, "A,ar,,,or,0.5,,,,0.3,")
    assert list(outcome_table(t, load_specs(models)["ar"])["study"]) == ["A"]


# -- wording and data-scaled priors --------------------------------------------------------------

def test_family_info_words_the_measure():
    fam = get_family("contrast")
    hr = fam.family_info("hazard_ratio")
    assert (hr.measure, hr.measure_name, hr.measure_abbrev, hr.axis_label) == (
        "hazard_ratio", "hazard ratio", "HR", "Hazard ratio")
    assert fam.family_info("rd").measure_abbrev == "RD"
    assert hr.slots == FAMILIES["contrast"].slots


def test_uisd_of_contrast_rows_needs_n(tmp_path, models):
    """UISD = sqrt(sum n / sum s^-2) (Röver et al. 2021): n = 100 + 300, s = 0.2 and 0.4."""
    specs = load_specs(models)
    t = _table(tmp_path, models, "A,ar,,100,or,0.5,,,,0.2,", "B,ar,,300,or,0.7,,,,0.4,")
    u = get_family("contrast").uisd(outcome_table(t, specs["ar"]))
    assert u == pytest.approx(math.sqrt(400 / (0.2**-2 + 0.4**-2)), rel=1e-12)
    t = _table(tmp_path, models, "A,ar,,100,or,0.5,,,,0.2,", "B,ar,,,or,0.7,,,,0.4,")
    with pytest.raises(InputError, match="needs n on every contrast row; study 'B'"):
        get_family("contrast").uisd(outcome_table(t, specs["ar"]))


def test_a_contrast_file_needs_no_n_column(tmp_path, models):
    t = _table(tmp_path, models, "A,ar,,or,0.5,,,,0.2,", "B,ar,,or,0.7,,,,0.4,",
               header=HEADER.replace(",n,", ","))
    assert np.isnan(outcome_table(t, load_specs(models)["ar"])["n"]).all()


def test_approximate_measures_are_accepted_and_listed(tmp_path, models):
    """With ``approximate_measures = ["hr"]`` an HR row is pooled with the ORs, and the
    summary says which rows were approximations."""
    (models / "ar.toml").write_text('approximate_measures = ["hr"]\n' + MINIMAL_SPEC,
                                    encoding="utf-8")
    t = _table(tmp_path, models, "A,ar,,,or,0.5,,,,0.2,", "B,ar,,,hr,0.7,,,,0.4,")
    w = outcome_table(t, load_specs(models)["ar"])
    s = get_family("contrast").extra_summary(w, {}, {})
    assert s["approximations"] == [{"study": "B", "row": 3, "measure": "hr", "pooled_as": "or"}]
    assert s["measure"] == "odds_ratio"
