"""Issue 22 item 5 (part): the sweep verdict reports the range of P(benefit) across its
settings and names the settings that flip, instead of "flips with the choice of priors".
The P(benefit) values are constructed (the issue's LMD sweep: every non-sceptical prior
>= 0.99, the sceptical normal(0, 0.35) rows 0.898 and 0.934)."""

from __future__ import annotations

import pandas as pd

from srsbayes.sensitivity.verdict import verdict


def test_range_names_the_priors_that_flip():
    rows = pd.DataFrame({
        "setting": ["default", "tau halfnormal(1)", "effect normal(0, 5)",
                    "sceptical normal(0, 0.35)", "sceptical normal(0, 0.35), tau HN(1)"],
        "kind": ["prior"] * 5, "ok": [True] * 5,
        "prob_benefit": [0.996, 0.993, 0.997, 0.934, 0.898],
        "prob_benefit_mcse": [0.001, 0.001, 0.001, 0.004, 0.005]})
    v = verdict(rows, 0.95, reference="default")
    assert v["robust"] is False and v["prob_benefit_range"] == [0.898, 0.997]
    assert v["range_text"] == (
        "P(benefit) 0.898 to 0.997 across 5 settings; below 0.95 only with "
        "'sceptical normal(0, 0.35)' (0.934), 'sceptical normal(0, 0.35), tau HN(1)' (0.898)")
    robust = verdict(rows.iloc[:3], 0.95, reference="default")
    assert robust["range_text"] == "P(benefit) 0.993 to 0.997 across 3 settings"
