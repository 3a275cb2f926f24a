"""Exact numbers as written, and their short forms in the audit's sentences.

The audit compares reported values at the precision they are written with, so every
value is read into a :class:`~fractions.Fraction` together with its number of decimals.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

# The longest number exact() accepts (digits or exponent) is the loader's own limit.
from ..inputs.cells import MAX_DIGITS
from ..values import is_ascii_number


def exact(value: str | float) -> tuple[Fraction, int]:
    """Exact value and decimals as written; a float counts its shortest representation.

    Raises
    ------
    ValueError
        Not a finite number, or one with more than :data:`MAX_DIGITS` digits or exponent.
    """
    text = str(value).strip() if isinstance(value, str) else repr(float(value))
    try:
        dec = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None
    if not dec.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    if isinstance(value, str) and not is_ascii_number(text):  # Decimal reads '٤٥', '4_5'
        raise ValueError(f"not a number: {value!r} (ASCII digits only)")
    if not isinstance(value, str):
        dec = dec.normalize()  # 91.0 -> 91: a float carries no trailing zeros
    _, digits, exp = dec.as_tuple()
    assert isinstance(exp, int)  # finite
    if len(digits) > MAX_DIGITS or abs(exp) > MAX_DIGITS:
        raise ValueError(f"not a number of usable size: {value!r}")
    return Fraction(dec), max(0, -exp)


def matches(x: Fraction, reported: Fraction, decimals: int) -> bool:
    """Does ``x`` round to ``reported`` at ``decimals`` (either direction at a half)?"""
    return abs(x - reported) <= Fraction(1, 2 * 10**decimals)


def is_missing(x: Any) -> bool:
    """A cell the loader left empty (``None`` or NaN)."""
    return x is None or (isinstance(x, float) and math.isnan(x))


def decimals_word(d: int) -> str:
    """``"1 decimal"``, ``"0 decimals"``."""
    return f"{d} decimal{'' if d == 1 else 's'}"


def pct(x: Fraction | float, d: int = 2) -> str:
    """Fixed decimals: ``pct(Fraction(35, 4)) == "8.75"``."""
    return f"{float(x):.{d}f}"


def num(x: Fraction | float) -> str:
    """Short form of an exact number: 3.5, 16.25, 16.18 (at most 2 decimals)."""
    return f"{round(float(x), 2):g}"
