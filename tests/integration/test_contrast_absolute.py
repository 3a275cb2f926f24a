"""Absolute effects of published ratios at a stated baseline risk p0 (issue 23.5).

OR: p1 = OR p0 / (1 - p0 + OR p0); RR: p1 = RR p0; HR (at the horizon of p0, proportional
hazards): p1 = 1 - (1 - p0)^HR. Hand-computed values for OR = RR = HR = 0.5 at p0 = 0.12:
0.06 / 0.94 = 0.0638298, 0.06, 1 - 0.88^0.5 = 0.0619168.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from srsbayes.certainty.sof import outcome_baselines, takes_stated_risk
from srsbayes.families.contrast import check_stated_baseline, preop_risk
from srsbayes.inputs.specs import load_specs

MODELS = Path(__file__).parents[1] / "data" / "contrast_models"
# the eight schools (Rubin 1981; bayesmeta vignette), as in tests/integration/test_contrast_fit.py
SCHOOLS_Y = (28.39, 7.94, -2.75, 6.82, -0.64, 0.63, 18.01, 12.16)
SCHOOLS_SE = (14.9, 10.2, 16.3, 11.0, 9.4, 11.4, 10.4, 17.6)
HEADER = "study,outcome,arm,measure,estimate,ci_low,ci_high,se"


@pytest.mark.parametrize(("code", "p1"), [("or", 0.06 / 0.94), ("rr", 0.06),
                                          ("hr", 0.0619168), ("shr", 0.0619168)])
def test_preop_risk_by_hand(code, p1):
    assert preop_risk(code, math.log(0.5), 0.12) == pytest.approx(p1, abs=1e-7)


def test_risk_ratio_is_capped_at_one():
    assert preop_risk("rr", math.log(3.0), 0.5) == 1.0


def test_stated_baseline_checks_the_measure():
    specs = load_specs(MODELS)
    assert check_stated_baseline(0.12, specs["schools_hr"]) is None
    assert "(0, 1)" in check_stated_baseline(1.2, specs["schools_hr"])
    why = check_stated_baseline(0.12, specs["schools"])
    assert "pools mean differences" in why
    assert takes_stated_risk(specs["schools_hr"]) and not takes_stated_risk(specs["schools"])
    stated = {"schools_hr": [0.12]}
    (b,) = outcome_baselines(specs["schools_hr"], None, stated)
    assert b.value == 0.12
    assert outcome_baselines(specs["schools"], None, {"schools": [0.12]}) == []


def _hr_csv(path: Path) -> Path:
    """The eight schools as hazard ratios exp(-y/100) with SE s/100 (as the schools_hr spec
    of tests/data/contrast_models describes them)."""
    rows = [f"School {i},schools_hr,,hr,{math.exp(-y / 100)!r},,,{s / 100!r}"
            for i, (y, s) in enumerate(zip(SCHOOLS_Y, SCHOOLS_SE, strict=True))]
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def test_fit_at_a_stated_baseline_for_hazard_ratios(tmp_path, run_cli):
    data = _hr_csv(tmp_path / "hr.csv")
    status, out, err = run_cli(["fit", "schools_hr", "--data", data, "--models", MODELS,
                                "--baseline", "0.12", "--seed", "7", "--out", tmp_path / "o"])
    assert status == 0, err
    assert "proportional hazards" in out
    s = json.loads((tmp_path / "o" / "summary.json").read_text())
    (at,) = s["absolute_at_baseline"]
    assert at["label"].startswith("at a stated postop risk of 12% (preop risk 1 − (1 − p0)^HR")
    # the risk difference is increasing in θ, so its median and 95% limits are the
    # transform of θ's (same draws: equal up to the interpolation between two draws)
    theta = s["log_effect"]
    rd = at["risk_difference"]

    def f(t: float) -> float:
        return 100 * (preop_risk("hr", t, 0.12) - 0.12)

    assert rd["median"] == pytest.approx(f(theta["median"]), abs=1e-3)
    np.testing.assert_allclose(rd["ci95"], [f(theta["ci95"][0]), f(theta["ci95"][1])],
                               atol=1e-2)
    assert at["level_preop"]["median"] == pytest.approx(10 * (rd["median"] + 12), abs=1e-2)


def test_fit_refuses_a_baseline_for_a_mean_difference(tmp_path, run_cli):
    data = tmp_path / "md.csv"
    rows = [f"School {i},schools,,mean_difference,{y!r},,,{s!r}"
            for i, (y, s) in enumerate(zip(SCHOOLS_Y, SCHOOLS_SE, strict=True))]
    data.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    status, _, err = run_cli(["fit", "schools", "--data", data, "--models", MODELS,
                              "--baseline", "0.12", "--out", tmp_path / "o"])
    assert status == 2
    assert "--baseline" in err and "mean differences" in err
    assert not (tmp_path / "o").exists()
