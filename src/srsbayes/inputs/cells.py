"""One parser for every numeric cell of the study table (arm rows and contrast rows)."""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

from ..errors import InputError
from ..values import is_ascii_number
from ..written import MAX_DIGITS

MAX_COUNT = 2**53
"""Counts must be below this: the largest whole numbers a float holds exactly."""
_COUNTS = ("n", "events", "deaths")


def parse_number(value: str, *, f: str, row: int, col: str) -> float:
    """The number in a cell (NaN when empty); counts must be whole and below 2^53.

    Only ASCII decimal numbers (:data:`srsbayes.values.NUMBER`) are numbers: ``4_5``,
    ``٤٥`` and ``４５``, which ``float`` reads as 45, are errors.
    """
    if value == "":
        return math.nan
    try:
        x = float(value)
    except ValueError:
        raise InputError(f"not a number: {value!r}", file=f, row=row, column=col) from None
    if not math.isfinite(x):
        raise InputError(f"not a finite number: {value!r}", file=f, row=row, column=col)
    if not is_ascii_number(value):  # float() also reads '4_5', '٤٥' and '４５' as 45
        raise InputError(f"not a number: {value!r} (write numbers with ASCII digits 0-9, "
                         "a point and an optional exponent, as 45 or 4.5e1)", file=f,
                         row=row, column=col)
    if col in _COUNTS and x != int(x):
        raise InputError(f"must be a whole number, got {value!r}", file=f, row=row, column=col)
    if col in _COUNTS and abs(x) >= MAX_COUNT:
        raise InputError(f"implausibly large count {value!r} (must be < 2^53)", file=f,
                         row=row, column=col)
    if not _usable_size(value):
        raise InputError(f"not a number of usable size: {value!r} (at most {MAX_DIGITS} "
                         "digits and exponent)", file=f, row=row, column=col)
    return x


def _usable_size(value: str) -> bool:
    """Whether ``value`` is written with at most :data:`srsbayes.written.MAX_DIGITS` digits
    and exponent."""
    try:
        _, digits, exponent = Decimal(value).as_tuple()
    except InvalidOperation:
        return False
    return len(digits) <= MAX_DIGITS and isinstance(exponent, int) and abs(exponent) <= MAX_DIGITS
