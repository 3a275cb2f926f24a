"""The report's section registry and its vocabulary, without fitting anything.

A report with no outcome (the bundled study table, its audit findings left out) is
enough to build the document tree: these tests register a toy section from outside the
package and find it, escaped, in both writers' output, in the registered place and in
the contents line; they check that every write builds the tree once, and that measure
wording comes from the families' threshold measures.
"""

from __future__ import annotations

import html
import re

import pytest

from srsbayes.analysis.data import study_list
from srsbayes.analysis.results import Equivalence
from srsbayes.inference.fitting import FitSettings
from srsbayes.report import render
from srsbayes.report.document import H, P, S, Section
from srsbayes.report.model import Report
from srsbayes.report.sections import register_section, section_names, unregister_section
from srsbayes.report.sections.paper import equivalence_region
from srsbayes.report.wording import threshold_label

TOY_TITLE = "Toy <section> & *notes*"
TOY_TEXT = "x < y | [link](http://example.invalid) <script>alert(1)</script>"


@pytest.fixture
def empty_report(bundled_table, specs) -> Report:
    return Report(table=bundled_table, outcomes=[], findings=[], settings=FitSettings(seed=5),
                  specs=specs, studies=study_list(bundled_table), command="srsbayes report",
                  reproduce="python -m srsbayes report --seed 5", versions={"pymc": "6.4"},
                  created="2026-01-01 00:00 UTC", bundled=False, paper_compared=False)


def toy_section(report: Report) -> list:
    return [Section("sec-toy", [H(2, TOY_TITLE, "toy"),
                                P([S("studies: ", "b"), f"{len(report.studies)}; {TOY_TEXT}"])])]


@pytest.fixture
def toy():
    register_section("toy", toy_section, after="audit")
    yield
    unregister_section("toy")


def test_toy_section_in_html_and_markdown(empty_report, toy):
    names = section_names()
    assert names[names.index("audit") + 1] == "toy" and names[-1] == "methods"
    files = render.report_files(empty_report)
    page = files["index.html"].decode("utf-8")
    n = len(empty_report.studies)
    assert n > 0
    sec = re.search(r'<section id="sec-toy">(.*?)</section>', page, re.S)
    assert sec, "toy section missing from the HTML"
    assert f'<h2 id="toy">{html.escape(TOY_TITLE)}</h2>' in sec.group(1)
    assert (f"<strong>studies: </strong>{n}; x &lt; y | [link](http://example.invalid) "
            "&lt;script&gt;alert(1)&lt;/script&gt;") in sec.group(1)
    assert "<script" not in page and "http://example.invalid" not in re.sub(
        r"<section id=\"sec-toy\">.*?</section>", "", page, flags=re.S)
    # placed after the audit, before the methods, and linked from the contents line
    assert page.index('id="audit"') < page.index('id="toy"') < page.index('id="methods"')
    nav = re.search(r'<p class="nav">(.*?)</p>', page).group(1)
    assert f'<a href="#toy">{html.escape(TOY_TITLE)}</a>' in nav
    assert nav.index("#audit") < nav.index("#toy") < nav.index("#methods")

    md = files["index.md"].decode("utf-8")
    assert '<a id="toy"></a>\n\n## Toy &lt;section&gt; &amp; \\*notes\\*' in md
    assert (f"**studies:** {n}; x &lt; y \\| \\[link\\](http://example.invalid) "
            "&lt;script&gt;alert(1)&lt;/script&gt;") in md
    assert "[Toy &lt;section&gt; &amp; \\*notes\\*](#toy)" in md
    assert md.index("## Evidence audit") < md.index("## Toy") < md.index("## Methods")


def test_unregistered_section_is_gone(empty_report):
    register_section("toy", toy_section, before="methods")
    unregister_section("toy")
    page = render.render_html(empty_report)
    assert "sec-toy" not in page and "Toy &lt;section&gt;" not in page
    assert "toy" not in section_names()


def test_registry_rejects_duplicates_and_unknown_places():
    with pytest.raises(ValueError, match="already registered"):
        register_section("audit", toy_section)
    with pytest.raises(KeyError, match="no report section 'nowhere'"):
        register_section("toy", toy_section, after="nowhere")
    with pytest.raises(ValueError, match="not both"):
        register_section("toy", toy_section, after="audit", before="methods")
    assert "toy" not in section_names()


def test_document_is_built_once_per_write(empty_report):
    calls = []

    def counting(report: Report) -> list:
        calls.append(report)
        return []

    register_section("counter", counting)
    try:
        files = render.report_files(empty_report)
    finally:
        unregister_section("counter")
    assert len(calls) == 1
    assert list(files)[-2:] == ["index.md", "index.html"]  # index.html is written last


def test_threshold_wording_follows_the_measure():
    lower = {"benefit": "lower", "family": "binomial"}
    higher = {"benefit": "higher", "family": "lognormal_median"}
    assert threshold_label(lower, {"measure": "risk_difference", "threshold": 5}) == \
        "≥ 5 fewer per 100"
    assert threshold_label(lower, {"measure": "odds_ratio", "threshold": 0.8}) == "OR ≤ 0.8"
    assert threshold_label(higher, {"measure": "ratio", "threshold": 1.1}) == "ratio ≥ 1.1"
    assert threshold_label(higher, {"measure": "months", "threshold": 1}) == "≥ 1 month longer"
    assert threshold_label(higher, {"measure": "months", "threshold": 3}) == \
        "≥ 3 months longer"
    assert equivalence_region(Equivalence(0.5, "odds_ratio", 0.8)) == \
        "the odds ratio lies between 0.80 and 1.25"
    assert equivalence_region(Equivalence(0.5, "risk_difference", 5)) == \
        "the risks differ by less than 5 percentage points"


@pytest.mark.parametrize(("settings", "tuning"), [
    (FitSettings(), "twice the family's tuning steps (at least 1000)"),
    (FitSettings(tune=800), "1600 tuning steps"),
])
def test_methods_state_the_retry_the_gate_runs(settings, tuning):
    """The methods text is read from ``FitSettings.retry``, for both kinds of failure."""
    from srsbayes.inputs.question import bundled_question
    from srsbayes.report.sections.methods import _sampler_paragraph

    class Stub:  # _sampler_paragraph reads only the settings and the question's arm
        pass

    stub = Stub()
    stub.settings = settings
    stub.the_question = bundled_question()
    text = _sampler_paragraph(stub).content
    assert (f"rerun once with target acceptance {settings.retry().target_accept}, {tuning} "
            f"and, if R-hat or an ESS failed, {2 * settings.chains} chains of "
            f"{2 * settings.draws} draws;") in text
    assert settings.retry(more_draws=False).draws == settings.draws
    assert settings.retry(more_draws=False).chains == settings.chains
    assert settings.retry().draws == 2 * settings.draws
    assert settings.retry().chains == 2 * settings.chains
