"""Say what was pooled (issue 23.6): other measures pooled as the outcome's, approximated
SEs, one study; a contrast outcome's verb from its measure; default outputs of user data.

The summaries here are the fields these functions read, as ``summary.json`` has them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from srsbayes.families.contrast import pooled_note
from srsbayes.report.text import verb
from srsbayes.report.wording import opposite
from srsbayes.resources import BUNDLED_DATA, default_out

HR_AS_OR = [{"study": "A", "row": 2, "measure": "hr", "pooled_as": "or"},
            {"study": "C", "row": 5, "measure": "hr", "pooled_as": "or"}]


def test_hazard_ratios_pooled_as_odds_ratios_are_named():
    s = {"n_studies": 4, "approximations": HR_AS_OR}
    assert pooled_note(s) == ("2 of 4 studies' hazard ratios pooled as odds ratios (an "
                              "approximation the spec allows)")
    s = {"n_studies": 4, "approximations": HR_AS_OR[:1]}
    assert pooled_note(s).startswith("1 of 4 studies' hazard ratio pooled as odds ratios")


def test_one_study_and_approximate_se_are_named():
    s = {"n_studies": 1, "se_approximations": [
        {"study": "X", "row": 2, "rule": "arm rates and p-value", "detail": "..."}]}
    assert pooled_note(s) == ("one study, not a meta-analysis; its standard error "
                              "approximated (arm rates and p-value)")
    assert pooled_note({"n_studies": 4, "approximations": []}) == ""


@pytest.mark.parametrize(("code", "benefit", "good", "bad"), [
    ("mean_difference", "higher", "increases score gain", "decreases score gain"),
    ("mean_difference", "lower", "decreases score gain", "increases score gain"),
    ("hr", "lower", "lowers the risk of score gain", "raises the risk of score gain"),
    ("ratio_of_medians", "higher", "lengthens the median time to score gain",
     "shortens the median time to score gain"),
])
def test_verb_follows_the_measure_and_benefit(code, benefit, good, bad):
    s = {"family": "contrast", "measure_code": code, "benefit": benefit,
         "event": "score gain", "label": "SAT coaching"}
    assert verb(s) == good
    assert opposite(s) == bad


def test_default_outputs_of_user_data_never_overwrite_the_bundled_report(tmp_path,
                                                                         monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert default_out("lmd") == tmp_path / "reports" / "lmd"
    assert default_out("lmd", data=BUNDLED_DATA / "studies.csv") == tmp_path / "reports" / "lmd"
    assert default_out("lmd", "sweep", data=Path("my_studies.csv")) == (
        tmp_path / "reports" / "my_studies" / "lmd" / "sweep")
    assert default_out(data=BUNDLED_DATA / "real_record.csv") == (
        tmp_path / "reports" / "real_record")


def test_fit_of_user_data_writes_under_its_stem(tmp_path, monkeypatch, run_cli):
    monkeypatch.chdir(tmp_path)
    data = Path(__file__).parents[1] / "data" / "mixed_lmd.csv"
    status, out, err = run_cli(["fit", "lmd", "--data", data, "--draws", "300", "--seed", "5"])
    assert status in (0, 3), err
    assert (tmp_path / "reports" / "mixed_lmd" / "lmd" / "summary.json").is_file()
    assert not (tmp_path / "reports" / "lmd").exists()
    assert "reports/mixed_lmd/lmd" in out
