"""``sweep`` and ``report`` on mixed evidence (issue 13, item 5): one binary outcome with arm
rows for some studies and a contrast row for another.

Two inputs, each fitted with one sweep setting (as in
``tests/integration/test_contrast_report.py``):

- ``tests/data/mixed_lmd.csv``: the bundled LMD data with Study A as the Wald odds ratio and
  SE of its own counts (``tests/integration/test_mixed.py`` checks the numbers);
- the same CSV with Study A's row relabelled ``hr`` and the bundled ``lmd.toml`` plus
  ``approximate_measures = ["hr"]``, so that the row is pooled as an approximation.

The report's numbers are compared with the ``summary.json`` beside it (exact: the page
formats what the summary holds); the sweep's default row is the fit (same draws), so its
effect equals the summary's exactly.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

from conftest import assert_default_sweep_row_is_the_fit
from srsbayes.analysis.data import validate_inputs
from srsbayes.inference.fitting import FitSettings
from srsbayes.inputs.data import read_table
from srsbayes.inputs.specs import load_specs
from srsbayes.plots.figures import forest_figure
from srsbayes.priors.distributions import parse_prior
from srsbayes.report import render
from srsbayes.report.build import build_report
from srsbayes.report.sections.outcome import outcome_section, ppc_text
from srsbayes.report.wording import ci
from srsbayes.resources import default_models_dir
from srsbayes.sensitivity.sweep import Setting

DATA = Path(__file__).parents[1] / "data"
MIXED = DATA / "mixed_lmd.csv"
SETTINGS = FitSettings(draws=1000, seed=2011)
GRID = [Setting("vague effect N(0, 100)", {"effect": parse_prior("normal(0, 100)")})]
SWEEP_OPTIONS = {"data_level": False, "psense": False}  # one prior row: cheap
STUDIES = ["Study A", "Study B", "Study C", "Study D"]
APPROX = ("Study A's hazard ratio is pooled as an odds ratio (the spec's "
          "`approximate_measures` accepts it as an approximation for a rare event).")


def _hr_inputs(tmp: Path) -> tuple[Path, Path]:
    """The bundled specs with ``approximate_measures = ["hr"]`` in ``lmd.toml``, and
    ``mixed_lmd.csv`` with Study A's measure relabelled ``hr``."""
    models = tmp / "models"
    models.mkdir()
    for p in default_models_dir().glob("*.toml"):
        text = p.read_text(encoding="utf-8")
        if p.stem == "lmd":
            text = 'approximate_measures = ["hr"]\n' + text
        (models / p.name).write_text(text, encoding="utf-8")
    lines = MIXED.read_text(encoding="utf-8").splitlines()
    (a,) = [i for i, x in enumerate(lines) if x.startswith("Study A,lmd,,")]
    # Not a real hazard ratio: the same number as mixed_lmd.csv's odds ratio
    # (0.19545454545454544, SE 1.116236124966739), relabelled to exercise the
    # approximation path.
    lines[a] = lines[a].replace(",or,0.19545454545454544,", ",hr,0.19545454545454544,")
    assert ",hr,0.19545454545454544,1.116236124966739," in lines[a]
    csv = tmp / "mixed_hr.csv"
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return models, csv


def _build(csv: Path, models: Path | None, out: Path):
    specs = load_specs(models) if models is not None else load_specs()
    inputs = validate_inputs(read_table(csv, specs), specs, out)
    assert [s.id for s in inputs.outcomes] == ["lmd"]
    report = build_report(inputs, settings=SETTINGS, out=out, grid=GRID,
                          sweep_options=SWEEP_OPTIONS)
    return report, render.report_files(report), out


@pytest.fixture(scope="module", params=["or", "hr"])
def built(request, tmp_path_factory):
    """The report of the mixed CSV (``or``) and of its HR-relabelled variant (``hr``)."""
    tmp = tmp_path_factory.mktemp(f"mixed-report-{request.param}")
    if request.param == "or":
        return request.param, *_build(MIXED, None, tmp / "out")
    models, csv = _hr_inputs(tmp)
    return request.param, *_build(csv, models, tmp / "out")


def _summary(out: Path) -> dict[str, Any]:
    return json.loads((out / "lmd" / "summary.json").read_text(encoding="utf-8"))


def _section(page: str) -> str:
    m = re.search(r'<a id="lmd"></a>(.*?)<a id="lmd-diagnostics">', page, re.S)
    assert m, "no section for lmd"
    return m.group(1)


def test_the_fit_is_one_converged_model_of_four_studies(built):
    measure, report, _, out = built
    s = _summary(out)
    assert s["ok"] and s["studies"] == STUDIES
    (o,) = report.outcomes
    assert o.summary["effect"] == s["effect"]  # the page's summary is the file's
    assert [r["study"] for r in s["count_rules"]] == [x for x in STUDIES[1:] for _ in "ab"]
    (rule,) = s["se_rules"]
    assert (rule["study"], rule["measure"], rule["se"]) == ("Study A", measure,
                                                            1.116236124966739)
    assert rule["estimate"] == pytest.approx(0.19545454545454544, rel=1e-15)
    # row: the CSV line (the header is line 1)
    expected = [] if measure == "or" else [{"study": "Study A", "row": 2, "measure": "hr",
                                            "pooled_as": "or"}]
    assert s["approximations"] == expected


def test_the_report_states_the_pooled_odds_ratio_of_the_summary(built):
    _, _, files, out = built
    s = _summary(out)
    sec = _section(files["index.md"].decode("utf-8"))
    assert f"| Pooled odds ratio (preop vs postop) | {ci(s['effect'])} |" in sec
    assert f"| Between-study heterogeneity τ (log scale) | {ci(s['tau'])} |" in sec
    # arm studies give a control-arm risk, so the mixed outcome keeps its absolute effect
    assert "not estimable from contrasts" not in sec
    assert 0 < s["effect"]["median"] < 1  # every study favours preop SRS


def test_the_report_says_which_studies_are_counts_and_which_estimates(built):
    measure, _, files, _ = built
    sec = _section(files["index.md"].decode("utf-8"))
    word = {"or": "an odds ratio", "hr": "a hazard ratio"}[measure]
    assert ("Mixed evidence: Study B, Study C and Study D entered as arm counts (events of n "
            f"per arm), Study A as a published estimate ({word} with its standard error); "
            "one model pools both.") in sec


def test_the_report_names_the_approximation_only_when_there_is_one(built):
    measure, _, files, _ = built
    sec = _section(files["index.md"].decode("utf-8"))
    assert (APPROX in sec) is (measure == "hr")
    assert ("**Approximation.**" in sec) is (measure == "hr")
    html = files["index.html"].decode("utf-8")  # escaped text in a note box, no raw markup
    assert ("Study A&#x27;s hazard ratio is pooled as an odds ratio (the spec&#x27;s "
            "<code>approximate_measures</code> accepts it" in html) is (measure == "hr")


def test_bottom_line_and_sof_row_say_what_was_pooled(built):
    """Issue 23.6: a hazard ratio pooled under an OR spec is named where the result is
    stated (bottom line, summary-of-findings row), not only in the outcome's section."""
    measure, report, files, _ = built
    md = files["index.md"].decode("utf-8")
    bottom = md[md.index("## Bottom line"):md.index("## Summary of findings")]
    sof = md[md.index("## Summary of findings"):md.index('<a id="summary">')]
    note = "1 of 4 studies' hazard ratio pooled as odds ratios (an approximation the spec allows)"
    assert (note in bottom) is (measure == "hr")
    assert (note in sof) is (measure == "hr")
    (row,) = report.certainty.rows
    assert row.pooled_note == (note if measure == "hr" else "")


def test_the_forest_figure_has_four_studies(built):
    import matplotlib.pyplot as plt

    out = built[3]
    s = _summary(out)
    assert [r["study"] for r in s["study_effects"]] == STUDIES
    fig = forest_figure(s)
    try:
        (ax,) = fig.axes
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert len(labels) == 4 + 2 and labels[-2:] == ["Pooled", "New study"]
        assert [lab.split(" (")[0] for lab in labels[:4]] == STUDIES
    finally:
        plt.close(fig)
    # Study A's observed log OR is its contrast row's: exp back to the CSV's number
    a = s["study_effects"][0]["observed"]
    assert math.exp(a["estimate"]) == pytest.approx(0.19545454545454544, rel=1e-12)


def test_ppc_values_a_study_does_not_have_are_skipped(built):
    """A summary.json read from disk has ``null`` for a study with no value for a name
    (Study A has no event counts, the arm studies no estimate); the section is built."""
    _, report, files, out = built
    s = _summary(out)
    pv = s["ppc"]["pvalues"]
    assert pv["estimate"][0] is not None and pv["estimate"][1:] == [None] * 3
    assert pv["events_preop"][0] is None and None not in pv["events_preop"][1:]
    (text, *_) = ppc_text(s)
    assert "nan" not in str(text.content).lower() and "none" not in str(text.content).lower()
    flagged = [f"{st} ({name.replace('_', ' ')}: {p:.2f})" for name, ps in pv.items()
               for st, p in zip(STUDIES, ps, strict=True)
               if p is not None and (p < 0.05 or p > 0.95)]
    for f in flagged:
        assert f in text.content
    (o,) = report.outcomes
    assert outcome_section(o).id == "sec-lmd"
    assert "Posterior-predictive" in _section(files["index.md"].decode("utf-8"))


def test_the_sweeps_default_row_is_the_fit(built):
    _, _, files, out = built
    sw = assert_default_sweep_row_is_the_fit(out / "lmd" / "sweep", _summary(out),
                                             _section(files["index.md"].decode("utf-8")),
                                             "odds_ratio")
    assert len(sw["rows"]) == 2
