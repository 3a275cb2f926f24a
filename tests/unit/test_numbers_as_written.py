"""Numbers as written (``srsbayes.written``): one rule for decimals and GRIM, read by the
study table's reader, the binomial family and the audit (issue 21)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from srsbayes import written
from srsbayes.audit import grim
from srsbayes.audit import numbers as audit_numbers
from srsbayes.families import binomial
from srsbayes.inputs import cells


@pytest.mark.parametrize(("text", "cap", "expected"), [
    ("12.5", 13, 1), ("12.50", 13, 2), ("1.25e1", 13, 1), ("45", 13, 0), (" 0.450 ", 15, 3),
    ("1e3", 13, 0), ("abc", 13, 0), ("", 13, 0), ("0." + "1" * 20, 13, 13),
    ("0." + "1" * 20, 15, 15),
])
def test_decimals_as_written(text, cap, expected):
    assert written.decimals(text, cap) == expected


@pytest.mark.parametrize(("x", "expected"), [(91.0, 0), (12.5, 1), (3.25, 2), (float("nan"), 0)])
def test_fewest_decimals_of_a_float(x, expected):
    assert written.fewest_decimals(x) == expected


def test_the_layers_read_the_one_module():
    """The family, the loader and the audit use these functions, not copies of them."""
    assert binomial.rounding_set is written.rounding_set
    assert binomial.reproduces is written.reproduces
    assert audit_numbers.exact is written.exact and audit_numbers.matches is written.matches
    assert cells.MAX_DIGITS == written.MAX_DIGITS == 30


def test_grim_in_fractions_and_the_rounding_set_in_integers_agree():
    """Every percentage 0.0..100.0 at 0 and 1 decimals and n = 1..60: the audit's GRIM test
    (exact fractions) passes exactly when the binomial family's rounding set holds a count
    that reproduces it (integers), and its nearest count is in that set."""
    checked = 0
    for d in (0, 1):
        for w in range(0, 100 * 10**d + 1):
            text = f"{w / 10**d:.{d}f}"
            for n in range(1, 61):
                g = grim(text, n)
                lo, hi = written.rounding_set(float(text), n, d)
                hits = [k for k in range(lo, hi + 1) if written.reproduces(k, n, float(text), d)]
                assert g.consistent == bool(hits), (text, n)
                if g.consistent:
                    assert lo <= g.k <= hi and written.matches(Fraction(100 * g.k, n), g.percent, d)
                checked += 1
    assert checked == (101 + 1001) * 60


def test_half_unit_is_the_grim_tolerance():
    assert written.half_unit(0) == Fraction(1, 2) and written.half_unit(2) == Fraction(1, 200)
    assert grim("87", 40).consistent  # 35 / 40 = 87.5%: exactly half a unit, accepted
    assert not grim("89", 48).consistent  # 42 -> 87.50%, 43 -> 89.58%
