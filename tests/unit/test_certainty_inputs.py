"""Inputs of the certainty rating: ``design``/``rob`` columns, ``[indirectness]`` in specs
and the net-benefit weights file; each problem is a one-line InputError."""

from __future__ import annotations

import pytest

from srsbayes.certainty.evidence import studies_of
from srsbayes.certainty.weights import DEFAULT_WEIGHTS, load_weights
from srsbayes.errors import InputError
from srsbayes.inputs.data import outcome_table, read_table
from srsbayes.inputs.specs import load_spec_file
from srsbayes.resources import BUNDLED_MODELS

HEADER = "study,outcome,arm,n,events,design,rob"
ROWS = ["S1,lmd,preop,40,3,RCT,low", "S1,lmd,postop,42,6,rct,Low",
        "S2,lmd,preop,30,2,retrospective,", "S2,lmd,postop,31,5,retrospective,",
        "S1,rn,preop,40,2,rct,serious", "S1,rn,postop,42,4,rct,serious",
        "S2,rn,preop,30,1,retrospective,", "S2,rn,postop,31,3,retrospective,"]


def _csv(tmp_path, write_csv, rows, header=HEADER):
    return write_csv(tmp_path, "\n".join([header, *rows]) + "\n")


def test_design_and_rob_are_kept_per_study(tmp_path, specs, write_csv):
    table = read_table(_csv(tmp_path, write_csv, ROWS), specs)
    lmd = outcome_table(table, specs["lmd"])
    assert list(lmd["design"]) == ["rct", "retrospective"]
    assert list(lmd["rob"]) == ["low", ""]  # empty = not assessed
    # risk of bias is judged per outcome (ROBINS-I): it may differ between outcomes
    assert list(outcome_table(table, specs["rn"])["rob"]) == ["serious", ""]
    info = studies_of(lmd, specs["lmd"])
    assert [(s.study, s.n, s.design, s.rob) for s in info] == [
        ("S1", 82, "rct", "low"), ("S2", 61, "retrospective", "")]


@pytest.mark.parametrize(("index", "row", "column", "message"), [
    (0, "S1,lmd,preop,40,3,cohort,low", "design", "unknown value 'cohort'; use one of rct, "
     "prospective, retrospective (or leave it empty)"),
    (2, "S2,lmd,preop,30,2,retrospective,high", "rob", "unknown value 'high'; use one of "
     "low, moderate, serious, critical (or leave it empty)"),
    (4, "S1,rn,preop,40,2,prospective,serious", "design",
     "design differs between the rows of study 'S1': 'rct' vs 'prospective'; a study has "
     "one design"),
])
def test_bad_design_or_rob_is_a_one_line_error(tmp_path, specs, write_csv, index, row,
                                                column, message):
    rows = list(ROWS)
    rows[index] = row
    path = _csv(tmp_path, write_csv, rows)
    with pytest.raises(InputError) as exc:
        read_table(path, specs)
    e = exc.value
    assert (e.file, e.column, e.message) == (str(path), column, message)
    assert e.row == index + 2
    assert "\n" not in e.oneline()


def test_rob_must_agree_between_arms(tmp_path, specs, write_csv):
    rows = list(ROWS)
    rows[1] = "S1,lmd,postop,42,6,rct,serious"
    with pytest.raises(InputError) as exc:
        read_table(_csv(tmp_path, write_csv, rows), specs)
    assert (exc.value.row, exc.value.column) == (3, "rob")


def test_bundled_data_have_no_design_or_rob(bundled_table, specs):
    # the paper names no design and no judgement for any one study (bundled/data/README.md)
    info = studies_of(outcome_table(bundled_table, specs["lmd"]), specs["lmd"])
    assert {(s.design, s.rob) for s in info} == {("", "")}

# -- [indirectness] in specs -------------------------------------------------------------------


def _spec(tmp_path, extra: str, top: str = ""):
    text = (BUNDLED_MODELS / "lmd.toml").read_text(encoding="utf-8")
    text = top + text.split("\n[indirectness]")[0] + extra
    path = tmp_path / "lmd.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_specs_declare_indirectness(specs):
    for spec in specs.values():
        assert spec.indirectness is not None
        assert spec.indirectness.rating == "not serious"
        assert "preop with postop SRS" in spec.indirectness.reason


def test_indirectness_is_optional(tmp_path):
    assert load_spec_file(_spec(tmp_path, "")).indirectness is None
    s = load_spec_file(_spec(tmp_path, '\n[indirectness]\nrating = "serious"\nreason = "x"\n'))
    assert (s.indirectness.rating, s.indirectness.reason) == ("serious", "x")


@pytest.mark.parametrize(("extra", "column"), [
    ('\n[indirectness]\nrating = "high"\nreason = "x"\n', "indirectness.rating"),
    ('\n[indirectness]\nrating = "serious"\n', "indirectness.reason"),
    ('\n[indirectness]\nrating = "serious"\nreason = "  "\n', "indirectness.reason"),
    ('\n[indirectness]\nrating = "serious"\nreason = "x"\nwhy = "y"\n', "indirectness.why"),
])
def test_bad_indirectness_is_an_error(tmp_path, extra, column):
    with pytest.raises(InputError) as exc:
        load_spec_file(_spec(tmp_path, extra))
    assert exc.value.column == column


def test_indirectness_must_be_a_table(tmp_path):
    with pytest.raises(InputError) as exc:
        load_spec_file(_spec(tmp_path, "", top='indirectness = "serious"\n'))
    assert exc.value.column == "indirectness" and "must be a table" in exc.value.message

# -- the weights file ------------------------------------------------------------------------


def test_bundled_weights_document_every_value():
    s = load_weights()
    assert s.path == str(DEFAULT_WEIGHTS)
    assert [(c.outcome, c.min_benefit) for c in s.criteria] == [
        ("lmd", 5.0), ("rn", 0.0), ("lc", -3.0)]
    # DBF is left out by default: it may include LMD, and a patient's event counts once
    assert s.weights == {"lmd": 1.0, "rn": 1.0, "lc": 1.0, "dbf": 0.0, "os": 0.0}
    assert "LMD" in s.rationales["dbf"] and "twice" in s.rationales["dbf"]
    assert s.contains == {} and s.unit == "weighted events avoided per 100 patients"
    assert all(s.rationales[k] for k in s.weights)
    assert all(c.rationale for c in s.criteria)
    assert s.multipliers == (0.5, 1.0, 2.0) and s.decision_probability == 0.95


def test_contains_declares_nested_outcomes(tmp_path):
    path = tmp_path / "w.toml"
    path.write_text('unit = "points"\n[[criterion]]\noutcome = "lmd"\nmin_benefit = 5\n'
                    '[weights.lmd]\nweight = 1\n[weights.dbf]\nweight = 1\n'
                    'contains = ["lmd"]\n', encoding="utf-8")
    s = load_weights(path)
    assert s.contains == {"dbf": ("lmd",)} and s.unit == "points"
    path.write_text('[[criterion]]\noutcome = "lmd"\nmin_benefit = 5\n'
                    '[weights.dbf]\nweight = 1\ncontains = ["dbf"]\n', encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_weights(path)
    assert exc.value.column == "weights.dbf.contains"


GOOD = ('[[criterion]]\noutcome = "lmd"\nmin_benefit = 5\n'
        '[weights.lmd]\nweight = 1\n')


@pytest.mark.parametrize(("text", "column"), [
    (GOOD + "[sensitivity]\nsteps = 3\n", "sensitivity.steps"),
    ('[weights.lmd]\nweight = 1\n', "criterion"),
    (GOOD.replace("min_benefit = 5", 'min_benefit = "5"'), "criterion[0].min_benefit"),
    (GOOD.replace("weight = 1", "weight = -1"), "weights.lmd.weight"),
    (GOOD.replace("weight = 1", "weight = 0"), "weights"),
    (GOOD + "[sensitivity]\nmultipliers = [0]\n", "sensitivity.multipliers"),
    ("decision_probability = 1.5\n" + GOOD, "decision_probability"),
    ("colour = 1\n" + GOOD, "colour"),
])
def test_bad_weights_file_is_an_error(tmp_path, text, column):
    path = tmp_path / "w.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_weights(path)
    assert exc.value.column == column and exc.value.file == str(path)
