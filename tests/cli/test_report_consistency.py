"""Every number is computed once: ``fit``, the sweep's reference row and the report agree.

All three run the same data, priors and seed on this machine, so the draws are the same bits
and the numbers must be equal exactly (across machines they agree within Monte Carlo error).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import REPORT_SETTINGS as SETTINGS
from srsbayes.analysis.outcome import derived_draws
from srsbayes.inference.fitting import FitSettings, fit_outcome


@pytest.fixture(scope="module")
def lmd_fit(bundled_table, specs):
    # with the pooled baseline, as the fit command and the report pass it
    from srsbayes.cli.fit import default_baselines

    return fit_outcome(bundled_table, specs["lmd"], settings=SETTINGS,
                       baselines=default_baselines(bundled_table, specs["lmd"]))


def test_fit_sweep_and_report_agree(lmd_fit, report_dir):
    s = json.loads(json.dumps(lmd_fit.summary.as_dict()))  # as fit writes it
    assert s["ok"]
    written = json.loads((report_dir / "lmd" / "summary.json").read_text())
    for key in ("prob_benefit", "prob_benefit_new_study", "effect", "tau", "prediction",
                "thresholds", "absolute", "nnt", "absolute_primary"):
        assert written[key] == s[key], key

    rows = pd.read_csv(report_dir / "lmd" / "sweep" / "sweep.csv")
    ref = json.loads((report_dir / "lmd" / "sweep" / "sweep.json").read_text())
    row = rows[rows["setting"] == ref["verdict"]["reference"]].iloc[0]
    assert row["prob_benefit"] == s["prob_benefit"]
    assert row["prob_benefit_new_study"] == s["prob_benefit_new_study"]
    assert [row["effect_lo"], row["effect_median"], row["effect_hi"]] == [
        s["effect"]["ci95"][0], s["effect"]["median"], s["effect"]["ci95"][1]]
    assert row["tau_median"] == s["tau"]["median"]
    thr = [c for c in rows.columns if c.startswith("p_")]
    assert [row[c] for c in thr] == [t["probability"] for t in s["thresholds"]]


def test_derived_group_is_what_the_report_reads(lmd_fit):
    derived = lmd_fit.idata["derived"]
    draws = derived_draws(lmd_fit)
    np.testing.assert_array_equal(draws["benefit"], np.asarray(derived["benefit"]).ravel())
    rd = np.asarray(derived["risk_difference"]).ravel()
    assert lmd_fit.summary["absolute"]["risk_difference"]["mean"] == rd.mean()


def test_quantiles_commute_with_exp(lmd_fit):
    """Order-statistic quantiles: median(exp θ) is exp(median θ) exactly, on any machine."""
    s = lmd_fit.summary
    assert s["effect"]["median"] == float(np.exp(s["log_effect"]["median"]))
    assert s["effect"]["ci95"] == [float(np.exp(v)) for v in s["log_effect"]["ci95"]]


def test_unconverged_fit_reports_no_estimate(bundled_table, specs):
    """A fit that fails its gate carries diagnostics and no number (tiny runs cannot pass)."""
    res = fit_outcome(bundled_table, specs["lmd"],
                      settings=FitSettings(draws=20, tune=20, chains=2, seed=11))
    assert not res.ok and res.estimates is None
    s = res.summary
    assert s["diagnostics"]["failures"]
    for key in ("effect", "log_effect", "prob_benefit", "thresholds", "absolute", "prediction",
                "nnt"):
        assert key not in s
    assert "derived" not in res.idata.children


def test_provenance_records_the_lock(lmd_fit):
    """Every output records the hash of the lock the environment was installed from."""
    lock = Path(__file__).resolve().parents[2] / "uv.lock"
    want = hashlib.sha256(lock.read_bytes()).hexdigest()
    assert lmd_fit.summary["versions"]["uv.lock sha256"] == want
    assert json.loads(lmd_fit.idata.attrs["srsbayes_versions"])["uv.lock sha256"] == want


def test_bias_adjusted_fit_sweep_row_and_certainty_agree(bundled_table, specs, report_dir):
    """``fit --bias-adjusted`` and the report's risk-of-bias rating read one number: the
    bias-adjusted fit's P(benefit) (same data, priors, bias terms and seed; the sweep's bias
    row is the same fit: tests/integration/test_sweep.py)."""
    from srsbayes.priors.bias import load_bias_priors

    adjusted = fit_outcome(bundled_table, specs["lmd"], settings=SETTINGS, checks=False,
                           bias=load_bias_priors())
    assert adjusted.ok
    assert {s["rule"] for s in adjusted.summary["bias_adjustment"]["studies"]} == {
        "observational"}  # the bundled data record no design
    written = json.loads((report_dir / "lmd" / "summary.json").read_text())
    rob = next(d for d in written["certainty"]["certainty"]["domains"]
               if d["domain"] == "risk of bias")
    # this report's grid has no data-level rows, so the report fitted it itself
    assert rob["values"]["bias_adjusted"]["prob_benefit"] == adjusted.summary["prob_benefit"]
    assert "bias-adjusted analysis keeps the conclusion" in rob["reason"] \
        or "bias-adjusted analysis would change the conclusion" in rob["reason"]
    assert rob["change"] == 0  # shown, not counted again (GRADE 18)
    # the unadjusted fit's tipping points are the same numbers in summary.json and
    # certainty.json's row (one computation)
    assert written["certainty"]["certainty"]["tipping_points"] == written["tipping_points"]
