"""The evidence audit: GRIM by hand, the paper's pooled rows, follow-up, claims, CLI."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

from srsbayes.audit import (
    CHECKS,
    Finding,
    format_json,
    format_text,
    grim,
    grim_pass_rate,
    parse_references,
    read_pooled,
    run_audit,
)
from srsbayes.errors import InputError
from srsbayes.inputs.data import DEFAULT_POOLED, StudyTable, read_table

POOLED_HEADER = "outcome,arm,n,follow_up_months,value,measure,source\n"

# Hand-checked: the nearest whole count of each failing percentage misses it by > 0.5.
BUNDLED_GRIM_FAILURES = {
    ("Study A", "lc", "postop"),   # 89% of 48: 42 -> 87.50, 43 -> 89.58
    ("Study B", "lc", "preop"),    # 94% of 60: 56 -> 93.33, 57 -> 95.00
    ("Study B", "lc", "postop"),   # 90% of 65: 58 -> 89.23, 59 -> 90.77
    ("Study C", "lc", "preop"),    # 88% of 38: 33 -> 86.84, 34 -> 89.47
    ("Study D", "lc", "preop"),    # 93% of 52: 48 -> 92.31, 49 -> 94.23
    ("Study D", "lc", "postop"),   # 92% of 55: 50 -> 90.91, 51 -> 92.73
    ("Study A", "lmd", "postop"),  # 11% of 48: 5 -> 10.42, 6 -> 12.50
    ("Study B", "lmd", "postop"),  # 13% of 65: 8 -> 12.31, 9 -> 13.85
    ("Study C", "lmd", "postop"),  # 14% of 40: 5 -> 12.50, 6 -> 15.00
    ("Study D", "lmd", "postop"),  # 12% of 55: 6 -> 10.91, 7 -> 12.73
    ("Study A", "rn", "postop"),   # 11% of 48
    ("Study B", "rn", "postop"),   # 13% of 65
    ("Study D", "rn", "postop"),   # 12% of 55
    ("Study B", "dbf", "postop"),  # 24% of 65: 15 -> 23.08, 16 -> 24.62
    ("Study C", "dbf", "preop"),   # 25% of 38: 9 -> 23.68, 10 -> 26.32
    ("Study D", "dbf", "postop"),  # 23% of 55: 12 -> 21.82, 13 -> 23.64
}


@pytest.fixture(scope="module")
def findings(bundled_table, specs) -> list[Finding]:
    return run_audit(bundled_table, specs)


def pick(found: list[Finding], check: str, **where) -> list[Finding]:
    return [f for f in found if f.check == check
            and all(getattr(f, k) == v for k, v in where.items())]


def one(found: list[Finding], check: str, **where) -> Finding:
    hits = pick(found, check, **where)
    assert len(hits) == 1, (check, where, hits)
    return hits[0]


# --- GRIM ------------------------------------------------------------------------------


def test_grim_by_hand():
    g = grim("91", 45)  # 41/45 = 91.11 -> 91
    assert (g.k, g.consistent, g.decimals) == (41, True, 0)
    assert g.k_percent == Fraction(4100, 45)
    g = grim("89", 48)  # 43/48 = 89.58 -> 90, 42/48 = 87.5 -> 88 (or 87)
    assert (g.k, g.consistent) == (43, False)
    assert float(g.error) == pytest.approx(0.5833, abs=1e-4)
    g = grim("2", 45)  # LMD Study A preop: 1/45 = 2.22 -> 2
    assert (g.k, g.consistent) == (1, True)
    g = grim("14", 40)  # 6/40 = 15.0, 5/40 = 12.5: neither rounds to 14
    assert (g.k, g.consistent, g.error) == (6, False, 1)


def test_grim_half_boundary_accepted_both_ways():
    # 35/40 = 87.5 exactly: 88 under half-up, 87 under half-down/half-even; both accepted
    assert grim("87", 40).consistent and grim("88", 40).consistent
    assert grim("12", 40).consistent and grim("13", 40).consistent  # 5/40 = 12.5
    assert not grim("86", 40).consistent


def test_grim_precision_as_written():
    assert grim("3.5", 45).decimals == 1
    assert not grim("3.5", 45).consistent     # 2/45 = 4.44, 1/45 = 2.22
    assert grim("3.50", 200).decimals == 2 and grim("3.50", 200).consistent  # 7/200
    assert not grim("3.51", 200).consistent
    assert grim(91.0, 45).decimals == 0       # a float carries no trailing zeros
    assert grim("91", 45, decimals=1).consistent is False  # 91.11 is not 91.0 ± 0.05
    assert not grim("50", 1000).testable and grim("50", 1000).consistent


def test_grim_pass_rate():
    assert grim_pass_rate(45) == pytest.approx(46 / 101)  # 45 steps of 2.22: all distinct
    # 40 steps of 2.5: 21 multiples of 5, each odd k hits two integers (2.5 -> 2 and 3)
    assert grim_pass_rate(40) == pytest.approx(61 / 101)
    assert grim_pass_rate(500) == 1.0


def test_bundled_grim_failures(findings, bundled_table):
    rows = [f for f in pick(findings, "grim") if f.study is not None]
    assert len(rows) == 32
    failed = {(f.study, f.outcome, f.arm) for f in rows if f.severity == "warning"}
    assert failed == BUNDLED_GRIM_FAILURES
    # the loader's nearest count is the GRIM nearest k
    events = {(r.study, r.outcome, r.arm): int(r.events)
              for r in bundled_table.frame.itertuples() if r.outcome != "os"}
    assert all(f.values["k"] == events[(f.study, f.outcome, f.arm)] for f in rows)
    f = one(findings, "grim", study="Study A", outcome="lc", arm="postop")
    assert (f.row, f.values["k_below"], f.values["k_above"]) == (3, 42, 43)
    assert "87.50%" in f.detail and "89.58%" in f.detail
    ok = one(findings, "grim", study="Study C", outcome="lc", arm="postop")  # 87% of 40
    assert ok.severity == "info" and "exactly halfway" in ok.detail
    summary = one(findings, "grim", study=None)
    assert summary.values["n_inconsistent"] == 16 and summary.values["n_tested"] == 32


def test_grim_reads_decimals_from_the_file(tmp_path, write_csv, specs):
    # "4.0" has one decimal in the file though the frame holds the float 4.0
    path = write_csv(tmp_path, "study,outcome,arm,n,percent\n"
                               "S1,lmd,preop,45,4.0\nS1,lmd,postop,48,12.5\n"
                               "S2,lmd,preop,50,4\nS2,lmd,postop,50,12\n")
    found = run_audit(read_table(path, specs), specs, compare_paper=False)
    assert one(found, "grim", study="S1", arm="preop").severity == "warning"  # 2/45 = 4.44
    assert one(found, "grim", study="S1", arm="postop").severity == "info"    # 6/48 = 12.50
    assert one(found, "grim", study="S2", arm="preop").severity == "info"     # 2/50


# --- table checks ----------------------------------------------------------------------


def test_events_vs_percent(tmp_path, write_csv, specs):
    # the loader rejects 5 of 48 reported as 20%, so the disagreement is made in memory:
    # the audit still checks tables that did not come through the loader
    path = write_csv(tmp_path, "study,outcome,arm,n,events,percent\n"
                               "S1,lmd,preop,48,5,10.4\nS1,lmd,postop,48,6,12.5\n"
                               "S2,lmd,preop,50,2,\nS2,lmd,postop,50,6,12\n")
    frame = read_table(path, specs).frame.copy()
    frame.loc[frame["row"] == 2, "percent"] = 20.0
    found = run_audit(StudyTable(frame, "<memory>", "none"), specs, compare_paper=False)
    bad = one(found, "events", severity="error")
    assert (bad.study, bad.arm, bad.row) == ("S1", "preop", 2)
    assert bad.values["implied_percent"] == Fraction(500, 48)  # 10.42%, not 20%


def test_events_and_arms_ok_on_bundled(findings):
    assert "none reports both" in one(findings, "events").detail
    assert one(findings, "arms").values["pairs"] == 20


def test_arms_check_on_a_frame_the_loader_would_reject(bundled_table, specs):
    frame = bundled_table.frame
    frame = frame[~((frame["study"] == "Study B") & (frame["outcome"] == "rn")
                    & (frame["arm"] == "postop"))]
    table = StudyTable(frame.reset_index(drop=True), "<memory>", "none")
    found = run_audit(table, specs, compare_paper=False)
    bad = one(found, "arms", severity="error")
    assert (bad.study, bad.outcome) == ("Study B", "rn") and "missing postop" in bad.detail


def test_identification(findings):
    f = one(findings, "identification")
    assert f.severity == "warning" and f.values["anonymous"] == 4


def test_follow_up(findings):
    for outcome in ("lc", "lmd", "rn", "dbf", "os"):
        f = next(x for x in pick(findings, "follow_up", outcome=outcome) if "ratio" in x.values)
        assert f.severity == "warning"
        assert (f.values["min_months"], f.values["max_months"], f.values["ratio"]) == (12, 24, 2)
    assert "borrowed" in pick(findings, "follow_up", outcome="rn", severity="info")[0].detail
    assert not [f for f in pick(findings, "follow_up", outcome="lmd") if "borrowed" in f.detail]


def test_follow_up_close_and_missing(tmp_path, write_csv, specs):
    path = write_csv(tmp_path, "study,outcome,arm,n,percent,follow_up_months\n"
                               "S1,lmd,preop,50,4,12\nS1,lmd,postop,50,12,12\n"
                               "S2,lmd,preop,50,4,16\nS2,lmd,postop,50,12,\n")
    found = run_audit(read_table(path, specs), specs, compare_paper=False)
    missing = one(found, "follow_up", severity="warning")
    assert (missing.study, missing.arm, missing.row) == ("S2", "postop", 5)
    spread = one(found, "follow_up", severity="info")
    assert spread.values["ratio"] == pytest.approx(16 / 12)  # < 1.5: not flagged


# --- the paper's pooled rows -----------------------------------------------------------

UNWEIGHTED = {  # the paper's "Pooled" value and the plain mean of the four study values
    ("lc", "preop"): (91.5, 91.5), ("lc", "postop"): (89.5, 89.5),
    ("lmd", "preop"): (3.5, 3.5), ("lmd", "postop"): (12.5, 12.5),
    ("rn", "preop"): (4.5, 4.5), ("rn", "postop"): (11.5, 11.5),
    ("dbf", "preop"): (22, 22), ("dbf", "postop"): (24.8, 24.75),
    ("os", "preop"): (16.3, 16.25), ("os", "postop"): (15.5, 15.5),
}


def test_pooled_rows_are_unweighted_means(findings):
    for (outcome, arm), (reported, mean) in UNWEIGHTED.items():
        f = one(findings, "pooled_mean", outcome=outcome, arm=arm)
        assert f.severity == "warning" and f.values["matches"] is True
        assert float(f.values["reported"]) == reported
        assert float(f.values["unweighted_mean"]) == mean


def test_pooled_weighted(findings):
    f = one(findings, "pooled_weighted", outcome="lmd", arm="preop")
    assert (f.values["events"], f.values["n"]) == (7, 195)  # 1 + 2 + 2 + 2 nearest counts
    assert float(f.values["weighted"]) == pytest.approx(3.5897, abs=1e-4)
    assert f.values["matches"] is False  # 3.59 is not 3.5 at one decimal
    f = one(findings, "pooled_weighted", outcome="lmd", arm="postop")
    assert (f.values["events"], f.values["n"]) == (26, 208)  # 5 + 8 + 6 + 7: exactly 12.5%
    f = one(findings, "pooled_weighted", outcome="os", arm="preop")
    assert f.values["weighted"] == Fraction(16 * 45 + 18 * 60 + 14 * 38 + 17 * 52, 195)


def test_pooled_n_and_follow_up(findings):
    assert all(f.severity == "info" for f in pick(findings, "pooled_n"))
    assert one(findings, "pooled_n", outcome="lc", arm="preop").values["sum_n"] == 195
    assert one(findings, "pooled_n", outcome="lc", arm="postop").values["sum_n"] == 208
    f = one(findings, "pooled_follow_up", outcome="lmd", arm="preop")
    assert f.severity == "warning"  # 18 months reported
    assert (f.values["mean"], f.values["median"]) == (Fraction(33, 2), 15)  # 16.5, 15
    assert f.values["n_weighted_mean"] == Fraction(3156, 195)
    # 18 = (12 + 24) / 2: halfway between the shortest and the longest follow-up
    assert f.values["midrange"] == 18 and f.values["matches"] == ["midrange"]
    assert "is the midrange of 12 and 24 months" in f.detail
    assert one(findings, "pooled_follow_up", outcome="rn", arm="preop").severity == "info"


def test_pooled_follow_up_midrange_mean_or_none(tmp_path, write_csv, specs):
    # follow-ups 12, 12, 30: mean 18, median 12, midrange (12 + 30) / 2 = 21
    table = read_table(write_csv(tmp_path, "study,outcome,arm,n,events,follow_up_months\n"
                                 + "".join(f"{s},lmd,{a},50,{e},{fu}\n"
                                           for s, fu in (("S1", 12), ("S2", 12), ("S3", 30))
                                           for a, e in (("preop", 2), ("postop", 6)))), specs)
    pooled = write_csv(tmp_path, POOLED_HEADER + "lmd,preop,150,21,4,percent,x\n"
                       "lmd,postop,150,18,12,percent,x\n" + "lc,preop,150,25,90,percent,x\n",
                       "pooled.csv")
    found = {f.arm: f for f in run_audit(table, specs, pooled)
             if f.check == "pooled_follow_up" and f.outcome == "lmd"}
    mid, mean = found["preop"], found["postop"]
    assert mid.severity == "warning" and mid.values["matches"] == ["midrange"]
    assert mid.detail.startswith("reported pooled follow-up 21 months is the midrange of 12 "
                                 "and 30 months")
    # every arm has n = 50, so the n-weighted mean is the mean
    assert mean.severity == "info" and mean.values["matches"] == ["mean", "n_weighted_mean"]
    assert mean.values["midrange"] == 21
    pooled = write_csv(tmp_path, POOLED_HEADER + "lmd,preop,150,25,4,percent,x\n", "pooled.csv")
    (none,) = [f for f in run_audit(table, specs, pooled) if f.check == "pooled_follow_up"]
    assert none.severity == "warning" and none.values["matches"] == []
    assert "is none of the summaries" in none.detail


def test_relative_reduction_72(findings):
    f = next(x for x in pick(findings, "claim", outcome="lmd") if "claimed" in x.values)
    assert f.severity == "info" and f.values["reproduced"] is True
    assert f.values["from_pooled_rows"] == 72  # 1 - 3.5/12.5
    rr = (7 / 195) / (26 / 208)
    assert f.values["from_counts"] == pytest.approx(100 * (1 - rr))  # 71.3%
    se = math.sqrt(1 / 7 - 1 / 195 + 1 / 26 - 1 / 208)
    assert f.values["rrr_ci_low"] == pytest.approx(100 * (1 - rr * math.exp(1.959964 * se)))
    assert 34 < f.values["rrr_ci_low"] < 36 and 86 < f.values["rrr_ci_high"] < 88


def test_pooled_file_validation(tmp_path, write_csv, specs):
    good = "lmd,preop,195,18,3.5,percent,x\n"
    cases = [
        ("outcome,arm,n,value\n" + "lmd,preop,195,3.5\n", None, "measure"),
        (POOLED_HEADER + good + "lmd,postop,208,18,abc,percent,x\n", 3, "value"),
        (POOLED_HEADER + "lmd,postop,208,18,12.5,median_months,x\n", 2, "measure"),
        (POOLED_HEADER + "lmd,postop,20.5,18,12.5,percent,x\n", 2, "n"),
        (POOLED_HEADER + "lmd,both,208,18,12.5,percent,x\n", 2, "arm"),
        (POOLED_HEADER + "xyz,preop,208,18,12.5,percent,x\n", 2, "outcome"),
        (POOLED_HEADER + "lmd,preop,208,18,112.5,percent,x\n", 2, "value"),
        (POOLED_HEADER + good + good, 3, "arm"),
    ]
    for text, row, column in cases:
        path = write_csv(tmp_path, text, "pooled.csv")
        with pytest.raises(InputError) as exc:
            read_pooled(path, specs)
        assert (exc.value.file, exc.value.row, exc.value.column) == (str(path), row, column)
    with pytest.raises(InputError, match="no data rows"):
        read_pooled(write_csv(tmp_path, POOLED_HEADER, "pooled.csv"), specs)


# --- the paper's text ------------------------------------------------------------------

FAKE_PAPER = """Timing of Radiosurgery for Resected Brain Metastases: A Meta-Analysis Of Cohorts

Methods
Pooled with a random-effects model; heterogeneity by the I^2 statistic; Egger's test.

Results
The odds ratio was 0.4 (95% CI 0.2 to 0.8); I^2 = 12%; Egger's test p = 0.41.

Figure 1. Forest plot of leptomeningeal disease

References

- [1] Smith, A. (2020). Preoperative radiosurgery for brain metastases. J Neurooncol.
- [2] Jones, B. (2019). Mastectomy versus breast-conserving surgery. Breast.
[3] Lee, C. (2021). Postoperative SRS cavity margins
for metastases. Radiother Oncol.
"""


def test_paper_checks_on_a_small_paper(tmp_path, bundled_table, specs):
    paper = tmp_path / "paper.txt"
    paper.write_text(FAKE_PAPER, encoding="utf-8")
    refs = parse_references(FAKE_PAPER)
    assert sorted(refs) == [1, 2, 3] and "for metastases" in refs[3]
    found = run_audit(bundled_table, specs, paper_path=paper)
    f = one(found, "references")
    assert (f.values["references"], f.values["on_topic"], f.severity) == (3, 2, "info")
    assert pick(found, "reporting") == []  # every claimed method has a result
    assert [x for x in pick(found, "claim") if "significan" in x.detail] == []


def test_paper_checks_on_the_seed_paper(findings):
    """From the facts recorded from the seed paper (no copy of the paper needed)."""
    f = one(findings, "references")
    assert f.severity == "warning"
    assert (f.values["references"], f.values["on_topic"], f.values["self_citations"]) == (61, 3, 1)
    assert f.values["breast cancer surgery"] == 18 and f.values["dermal/facial fillers"] == 9
    methods = {x.values["method"] for x in pick(findings, "reporting")}
    assert {"the I² statistic", "Egger's test", "funnel plots",
            "RevMan / STATA analyses"} <= methods
    sig = [x for x in pick(findings, "claim") if "significan" in x.detail]
    assert {x.outcome for x in sig} == {"lmd", "rn"}


def test_missing_explicit_paper_is_an_error(bundled_table, specs, tmp_path):
    with pytest.raises(InputError, match="file not found"):
        run_audit(bundled_table, specs, paper_path=tmp_path / "nope.txt")


def test_compare_paper_false_runs_table_checks_only(bundled_table, specs):
    checks = {f.check for f in run_audit(bundled_table, specs, compare_paper=False)}
    assert checks == {"grim", "events", "arms", "identification", "follow_up", "homogeneity"}


# --- output and command line -----------------------------------------------------------


def test_text_output(findings, bundled_table):
    text = format_text(findings, bundled_table)
    first = text.splitlines()[0]
    assert first.startswith(f"srsbayes audit: {len(findings)} findings — 0 errors")
    assert "== grim:" in text and "== pooled_mean:" in text
    assert "reported_pooled.csv:4" in text  # pooled rows are located in their own file


def test_cli_text(run_cli):
    status, out, err = run_cli(["audit"])
    assert status == 0 and err == ""
    assert out.startswith("srsbayes audit: ")
    assert "89% of 48: no whole count reproduces it" in out


def test_cli_json(run_cli):
    status, out, _ = run_cli(["audit", "--json"])
    assert status == 0
    rows = json.loads(out)
    assert isinstance(rows, list) and rows
    for r in rows:
        assert {"study", "outcome", "arm", "check", "severity", "detail"} <= set(r)
        assert r["severity"] in ("error", "warning", "info")
    lmd = [r for r in rows if r["check"] == "pooled_mean" and r["outcome"] == "lmd"]
    assert {r["unweighted_mean"] for r in lmd} == {3.5, 12.5}


def test_cli_user_data(run_cli, tmp_path, write_csv):
    path = write_csv(tmp_path, "study,outcome,arm,n,events,follow_up_months\n"
                               "Smith 2020,lmd,preop,50,2,12\nSmith 2020,lmd,postop,50,6,12\n"
                               "Lee 2021,lmd,preop,40,1,12\nLee 2021,lmd,postop,40,5,12\n")
    status, out, _ = run_cli(["audit", "--data", path, "--json"])
    assert status == 0
    rows = json.loads(out)
    assert not [r for r in rows if r["check"] == "identification"]
    assert not [r for r in rows if r["check"] == "grim"]  # counts given, no percentages
    # the user's studies are not the bundled paper's: no pooled row is compared with them
    assert not [r for r in rows if r["check"].startswith("pooled") or r["check"] == "claim"]
    # unless the user asks for it (here, with the bundled paper's pooled rows)
    status, out, _ = run_cli(["audit", "--data", path, "--pooled", DEFAULT_POOLED, "--json"])
    assert status == 0
    rows = json.loads(out)
    n = [r for r in rows if r["check"] == "pooled_n" and r["outcome"] == "lmd"]
    assert {(r["arm"], r["sum_n"], r["severity"]) for r in n} == {
        ("preop", 90, "warning"), ("postop", 90, "warning")}
    skipped = [r for r in rows if r["check"] == "pooled_mean" and r["outcome"] == "lc"]
    assert skipped and all("no such rows" in r["detail"] for r in skipped)


def test_cli_bad_pooled_file(run_cli, tmp_path, write_csv):
    path = write_csv(tmp_path, POOLED_HEADER + "lmd,preop,195,18,3,5,percent,x\n", "pooled.csv")
    status, out, err = run_cli(["audit", "--pooled", path])
    assert status == 2 and out == ""
    assert err.strip() == f"srsbayes: error: {path}:2: 8 fields but the header has 7"
    path = write_csv(tmp_path, POOLED_HEADER + "lmd,preop,195,18,n/a,percent,x\n", "pooled.csv")
    status, _, err = run_cli(["audit", "--pooled", path])
    assert status == 2
    assert err.strip() == f"srsbayes: error: {path}:2: column 'value': not a number: 'n/a'"


def test_json_is_clean(findings):
    text = format_json(findings)
    assert "NaN" not in text and "Infinity" not in text
    order = [list(CHECKS).index(r["check"]) for r in json.loads(text)]
    assert order == sorted(order)  # grouped by check, in display order


def test_entry_point_subprocess(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "srsbayes", "audit", "--json"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    grim_rows = [r for r in rows if r["check"] == "grim" and r["study"]]
    assert sum(not r["consistent"] for r in grim_rows) == 16


def test_homogeneity_lower_tail_of_cochrans_q(bundled_table, specs):
    """LMD log odds ratios from the nearest counts, by hand: Q is far below its 3 df."""
    from scipy import stats as st

    a = np.array([1, 2, 2, 2])       # preop events (2%, 3%, 5%, 4% of 45, 60, 38, 52)
    n1 = np.array([45, 60, 38, 52])
    c = np.array([5, 8, 6, 7])       # postop events (11%, 13%, 14%, 12% of 48, 65, 40, 55)
    n2 = np.array([48, 65, 40, 55])
    y = np.log(a * (n2 - c) / ((n1 - a) * c))
    w = 1 / (1 / a + 1 / (n1 - a) + 1 / c + 1 / (n2 - c))
    q = np.sum(w * (y - np.sum(w * y) / np.sum(w)) ** 2)
    found = {f.outcome: f for f in run_audit(bundled_table, specs, compare_paper=False)
             if f.check == "homogeneity"}
    assert set(found) == {"lc", "lmd", "rn", "dbf", "os"}
    assert found["lmd"].values["Q"] == pytest.approx(q, rel=1e-9)
    assert found["lmd"].values["p_lower"] == pytest.approx(st.chi2.cdf(q, 3), rel=1e-9)
    assert found["lmd"].severity == "warning" and found["lmd"].values["p_lower"] < 0.05
    assert all(f.severity == "warning" for f in found.values())


def test_homogeneity_passes_for_ordinary_heterogeneity(tmp_path, specs):
    rows = ["study,outcome,arm,n,events"]
    for s, (e1, e2) in {"A": (5, 20), "B": (15, 14), "C": (3, 30), "D": (20, 10)}.items():
        rows += [f"{s},lmd,preop,100,{e1}", f"{s},lmd,postop,100,{e2}"]
    path = tmp_path / "het.csv"
    path.write_text("\n".join(rows) + "\n")
    (f,) = [f for f in run_audit(read_table(path, specs), specs, compare_paper=False)
            if f.check == "homogeneity"]
    assert f.severity == "info" and f.values["p_lower"] > 0.5
