"""The sweep verdict (issue 12, item 6): qualified "every", borderline rows within Monte
Carlo error of the decision probability, and the kind of the rows that flip.

All pure functions of a table, except the MCSE of an indicator, which is checked against
the textbook binomial formula on independent and on autocorrelated draws.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from arviz_stats import ess

from srsbayes.sensitivity.verdict import (
    BORDERLINE_MCSE,
    conclusion_text,
    indicator_mcse,
    is_borderline,
    kinds_phrase,
    verdict,
)


def _rows(probs, *, ok=None, mcse=None, kinds=None, labels=None) -> pd.DataFrame:
    n = len(probs)
    data = {"setting": labels or [f"s{i}" for i in range(n)],
            "kind": kinds or ["prior"] * n,
            "ok": ok if ok is not None else [True] * n,
            "prob_benefit": probs}
    if mcse is not None:
        data["prob_benefit_mcse"] = mcse
    return pd.DataFrame(data)


# -- "every" only when nothing failed the gate ---------------------------------------------------


def test_failed_settings_qualify_every():
    v = verdict(_rows([0.99, math.nan, 0.98], ok=[True, False, True]), 0.95, reference="s0")
    assert v["robust"] and not v["complete"]
    assert (v["n_settings"], v["n_converged"], v["n_failed"]) == (3, 2, 1)
    assert "every setting that converged (2 of 3; 1 failed the gate;" in v["text"]
    assert "all 2" not in v["text"] and "a flip may hide among them" in v["text"]
    # Robust absence of benefit, with a failure: "none of the settings that converged".
    v = verdict(_rows([0.6, math.nan, 0.7], ok=[True, False, True]), 0.95, reference="s0")
    assert "none of the settings that converged (2 of 3; 1 failed the gate;" in v["text"]


def test_all_means_all_when_every_setting_converged_and_is_decided():
    v = verdict(_rows([0.99, 0.97], mcse=[0.001, 0.002]), 0.95, reference="s0")
    assert v["complete"] and v["n_failed"] == 0 and v["n_borderline"] == 0
    assert v["text"] == ("ROBUST: the decision threshold P(benefit) >= 0.95 is met in all 2 "
                         "converged settings (P(benefit) 0.970 to 0.990).")


# -- borderline rows ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("p", "mcse", "expected"),
    [(0.945, 0.003, True),    # 0.005 < 2 x 0.003
     (0.945, 0.0025, False),  # 0.005 = 2 x 0.0025: not within
     (0.955, 0.003, True),
     (0.95, 0.0, False),      # no Monte Carlo error: exactly 0.95 meets the rule
     (0.942, math.nan, False)],
)
def test_is_borderline(p, mcse, expected):
    assert BORDERLINE_MCSE == 2.0
    assert is_borderline(p, mcse, 0.95) is expected


def test_a_borderline_row_is_neither_a_hold_nor_a_flip():
    # RN-like: one setting at 0.942 with MCSE 0.006 (2 MCSE = 0.012 > 0.008 from 0.95).
    rows = _rows([0.99, 0.942, 0.97], mcse=[0.001, 0.006, 0.002])
    v = verdict(rows, 0.95, reference="s0")
    assert v["robust"] and v["flips"] == [] and not v["holds_everywhere"]
    assert (v["n_borderline"], v["n_decided"]) == (1, 2) and not v["complete"]
    assert v["borderline"] == [{"setting": "s1", "kind": "prior", "prob_benefit": 0.942,
                                "mcse": 0.006, "conclusion": "P(benefit) < 0.95"}]
    assert ("met in every setting that converged and is not borderline (2 of 3; 1 borderline;"
            in v["text"])
    assert "'s1' (0.942 ± 0.006)" in v["text"] and "neither a hold nor a flip" in v["text"]
    # The same P(benefit) known more precisely (2 MCSE = 0.006 < 0.008) is a flip.
    v = verdict(rows.assign(prob_benefit_mcse=[0.001, 0.003, 0.002]), 0.95, reference="s0")
    assert not v["robust"] and [f["setting"] for f in v["flips"]] == ["s1"]
    assert v["text"].startswith("NOT ROBUST")


def test_borderline_reference_defers_to_the_decided_settings():
    v = verdict(_rows([0.951, 0.99, 0.98, 0.90], mcse=[0.004, 0.001, 0.001, 0.002]), 0.95,
                reference="s0")
    assert v["reference"] is None and v["conclusion"] == "P(benefit) >= 0.95"
    assert [f["setting"] for f in v["flips"]] == ["s3"]
    assert "in most decided settings (the default setting is borderline)" in v["text"]


def test_all_borderline_decides_nothing():
    v = verdict(_rows([0.948, 0.953], mcse=[0.002, 0.003]), 0.95, reference="s0")
    assert v["assessable"] and not v["robust"] and v["conclusion"] is None
    assert v["flips"] == [] and v["n_decided"] == 0
    assert v["text"].startswith("BORDERLINE: in each of the 2 converged settings")


def test_conclusion_text_of_a_borderline_row():
    assert conclusion_text(0.948, 0.95, 0.002) == (
        "borderline: P(benefit) within 2 Monte Carlo SEs of 0.95")
    assert conclusion_text(0.948, 0.95, 0.0) == "P(benefit) < 0.95"
    assert conclusion_text(math.nan, 0.95, 0.01) == "not assessable"


# -- the kind of row that flipped ---------------------------------------------------------------


def test_verdict_names_the_kinds_that_flip():
    rows = _rows([0.99, 0.90, 0.93, 0.97, 0.96],
                 kinds=["prior", "prior", "leave-one-out", "rounding", "leave-one-out"])
    v = verdict(rows, 0.95, reference="s0")
    assert [(f["setting"], f["kind"]) for f in v["flips"]] == [("s1", "prior"),
                                                                ("s2", "leave-one-out")]
    assert v["flip_kinds"] == ["prior", "leave-one-out"]
    assert v["flip_what"] == "the choice of priors and leaving out one study"
    assert "flips in 2 of 5 converged settings (1 prior row, 1 leave-one-out row):" in v["text"]


def test_a_data_flip_is_not_called_a_prior_flip():
    rows = _rows([0.99, 0.97, 0.91, 0.93],
                 kinds=["prior", "prior", "leave-one-out", "leave-one-out"])
    v = verdict(rows, 0.95, reference="s0")
    assert v["flip_kinds"] == ["leave-one-out"] and v["flip_what"] == "leaving out one study"
    assert "(2 leave-one-out rows)" in v["text"] and "prior" not in v["flip_what"]


def test_kinds_phrase():
    assert kinds_phrase([]) == ""
    assert kinds_phrase(["rounding"]) == "the rounding of the counts"
    assert kinds_phrase(["prior", "coding", "km"]) == (
        "the choice of priors, the coding of the arms and the km rows")


def test_verdict_without_kind_or_mcse_columns_keeps_its_old_meaning():
    v = verdict(pd.DataFrame({"setting": ["a", "b"], "ok": [True, True],
                              "prob_benefit": [0.99, 0.90]}), 0.95, reference="a")
    assert [f["kind"] for f in v["flips"]] == ["prior"] and v["n_borderline"] == 0


# -- Monte Carlo standard error of P(benefit) ------------------------------------------------


def _draws(x: np.ndarray) -> xr.DataArray:
    return xr.DataArray(x, dims=("chain", "draw"))


def test_indicator_mcse_matches_the_binomial_formula():
    rng = np.random.default_rng(20260226)
    iid = _draws(rng.random((4, 1000)) < 0.95)
    p = float(iid.mean())
    # Independent draws: sqrt(p (1 - p) / S) with S = 4000, within the ESS's own noise.
    assert indicator_mcse(iid) == pytest.approx(math.sqrt(p * (1 - p) / 4000), rel=0.1)
    # In general sqrt(p (1 - p) / ESS), with the ESS of the indicator's mean.
    n_eff = float(ess(iid.astype(float), method="mean"))
    assert indicator_mcse(iid) == pytest.approx(math.sqrt(p * (1 - p) / n_eff), rel=1e-3)


def test_indicator_mcse_grows_with_autocorrelation_and_vanishes_for_constants():
    rng = np.random.default_rng(7)
    z = np.zeros((4, 2000))
    for t in range(1, 2000):  # AR(1), rho = 0.9: ESS about S (1 - rho) / (1 + rho) = S / 19
        z[:, t] = 0.9 * z[:, t - 1] + rng.standard_normal(4)
    ind = _draws(z > -1.6 * z.std())
    p = float(ind.mean())
    naive = math.sqrt(p * (1 - p) / z.size)
    assert indicator_mcse(ind) > 2.5 * naive
    assert indicator_mcse(_draws(np.ones((4, 100), dtype=bool))) == 0.0
    assert indicator_mcse(_draws(np.zeros((4, 100), dtype=bool))) == 0.0


def test_terminal_table_marks_borderline_rows():
    from srsbayes.sensitivity.sweep import format_table

    rows = pd.DataFrame({"setting": ["a", "b", "c"], "ok": [True, True, False],
                         "prob_benefit": [0.99, 0.948, math.nan],
                         "effect_median": [0.3, 0.4, math.nan], "effect_lo": [0.1, 0.1, math.nan],
                         "effect_hi": [0.9, 1.1, math.nan], "tau_median": [0.2, 0.3, math.nan],
                         "conclusion": ["P(benefit) >= 0.95", conclusion_text(0.948, 0.95, 0.002),
                                        "not assessable"]})
    lines = format_table(rows).splitlines()
    assert lines[1] == "a      0.990    0.30 (0.10-0.90)    0.20   yes"
    assert lines[2] == "b      0.948~   0.40 (0.10-1.10)    0.30   yes"
    assert "not assessable" in lines[3] and lines[4].startswith("~ borderline: within 2 Monte")
    assert "~" not in format_table(rows.iloc[[0, 2]])


# -- typed statuses and rows, JSON unchanged -------------------------------------------------------


def test_statuses_are_str_enums_and_json_reads_the_same():
    import json

    from srsbayes.sensitivity.verdict import Status, status

    assert status(0.97, 0.001, 0.95) is Status.HOLDS
    assert status(0.90, 0.001, 0.95) is Status.FAILS
    assert status(0.951, 0.001, 0.95) is Status.BORDERLINE  # 0.001 < 2 x 0.001
    assert json.dumps([Status.HOLDS, Status.BORDERLINE]) == '["holds", "borderline"]'
    v = verdict(_rows([0.99, 0.90, 0.951], mcse=[0.001, 0.001, 0.001]), 0.95, reference="s0")
    # flips and borderline rows leave the verdict as plain JSON objects
    assert v["flips"] == [{"setting": "s1", "kind": "prior", "prob_benefit": 0.90,
                           "mcse": 0.001, "conclusion": "P(benefit) < 0.95"}]
    assert [b["setting"] for b in v["borderline"]] == ["s2"]
    assert json.loads(json.dumps(v)) == v


def test_sweep_row_record_has_the_table_columns_in_order():
    from srsbayes.priors.distributions import parse_prior
    from srsbayes.sensitivity.rows import Identity, Method, SweepRow, frame

    who = Identity.of("default", "prior", "all studies", "", 4,
                      {"effect": parse_prior("normal(0, 1.5)"),
                       "tau": parse_prior("halfnormal(0.5)"),
                       "baseline": parse_prior("normal(0, 2.5)")})
    row = SweepRow(who, True, "P(benefit) >= 0.95", True, prob_benefit=0.99,
                   thresholds=(("p_risk_difference_5", 0.7),), method=Method.PSIS,
                   pareto_khat=0.3, weights_ess=2500.0, seconds=0.0)
    rec = row.record()
    cols = list(rec)
    assert cols[:10] == ["setting", "kind", "data", "data_detail", "n_studies", "effect_prior",
                         "effect_prior_label", "tau_prior", "tau_prior_label", "other_priors"]
    assert cols.index("p_risk_difference_5") == cols.index("prob_benefit_new_study") + 1
    assert cols[cols.index("p_risk_difference_5") + 1:][:4] == [
        "meets_decision", "conclusion", "ok", "failures"]
    assert cols[-4:] == ["method", "pareto_khat", "weights_ess", "refit_reason"]
    assert rec["method"] == "psis" and type(rec["method"]) is str
    assert rec["other_priors"] == "baseline=normal(0, 2.5)"
    assert "seconds" not in rec
    assert frame([row, row]).shape == (2, len(rec))
