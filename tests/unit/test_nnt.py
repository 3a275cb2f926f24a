"""Numbers needed to treat: NNTB, NNTH and intervals through infinity (Altman 1998), on
constructed quantiles and draws with known answers."""

from __future__ import annotations

import doctest
import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from srsbayes.families import binomial, nnt
from srsbayes.families.nnt import interval_text, nnt_from_draws, nnt_summary


def test_doctests():
    assert doctest.testmod(nnt).failed == 0


def test_benefit_only_interval():
    # benefit 2 to 10 points, median 5: NNTB 20 (NNTB 10 to 50)
    s = nnt_summary(2.0, 5.0, 10.0)
    assert (s["median"], s["kind"], s["ci95"]) == (20.0, "NNTB", [10.0, 50.0])
    assert s["includes_no_effect"] is False
    assert s["text"] == "NNTB 20 (NNTB 10 to 50)"


def test_harm_only_interval_and_negative_median_is_an_nnth():
    s = nnt_summary(-10.0, -4.0, -2.0)
    assert (s["median"], s["kind"], s["ci95"]) == (-25.0, "NNTH", [-50.0, -10.0])
    assert s["text"] == "NNTH 25 (NNTH 10 to 50)"  # the smaller NNTH first


def test_interval_including_no_effect_runs_through_infinity():
    # Altman (1998): the benefit interval -2.5 to 20 points is NNTB 5 to ∞ to NNTH 40.
    s = nnt_summary(-2.5, 8.4, 20.0)
    assert s["ci95"] == [5.0, -40.0] and s["includes_no_effect"] is True
    assert s["median"] == pytest.approx(100 / 8.4) and s["kind"] == "NNTB"
    assert s["text"] == "NNTB 12 (NNTB 5 to ∞ to NNTH 40)"  # 11.9 rounded up
    assert (s["head"], s["interval_text"]) == ("NNTB 12", "NNTB 5 to ∞ to NNTH 40")
    harm = nnt_summary(-20.0, -1.0, 4.0)
    assert harm["kind"] == "NNTH" and harm["median"] == -100.0
    assert harm["text"] == "NNTH 100 (NNTB 25 to ∞ to NNTH 5)"


def test_no_effect_exactly_is_infinite_and_json_safe():
    s = nnt_summary(0.0, 5.0, 10.0)
    assert s["ci95"] == [10.0, None] and s["includes_no_effect"] is True
    assert s["text"] == "NNTB 20 (NNTB 10 to ∞)"
    zero = nnt_summary(-5.0, 0.0, 5.0)
    assert (zero["median"], zero["kind"]) == (None, None)
    assert zero["text"] == "NNT ∞ (NNTB 20 to ∞ to NNTH 20)"
    for value in (s, zero):
        assert json.loads(json.dumps(value, allow_nan=False)) == value
    with pytest.raises(ValueError, match="above"):
        interval_text(3.0, 1.0)


def _blocks() -> np.ndarray:
    """1000 draws whose 2.5%, 50% and 97.5% order statistics are -2.5, 8.4 and 20 with a
    margin of at least 5 draws either side (so no convention of the quantile's index moves
    them): sorted positions 20-29 are -2.5, 470-529 are 8.4, 970-979 are 20."""
    values = [(-10.0, 20), (-2.5, 10), (1.0, 440), (8.4, 60), (15.0, 440), (20.0, 10),
              (30.0, 20)]
    draws = np.concatenate([np.full(n, v) for v, n in values])
    return np.random.default_rng(5).permutation(draws)


def test_from_draws():
    b = _blocks()
    assert nnt_from_draws(b)["text"] == "NNTB 12 (NNTB 5 to ∞ to NNTH 40)"
    harm = nnt_from_draws(-b)
    assert harm["kind"] == "NNTH" and harm["ci95"] == [40.0, -5.0]
    assert harm["text"] == "NNTH 12 (NNTB 40 to ∞ to NNTH 5)"


def test_binomial_extra_summary_reports_the_nnt():
    wide = pd.DataFrame({"study": ["S1", "S2"], "events_rule_preop": ["reported"] * 2,
                         "events_rule_postop": ["reported"] * 2})
    data = {"y_preop": np.array([1, 2]), "n_preop": np.array([40, 50]),
            "y_postop": np.array([5, 6]), "n_postop": np.array([40, 50])}
    benefit = xr.DataArray(_blocks().reshape(4, 250), dims=("chain", "draw"))
    out = binomial.extra_summary(wide, data, {"benefit": benefit})
    assert out["nnt"]["text"] == "NNTB 12 (NNTB 5 to ∞ to NNTH 40)"
    assert out["nnt"]["ci95"] == [5.0, -40.0]
    assert json.dumps(out, allow_nan=False)
    assert [r["events"] for r in out["count_rules"]] == [1, 5, 2, 6]
