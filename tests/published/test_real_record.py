"""The bundled real-record dataset (issue 23.7): Neurosurgery 2016;79:279 (PMID 26528673).

Every number of ``bundled/data/real_record.csv`` must be in its row's verbatim ``source``
(the PubMed abstract, as quoted in ``bundled/data/README.md``); the dataset ships in the
package, so nothing here reads ../shared. A one-study outcome is analysed as one study and
says plainly that it is not a meta-analysis.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from srsbayes.analysis.data import validate_inputs
from srsbayes.audit import run_audit
from srsbayes.inference.exact import exact_reference
from srsbayes.inference.fitting import FitSettings, fit_outcome
from srsbayes.inputs.data import read_table
from srsbayes.inputs.specs import load_specs
from srsbayes.report.text import describe_fit
from srsbayes.resources import BUNDLED_DATA, DATASETS, dataset

DATA, MODELS = DATASETS["real"]


def test_real_is_the_bundled_file_with_its_specs(tmp_path):
    assert DATA == BUNDLED_DATA / "real_record.csv" and DATA.is_file()
    assert dataset("real", None) == (DATA, MODELS)
    assert dataset("real", tmp_path) == (DATA, tmp_path)  # --models wins
    assert dataset(None, None) == (None, None)


def test_every_number_is_quoted_in_its_source():
    with DATA.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["outcome"] for r in rows] == ["lmd", "rn"]
    for r in rows:
        src = r["source"]
        assert src.startswith("PubMed 26528673 abstract")
        assert f"{r['preop_n']} (36.7%) underwent Pre-SRS" in src
        assert f"{r['postop_n']} (63.3%) underwent Post-SRS" in src
        # "2 years: <postop>% vs <preop>%, P = .010"
        assert (f"(2 years: {r['postop_percent']}% vs {r['preop_percent']}%, P = "
                f"{r['p_value'].lstrip('0')}" in src)
        assert r["time_months"] == "24" and "2 years" in src
        assert r["design"] == "retrospective" and "We reviewed the records" in src
    readme = (BUNDLED_DATA / "README.md").read_text(encoding="utf-8")
    assert "2 years: 16.6% vs 3.2%, P = .010" in readme
    assert "16.4% vs 4.9%, P = .010" in readme


@pytest.fixture(scope="module")
def real():
    specs = load_specs(MODELS)
    return read_table(DATA, specs), specs


def test_rows_are_read_as_form_4a(real):
    table, _ = real
    f = table.frame.set_index("outcome")
    # log(3.2/16.6) and log(4.9/16.4); SE = |log RR| / 2.5758293 (p = .010)
    np.testing.assert_allclose(f["contrast_y"], [-1.6462519, -1.2080461], atol=1e-6)
    np.testing.assert_allclose(f["contrast_se"], [0.6391153, 0.4689931], atol=1e-6)
    assert (f["contrast_rule"] == "arm rates and p-value").all()
    assert f["contrast_approximate"].all()
    assert (f["n"] == 180).all()


def test_audit_says_one_study_and_flags_the_approximation(real):
    table, specs = real
    found = run_audit(table, specs)
    checks = {(x.check, x.outcome, x.severity) for x in found}
    assert ("poolable", "lmd", "warning") in checks and ("poolable", "rn", "warning") in checks
    assert ("contrast_se_approximation", "lmd", "info") in checks
    assert not {x.check for x in found} & {"pooled_mean", "pooled_n", "claim", "references",
                                           "reporting", "events", "homogeneity"}
    (one,) = [x for x in found if x.check == "poolable" and x.outcome == "lmd"]
    assert "analysed as one study, not a meta-analysis" in one.detail


def test_one_study_fit_matches_its_exact_posterior_and_says_what_it_is(real):
    table, specs = real
    res = fit_outcome(table, specs["lmd"], settings=FitSettings(seed=23))
    assert res.ok
    s = res.summary
    assert s["n_studies"] == 1 and "loo" not in s["ppc"] and "errors" not in s["ppc"]  # no LOO
    text = describe_fit(s)
    assert "1 study: NOT a meta-analysis" in text and "estimated risk ratio" in text
    # one study is still a normal-normal model: its exact posterior by quadrature
    ex = exact_reference(np.array([-1.6462519]), np.array([0.6391153]), specs["lmd"].priors)
    # Monte Carlo SE of the mean from the minimum bulk ESS (a conservative bound); within
    # 4 MCSE, as the gate's own exact check
    mcse = s["log_effect"]["sd"] / np.sqrt(s["diagnostics"]["ess_bulk_min"])
    assert abs(s["log_effect"]["mean"] - ex.mu_mean_total()) < 4 * mcse
    # the one study's log RR is shrunk toward 0 by the normal(0, 1.5) effect prior
    assert -1.6462519 < ex.mu_mean_total() < 0


def test_report_inputs_accept_one_study_outcomes(real, tmp_path):
    table, specs = real
    inputs = validate_inputs(table, specs, tmp_path / "out")
    assert [o.id for o in inputs.outcomes] == ["lmd", "rn"]
    assert not inputs.compared and inputs.pooled == [] and inputs.claims == []


def test_cli_audit_of_real_data(run_cli):
    status, out, err = run_cli(["audit", "--data", "real", "--json"])
    assert status == 0, err
    assert {f["check"] for f in json.loads(out)} >= {"poolable", "contrast_se_approximation"}


def test_report_of_real_data_renders_and_says_what_it_is(real, tmp_path):
    from srsbayes.report.build import write_report

    table, specs = real
    out = tmp_path / "out"
    write_report(table, specs, out, settings=FitSettings(draws=500, seed=3), sweep=False)
    md = (out / "index.md").read_text(encoding="utf-8")
    html = (out / "index.html").read_text(encoding="utf-8")
    bottom = md[md.index("## Bottom line"):md.index("## Summary of findings")]
    assert "Across 1 study (180 patients)" in bottom
    assert bottom.count("one study, not a meta-analysis") == 2  # LMD and RN
    assert md.count("**One study.** One study reports this outcome, so this is not a "
                    "meta-analysis") == 2
    assert "Estimated risk ratio (preop vs postop; one study, not pooled)" in md
    assert "log RR of the arms' rates at 24 months, 3.2% (n = 66) vs 16.6% (n = 114)" in md
    # no finding about the bundled paper, no paper section comparing with it
    assert "pooled_n" not in md and "reported_claims" not in md
    assert "not a meta-analysis" in html


def test_certainty_gives_absolute_effects_at_a_stated_risk(tmp_path, run_cli):
    # issue 23.5: --baseline-risk is no longer ignored for a published ratio
    status, out, err = run_cli(["certainty", "--data", "real", "--baseline-risk", "lmd=0.12",
                                "--json", "--out", tmp_path])
    assert status == 0, err
    rows = json.loads(out)["outcomes"]
    (a,) = rows["lmd"]["absolute"]
    assert a["baseline"] == 0.12 and a["control"] == 120
    assert a["baseline_label"] == ("stated baseline risk 12% (preop risk RR·p0: the risk ratio "
                                   "taken as constant across baseline risks, capped at 100%)")
    # the preop risk per 1,000 is 1,000 x RR x 0.12 at the RR's median (a monotone map of
    # the same draws; equal up to the interpolation between two draws)
    rr = rows["lmd"]["relative"]["median"]
    assert a["intervention"]["median"] == pytest.approx(120 * rr, abs=0.05)
    assert rows["lmd"]["absolute_note"] == ""
    assert rows["rn"]["absolute"] == [] and "not estimable" in rows["rn"]["absolute_note"]
    assert rows["lmd"]["pooled_note"].startswith("one study, not a meta-analysis")
