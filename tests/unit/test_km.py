"""Rates marked ``rate_type = km`` (Kaplan-Meier): a count set widened by the design effect.

The rule (:func:`srsbayes.families.binomial.count_set`): a flat set of counts within
``± a`` of the rate, ``a = sqrt(3 (D - 1) p (1 - p) / n)``, makes the likelihood as wide
as that of ``Binomial(n / D, p)``, with the stated design effect ``D = 2``.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from srsbayes.errors import InputError
from srsbayes.families import binomial as b
from srsbayes.inputs.data import outcome_table, read_table


def test_km_sets_by_hand():
    # LMD Study A preop 2% of 45: p(1 - p)/n = 0.0209^2, a = sqrt(3) * 0.0209 = 3.6 points:
    # counts with 100 k / 45 in [-1.6, 5.6] -> 0..2 (the crude set is {1}).
    assert b.count_set(2, 45, 0, "rounded") == (1, 1)
    assert b.count_set(2, 45, 0, "km") == (0, 2)
    # LMD Study B postop 13% of 65: a = sqrt(3 * 0.1131 / 65) = 7.2 points -> 3.75..13.15
    assert b.count_set(13, 65, 0, "km") == (4, 13)
    # a rate of 0% stays 0 events (no variance to widen by)
    assert b.count_set(0, 40, 0, "km") == (0, 0)
    with pytest.raises(ValueError, match="unknown count model"):
        b.count_set(2, 45, 0, "actuarial")


def test_km_set_contains_the_rounding_set():
    for n in (5, 17, 45, 100, 333):
        for p in range(101):
            lo, hi = b.count_set(p, n, 0, "rounded")
            klo, khi = b.count_set(p, n, 0, "km")
            assert 0 <= klo <= lo <= hi <= khi <= n, (p, n)


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5])
def test_km_likelihood_is_as_wide_as_the_effective_sample_size(p):
    """With n = 2000 the KM-widened likelihood of pi has the variance of a Binomial(n / D)
    likelihood, p (1 - p) D / n (within 5%), where the crude rounding set gives p (1 - p)/n."""
    n = 2000
    grid = np.linspace(p - 0.08, p + 0.08, 4001)  # > 8 likelihood SDs either side

    def variance(lo, hi):
        like = stats.binom.cdf(hi, n, grid) - stats.binom.cdf(lo - 1, n, grid)
        w = like / like.sum()
        mean = (w * grid).sum()
        return (w * (grid - mean) ** 2).sum()

    crude = variance(*b.count_set(100 * p, n, 1, "rounded"))
    km = variance(*b.count_set(100 * p, n, 1, "km"))
    target = p * (1 - p) / n
    assert crude == pytest.approx(target, rel=0.05)
    assert km == pytest.approx(b.KM_DESIGN_EFFECT * target, rel=0.05)


CSV = """study,outcome,arm,n,events,percent,rate_type
S1,lmd,preop,45,,2,{a}
S1,lmd,postop,48,,11,
S2,lmd,preop,60,2,,km
S2,lmd,postop,65,,13,crude
"""


def test_rate_type_column_is_read_and_used(tmp_path, specs, write_csv):
    table = read_table(write_csv(tmp_path, CSV.format(a="KM")), specs)
    assert table.frame["rate_type"].tolist() == ["km", "crude", "km", "crude"]
    assert "rate_type" not in table.covariates
    wide = outcome_table(table, specs["lmd"])
    assert b.count_models(wide, "preop") == ["km", "exact"]  # reported events stay exact
    assert b.count_models(wide, "postop") == ["rounded", "rounded"]
    data = b.model_data(wide)
    lo = data["y_preop"] - data["k_below_preop"]
    assert (int(lo[0]), int(lo[0] + data["k_width_preop"][0] - 1)) == (0, 2)
    assert data["k_width_preop"][1] == 1


def test_unknown_rate_type_is_a_one_line_input_error(tmp_path, specs, write_csv):
    path = write_csv(tmp_path, CSV.format(a="actuarial"))
    with pytest.raises(InputError) as err:
        read_table(path, specs)
    e = err.value
    assert (e.row, e.column) == (2, "rate_type")
    assert "'actuarial'" in str(e) and "'crude' or 'km'" in str(e)
    assert len(str(e).splitlines()) == 1


def test_without_the_column_every_rate_is_crude(bundled_table, specs):
    wide = outcome_table(bundled_table, specs["lmd"])
    assert "rate_type_preop" not in wide
    assert b.count_models(wide, "preop") == ["rounded"] * 4
