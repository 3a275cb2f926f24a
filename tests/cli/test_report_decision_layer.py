"""Issue 22, items 3-5, on the shared report of the bundled data: one absolute effect per
outcome that reads the same in every output, summaries that flip exactly with the sign, and
the words a clinician takes into the room (condition and certainty beside the probability,
badges by what holds, the sceptical prior defined, clean methods text, the brief first)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from srsbayes.draws import directional, pct
from srsbayes.report.sections.summary import CONDITION
from srsbayes.report.wording import short_absolute, tipping_text

OUTCOMES = ("lc", "lmd", "rn", "dbf", "os")


@pytest.fixture(scope="module")
def certainty(report_dir) -> dict:
    return json.loads((report_dir / "certainty.json").read_text(encoding="utf-8"))


def _text(page: str) -> str:
    """The page as text (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_primary_absolute_effect_is_the_same_in_every_output(page, summaries, certainty,
                                                            report_dir):
    """LMD: the bottom line, the brief, the summary and SoF tables, the imprecision reason,
    summary.json, certainty.json and results_table.md quote one effect with one interval."""
    s = summaries["lmd"]
    prim = s["absolute_primary"]
    rd = prim["risk_difference"]
    words = directional(rd["median"], *rd["ci95"], "more", "fewer", unit=" per 100 patients")
    text = _text(page)
    bottom = _text(re.search(r'<div class="box bottom">(.*?)</div>', page, re.S).group(1))
    assert short_absolute(s) in bottom and short_absolute(s) in text.split("Bottom line")[0]
    row = certainty["outcomes"]["lmd"]
    first = row["absolute"][0]  # certainty.json: the primary entry, the SoF table's numbers
    assert first["baseline"] == prim["baseline"] and first["unit"] == "per 100 patients"
    assert (first["difference"]["median"], first["difference"]["ci95"]) == (
        rd["median"], rd["ci95"])
    assert s["certainty"]["absolute"][0] == first  # summary.json carries the same row
    sof = re.search(r'<table class="sof">(.*?)</table>', page, re.S).group(1)
    assert html.escape(words, quote=False) in sof
    imp = next(d for d in row["certainty"]["domains"] if d["domain"] == "imprecision")
    assert imp["values"]["ci95"] == [-rd["ci95"][1], -rd["ci95"][0]]
    assert f"{-rd['ci95'][1]:.1f} to {-rd['ci95'][0]:.1f}" in imp["reason"]
    table = (report_dir / "results_table.md").read_text(encoding="utf-8")
    assert short_absolute(s) in table
    # the new-population effect is secondary, labelled, beside the primary one in the SoF
    new = s["absolute"]["risk_difference"]
    assert row["absolute_new_population"]["role"] == "secondary"
    assert directional(new["median"], *new["ci95"], "more", "fewer",
                       unit=" per 100 patients") in _text(sof)
    assert "secondary" in s["absolute_role"] and s["absolute_primary"]["role"].startswith(
        "primary")


def test_signed_summaries_flip_exactly(summaries):
    """Benefit = −(preop − postop) for an outcome where fewer events is benefit: its summary
    is the negated summary of the difference, not re-taken quantiles of the negated draws."""
    for o in ("lmd", "rn", "dbf", "lc"):
        s = summaries[o]
        for block in (s["absolute"], s["absolute_primary"]):
            rd, b = block["risk_difference"], block["benefit"]
            sign = 1 if s["benefit"] == "higher" else -1
            lo, hi = rd["ci95"]
            assert b["ci95"] == ([lo, hi] if sign > 0 else [-hi, -lo])
            assert b["median"] == sign * rd["median"]


def test_one_rounding_rule_for_probabilities(page, summaries, report_dir):
    text = _text(page)
    table = (report_dir / "results_table.md").read_text(encoding="utf-8")
    for o in OUTCOMES:
        p = pct(summaries[o]["prob_benefit"])
        assert p in text and f"| {p} |" in table


def test_bottom_line_states_the_condition_and_the_certainty(page, summaries, certainty):
    bottom = _text(re.search(r'<div class="box bottom">(.*?)</div>', page, re.S).group(1))
    s = summaries["lmd"]
    level = certainty["outcomes"]["lmd"]["certainty"]["level"]
    tip = tipping_text(s)
    assert tip  # LMD has a conclusion of benefit, and the fit its tipping points
    assert (f"a {pct(s['prob_benefit'])} probability that preoperative SRS lowers the risk of "
            f"leptomeningeal disease {CONDITION} ({short_absolute(s)}; certainty of evidence "
            f"{level}; tipping point: {tip})") in bottom
    # inconclusive outcomes carry their certainty too
    assert f"local control ({pct(summaries['lc']['prob_benefit'])}; certainty of evidence" \
        in bottom


def test_brief_opens_the_report(page, summaries):
    brief = page.index('id="brief"')
    assert brief < page.index('id="bottom-line"') < page.index('id="summary"')
    box = _text(re.search(r'<div class="box brief">(.*?)</div>', page, re.S).group(1))
    for words in ("Question.", "Evidence.", "What would change the answer.",
                  "Tipping point (shared bias)", "Certainty (GRADE)", CONDITION,
                  short_absolute(summaries["rn"])):
        assert words in box
    # no tipping points in summary.json yet: the slot says so instead of a number
    if "tipping_points" not in summaries["lmd"]:
        assert "not computed in this run" in box


def test_robustness_badges_say_what_holds(page, summaries):
    table = re.search(r'<table class="summary">(.*?)</table>', page, re.S).group(1)
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]
    for row, o in zip(rows, OUTCOMES, strict=True):
        s = summaries[o]
        if s["prob_benefit"] < s["decision_probability"]:
            # robustly inconclusive is neutral, never the green "pass" of a robust benefit
            assert 'class="badge pass">Yes' not in row
            assert re.search(r'class="badge (na|warn)">(Inconclusive|No)', row)


def test_sceptical_prior_is_defined_in_the_report(page):
    assert 'href="#methods-sceptical"' in page or "sceptical" not in page
    sec = page[page.index('id="methods-sceptical"'):]
    sec = _text(sec[:sec.index("</p>")])
    assert "sceptical N(0, 0.35): 95% of odds ratios within 0.5-2" in sec
    assert "Spiegelhalter" in sec


def test_methods_show_clean_text(page):
    methods = page[page.index('id="methods"'):]
    assert ":mod:`" not in methods and ":func:`" not in methods and "``" not in methods
    assert 'class="compact priors"' in page
    assert "table.priors code{white-space:nowrap;overflow-wrap:normal}" in page


def test_baseline_prior_sensitivity_is_shown(page, summaries):
    sens = summaries["lmd"]["baseline_sd_sensitivity"]
    assert [r["sd_prior"] for r in sens["rows"]] == ["halfnormal(0.25)", "halfnormal(1)"]
    narrow, wide = (r["risk_postop_new"]["ci95"] for r in sens["rows"])
    assert wide[1] - wide[0] > narrow[1] - narrow[0]  # the wider prior, the wider range
    text = _text(page)
    assert "HN(0.25)" in text and "HN(1) (default)" in text


def test_net_benefit_reports_correlation_and_unit(page, certainty):
    nb = certainty["net_benefit"]
    assert nb["unit"] == "weighted events avoided per 100 patients"
    rhos = [c["rho"] for c in nb["correlation"]["settings"]]
    assert rhos == [0.0, 0.3, 0.6, 0.9]
    assert nb["correlation"]["settings"][0]["p_net_positive"] == nb["p_net_positive"]
    assert nb["weights"].get("dbf") is None  # DBF may contain LMD: left out by default
    assert "ρ = 0.3" in _text(page) and "weighted events avoided per 100 patients" in _text(page)


def test_readme_numbers_match_a_fit_within_monte_carlo_error(summaries):
    """The README's LMD and RN rows against the shared report's fits (fewer draws, same
    seed): the OR median, the primary absolute effect and P(preop better) agree within
    4 Monte Carlo standard errors of the difference of two runs, each with at least the
    gate's ESS (MCSE of a median ≈ 1.25 sd / sqrt(ESS), of a probability
    sqrt(p (1 - p) / ESS))."""
    from srsbayes.inference.diagnostics import ESS_MIN

    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for o, label in (("lmd", "Leptomeningeal disease"), ("rn", "Symptomatic radiation necrosis")):
        row = next(ln for ln in text.splitlines() if ln.startswith(f"| {label} |"))
        cells = [c.strip() for c in row.strip("|").split("|")]
        s = summaries[o]
        ess = min(s["diagnostics"]["ess_bulk_min"], s["diagnostics"]["ess_tail_min"])
        k = 4 * (1 / ess + 1 / ESS_MIN) ** 0.5
        odds = float(re.match(r"OR (\d\.\d\d)", cells[1]).group(1))
        assert abs(odds - s["effect"]["median"]) <= k * 1.25 * s["effect"]["sd"] + 0.005
        fewer = float(re.match(r"(\d+\.\d) fewer per 100", cells[2]).group(1))
        rd = s["absolute_primary"]["risk_difference"]
        assert abs(-fewer - rd["median"]) <= k * 1.25 * rd["sd"] + 0.05
        p = s["prob_benefit"]
        shown = float(cells[3].rstrip("%")) / 100
        assert abs(shown - p) <= k * (max(p * (1 - p), 1e-4)) ** 0.5 + 0.005


def test_tipping_clause_reads_the_fits_tipping_points():
    """The fit writes ``tipping_points`` into summary.json; the brief, the bottom line and
    the README table say them through one function."""
    from srsbayes.report.wording import TIPPING_FIELD

    assert TIPPING_FIELD == "tipping_points"
    assert tipping_text({}) is None  # not computed
    assert tipping_text({"tipping_points": {"applies": False}}) == ""  # nothing to tip
    tp = {"applies": True, "scale": "log odds ratio", "mean": 0.548, "mean_ratio": 1.7297,
          "sd": 0.5144, "sd_beyond": False, "sd_at_mean": 0.0862, "sd_at_mean_ratio": 1.09}
    assert tipping_text({"tipping_points": tp}) == (
        "holds unless the cohorts' shared bias exceeds a ratio of odds ratios of 1.73 (or, "
        "around 1.09, has an SD above 0.51 on the log scale)")
    # a difference has no ratio of ratios: the shift on its own scale
    diff = {**tp, "scale": "mean difference", "mean": 2.5, "mean_ratio": None,
            "sd_beyond": True, "sd": 3.0}
    assert tipping_text({"tipping_points": diff}) == (
        "holds unless the cohorts' shared bias exceeds 2.50 on the mean difference (or, "
        "around 0.09, no SD up to 3.0 tips it)")


def test_negating_the_summary_is_not_re_taking_quantiles():
    """With an even number of draws the order statistics of −d are not −(those of d): the
    benefit's interval is derived from the difference's (DrawStats.of_signed)."""
    import numpy as np

    from srsbayes.inference.summaries import DrawStats

    d = np.random.default_rng(4).normal(-8, 4, 4000)  # preop − postop, per 100
    retaken = DrawStats.of(-d)
    flipped = DrawStats.of_signed(-d, -1)
    diff = DrawStats.of(d)
    assert flipped.ci95 == (-diff.ci95[1], -diff.ci95[0]) and flipped.median == -diff.median
    assert retaken.ci95 != flipped.ci95  # what summary.json had: [2.008, 17.847] vs RD's
    assert DrawStats.of_signed(d, 1) == DrawStats.of(d)


def test_tipping_clause_when_the_bias_sources_mean_already_tips_it():
    """A conclusion at the edge (the real record's RN): the mean of the bundled bias prior
    alone brings P(benefit) below the decision probability, so no SD is quoted."""
    from srsbayes.certainty.tipping import tipping_sentence

    tp = {"applies": True, "scale": "log risk ratio", "mean": 0.03, "mean_ratio": 1.03,
          "sd": 0.0, "sd_beyond": False, "sd_at_mean": 0.086, "sd_at_mean_ratio": 1.09,
          "decision_probability": 0.95}
    assert tipping_text({"tipping_points": tp}) == (
        "holds unless the cohorts' shared bias exceeds a ratio of risk ratios of 1.03, which the "
        "bias source's mean, 1.09, already does")
    assert "SD" not in tipping_sentence({"tipping_points": tp})


def test_absolute_column_never_shows_the_ratio():
    """An outcome of published ratios without a stated baseline has no absolute effect: the
    brief's and README's "absolute effect" column says so instead of repeating the ratio."""
    from srsbayes.report.wording import NO_ABSOLUTE, absolute_cell, short_absolute

    s = {"measure": "hr", "family": "contrast", "effect": {"median": 0.7, "ci95": [0.5, 0.9]},
         "absolute": {}, "absolute_at_baseline": []}
    assert absolute_cell(s) == NO_ABSOLUTE
    assert short_absolute(s) != NO_ABSOLUTE  # the bottom line still quotes the ratio
