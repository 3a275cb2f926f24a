"""The median family's SE inflation λ is bounded below by 1 (issue: honest λ).

With λ free, the studies' too-small scatter (the audit's homogeneity finding) pulled λ below
its physical minimum and narrowed the pooled interval; the bound keeps every draw ≥ 1.
"""

from __future__ import annotations

import numpy as np
import pytest

from srsbayes.families.lognormal_median import SE_INFLATION_MIN
from srsbayes.inference.fitting import FitSettings, fit_outcome


@pytest.fixture(scope="module")
def os_fit(bundled_table, specs):
    return fit_outcome(bundled_table, specs["os"], settings=FitSettings(seed=3), checks=False)


def test_every_draw_of_the_inflation_is_at_least_one(os_fit):
    assert os_fit.ok
    lam = np.asarray(os_fit.idata["posterior"]["se_inflation"]).ravel()
    assert SE_INFLATION_MIN == 1.0
    assert lam.min() > 1.0
    s = os_fit.summary["se_inflation"]
    assert s["ci95"][0] > 1.0 and s["median"] > s["ci95"][0]
