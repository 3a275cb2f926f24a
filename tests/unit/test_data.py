"""The data layer: the bundled table, outcome_table, and every kind of bad input.

Bad inputs are checked twice: through ``read_table`` (the message names file, line and
column), and through the command line ``audit --data BAD.csv`` (exit status 2, one line
on stderr, nothing written). Random bad input is in ``test_fuzz_inputs.py``.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import files_under, nothing_written, write_csv
from srsbayes.errors import EXIT_INPUT, InputError
from srsbayes.families.binomial import nearest_count
from srsbayes.inputs.data import (
    ARMS,
    DEFAULT_DATA,
    NUMERIC,
    REQUIRED,
    as_int,
    outcome_table,
    read_table,
)
from srsbayes.resources import BUNDLED_DATA

# -- the bundled data ------------------------------------------------------------------------


def test_bundled_table_shape(bundled_table):
    frame = bundled_table.frame
    assert len(frame) == 40
    assert bundled_table.outcomes() == ["lc", "lmd", "rn", "dbf", "os"]
    for outcome, rows in frame.groupby("outcome"):
        assert rows["study"].nunique() == 4, outcome
        assert sorted(rows["arm"]) == ["postop"] * 4 + ["preop"] * 4, outcome
    assert frame["row"].tolist() == list(range(2, 42))
    assert bundled_table.covariates == []
    assert bundled_table.path == str(DEFAULT_DATA)
    assert bundled_table.sha256 == hashlib.sha256(DEFAULT_DATA.read_bytes()).hexdigest()


def _cell(table, study, outcome, arm, col):
    f = table.frame
    hit = f[(f["study"] == study) & (f["outcome"] == outcome) & (f["arm"] == arm)]
    assert len(hit) == 1
    return hit.iloc[0][col]


@pytest.mark.parametrize(
    ("study", "outcome", "arm", "events", "reproducible"),
    [
        ("Study A", "lmd", "postop", 5, False),   # 11% of 48 = 5.28; 5/48 = 10.42% -> 10
        ("Study A", "lc", "preop", 41, True),     # 91% of 45 = 40.95; 41/45 = 91.11%
        ("Study B", "lc", "preop", 56, False),    # 94% of 60 = 56.4; 56/60 = 93.33% -> 93
        ("Study C", "rn", "preop", 1, True),      # 3% of 38 = 1.14; 1/38 = 2.63% -> 3
        ("Study D", "dbf", "postop", 13, False),  # 23% of 55 = 12.65; 13/55 = 23.64% -> 24
        ("Study A", "lmd", "preop", 1, True),     # 2% of 45 = 0.9; 1/45 = 2.22% -> 2
    ],
)
def test_bundled_events_by_nearest_count(bundled_table, study, outcome, arm, events,
                                         reproducible):
    assert _cell(bundled_table, study, outcome, arm, "events") == events
    rule = _cell(bundled_table, study, outcome, arm, "events_rule")
    assert rule == ("nearest count to percent" if reproducible
                    else "nearest count; no whole count reproduces the percent")


def test_bundled_os_rows(bundled_table):
    assert _cell(bundled_table, "Study B", "os", "preop", "median_months") == 18
    assert _cell(bundled_table, "Study B", "os", "preop", "events_rule") == ""
    assert np.isnan(_cell(bundled_table, "Study B", "os", "preop", "events"))


def test_nearest_count_halves_up():
    assert nearest_count(50, 1) == 1       # 0.5 -> 1
    assert nearest_count(12.5, 4) == 1     # 0.5 -> 1
    assert nearest_count(37.5, 4) == 2     # 1.5 -> 2
    assert nearest_count(14.5, 200) == 29  # 29.0 despite float error
    assert nearest_count(0, 30) == 0
    assert nearest_count(100, 30) == 30


def test_outcome_table_wide(bundled_table, specs):
    wide = outcome_table(bundled_table, specs["lmd"])
    assert wide["study"].tolist() == ["Study A", "Study B", "Study C", "Study D"]
    expected = ["study"] + [f"{c}_{arm}" for arm in ARMS
                            for c in ("row", *NUMERIC, "events_rule", "source")]
    assert wide.columns.tolist() == expected
    assert wide.shape == (4, 23)
    assert as_int(wide["n_preop"]).tolist() == [45, 60, 38, 52]
    assert as_int(wide["n_postop"]).tolist() == [48, 65, 40, 55]
    assert as_int(wide["events_postop"]).tolist()[0] == 5
    assert as_int(wide["row_preop"]).tolist() == [10, 12, 14, 16]
    assert as_int(wide["row_postop"]).tolist() == [11, 13, 15, 17]
    os_wide = outcome_table(bundled_table, specs["os"])
    assert os_wide["median_months_preop"].tolist() == [16, 18, 14, 17]


# -- a small valid table and its corruptions -------------------------------------------------

HEADER = ("study,outcome,arm,n,events,percent,median_months,follow_up_months,"
          "median_ci_low,median_ci_high")
GOOD_ROWS = [
    "S1,lmd,preop,40,3,,,12,,",          # line 2
    "S1,lmd,postop,42,6,,,12,,",         # line 3
    "S2,lmd,preop,30,,10,,18,,",         # line 4
    "S2,lmd,postop,31,,20,,18,,",        # line 5
    "S1,os,preop,40,,,16,12,14,18",      # line 6
    "S1,os,postop,42,,,15,12,13,17",     # line 7
    "S2,os,preop,30,,,14,18,,",          # line 8
    "S2,os,postop,31,,,13,18,,",         # line 9
]
COLS = HEADER.split(",")


def good_text() -> str:
    return "\n".join([HEADER, *GOOD_ROWS]) + "\n"


def set_field(line: int, column: str, value: str) -> str:
    """The good table with one field (file line ``line``) replaced."""
    rows = [r.split(",") for r in GOOD_ROWS]
    rows[line - 2][COLS.index(column)] = value
    return "\n".join([HEADER, *(",".join(r) for r in rows)]) + "\n"


def drop_column(column: str) -> str:
    i = COLS.index(column)
    lines = [HEADER, *GOOD_ROWS]
    return "\n".join(",".join(x for j, x in enumerate(ln.split(",")) if j != i)
                     for ln in lines) + "\n"


def drop_line(line: int) -> str:
    rows = [r for i, r in enumerate(GOOD_ROWS) if i != line - 2]
    return "\n".join([HEADER, *rows]) + "\n"


@dataclass(frozen=True)
class Bad:
    id: str
    content: str | bytes | None  # None: the file does not exist
    row: int | None
    column: str | None
    message: str


BAD_CASES = [
    Bad("missing-file", None, None, None, "file not found"),
    Bad("empty-file", "", None, None, "file is empty"),
    Bad("blank-file", "\n  \n", None, None, "file is empty"),
    Bad("header-only", HEADER + "\n", None, None, "no data rows"),
    *(Bad(f"missing-column-{c}", drop_column(c), 1, c, "missing required column")
      for c in REQUIRED),
    Bad("n-not-a-number", set_field(3, "n", "forty"), 3, "n", "not a number: 'forty'"),
    Bad("n-empty", set_field(3, "n", ""), 3, "n", "missing value"),
    Bad("n-zero", set_field(3, "n", "0"), 3, "n", "must be > 0"),
    Bad("n-negative", set_field(4, "n", "-5"), 4, "n", "must be > 0, got -5"),
    Bad("n-not-whole", set_field(3, "n", "40.5"), 3, "n", "whole number"),
    Bad("n-infinite", set_field(3, "n", "inf"), 3, "n", "not a finite number"),
    Bad("events-above-n", set_field(2, "events", "41"), 2, "events", "41 events > n = 40"),
    Bad("events-negative", set_field(3, "events", "-1"), 3, "events", "must be >= 0"),
    Bad("events-not-whole", set_field(3, "events", "2.5"), 3, "events", "whole number"),
    Bad("percent-above-100", set_field(5, "percent", "101"), 5, "percent", "within 0-100"),
    Bad("percent-negative", set_field(4, "percent", "-1"), 4, "percent", "within 0-100"),
    Bad("binary-without-events-or-percent", set_field(4, "percent", ""), 4, "events",
        "needs 'events' or 'percent'"),
    Bad("median-zero", set_field(7, "median_months", "0"), 7, "median_months", "must be > 0"),
    Bad("median-negative", set_field(8, "median_months", "-2"), 8, "median_months",
        "must be > 0"),
    Bad("median-missing-for-os", set_field(8, "median_months", ""), 8, "median_months",
        "missing value"),
    Bad("median-ci-low-above-median", set_field(6, "median_ci_low", "17"), 6, "median_ci_low",
        "must be in (0, median]"),
    Bad("median-ci-high-below-median", set_field(7, "median_ci_high", "14"), 7,
        "median_ci_high", "must be >= median"),
    Bad("follow-up-negative-binary", set_field(5, "follow_up_months", "-3"), 5,
        "follow_up_months", "must be > 0"),
    Bad("follow-up-zero-os", set_field(9, "follow_up_months", "0"), 9,
        "follow_up_months", "must be > 0"),
    Bad("unknown-arm", set_field(5, "arm", "neoadjuvant"), 5, "arm", "unknown arm"),
    Bad("empty-study", set_field(6, "study", ""), 6, "study", "empty value"),
    Bad("one-arm-only", drop_line(5), 4, "arm", "has only the preop arm"),
    Bad("duplicate-row", good_text() + GOOD_ROWS[1] + "\n", 10, "arm", "duplicate row"),
    Bad("unknown-outcome", set_field(2, "outcome", "xyz"), 2, "outcome",
        "unknown outcome 'xyz'"),
    Bad("not-utf8", set_field(6, "study", "Müller").encode("latin-1"), 6, "study",
        "not UTF-8"),
    Bad("row-too-long", good_text().replace(GOOD_ROWS[3], GOOD_ROWS[3] + ",extra"), 5, None,
        "not a readable CSV: 11 fields, but the header has 10"),
    Bad("every-row-too-long", "\n".join([HEADER, *(r + ",x" for r in GOOD_ROWS)]) + "\n", 2,
        None, "not a readable CSV: 11 fields, but the header has 10"),
    # found by fuzzing: bytes 0x00-0xFF ended in a _csv.Error traceback
    # (0x0a ends line 1, 0x0d line 2; 0x80 is the first byte that is no UTF-8)
    Bad("binary-bytes", bytes(range(256)), 3, None, "not UTF-8 text (byte 0x80)"),
    Bad("binary-after-header", (HEADER + "\nS1,lmd,").encode() + bytes(range(128, 256)), 2,
        "arm", "not UTF-8 text (byte 0x80)"),
    Bad("bom-then-bad-byte", b"\xef\xbb\xbf" + set_field(3, "arm", "pr\xe9op").encode("latin-1"),
        3, "arm", "not UTF-8 text (byte 0xe9)"),
    Bad("field-too-large", set_field(4, "study", "x" * 200_000), 4, None,
        "field larger than field limit"),
    # the audit's exact arithmetic cannot use 1e-999999999 (a valid float: 0.0)
    Bad("number-too-long", set_field(4, "percent", "1e-999999999"), 4, "percent",
        "not a number of usable size: '1e-999999999'"),
    Bad("capitalised-column", good_text().replace("study", "Study", 1), 1, "study",
        "missing required column (found 'Study': names are lower case)"),
    Bad("semicolon-separated", good_text().replace(",", ";"), 1, None,
        "the file looks semicolon-separated"),
    Bad("tab-separated", good_text().replace(",", "\t"), 1, None,
        "the file looks tab-separated"),
    Bad("semicolon-quoted-header",
        good_text().replace(",", ";").replace("study;", '"study";', 1), 1, None,
        "the file looks semicolon-separated"),
    # found by fuzzing: n = 1e308 with a percentage overflowed in the nearest count
    Bad("count-too-large", set_field(4, "n", "1e308"), 4, "n", "implausibly large count"),
    Bad("events-and-percent-disagree", set_field(2, "percent", "10"), 2, "percent",
        "events = 3 and percent = 10% disagree: 3 of 40 is 7.5%, which does not round to 10%"),
    Bad("events-and-percent-disagree-at-precision", set_field(2, "percent", "7.6"), 2,
        "percent", "events = 3 and percent = 7.6% disagree: 3 of 40 is 7.50%"),
]


def _write_case(tmp_path: Path, case: Bad) -> Path:
    if case.content is None:
        return tmp_path / "absent.csv"
    return write_csv(tmp_path, case.content, "bad.csv")


def assert_located(message: str, path: Path, case: Bad) -> None:
    """``message`` is one line naming the file, the line (if known) and the column."""
    assert "\n" not in message
    assert message.startswith(str(path) + (f":{case.row}: " if case.row else ": "))
    if case.column is not None:
        assert f"column '{case.column}'" in message
    assert case.message in message


@pytest.mark.parametrize("case", BAD_CASES, ids=lambda c: c.id)
def test_read_table_rejects(tmp_path, specs, case):
    path = _write_case(tmp_path, case)
    with nothing_written(tmp_path), pytest.raises(InputError) as info:
        read_table(path, specs)
    err = info.value
    assert err.file == str(path)
    assert err.row == case.row
    assert err.column == case.column
    assert_located(str(err), path, case)


@pytest.mark.parametrize("case", BAD_CASES, ids=lambda c: c.id)
def test_audit_cli_rejects(tmp_path, monkeypatch, run_cli, case):
    path = _write_case(tmp_path, case)
    monkeypatch.chdir(tmp_path)
    before = files_under(tmp_path)
    status, out, err = run_cli(["audit", "--data", path])
    assert status == EXIT_INPUT
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    prefix = "srsbayes: error: "
    assert lines[0].startswith(prefix)
    assert_located(lines[0][len(prefix):], path, case)
    assert files_under(tmp_path) == before


def test_audit_subprocess_rejects(tmp_path):
    """The real entry point, ``python -m srsbayes``, once (the rest run in-process)."""
    path = write_csv(tmp_path, set_field(2, "events", "41"), "bad.csv")
    proc = subprocess.run([sys.executable, "-m", "srsbayes", "audit", "--data", str(path)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == EXIT_INPUT
    assert proc.stderr.strip() == (f"srsbayes: error: {path}:2: column 'events': "
                                   "41 events > n = 40")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


def test_good_table_loads(tmp_path, specs):
    table = read_table(write_csv(tmp_path, good_text()), specs)
    assert len(table.frame) == 8
    assert table.frame["row"].tolist() == list(range(2, 10))
    ev = table.frame.set_index(["study", "outcome", "arm"])["events"]
    assert ev["S1", "lmd", "preop"] == 3
    assert ev["S2", "lmd", "preop"] == 3    # 10% of 30
    assert ev["S2", "lmd", "postop"] == 6   # 20% of 31 = 6.2


# -- fewer than two studies (raised by outcome_table; on the CLI it needs `fit`) --------------

ONE_STUDY_LMD = "\n".join([HEADER, *GOOD_ROWS[:2], *GOOD_ROWS[4:]]) + "\n"


def test_outcome_table_of_one_study_is_one_row(tmp_path, specs):
    # one study is analysed as one study (not a meta-analysis; issue 23.7)
    path = write_csv(tmp_path, ONE_STUDY_LMD)
    table = read_table(path, specs)
    assert len(outcome_table(table, specs["os"])) == 2
    assert len(outcome_table(table, specs["lmd"])) == 1


def test_fit_cli_outcome_without_study(tmp_path, monkeypatch, run_cli):
    path = write_csv(tmp_path, ONE_STUDY_LMD)
    monkeypatch.chdir(tmp_path)
    status, _, err = run_cli(["fit", "rn", "--data", path, "--out", tmp_path / "out",
                              "--draws", "25", "--tune", "10", "--chains", "1"])
    assert status == EXIT_INPUT
    assert err.strip() == (f"srsbayes: error: {path}: column 'outcome': outcome 'rn' has no "
                           "study")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["studies.csv"]


# -- tolerated variations --------------------------------------------------------------------


def test_extra_columns_are_covariates(tmp_path, specs):
    rows = [HEADER + ",histology,dose_gy"]
    rows += [r + (",nsclc,18" if r.startswith("S1") else ",mixed,20") for r in GOOD_ROWS]
    table = read_table(write_csv(tmp_path, "\n".join(rows) + "\n"), specs)
    assert table.covariates == ["histology", "dose_gy"]
    wide = outcome_table(table, specs["lmd"])
    assert wide["histology"].tolist() == ["nsclc", "mixed"]
    assert wide["dose_gy"].tolist() == ["18", "20"]  # covariates stay text


def test_trailing_empty_columns(tmp_path, specs):
    """Spreadsheet exports often end every line with commas: unnamed, empty columns."""
    text = "\n".join(line + ",," for line in good_text().splitlines()) + "\n"
    table = read_table(write_csv(tmp_path, text), specs)
    assert table.covariates == ["Unnamed: 10", "Unnamed: 11"]
    assert table.frame["row"].tolist() == list(range(2, 10))


def test_bom_is_tolerated(tmp_path, specs):
    plain = read_table(write_csv(tmp_path, good_text(), "plain.csv"), specs)
    bom = read_table(write_csv(tmp_path, "\ufeff" + good_text(), "bom.csv"), specs)
    assert bom.frame.columns.tolist() == plain.frame.columns.tolist()
    pd.testing.assert_frame_equal(bom.frame, plain.frame)
    with pytest.raises(InputError, match=r"bom2\.csv:3: column 'n'"):
        read_table(write_csv(tmp_path, "\ufeff" + set_field(3, "n", "x"), "bom2.csv"), specs)


def _with_blank_lines(text: str) -> str:
    """Blank (and whitespace-only) lines before the header, after line 3 and at the end."""
    lines = text.splitlines()
    return "\n".join(["", *lines[:3], "", "   ", *lines[3:], "", ""]) + "\n"


def test_blank_lines_skipped_and_lines_still_right(tmp_path, specs):
    table = read_table(write_csv(tmp_path, _with_blank_lines(good_text())), specs)
    assert len(table.frame) == 8
    # header on line 2; data on 3, 4, then two blank lines, then 7..12
    assert table.frame["row"].tolist() == [3, 4, 7, 8, 9, 10, 11, 12]
    bad = _with_blank_lines(set_field(6, "median_months", "-1"))  # good line 6 -> file line 9
    with pytest.raises(InputError) as info:
        read_table(write_csv(tmp_path, bad, "bad.csv"), specs)
    assert (info.value.row, info.value.column) == (9, "median_months")
    missing = _with_blank_lines(drop_column("n"))
    with pytest.raises(InputError) as info:
        read_table(write_csv(tmp_path, missing, "nocol.csv"), specs)
    assert (info.value.row, info.value.column) == (2, "n")


def test_crlf_line_endings(tmp_path, specs):
    crlf = set_field(5, "percent", "120").replace("\n", "\r\n")
    with pytest.raises(InputError) as info:
        read_table(write_csv(tmp_path, crlf), specs)
    assert (info.value.row, info.value.column) == (5, "percent")


def test_quoted_field_spanning_lines(tmp_path, specs):
    """A quoted newline inside a field moves every later row down one line."""
    text = good_text().replace("S1,lmd,preop", '"S1",lmd,preop').replace(
        "S2,", '"S 2\nb",')
    table = read_table(write_csv(tmp_path, text), specs)
    assert table.frame["row"].tolist() == [2, 3, 4, 6, 8, 9, 10, 12]
    bad = text.replace("S1,os,postop,42,,,15", "S1,os,postop,42,,,-15")
    with pytest.raises(InputError) as info:
        read_table(write_csv(tmp_path, bad, "bad.csv"), specs)
    assert (info.value.row, info.value.column) == (9, "median_months")


def test_case_and_whitespace_normalised(tmp_path, specs):
    text = good_text().replace("S1,lmd,preop,40", "S1, LMD , PreOp ,40")
    table = read_table(write_csv(tmp_path, text), specs)
    assert table.frame.loc[0, ["study", "outcome", "arm", "n"]].tolist() == [
        "S1", "lmd", "preop", 40.0]


def test_default_data_path_is_in_repo():
    assert DEFAULT_DATA == BUNDLED_DATA / "studies.csv"


# -- checks added with the fuzz tests -------------------------------------------------------


def with_deaths(deaths: str) -> str:
    """The good table with a ``deaths`` column, ``deaths`` on line 6 (S1 os preop, n = 40)."""
    rows = [r + ("," + deaths if i == 4 else ",") for i, r in enumerate(GOOD_ROWS)]
    return "\n".join([HEADER + ",deaths", *rows]) + "\n"


@pytest.mark.parametrize(("deaths", "message"), [
    ("0", "0 deaths, but a median survival is reported: a Kaplan-Meier median is reached "
          "only once deaths bring survival down to 50%"),
    ("-2", "must be in 1..n, got -2"),
    ("41", "41 deaths > n = 40"),
])
def test_deaths_rejected_with_reason(tmp_path, specs, deaths, message):
    path = write_csv(tmp_path, with_deaths(deaths))
    with pytest.raises(InputError) as info:
        read_table(path, specs)
    assert (info.value.row, info.value.column) == (6, "deaths")
    assert info.value.message.startswith(message)


def test_deaths_within_n_accepted(tmp_path, specs):
    table = read_table(write_csv(tmp_path, with_deaths("40")), specs)
    assert _cell(table, "S1", "os", "preop", "deaths") == 40


def test_covariate_differing_between_arms(tmp_path, specs):
    rows = [HEADER + ",dose_gy"]
    rows += [r + (",18" if i != 1 else ",20") for i, r in enumerate(GOOD_ROWS)]
    path = write_csv(tmp_path, "\n".join(rows) + "\n")
    with pytest.raises(InputError) as info:
        read_table(path, specs)
    assert str(info.value) == (
        f"{path}:3: column 'dose_gy': covariate differs between the arms of study 'S1': "
        "'18' vs '20'; a covariate is study-level, one value per study")


def test_covariate_may_differ_between_outcomes(tmp_path, specs):
    """Per study × outcome: each outcome is analysed on its own (e.g. how it was assessed)."""
    rows = [HEADER + ",assessment"]
    rows += [r + (",MRI" if ",lmd," in r else ",registry") for r in GOOD_ROWS]
    table = read_table(write_csv(tmp_path, "\n".join(rows) + "\n"), specs)
    assert outcome_table(table, specs["lmd"])["assessment"].tolist() == ["MRI", "MRI"]
    assert outcome_table(table, specs["os"])["assessment"].tolist() == ["registry", "registry"]


def test_events_and_percent_agreeing_at_precision(tmp_path, specs):
    """3 of 40 is 7.5%: reported as 7.5, 8 (half-up) or 7 (half-even: the boundary is
    inclusive) it agrees; 7.50 too."""
    for percent in ("7.5", "8", "7", "7.50", "0.75e1"):
        table = read_table(write_csv(tmp_path, set_field(2, "percent", percent)), specs)
        assert _cell(table, "S1", "lmd", "preop", "events") == 3
        assert _cell(table, "S1", "lmd", "preop", "events_rule") == "reported"
    with pytest.raises(InputError, match=r"3 of 40 is 7\.500%, which does not round to 7\.40%"):
        read_table(write_csv(tmp_path, set_field(2, "percent", "7.40")), specs)


def test_short_rows_padded_and_empty_rows_skipped(tmp_path, specs):
    """Spreadsheets drop trailing empty cells, add empty rows and extra empty columns."""
    rows = [r.rstrip(",") for r in GOOD_ROWS]
    rows.insert(3, ",,,,,,,,,,,,")
    rows[0] += ",,,,"  # empty fields beyond the header
    table = read_table(write_csv(tmp_path, "\n".join([HEADER, *rows]) + "\n"), specs)
    assert len(table.frame) == 8
    assert table.frame["row"].tolist() == [2, 3, 4, 6, 7, 8, 9, 10]
    plain = read_table(write_csv(tmp_path, good_text(), "plain.csv"), specs)
    pd.testing.assert_frame_equal(table.frame.drop(columns="row"),
                                  plain.frame.drop(columns="row"))


def test_directory_is_not_a_file(tmp_path, specs):
    with pytest.raises(InputError) as info:
        read_table(tmp_path, specs)
    assert str(info.value) == f"{tmp_path}: is a directory, not a CSV file"


def test_large_counts_shown_whole(tmp_path, specs):
    text = set_field(2, "n", "2000000").replace("S1,lmd,preop,2000000,3,",
                                                 "S1,lmd,preop,2000000,1234567,10")
    with pytest.raises(InputError) as info:
        read_table(write_csv(tmp_path, text), specs)
    assert info.value.message == ("events = 1234567 and percent = 10% disagree: 1234567 of "
                                  "2000000 is 61.7%, which does not round to 10%")
