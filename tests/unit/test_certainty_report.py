"""The report's certainty section: the SoF table and the net benefit, escaped in both
writers, in the place it is registered (built from constructed results, nothing fitted)."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest

from conftest import at_baseline_entry
from srsbayes.analysis.data import study_list
from srsbayes.certainty import Baseline, OutcomeEvidence, StudyInfo, assess
from srsbayes.certainty.weights import Criterion, NetBenefitSettings
from srsbayes.inference.fitting import FitSettings
from srsbayes.report import render
from srsbayes.report.document import Document, Fig, walk
from srsbayes.report.model import Report
from srsbayes.report.sections import section_names
from srsbayes.report.sections.certainty import certainty_blocks, certainty_section

LABEL = "LMD <i>x</i> & *y* | z"


def _evidence(spec, ok=True):
    summary = {"absolute": {"benefit": {"median": 9.0, "ci95": [2.0, 12.0]},
                            "benefit_new": {"median": 9.0, "ci95": [1.0, 14.0]},
                            "risk_difference": {"median": -9.0}},
               "tau": {"median": 0.1, "ci95": [0.01, 0.4]},
               "effect": {"median": 0.5, "ci95": [0.3, 0.9]}}
    studies = tuple(StudyInfo(f"S{i}", 100, "retrospective", "", 0.0, 0.3) for i in range(4))
    summary["absolute_at_baseline"] = [at_baseline_entry(spec, np.full(1000, np.log(0.5)),
                                                         0.125)]
    return OutcomeEvidence(spec, ok, summary if ok else {}, studies, Baseline(0.125, "pooled"),
                           np.full(1000, np.log(0.5)) if ok else np.empty(0),
                           np.full(1000, 8.0) if ok else np.empty(0))


@pytest.fixture
def result(specs):
    lmd = replace(specs["lmd"], label=LABEL)
    settings = NetBenefitSettings((Criterion("lmd", 5),), {"lmd": 1.0}, {}, (0.5, 1.0, 2.0),
                                  0.95)
    return assess([_evidence(lmd), _evidence(specs["rn"], ok=False)], [], settings)


def test_sof_table_escaped_in_both_writers(result):
    doc = Document("t", certainty_blocks(result))
    page = render.render_html(doc)
    assert "<i>x</i>" not in page and "LMD &lt;i&gt;x&lt;/i&gt; &amp; *y* | z" in page
    assert "Summary of findings and certainty of evidence" in page
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)
    assert len(rows) == 3  # header, lmd, rn
    assert "very low" in rows[1] and ("5.8 fewer per 100 patients (95% CrI 5.8 to 5.8 fewer): "
                                       "postop 12.5 vs preop 6.7") in rows[1]
    assert "not assessable: the fit did not converge" in rows[2]
    assert "P(lmd benefit ≥ 5): &gt;99.9%" in page and "independent" in page
    # risk of bias not assessed: shown, not rated down again for observational evidence
    assert "risk of bias: not assessed: no risk-of-bias judgement" in page
    assert "rated down 1 for risk of bias" not in page
    md = render.render_markdown(doc)
    assert "LMD &lt;i&gt;x&lt;/i&gt; &amp; \\*y\\* \\| z" in md


def test_section_follows_the_bottom_line(result, bundled_table, specs):
    report = Report(table=bundled_table, outcomes=[], findings=[],
                    settings=FitSettings(seed=5), specs=specs,
                    studies=study_list(bundled_table), command="srsbayes report",
                    reproduce="python -m srsbayes report --seed 5", versions={},
                    created="2026-01-01 00:00 UTC", bundled=False, paper_compared=False)
    assert certainty_section(report) == []  # a report without certainty results
    report.certainty = result
    names = section_names()  # registered by the package, right after the bottom line
    assert names[names.index("bottom-line") + 1] == "certainty"
    page = render.render_html(report)
    assert page.index('id="bottom-line"') < page.index('id="certainty"') \
        < page.index('id="sec-summary"')
    nav = re.search(r'<p class="nav">(.*?)</p>', page).group(1)
    assert '<a href="#certainty">' in nav


def test_funnel_plot_appears_only_when_publication_bias_is_assessable(result, specs):
    page = render.render_html(Document("t", certainty_blocks(result)))
    assert "funnel plot" not in page.lower()  # 4 studies: not assessable
    se = np.linspace(0.1, 1.0, 12)
    studies = tuple(StudyInfo(f"S{i}", 100, "retrospective", "", 0.3 * s, s)
                    for i, s in enumerate(se))
    ev = replace(_evidence(specs["lmd"]), studies=studies)
    settings = NetBenefitSettings((Criterion("lmd", 5),), {"lmd": 1.0}, {}, (0.5, 1.0),
                                  0.95)
    many = assess([ev], [], settings)
    figs = [b for b in walk(certainty_blocks(many)) if isinstance(b, Fig)]
    assert [f.key for f in figs] == ["lmd_funnel"]
    assert figs[0].data[:4] == b"\x89PNG" and "Egger's test" in str(figs[0].caption)
    assert "(12 studies)" in figs[0].alt
