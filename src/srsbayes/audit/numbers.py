"""Exact numbers as written, and their short forms in the audit's sentences.

The audit compares reported values at the precision they are written with, so every
value is read into a :class:`~fractions.Fraction` together with its number of decimals.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

# numbers as written (exact values, decimals, the rounding rule) are the ground floor's
from ..written import exact, matches

__all__ = ["decimals_word", "exact", "fixed", "is_missing", "matches", "short"]


def is_missing(x: Any) -> bool:
    """A cell the loader left empty (``None`` or NaN)."""
    return x is None or (isinstance(x, float) and math.isnan(x))


def decimals_word(d: int) -> str:
    """``"1 decimal"``, ``"0 decimals"``."""
    return f"{d} decimal{'' if d == 1 else 's'}"


def fixed(x: Fraction | float, d: int = 2) -> str:
    """Fixed decimals: ``fixed(Fraction(35, 4)) == "8.75"``."""
    return f"{float(x):.{d}f}"


def short(x: Fraction | float) -> str:
    """Short form of an exact number: 3.5, 16.25, 16.18 (at most 2 decimals)."""
    return f"{round(float(x), 2):g}"
