"""Risk of bias and design, where the data record them, are shown in the forest plot and
the report's study list (and said to be "not assessed" where they are not)."""

from __future__ import annotations

from srsbayes.analysis.data import study_list
from srsbayes.plots.figures import study_label


def test_forest_label_carries_design_and_rob():
    assert study_label({"study": "Patel 2016", "design": "retrospective",
                        "rob": "serious"}) == "Patel 2016 (retrospective; RoB serious)"
    assert study_label({"study": "Study A"}) == "Study A"


def test_study_list_records_design_and_rob(tmp_path, specs):
    from srsbayes.inputs.data import read_table

    csv = tmp_path / "s.csv"
    csv.write_text("study,outcome,arm,n,events,design,rob\n"
                   "P,lmd,preop,66,2,retrospective,serious\n"
                   "P,lmd,postop,114,19,retrospective,serious\n"
                   "Q,lmd,preop,40,1,prospective,\n"
                   "Q,lmd,postop,40,4,prospective,\n")
    studies = {s["study"]: s for s in study_list(read_table(csv, specs))}
    assert studies["P"]["design"] == ["retrospective"] and studies["P"]["rob"] == ["serious"]
    assert studies["Q"]["design"] == ["prospective"] and studies["Q"]["rob"] == []
