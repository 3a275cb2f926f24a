"""Bad input to the audit: the pooled and claims readers raise nothing but ``InputError``,
and an outcome that cannot be pooled is a finding, not silence."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import MODELS_DIR
from srsbayes.audit import PooledRow, read_claims, read_pooled, run_audit
from srsbayes.errors import EXIT_INPUT, InputError
from srsbayes.families import FAMILIES
from srsbayes.inputs.data import DEFAULT_POOLED, read_table
from srsbayes.inputs.specs import load_specs

SPECS = load_specs(MODELS_DIR)
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
POOLED_HEADER = "outcome,arm,n,follow_up_months,value,measure,source"

# Cells that a careless spreadsheet might hold: numbers, near-numbers and CSV syntax.
cells = st.one_of(
    st.sampled_from(["lmd", "LMD", "os", "preop", "postop", "percent", "median_months", "195",
                     "3.5", "-1", "0", "100.0001", "NaN", "nan", "Infinity", "-inf", "1e999999",
                     "1e-999999", "1_000", "١٢", "0x10", "3,5", "", " ", '"', "\r", "\n", ";"]),
    st.text(max_size=8),
)


def _read_both(path: Path) -> None:
    """Each reader either returns well-formed rows or raises InputError."""
    for read in (lambda p: read_pooled(p, SPECS), read_claims):
        try:
            rows = read(path)
        except InputError as exc:
            assert exc.file == str(path) and "\n" not in exc.oneline()
            continue
        assert rows
        for r in rows:
            if isinstance(r, PooledRow):
                info = FAMILIES[SPECS[r.outcome].family]
                assert r.measure == info.audit_column and r.n > 0
                assert 0 <= r.value <= 100 if info.count_data else r.value > 0


@SETTINGS
@given(st.binary(max_size=400))
def test_arbitrary_bytes(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pooled.csv"
        path.write_bytes(data)
        _read_both(path)


@SETTINGS
@given(st.lists(st.lists(cells, min_size=0, max_size=9), min_size=0, max_size=5),
       st.sampled_from([",", ";", "\t"]), st.booleans())
def test_arbitrary_csv_text(rows, sep, with_header):
    lines = ([POOLED_HEADER.replace(",", sep)] if with_header else []) + [
        sep.join(r) for r in rows]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pooled.csv"
        path.write_text("\n".join(lines), encoding="utf-8")
        _read_both(path)


def test_every_byte_value(tmp_path):
    path = tmp_path / "binary.csv"
    path.write_bytes(bytes(range(256)) * 4)
    for read in (lambda p: read_pooled(p, SPECS), read_claims):
        with pytest.raises(InputError, match="not UTF-8 text"):
            read(path)


def test_semicolon_separated_file_is_named(tmp_path, run_cli):
    path = tmp_path / "pooled.csv"
    path.write_text(DEFAULT_POOLED.read_text(encoding="utf-8").replace(",", ";"),
                    encoding="utf-8")
    with pytest.raises(InputError, match="looks semicolon-separated") as exc:
        read_pooled(path, SPECS)
    assert exc.value.column == "outcome"
    status, out, err = run_cli(["audit", "--pooled", path])
    assert (status, out) == (EXIT_INPUT, "")
    assert err.strip() == (f"srsbayes: error: {path}: column 'outcome': missing required "
                           "column; the file looks semicolon-separated: save it with commas")


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-inf", "1e999999999", "1e-999999999",
                                   "0." + "0" * 40 + "1"])
def test_non_finite_or_huge_values_are_input_errors(tmp_path, value):
    path = tmp_path / "pooled.csv"
    path.write_text(f"{POOLED_HEADER}\nlmd,preop,195,18,{value},percent,x\n", encoding="utf-8")
    with pytest.raises(InputError, match="not a number") as exc:
        read_pooled(path, SPECS)
    assert (exc.value.row, exc.value.column) == (2, "value")


# --- an outcome that cannot be pooled --------------------------------------------------------

ONE_STUDY = ("study,outcome,arm,n,events,follow_up_months\n"
             "Smith 2020,lmd,preop,50,2,12\nSmith 2020,lmd,postop,50,6,12\n"
             "Smith 2020,rn,preop,50,1,12\nSmith 2020,rn,postop,50,4,12\n"
             "Lee 2021,rn,preop,40,1,12\nLee 2021,rn,postop,40,5,12\n")


def test_single_study_outcome_is_a_finding(tmp_path, write_csv, run_cli):
    path = write_csv(tmp_path, ONE_STUDY)
    found = run_audit(read_table(path, SPECS), SPECS, compare_paper=False)
    (f,) = [x for x in found if x.check == "poolable"]
    assert (f.outcome, f.severity, f.values) == ("lmd", "warning", {"studies": 1})
    assert f.detail == ("only 1 study (Smith 2020) reports this outcome: it is analysed as "
                        "one study, not a meta-analysis (a meta-analysis needs at least two "
                        "studies); the prediction for a new setting comes from the "
                        "between-study prior alone")
    assert {x.outcome for x in found if x.check == "homogeneity"} == {"rn"}
    status, out, _ = run_cli(["audit", "--data", path])
    assert status == 0
    assert "== poolable: enough studies to pool each outcome? (1 warning) ==" in out
    assert "not a meta-analysis" in out
    status, out, _ = run_cli(["audit", "--data", path, "--json"])
    assert [r["outcome"] for r in json.loads(out) if r["check"] == "poolable"] == ["lmd"]


def test_no_poolable_finding_when_every_outcome_has_two_studies(bundled_table, specs):
    assert not [f for f in run_audit(bundled_table, specs, compare_paper=False)
                if f.check == "poolable"]
