"""Publication bias with ten or more studies: Peters' test for counts, the funnel plot."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from srsbayes.certainty.publication_bias import peters_test, rate_publication_bias
from srsbayes.plots.funnel import fixed_effect, funnel_limits, funnel_png


def _wls(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Slope and its SE of a weighted regression, by numpy's polynomial fit (independent
    of the implementation under test)."""
    coef, cov = np.polyfit(x, y, 1, w=np.sqrt(w), cov="unscaled")
    resid = y - np.polyval(coef, x)
    sigma2 = float(np.sum(w * resid**2)) / (x.size - 2)
    return float(coef[0]), math.sqrt(sigma2 * cov[0, 0])


def test_peters_matches_an_independent_weighted_regression():
    rng = np.random.default_rng(7)
    n = rng.integers(40, 900, 14)
    events = rng.binomial(n, 0.3)
    log_or = rng.normal(-0.3, 0.2, 14) + 40 / n  # small studies report larger effects
    p = peters_test(log_or, n, events)
    w = events * (n - events) / n
    slope, se = _wls(1 / n, log_or, w)
    assert math.isclose(p.slope, slope, rel_tol=1e-9)
    assert math.isclose(p.se, se, rel_tol=1e-9)
    assert math.isclose(p.p, 2 * stats.t.sf(abs(slope / se), 12), rel_tol=1e-9)
    assert p.df == 12


def test_binary_studies_are_rated_with_peters_and_others_with_egger():
    n = np.array([40, 60, 80, 100, 150, 200, 300, 400, 600, 800], dtype=float)
    events = np.round(0.25 * n)
    se = np.sqrt(4 / events)  # roughly the SE of a log OR with balanced arms
    asym = -0.2 + 30 / n + np.tile([0.01, -0.01], 5)  # effect grows as N falls
    d = rate_publication_bias(list("ABCDEFGHIJ"), asym, se, n, events)
    assert "peters" in d.values and "egger" not in d.values
    assert (d.rating, d.change) == ("serious", -1) and d.values["peters"]["p"] < 0.10
    assert d.reason.startswith("Peters' test suggests small-study effects")
    flat = rate_publication_bias(list("ABCDEFGHIJ"), -0.2 + np.tile([0.05, -0.05], 5), se,
                                 n, events)
    assert (flat.rating, flat.change) == ("not serious", 0)
    no_counts = rate_publication_bias(list("ABCDEFGHIJ"), asym, se, n,
                                      np.full(10, np.nan))
    assert "egger" in no_counts.values and "peters" not in no_counts.values


def test_funnel_is_centred_on_the_fixed_effect_with_pseudo_limits():
    y, s = np.array([0.1, 0.3, -0.2]), np.array([0.1, 0.2, 0.4])
    w = 1 / s**2
    assert fixed_effect(y, s) == pytest.approx(float((w * y).sum() / w.sum()), rel=1e-12)
    se, lo, hi = funnel_limits(0.5, 2.0, points=3)
    assert list(se) == [0.0, 1.0, 2.0]
    assert hi[2] - 0.5 == pytest.approx(2 * 1.959963984540054)
    assert lo[0] == hi[0] == 0.5


def test_funnel_png_draws_from_the_domain_values():
    se = np.linspace(0.1, 1.0, 10)
    d = rate_publication_bias(list("ABCDEFGHIJ"), 0.2 * se, se)
    png = funnel_png(d.values["funnel"], "log odds ratio",
                     test=f"Egger's test p = {d.values['egger']['p']:.2f}")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
