"""``sweep`` and ``report`` on a CSV of contrast rows (issue 13), for a ratio measure and a
difference measure.

A hazard ratio is pooled on the log scale and shown as a ratio (log axis, no effect at 1); a
mean difference is pooled and shown on its own scale (linear axis, no effect at 0). Both are
named by their measure wherever the report, the sweep and the summary of findings speak of
them, and neither has an absolute effect (published contrasts carry no control-arm level).

Data: the eight schools (Rubin 1981, J Educ Stat 6:377-401) as mean differences with their
printed SEs, and as hazard ratios exp(-y / 100) with 95% CIs printed to 4 decimals, with the
specs in ``tests/data/contrast_models`` (bayesmeta's example 1 priors), as in
``tests/integration/test_contrast_fit.py``, whose exact posterior of that analysis matches
bayesmeta. The
report's numbers are compared with the ``summary.json`` beside it (exact: the page formats
what the summary holds) and the summaries with the exact posterior (within Monte Carlo error).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from conftest import Z, assert_default_sweep_row_is_the_fit
from srsbayes.analysis.data import validate_inputs
from srsbayes.analysis.outcome import derived_draws
from srsbayes.certainty.sof import NO_BASELINE
from srsbayes.draws import central_interval, pct
from srsbayes.families import get_family, measure_info
from srsbayes.families.contrast import MEASURES, is_ratio
from srsbayes.families.measures import MEASURES as MEASURE_TABLE
from srsbayes.inference.exact import exact_reference
from srsbayes.inference.fitting import FitSettings
from srsbayes.inputs.data import outcome_table, read_table
from srsbayes.inputs.specs import load_specs
from srsbayes.plots.figures import GREY, effect_figure, forest_figure
from srsbayes.plots.sweep import sweep_figure
from srsbayes.priors.distributions import parse_prior
from srsbayes.report import render
from srsbayes.report.build import absolute_benefit, build_report
from srsbayes.report.text import describe_fit, threshold_sentence
from srsbayes.report.wording import ci, threshold_label
from srsbayes.sensitivity.sweep import Setting, verdict
from test_contrast_fit import MODELS, _hr_rows, _se_rows, _write

MD, HR = "schools", "schools_hr"
SETTINGS = FitSettings(draws=1000, seed=1981)
GRID = [Setting("vague effect N(0, 100)", {"effect": parse_prior("normal(0, 100)")})]
SWEEP_OPTIONS = {"data_level": False, "psense": False}  # one prior row per outcome: cheap


@pytest.fixture(scope="module")
def specs():
    return load_specs(MODELS)


@pytest.fixture(scope="module")
def table(tmp_path_factory, specs):
    path = _write(tmp_path_factory.mktemp("contrast-report") / "contrasts.csv",
                  _se_rows() + _hr_rows())
    return read_table(path, specs)


@pytest.fixture(scope="module")
def built(tmp_path_factory, table, specs):
    """The report of both outcomes (fits, one-setting sweeps, figures, SoF) and its files,
    from inputs validated as ``report`` validates them (the evidence audit included)."""
    out = tmp_path_factory.mktemp("contrast-report-out")
    inputs = validate_inputs(table, specs, out)
    assert [s.id for s in inputs.outcomes] == [MD, HR]
    report = build_report(inputs, settings=SETTINGS, out=out, grid=GRID,
                          sweep_options=SWEEP_OPTIONS)
    files = render.report_files(report)
    return report, files, out


@pytest.fixture(scope="module")
def outcome(built):
    report = built[0]
    return {o.spec.id: o for o in report.outcomes}


@pytest.fixture(scope="module")
def page(built) -> str:
    return built[1]["index.md"].decode("utf-8")


def _summary(out: Path, outcome_id: str) -> dict[str, Any]:
    return json.loads((out / outcome_id / "summary.json").read_text(encoding="utf-8"))


def _section(page: str, outcome_id: str) -> str:
    m = re.search(rf'<a id="{outcome_id}"></a>(.*?)<a id="{outcome_id}-diagnostics">', page,
                  re.S)
    assert m, f"no section for {outcome_id}"
    return m.group(1)


def _null_lines(ax) -> list[float]:
    """x of the vertical grey lines of no effect of an axis."""
    return [float(ln.get_xdata()[0]) for ln in ax.lines
            if ln.get_color() == GREY and len(set(ln.get_xdata())) == 1]


# -- the scale and the words of each measure, from one place --------------------------------------

def test_every_measure_has_one_scale_and_its_own_words():
    """Ratios (hr, shr, or, rr, ratio_of_medians) are shown as exp θ with no effect at 1,
    differences (rd, mean_difference) as θ with no effect at 0."""
    theta = np.array([-0.5, 0.0, 2.0])
    for code in MEASURES:
        for key in (code, MEASURES[code]):  # CSV code and spec name
            info = measure_info("contrast", key)
            assert info.log_scale is is_ratio(code)
            assert (info.measure_name, info.measure_abbrev) == (MEASURE_TABLE[code].name,
                                                           MEASURE_TABLE[code].abbrev)
            assert info.null == (1.0 if is_ratio(code) else 0.0)
            shown = np.asarray(info.shown(theta))
            np.testing.assert_array_equal(shown, np.exp(theta) if is_ratio(code) else theta)
    # a family with one measure keeps its registered entry
    assert measure_info("binomial", "").measure_name == "odds ratio"
    assert measure_info("binomial", "").log_scale


def test_threshold_labels_name_the_measure():
    hr = {"family": "contrast", "measure_code": "hr", "benefit": "lower"}
    md = {"family": "contrast", "measure_code": "mean_difference", "benefit": "higher"}
    rd = {"family": "contrast", "measure_code": "rd", "benefit": "lower"}
    assert threshold_label(hr, {"measure": "ratio", "threshold": 0.8}) == "HR ≤ 0.8"
    assert threshold_label(md, {"measure": "difference", "threshold": 5}) == "MD ≥ 5"
    # fewer events better: a benefit of 2 points is a risk difference of -2 or less
    assert threshold_label(rd, {"measure": "difference", "threshold": 2}) == "RD ≤ -2"
    t = {"measure": "ratio", "threshold": 0.8, "probability": 0.4,
         "probability_new_study": 0.3}
    assert threshold_sentence(hr, t).startswith("P(a hazard ratio of at most 0.8) = 40%")


# -- report: numbers on the measure's own scale ---------------------------------------------------

def test_the_report_states_the_pooled_mean_difference_on_its_own_scale(built, outcome, page,
                                                                       table, specs):
    """The pooled MD in the key numbers is the summary's natural-scale median and interval,
    which is θ's (not exp θ) and agrees with the exact posterior (Rubin's data: about 8)."""
    out = built[2]
    s = _summary(out, MD)
    assert s["effect"] == outcome[MD].summary["effect"]  # the page's summary is the file's
    assert s["ok"] and s["measure"] == "mean_difference" and s["scale"] == "natural"
    assert s["effect"]["median"] == s["log_effect"]["median"]
    assert s["effect"]["ci95"] == s["log_effect"]["ci95"]
    sec = _section(page, MD)
    assert f"| Pooled mean difference (preop vs postop) | {ci(s['effect'])} |" in sec
    assert (f"| Mean difference expected in a new study (95% prediction interval) | "
            f"{ci(s['prediction'])} |") in sec
    assert f"| Between-study heterogeneity τ (in the units of the mean difference) | " \
           f"{ci(s['tau'])} |" in sec
    assert f"| MD {ci(s['effect'])} | not estimable from contrasts |" in page
    # the exact posterior of the same data and priors (a median of exp θ would be ~2900)
    data = get_family("contrast").model_data(outcome_table(table, specs[MD]))
    ex = exact_reference(data["y"], data["s"], specs[MD].priors)
    mc = Z * 2 * s["effect"]["sd"] / math.sqrt(400)  # MCSE of a median, ESS >= 400 (gate)
    assert s["effect"]["median"] == pytest.approx(ex.mu_quantile(0.5), abs=mc)
    assert 7.0 < s["effect"]["median"] < 9.0


def test_the_report_states_the_pooled_hazard_ratio_as_a_ratio(built, outcome, page, table,
                                                              specs):
    out = built[2]
    s = _summary(out, HR)
    assert s["ok"] and s["measure"] == "hazard_ratio" and s["scale"] == "log"
    assert s["effect"]["median"] == float(np.exp(s["log_effect"]["median"]))
    sec = _section(page, HR)
    assert f"| Pooled hazard ratio (preop vs postop) | {ci(s['effect'])} |" in sec
    assert "| Between-study heterogeneity τ (log scale) |" in sec
    assert f"| HR {ci(s['effect'])} | not estimable from contrasts |" in page
    data = get_family("contrast").model_data(outcome_table(table, specs[HR]))
    ex = exact_reference(data["y"], data["s"], specs[HR].priors)
    mc = Z * 2 * s["effect"]["sd"] / math.sqrt(400)
    assert s["effect"]["median"] == pytest.approx(math.exp(ex.mu_quantile(0.5)), abs=mc)
    assert s["effect"]["median"] < 1.0  # exp(-8 / 100)


def test_each_study_is_shown_on_its_measures_scale(page):
    """The forest plot's text: observed MDs as reported, observed HRs as ratios (School A:
    MD 28.39, HR 0.7528 printed, its log estimate exponentiated back)."""
    md, hr = _section(page, MD), _section(page, HR)
    assert "School A observed 28.39," in md
    assert "School A observed 0.75," in hr
    assert "Open squares: each study's observed mean difference (95% CI)." in md
    assert "Open squares: each study's observed hazard ratio (95% CI)." in hr


def test_the_report_names_the_measures(page):
    low = page.lower()
    assert "effect estimate" not in low
    assert "pooled mean difference" in low and "pooled hazard ratio" in low
    assert "MD = mean difference; HR = hazard ratio" in page
    assert "P(clinically meaningful benefit: MD ≥ 5)" in page
    assert "event counts rounded" not in page  # no counts behind a published contrast
    assert "not estimable from contrasts: published estimates give no control-arm" in page


def test_the_data_section_lists_each_contrast_and_its_standard_error(page):
    md = "| School A | mean\\_difference | 28.39 | — | 14.9 | — | — | 14.9 | reported se | 2 |"
    assert md in page
    hr = re.search(r"\| School A \| hr \| 0\.7528 \| 0\.5622 to 1\.0082 \(95%\) \| — \| — \| — "
                   r"\| (0\.\d+) \| confidence interval \| 10 \|", page)
    assert hr, "no row for School A's hazard ratio"
    se = (math.log(1.0082) - math.log(0.5622)) / (2 * 1.959963984540054)
    assert float(hr.group(1)) == pytest.approx(se, abs=5e-4)  # printed to 4 digits
    assert "(Altman &amp; Bland 2011, BMJ 343:d2090)" in page  # the SE rules


def test_the_summary_of_findings_has_no_invented_absolute_effect(outcome, page):
    for oid, abbrev in ((MD, "MD"), (HR, "HR")):
        row, s = outcome[oid].certainty, outcome[oid].summary
        assert row.measure == abbrev and row.absolute == () and row.absolute_note == NO_BASELINE
        assert row.relative is not None
        assert row.relative.median == s["effect"]["median"]
        assert list(row.relative.ci95) == s["effect"]["ci95"]
        assert (f"| {s['label']} | {abbrev} {row.relative.median:.2f} "
                f"({row.relative.ci95[0]:.2f} to {row.relative.ci95[1]:.2f}) | "
                f"{NO_BASELINE} | — | 8 (patients not reported) |") in page  # no secondary


def test_the_fit_text_words_the_mean_difference(outcome):
    s = outcome[MD].summary
    text = describe_fit(s)
    assert f"pooled mean difference (preop vs postop): {s['effect']['median']:.2f}" in text
    assert "baseline model" not in text  # no absolute effect for a new population


# -- sweep --------------------------------------------------------------------------------------

@pytest.mark.parametrize("oid, measure", [(MD, "mean_difference"), (HR, "hazard_ratio")])
def test_the_sweep_shows_the_effect_on_the_measures_scale(built, outcome, page, oid, measure):
    """The default row of the sweep is the fit (same draws), so its effect is the summary's
    exactly, on the measure's own scale; the report's sweep table prints it."""
    assert_default_sweep_row_is_the_fit(built[2] / oid / "sweep", outcome[oid].summary,
                                        _section(page, oid), measure)


@pytest.mark.parametrize("oid, scale, null, label", [
    (MD, "linear", 0.0, "pooled mean difference, median and 95% CrI"),
    (HR, "log", 1.0, "pooled hazard ratio, median and 95% CrI (log scale)")])
def test_the_sweep_figure_draws_no_effect_where_the_measure_has_it(built, specs, oid, scale,
                                                                   null, label):
    import matplotlib.pyplot as plt

    out = built[2]
    rows = pd.read_csv(out / oid / "sweep" / "sweep.csv", keep_default_na=False,
                       na_values=[""])
    spec = specs[oid]
    fig = sweep_figure(rows, spec, verdict(rows, spec.decision_probability))
    try:
        ax_e = fig.axes[1]
        assert ax_e.get_xscale() == scale and _null_lines(ax_e) == [null]
        assert ax_e.get_xlabel() == label
        lo, hi = ax_e.get_xlim()
        assert lo < min(rows["effect_lo"].min(), null) and hi > max(rows["effect_hi"].max(),
                                                                    null)
    finally:
        plt.close(fig)


# -- figures ------------------------------------------------------------------------------------

@pytest.mark.parametrize("oid, scale, null, xlabel", [
    (MD, "linear", 0.0, "Mean difference, preop vs postop"),
    (HR, "log", 1.0, "Hazard ratio, preop vs postop (log scale)")])
def test_the_forest_plot_draws_no_effect_where_the_measure_has_it(outcome, oid, scale, null,
                                                                  xlabel):
    import matplotlib.pyplot as plt

    s = outcome[oid].summary
    fig = forest_figure(s)
    try:
        (ax,) = fig.axes
        assert ax.get_xscale() == scale and _null_lines(ax) == [null]
        assert ax.get_xlabel() == xlabel
        # the observed study estimates, shown on the measure's scale (School A first)
        shown = measure_info("contrast", s["measure_code"]).shown
        obs = s["study_effects"][0]["observed"]
        first = ax.lines[0]
        np.testing.assert_allclose(first.get_xdata(), shown(np.asarray(obs["ci95"])))
        lo, hi = ax.get_xlim()
        assert lo < s["effect"]["ci95"][0] < s["effect"]["ci95"][1] < hi
    finally:
        plt.close(fig)


@pytest.mark.parametrize("oid, scale, null", [(MD, "linear", 0.0), (HR, "log", 1.0)])
def test_the_effect_plot_shades_benefit_beyond_no_effect(built, outcome, oid, scale, null):
    """One panel (no absolute effect), the benefit region on the right side of no effect,
    and an MD's clinical threshold (a gain of 5) drawn on the difference itself."""
    import matplotlib.pyplot as plt

    s = outcome[oid].summary
    shown = measure_info("contrast", s["measure_code"]).shown
    # the report's draws, from the fit it wrote: log_ratio is θ, effect is θ as shown
    fit = SimpleNamespace(spec=outcome[oid].spec, idata=_tree(built[2], oid))
    draws = derived_draws(fit)
    np.testing.assert_array_equal(draws["effect"], shown(draws["log_ratio"]))
    assert central_interval(draws["effect"])[1] == s["effect"]["median"]
    assert absolute_benefit(fit.spec, s, draws) == (None, None, "")
    fig = effect_figure(s, draws["effect"])
    try:
        (ax,) = fig.axes
        assert ax.get_xscale() == scale and _null_lines(ax) == [null]
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert f"preop better: P = {pct(s['prob_benefit'])}" in legend
        if oid == MD:
            (t,) = s["thresholds"]
            assert f"benefit ≥ 5: P = {pct(t['probability'])}" in legend
    finally:
        plt.close(fig)


def _tree(out: Path, oid: str):
    """The fit's DataTree as the report wrote it (``posterior.nc``)."""
    import xarray as xr

    return xr.open_datatree(out / oid / "posterior.nc").load()


def test_audit_of_contrast_rows_asks_for_no_arms_or_follow_up(built):
    """Contrast rows compare the arms themselves and an HR has no single horizon: the audit
    raises no "missing arm" or "no follow-up" finding for them."""
    report, _, _ = built
    checks = {(f.check, f.severity) for f in report.findings}
    assert ("arms", "error") not in checks
    assert not [f for f in report.findings if f.check == "follow_up" and f.severity == "warning"]


def test_certainty_text_says_why_a_contrast_outcome_has_no_absolute_effect(built):
    from srsbayes.certainty.formatting import format_text

    report, _, _ = built
    text = format_text(report.certainty)
    assert text.count(f"absolute: {NO_BASELINE}") == 2  # MD and HR
