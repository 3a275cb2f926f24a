"""Bias-adjustment priors (issue 14 item 2): the bundled rules traced to their quotes, the
loader's errors, the study-to-rule mapping, and the bias term checked against the exact
normal-normal posterior of the shifted, widened data (Turner et al. 2009; Welton et al.
2009: b_i ~ N(m_i, v_i) independent of delta_i folds into y_i - m_i ~ N(theta + delta_i,
s_i^2 + v_i))."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import draws, exact_disagreements
from srsbayes.errors import InputError
from srsbayes.families import get_family
from srsbayes.inference.exact import exact_reference
from srsbayes.inference.fitting import FitSettings, outcome_table, resolve_priors, sample_gated
from srsbayes.inputs.data import read_table
from srsbayes.inputs.specs import load_specs
from srsbayes.priors.bias import DEFAULT_BIAS_PRIORS, load_bias_priors, study_bias
from srsbayes.sensitivity.bias import KEY, WIDE_KEY, bias_variants

MODELS = Path(__file__).parents[1] / "data" / "contrast_models"


def test_bundled_rules_are_computed_from_the_numbers_they_quote():
    rules = {r.name: r for r in load_bias_priors().rules}
    obs, rct = rules["observational"], rules["rct_high_risk"]
    # each number the rule uses appears verbatim in its quote
    assert "was 1.09 (" in obs.quote and "τ2=0.021" in obs.quote
    assert "ROR 0.89 (0.81, 0.99) tau 0.06" in rct.quote
    assert obs.mean == pytest.approx(math.log(1.09), rel=1e-12)
    assert obs.shared > math.sqrt(0.021) and obs.sd == 0.0  # shared (Welton et al. 2009)
    assert rct.mean == pytest.approx(-math.log(0.89), rel=1e-12) and rct.sd == 0.06
    assert obs.designs == ("prospective", "retrospective", "") and rct.rob != ()
    assert "Schwingshackl" in obs.source and "BRANDO" in rct.source


def test_studies_take_the_rule_of_their_design_and_judgement():
    wide = pd.DataFrame({"study": list("ABCDEF"),
                         "design": ["rct", "rct", "retrospective", "", "prospective", "rct"],
                         "rob": ["low", "serious", "critical", "", "low", ""]})
    terms = study_bias(wide, -1, load_bias_priors())
    assert terms.rules == ("", "rct_high_risk", "observational", "observational",
                           "observational", "rct_high_risk")
    # benefit is a lower effect (sign -1): the bias favouring preop is negative
    np.testing.assert_allclose(terms.mean, [0, math.log(0.89), -math.log(1.09),
                                            -math.log(1.09), -math.log(1.09), math.log(0.89)],
                               rtol=1e-12)
    np.testing.assert_allclose(terms.sd, [0, 0.06, 0, 0, 0, 0.06], rtol=1e-12)
    obs = load_bias_priors().rules[0].shared
    np.testing.assert_allclose(terms.shared, [0, terms.shared[1]] + [obs] * 3
                               + [terms.shared[1]], rtol=1e-12)
    up = study_bias(wide.drop(columns=["design", "rob"]), +1, load_bias_priors())
    assert set(up.rules) == {"observational"} and (up.mean > 0).all()


@pytest.mark.parametrize(("edit", "column"), [
    (lambda s: s.replace('source = "Schwingshackl et al. 2021, BMJ 374:n1864"\n', ""),
     "observational.source"),
    (lambda s: s.replace("ratio = 1.09", "ratio = -1.09"), "observational.ratio"),
    (lambda s: s.replace("phi2 = 0.021", "phi2 = 0.021\nphi = 0.1"), "observational.phi"),
    (lambda s: s.replace("phi2 = 0.021", "tau2 = 0.021"), "observational.tau2"),
    (lambda s: s.replace("ci = [1.04, 1.14]", "ci = [1.14, 1.04]"), "observational.ci"),
    (lambda s: s.replace("by_outcome.mortality]", "by_outcome.death]"),
     "rct_high_risk.by_outcome"),
    (lambda s: s.replace('applies_to = ["rct"]', 'applies_to = ["cohort"]'),
     "rct_high_risk.applies_to"),
    (lambda s: s.replace('rob = ["moderate"', 'rob = ["high"'), "rct_high_risk.rob"),
])
def test_a_bad_rule_is_a_one_line_error_naming_its_key(tmp_path, edit, column):
    path = tmp_path / "bias.toml"
    path.write_text(edit(DEFAULT_BIAS_PRIORS.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_bias_priors(path)
    assert f"column '{column}'" in str(e.value) and "\n" not in str(e.value)
    assert str(path) in str(e.value)


def test_bias_row_needs_a_ratio_scale_and_a_covered_study(tmp_path):
    specs = load_specs(MODELS)
    rows = ["study,outcome,arm,measure,estimate,se,design"] + [
        f"S{i},{o},,{m},{v},0.2,{d}" for o, m, v in (("schools", "mean_difference", 3.0),
                                                    ("schools_hr", "hr", 0.8))
        for i, d in enumerate(["rct", "retrospective", "rct"])]
    (tmp_path / "c.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    table = read_table(tmp_path / "c.csv", specs)
    md = outcome_table(table, specs["schools"])
    assert bias_variants(md, specs["schools"]) == []  # a difference takes no ratio of ratios
    hr = outcome_table(table, specs["schools_hr"])
    row, wide_row = bias_variants(hr, specs["schools_hr"])
    assert row.key == KEY and row.kind == "bias" and wide_row.key == WIDE_KEY
    assert "'observational_either_direction' (mean +0.000, shared SD 0.193" in wide_row.detail
    assert "1 study by rule 'observational'" in row.detail
    assert "2 studies by rule 'rct_high_risk'" in row.detail  # no judgement: "unclear"
    assert "log hazard ratio scale" in row.detail
    np.testing.assert_allclose(row.overrides["bias_mean"],
                               [math.log(0.89), -math.log(1.09), math.log(0.89)])
    assert bias_variants(hr.assign(design="rct", rob="low"), specs["schools_hr"]) == []


@pytest.mark.slow
def test_bias_term_matches_the_exact_posterior_of_shifted_widened_data(tmp_path):
    """NUTS with bias data against the exact NNHM of y - m with SEs sqrt(s^2 + v),
    computed here independently of the family's hook; within 3.5 MCSE (+1e-3)."""
    specs = load_specs(MODELS)
    y = np.array([-0.35, -0.1, -0.6, 0.05, -0.25])
    s = np.array([0.2, 0.25, 0.3, 0.15, 0.35])
    rows = ["study,outcome,arm,measure,estimate,se"] + [
        f"S{i},schools_hr,,hr,{math.exp(v)!r},{e!r}"
        for i, (v, e) in enumerate(zip(y.tolist(), s.tolist(), strict=True))]
    (tmp_path / "h.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    spec = specs["schools_hr"]
    wide = outcome_table(read_table(tmp_path / "h.csv", specs), spec)
    priors = resolve_priors(spec, wide)
    m = np.array([-0.2, 0.0, -0.2, -0.1, 0.0])
    sd = np.array([0.3, 0.0, 0.3, 0.1, 0.0])
    data = {**get_family("contrast").model_data(wide), "bias_mean": m, "bias_sd": sd}
    idata, diag, _ = sample_gated("contrast", data, priors, FitSettings(draws=2500, seed=14))
    assert diag.ok, diag  # the gate's own exact check includes the bias term

    class Fit:  # what conftest.draws reads
        pass

    fit = Fit()
    fit.idata = idata
    np.testing.assert_allclose(data["y"], y, atol=1e-12)
    ex = exact_reference(data["y"] - m, np.sqrt(s**2 + sd**2), priors)
    bad = exact_disagreements(draws(fit, "effect"), draws(fit, "tau"), ex)
    assert not bad, bad
    unadjusted = exact_reference(y, s, priors)
    assert ex.mu_mean_total() - unadjusted.mu_mean_total() > 0.1  # the shift is visible
