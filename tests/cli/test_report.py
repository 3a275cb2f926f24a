"""The clinical report: content, numbers, escaping, self-containment and exit statuses.

Most checks read one small report of the bundled data (``conftest.shared_report``: 4 chains x 500
draws, a one-setting sweep) generated once per session. Numbers in the page are compared
with the ``summary.json`` written beside it, formatted the way the page formats them, so
these checks are exact rather than Monte Carlo comparisons. Unit tests of the wording,
comparisons and escaping use synthetic draws with exactly known answers.
"""

from __future__ import annotations

import functools
import html
import io
import json
import os
import re

import numpy as np
import pytest

from conftest import nothing_written, write_csv
from srsbayes.analysis.data import validate_inputs
from srsbayes.analysis.outcome import equivalence
from srsbayes.analysis.paper import compare_claims
from srsbayes.analysis.progress import Progress
from srsbayes.audit import Claim
from srsbayes.errors import InputError
from srsbayes.inference.fitting import FitSettings
from srsbayes.inputs.data import DEFAULT_DATA, read_table
from srsbayes.report.build import write_report
from srsbayes.report.markdown import md_escape
from srsbayes.report.sections.paper import claim_assessment
from srsbayes.report.text import pct
from srsbayes.report.wording import ci, directional

OUTCOMES = ("lc", "lmd", "rn", "dbf", "os")
LABELS = ("Local control", "Leptomeningeal disease", "Symptomatic radiation necrosis",
          "Distant brain failure", "Median overall survival")


def _section(page: str, outcome: str) -> str:
    m = re.search(rf'<section id="sec-{outcome}">(.*?)</section>', page, re.S)
    assert m, f"no section for {outcome}"
    return m.group(1)


def _lmd_csv(specs, transform=lambda line: line) -> str:
    """The bundled LMD rows only (one compiled structure: binomial, 4 studies)."""
    lines = DEFAULT_DATA.read_text(encoding="utf-8").splitlines()
    keep = [lines[0]] + [ln for ln in lines[1:] if ",lmd," in ln]
    return "\n".join(transform(ln) for ln in keep) + "\n"


# -- the shared report -----------------------------------------------------------------------


def test_outputs_written(report_dir, summaries):
    assert (report_dir / "exit_status").read_text() == "0"
    for o in OUTCOMES:
        assert (report_dir / o / "posterior.nc").stat().st_size > 0
        assert summaries[o]["ok"] is True
        assert (report_dir / o / "sweep" / "sweep.json").exists()
    umask = os.umask(0)
    os.umask(umask)
    assert (report_dir / "index.html").stat().st_mode & 0o777 == 0o666 & ~umask
    md = (report_dir / "index.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\((figures/[^)]+\.png)\)", md)
    assert len(links) >= 4 * len(OUTCOMES)  # forest, effect, ppc, sweep
    for link in links:
        assert (report_dir / link).read_bytes().startswith(b"\x89PNG")


def test_self_contained_no_script_no_url(page):
    lower = page.lower()
    assert "<script" not in lower
    assert "<link" not in lower and "@import" not in lower and "url(" not in lower
    assert "http://" not in lower and "https://" not in lower
    assert "<iframe" not in lower and "<object" not in lower and "<embed" not in lower
    # every src and href stays inside the page
    for attr, value in re.findall(r'\b(src|href)="([^"]*)"', page):
        assert value.startswith("data:image/png;base64," if attr == "src" else "#"), value
    anchors = set(re.findall(r'\bid="([^"]+)"', page))
    for target in re.findall(r'href="#([^"]+)"', page):
        assert target in anchors
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    imgs = re.findall(r"<img [^>]*>", page)
    assert len(imgs) >= 4 * len(OUTCOMES)
    assert all(re.search(r'alt="[^"]{20,}"', i) for i in imgs)


def test_summary_comes_first_then_sections(page):
    order = [page.index(x) for x in ('id="bottom-line"', 'id="summary"',
                                     *(f'id="{o}"' for o in OUTCOMES), 'id="audit"',
                                     'id="methods"')]
    assert order == sorted(order)
    # the bottom line and the summary table precede every figure
    assert page.index("<img") > page.index("</table>")


def test_summary_rows_show_the_fitted_numbers(page, summaries):
    table = re.search(r'<table class="summary">(.*?)</table>', page, re.S).group(1)
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]
    assert len(rows) == len(OUTCOMES)
    for row, o, label in zip(rows, OUTCOMES, LABELS, strict=True):
        s = summaries[o]
        assert label in row
        unit = "OR" if s["measure"] == "odds_ratio" else "Ratio"
        assert f"{unit} {ci(s['effect'])}" in row
        assert f"<strong>{html.escape(pct(s['prob_benefit']))}</strong>" in row
        for t in s["thresholds"]:
            assert html.escape(pct(t["probability"])) in row
        assert "PASS" in row
        robust = (r">(Yes: ≥ 95% under every (converged )?prior( \(\d+ borderline\))?"
                  r"|Inconclusive \(&lt; 95%\) under every (converged )?prior"
                  r"( \(\d+ borderline\))?|No: ≥ 95% or not, depending on the prior)<")
        assert re.search(robust, row), "robust across priors: what holds, or no"
    lmd = summaries["lmd"]
    rd = lmd["absolute_primary"]["risk_difference"]  # the primary (SoF) absolute effect
    assert directional(rd, "more", "fewer", label="", unit=" per 100 patients") in rows[1]
    nnt = lmd["nnt"]  # NNTB/NNTH wording (Altman 1998) when the summary carries it
    assert (f"{nnt['head']} ({nnt['interval_text']})" if "head" in nnt
            else f"NNT {nnt['median']:.0f}") in rows[1]
    assert "months" in rows[4]  # OS: months of median survival


def test_plain_language_bottom_line(page, summaries):
    box = re.search(r'<div class="box bottom">(.*?)</div>', page, re.S).group(1)
    s = summaries["lmd"]
    assert s["prob_benefit"] >= s["decision_probability"]
    assert (f"<strong>a {html.escape(pct(s['prob_benefit']))} probability</strong> that "
            "preoperative SRS lowers the risk of leptomeningeal disease") in box
    assert "inconclusive" in box  # LC, DBF and OS fall short of 95%
    assert "significan" not in box.lower()
    assert "statistically significant" not in page.lower()
    assert "Caution" in box and "cannot be identified" in box


def test_outcome_sections(page, summaries):
    for o in OUTCOMES:
        sec = _section(page, o)
        s = summaries[o]
        for heading in ("Forest plot", "Posterior of the effect", "Sensitivity to priors",
                        "Posterior-predictive check", "Diagnostics"):
            assert heading in sec
        assert sec.count("<img") == 4
        assert "PASS — the fit converged" in sec
        assert f"{s['diagnostics']['rhat_max']:.3f}" in sec
        assert ci(s["prediction"]) in sec and ci(s["tau"]) in sec
        assert "Robust to priors" in sec or "Not robust to priors" in sec


def test_audit_and_paper_comparison(page):
    audit = re.search(r'<section id="sec-audit">(.*?)</section>', page, re.S).group(1)
    for check in ("grim", "identification", "follow_up", "pooled_mean", "claim"):
        assert f"<code>{check}</code>" in audit
    assert "89% of 48: no whole count reproduces it" in audit
    # the 72% claim, with the posterior's relative risk reduction and P(RRR >= 72%)
    assert "a relative reduction of approximately 72%" in audit
    m = re.search(r"Posterior relative risk reduction (\d+)% \(95% CrI (-?\d+)% to (\d+)%\); "
                  r"probability that it is at least 72%: ([\d.<>]+%)", audit)
    assert m, "no posterior comparison for the 72% claim"
    med, lo, hi = (int(m.group(i)) for i in (1, 2, 3))
    assert lo < med < hi
    # 'significantly lower' and 'similar' claims are answered with probabilities
    assert "Symptomatic radiation necrosis is significantly lower" in audit
    assert "probability that the risks differ by less than 5 percentage points" in audit
    # the paper's pooled rows against the model's
    assert "12.5%" in audit and "3.5%" in audit


def test_methods_are_enough_to_reproduce(page, summaries, report_dir):
    methods = re.search(r'<section id="sec-methods">(.*)</section>', page, re.S).group(1)
    s = summaries["lmd"]
    assert s["data"]["sha256"] in methods
    assert "python -m srsbayes report --seed 20260226" in methods
    assert f"{s['versions']['pymc']}" in methods and f"{s['versions']['nutpie']}" in methods
    for o in OUTCOMES:
        for name, label in summaries[o]["prior_labels"].items():
            assert f"<code>{name}</code>" in methods and label in methods
    assert "Smith TC, Spiegelhalter DJ, Thomas A (1995)" in methods
    assert "nearest count to percent" in methods
    assert "standard errors of the log medians" in methods  # OS standard-error rules


def test_markdown_twin(report_dir, summaries):
    md = (report_dir / "index.md").read_text(encoding="utf-8")
    assert md.startswith("# Preoperative vs postoperative")
    for heading in ("## Bottom line", "## Summary", "## Evidence audit", "## Methods",
                    *(f"## {label}" for label in LABELS)):
        assert heading in md
    assert f"OR {ci(summaries['lmd']['effect'])}" in md
    assert "<script" not in md and "data:image" not in md


# -- escaping ----------------------------------------------------------------------------------


def test_data_text_is_escaped(tmp_path, specs):
    evil = "<script>alert(1)</script>"
    cov = "<img src=x onerror=alert(2)>"

    def edit(line: str) -> str:
        if line.startswith("study,"):
            return line + ",histology"
        return line.replace("Study A", evil).replace("Table 2", "Table 2 & <b>x</b>") + \
            f",{cov}"

    path = write_csv(tmp_path, _lmd_csv(specs, edit))
    table = read_table(path, specs)
    assert evil in set(table.frame["study"])
    out = tmp_path / "out"
    write_report(table, specs, out, settings=FitSettings(draws=500, seed=3), sweep=False)
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page.lower()
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "<img src=x" not in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>" not in page
    # the paper's pooled values and claims describe the bundled data only
    assert "Not compared: the source paper" in page
    assert "approximately 72%" not in page
    md = (out / "index.md").read_text(encoding="utf-8")
    assert "<script" not in md and "&lt;script&gt;" in md


def test_md_escape():
    assert md_escape("<a> | *b* _c_ [d](e)") == r"&lt;a&gt; \| \*b\* \_c\_ \[d\](e)"
    assert md_escape("line\nbreak\u2028x") == "line break x"


# -- not trustworthy and bad input ---------------------------------------------------------------


def test_failed_gate_is_not_a_result(tmp_path, specs, run_cli, monkeypatch):
    # 4 chains x 20 draws cannot reach bulk ESS 400, even after the retry. The command
    # builds its settings itself (cli/report.py), so that is where they are made light.
    import srsbayes.cli.report as report_cmd

    monkeypatch.setattr(report_cmd, "FitSettings",
                        functools.partial(FitSettings, draws=20, tune=20))
    data = write_csv(tmp_path, _lmd_csv(specs))
    out = tmp_path / "out"
    status, stdout, stderr = run_cli(["report", "--data", data, "--out", out, "--no-progress"])
    assert status == 3 and "index.html" in stdout
    assert "NOT TRUSTWORTHY" in stderr
    page = (out / "index.html").read_text(encoding="utf-8")
    s = json.loads((out / "lmd" / "summary.json").read_text())
    assert s["ok"] is False
    sec = _section(page, "lmd")
    assert "NOT TRUSTWORTHY" in sec and "<img" not in sec
    # no estimate, interval or probability anywhere in the section (the failed fit's
    # summary may not even carry them)
    assert not re.search(r"-?\d+\.\d\d \(-?\d+\.\d\d to -?\d+\.\d\d\)", sec)
    assert not re.search(r"\d%", sec)
    assert "effect" not in s or ci(s["effect"]) not in page
    assert "FAIL" in sec and "bulk ESS" in sec
    row = re.search(r'<table class="summary">.*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    assert "NOT TRUSTWORTHY" in row and "OR " not in row
    assert "NOT TRUSTWORTHY" in (out / "index.md").read_text(encoding="utf-8")


def test_bad_input_exits_2_and_writes_nothing(tmp_path, specs, run_cli):
    out = tmp_path / "out"
    with nothing_written(tmp_path):
        status, _, err = run_cli(["report", "--data", tmp_path / "missing.csv", "--out", out])
    assert status == 2 and "file not found" in err
    # a published p-value without an estimate (it cannot be pooled)
    data = write_csv(tmp_path, "study,outcome,arm,n,measure,estimate,p_value\n"
                               "S,lmd,,120,or,,0.043\n", "p_only.csv")
    with nothing_written(tmp_path):
        status, _, err = run_cli(["report", "--data", data, "--out", out])
    assert status == 2 and "a p-value without an estimate cannot be pooled" in err
    # the output path is a file
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    data = write_csv(tmp_path, _lmd_csv(specs), "lmd.csv")
    with nothing_written(tmp_path):
        status, _, err = run_cli(["report", "--data", data, "--out", blocker / "sub"])
    assert status == 2 and "not a folder" in err


def test_validate_inputs_rejects_bad_pooled_file(tmp_path, specs, bundled_table):
    bad = write_csv(tmp_path, "outcome,arm,n,value,measure\nlmd,preop,195,3.5,median_months\n",
                    "pooled.csv")
    with pytest.raises(InputError, match="measure"):
        validate_inputs(bundled_table, specs, tmp_path / "out", pooled_path=bad)


# -- wording and comparisons (exact, synthetic draws) ---------------------------------------------


def test_directional_wording():
    assert directional({"median": -8.4, "ci95": [-19.2, -2.7]}, "more", "fewer") == \
        "8.4 fewer (95% CrI 2.7 to 19.2 fewer)"
    assert directional({"median": 1.4, "ci95": [-5.2, 8.8]}, "more", "fewer") == \
        "1.4 more (95% CrI 5.2 fewer to 8.8 more)"
    assert directional({"median": 2.0, "ci95": [0.5, 3.0]}, "more", "fewer", label="") == \
        "2.0 more (0.5 to 3.0 more)"


def test_compare_claims_reduction_and_equivalence(specs):
    spec = specs["lmd"]
    # RR on the grid 0.105, 0.115, ..., 0.505: RRR >= 0.72 iff RR <= 0.28, which holds for
    # the 18 values 0.105 ... 0.275 (no value sits on the boundary); the median RR is 0.305.
    rr = np.linspace(0.105, 0.505, 41)
    rd = np.linspace(-12.0, 8.0, 41)  # steps of 0.5: |RD| < 5 for the 19 values -4.5 ... 4.5
    draws = {"relative_risk": rr, "risk_difference": rd, "log_ratio": np.log(rr)}
    summary = {"prob_benefit": 0.99, "effect": {"median": 0.3, "ci95": [0.1, 0.6]},
               "measure": "odds_ratio", "benefit": "lower", "family": "binomial",
               "event": "leptomeningeal disease", "label": "LMD", "decision_probability": 0.95}
    claims = [Claim(2, "lmd", "relative_reduction_72", "q72", "Results"),
              Claim(3, "lmd", "similar", "qs", "x"),
              Claim(4, "rn", "similar", "other outcome")]
    out = compare_claims(spec, summary["prob_benefit"], draws, claims)
    assert [c.kind for c in out] == ["reduction", "equivalence"]
    assert out[0].prob_at_least == pytest.approx(18 / 41)
    assert out[0].rrr.median == pytest.approx(1 - 0.305)
    # the analysis computes the numbers, the paper section words them
    assert "at least 72%: 44%" in claim_assessment(spec, summary, out[0])
    eq = equivalence(spec, draws)
    assert eq.probability == pytest.approx(19 / 41)
    assert "not evidence of similarity" in claim_assessment(spec, summary, out[1])


def test_progress_bar_lines():
    buf = io.StringIO()
    bar = Progress(2, stream=buf)
    with bar.step("fitting lmd"):
        bar.update("ignored off a terminal")
    with bar.step("writing"):
        pass
    bar.close()
    lines = buf.getvalue().splitlines()
    assert len(lines) == 3 and "0/2" in lines[0] and "fitting lmd" in lines[0]
    assert "2/2" in lines[2] and "\r" not in buf.getvalue()
    quiet = io.StringIO()
    bar = Progress(1, enabled=False, stream=quiet)
    with bar.step("x"):
        pass
    bar.close()
    assert quiet.getvalue() == ""


def test_report_opens_with_summary_of_findings(report_dir, summaries):
    """The certainty section follows the bottom line, before the first outcome; every
    outcome's summary.json carries the same SoF row as certainty.json."""
    md = (report_dir / "index.md").read_text()
    sof = md.index("Summary of findings and certainty of evidence")
    assert sof < md.index("Net clinical benefit") < md.index("## Leptomeningeal disease")
    cert = json.loads((report_dir / "certainty.json").read_text())
    assert set(cert["outcomes"]) == set(OUTCOMES)
    for o in OUTCOMES:
        assert summaries[o]["certainty"] == cert["outcomes"][o]
        assert cert["outcomes"][o]["certainty"]["level"] in ("high", "moderate", "low",
                                                             "very low")
