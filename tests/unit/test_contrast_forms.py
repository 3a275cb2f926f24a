"""The forms in which this field publishes comparisons without a printed estimate (issue 23.4).

(a) arm rates at a horizon with n per arm and a two-sided p-value; (b) Peto's O - E and V;
(c) a p-value and the total number of events (hazard ratio); (d) a p-value alone: refused.

Numbers: form (a) uses the only comparative study with per-arm numbers in the public record
(Neurosurgery 2016;79:279, PMID 26528673; LMD at 2 years 3.2% of 66 preop vs 16.6% of 114
postop, P = .010; RN 4.9% vs 16.4%, P = .010, quoted in the bundled data README). Forms (b)
and (c) use round inputs chosen for hand arithmetic (not data). Expected values were computed
by hand from the formulas of Altman & Bland (2011, BMJ 343:d2090) and Tierney et al. (2007,
Trials 8:16): z for two-sided p = 0.01 is 2.5758293.
"""

from __future__ import annotations

import math

import pytest

from srsbayes.errors import InputError
from srsbayes.inputs.data import read_table
from srsbayes.inputs.specs import load_specs

HEADER = ("study,outcome,arm,measure,estimate,ci_low,ci_high,se,p_value,preop_percent,"
          "postop_percent,preop_n,postop_n,o_minus_e,v,events_total,lower_arm,time_months,"
          "source\n")
SPEC = """id = "{id}"
label = "X"
family = "contrast"
measure = "{measure}"
event = "x"
benefit = "lower"
[priors.effect]
dist = "normal(0, 1.5)"
rationale = "test"
[priors.tau]
dist = "halfnormal(0.5)"
rationale = "test"
"""


@pytest.fixture
def models(tmp_path):
    d = tmp_path / "models"
    d.mkdir()
    for oid, measure in (("rrx", "risk_ratio"), ("orx", "odds_ratio"), ("hrx", "hazard_ratio")):
        (d / f"{oid}.toml").write_text(SPEC.format(id=oid, measure=measure))
    return load_specs(d)


def _rows(tmp_path, write_csv, models, *lines):
    path = write_csv(tmp_path, HEADER + "".join(line + "\n" for line in lines))
    return read_table(path, models).frame


@pytest.mark.parametrize(("outcome", "measure", "a", "b", "y", "se"), [
    # LMD: log(3.2 / 16.6) = -1.6462519, SE = 1.6462519 / 2.5758293 = 0.6391153
    ("rrx", "rr", 3.2, 16.6, -1.6462519, 0.6391153),
    # LMD as an odds ratio: logit(0.032) - logit(0.166) = -1.7952506, SE = 0.6969602
    ("orx", "or", 3.2, 16.6, -1.7952506, 0.6969602),
    # RN: log(4.9 / 16.4) = -1.2080461, SE = 0.4689931
    ("rrx", "rr", 4.9, 16.4, -1.2080461, 0.4689931),
])
def test_arm_rates_with_p_value(tmp_path, write_csv, models, outcome, measure, a, b, y, se):
    (rec,) = _rows(tmp_path, write_csv, models,
                   f"Patel,{outcome},,{measure},,,,,0.010,{a},{b},66,114,,,,,24,abstract"
                   ).to_dict("records")
    assert rec["contrast_y"] == pytest.approx(y, abs=1e-6)
    assert rec["contrast_se"] == pytest.approx(se, abs=1e-6)
    assert rec["estimate"] == pytest.approx(math.exp(y), rel=1e-6)
    assert rec["contrast_rule"] == "arm rates and p-value"
    assert rec["contrast_approximate"] is True
    assert rec["n"] == 180 and rec["time_months"] == 24
    assert "at 24 months" in rec["contrast_detail"]
    assert "approximate" in rec["contrast_detail"]


def test_peto_o_minus_e_and_v(tmp_path, write_csv, models):
    # O - E = -10, V = 25: log HR = -0.4, SE = 1/5 = 0.2 (exact)
    (rec,) = _rows(tmp_path, write_csv, models,
                   "S,hrx,,hr,,,,,,,,,,-10,25,,,,x").to_dict("records")
    assert rec["contrast_y"] == pytest.approx(-0.4, abs=1e-12)
    assert rec["contrast_se"] == pytest.approx(0.2, abs=1e-12)
    assert rec["estimate"] == pytest.approx(math.exp(-0.4), rel=1e-12)
    assert rec["contrast_rule"] == "Peto O-E and V" and rec["contrast_approximate"] is False


@pytest.mark.parametrize(("arms", "lower", "y", "se"), [
    # 1:1: V = 100 / 4 = 25, O - E = -2.5758293 x 5 = -12.879147, log HR = -0.5151659, SE 0.2
    (",", "preop", -0.5151659, 0.2),
    (",", "postop", 0.5151659, 0.2),
    # R = 66/114: V = 40 R / (1 + R)^2 = 9.2888889, log HR = -z / sqrt(V) = -0.8451527,
    # SE = 1 / sqrt(V) = 0.3281090
    ("66,114", "preop", -0.8451527, 0.3281090),
])
def test_hazard_ratio_from_p_value_and_events(tmp_path, write_csv, models, arms, lower, y, se):
    events = 100 if arms == "," else 40
    (rec,) = _rows(tmp_path, write_csv, models,
                   f"S,hrx,,hr,,,,,0.01,,,{arms},,,{events},{lower},,x").to_dict("records")
    assert rec["contrast_y"] == pytest.approx(y, abs=1e-6)
    assert rec["contrast_se"] == pytest.approx(se, abs=1e-6)
    assert rec["contrast_rule"] == "p-value and events" and rec["contrast_approximate"] is True


def test_p_value_alone_is_refused_with_the_reason(tmp_path, write_csv, models):
    with pytest.raises(InputError) as exc:
        _rows(tmp_path, write_csv, models, "S,hrx,,hr,,,,,0.03,,,,,,,,,,Maroufi 2025")
    msg = exc.value.oneline()
    assert exc.value.row == 2 and exc.value.column == "estimate"
    assert "a p-value without an estimate cannot be pooled" in msg
    assert "neither how large the effect is nor in which direction" in msg


@pytest.mark.parametrize(("line", "column", "text"), [
    # arms' rates on a hazard-ratio outcome
    ("S,hrx,,hr,,,,,0.01,3.2,16.6,66,114,,,,,,x", "measure", "risk ratio or an odds ratio"),
    # a rate of 0 has no ratio
    ("S,rrx,,rr,,,,,0.01,0,16.6,66,114,,,,,,x", "preop_percent", "(0, 100)"),
    # the p-value is what gives the SE
    ("S,rrx,,rr,,,,,,3.2,16.6,66,114,,,,,,x", "p_value", "missing value"),
    # estimate beside a form
    ("S,rrx,,rr,0.2,,,,0.01,3.2,16.6,66,114,,,,,,x", "estimate", "derived from them"),
    # two forms
    ("S,hrx,,hr,,,,,,,,,,-10,25,40,preop,,x", "events_total", "two forms"),
    # events without the direction
    ("S,hrx,,hr,,,,,0.01,,,,,,,40,,,x", "lower_arm", "missing value"),
    ("S,hrx,,hr,,,,,,,,,,-10,0,,,,x", "v", "variance must be > 0"),
])
def test_form_errors_name_row_and_column(tmp_path, write_csv, models, line, column, text):
    with pytest.raises(InputError) as exc:
        _rows(tmp_path, write_csv, models, line)
    assert exc.value.column == column and exc.value.row == 2
    assert text in exc.value.oneline()


def test_horizon_accepts_either_name(tmp_path, write_csv, models):
    header = "study,outcome,arm,measure,estimate,se,follow_up_months,time_months\n"
    path = write_csv(tmp_path, header + "S,hrx,,hr,0.5,0.3,24,\nT,hrx,,hr,0.6,0.3,,12\n")
    frame = read_table(path, models).frame
    assert frame["time_months"].tolist() == [24, 12]
    assert frame["follow_up_months"].tolist() == [24, 12]
    path = write_csv(tmp_path, header + "S,hrx,,hr,0.5,0.3,24,12\n")
    with pytest.raises(InputError, match="differ; both name the horizon"):
        read_table(path, models)


def test_arm_row_horizon_may_be_time_months(tmp_path, write_csv, specs):
    path = write_csv(tmp_path, "study,outcome,arm,n,events,time_months\n"
                               "S,lmd,preop,50,2,12\nS,lmd,postop,50,6,12\n"
                               "T,lmd,preop,40,1,18\nT,lmd,postop,40,5,18\n")
    frame = read_table(path, specs).frame
    assert frame["follow_up_months"].tolist() == [12, 12, 18, 18]
    path = write_csv(tmp_path, "study,outcome,arm,n,events,follow_up_months,time_months\n"
                               "S,lmd,preop,50,2,12,24\nS,lmd,postop,50,6,12,12\n")
    with pytest.raises(InputError) as exc:
        read_table(path, specs)
    assert exc.value.column == "time_months" and exc.value.row == 2


def test_form_columns_on_an_arm_row_are_an_error(tmp_path, write_csv, specs):
    path = write_csv(tmp_path, "study,outcome,arm,n,events,preop_percent\n"
                               "S,lmd,preop,50,2,4\nS,lmd,postop,50,6,\n")
    with pytest.raises(InputError) as exc:
        read_table(path, specs)
    assert (exc.value.row, exc.value.column) == (2, "preop_percent")
    assert "only on a contrast row" in exc.value.oneline()
