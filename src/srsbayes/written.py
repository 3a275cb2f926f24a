"""Numbers as written: their decimals, their exact values and the GRIM rounding rule.

A reported number carries its precision in how it is written (``12.5`` is reported to one
decimal, ``12.50`` to two), and a percentage of ``n`` patients is consistent with a whole
count ``k`` only if ``100 k / n`` rounds to it at that precision (the GRIM test). The study
table's reader (``inputs``), the binomial family's count sets and the evidence audit all
read numbers this way; this is the one module that says how.

References
----------
Brown NJL, Heathers JAJ (2017). The GRIM test: a simple technique detects numerous
anomalies in the reporting of results in psychology. Soc Psychol Personal Sci 8:363-369.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from .values import is_ascii_number

MAX_DIGITS = 30
"""Most digits, and largest exponent, a number may be written with: no reported value comes
close, and the audit's exact arithmetic on ``1e-999999999`` would exhaust memory."""


def decimals(text: Any, cap: int) -> int:
    """Decimals as written (``'12.5'`` -> 1, ``'0.450'`` -> 3, ``'1.25e1'`` -> 1): the
    precision a value was reported at, at most ``cap``; 0 for text that is no number.

    The cap keeps digits beyond what a float holds from counting as precision (13 for a
    percentage, which has at most 3 digits before the point; 15 for a contrast)."""
    try:
        exponent = Decimal(str(text).strip()).as_tuple().exponent
    except InvalidOperation:
        return 0
    return min(max(0, -exponent), cap) if isinstance(exponent, int) else 0


def fewest_decimals(x: float) -> int:
    """The fewest decimals (up to 13) that write the float ``x`` (``91.0`` -> 0,
    ``12.5`` -> 1); 0 for NaN. For a value whose text is gone: a float keeps no trailing
    zeros, so this is a lower bound of the decimals it was written with."""
    return next(d for d in range(14) if round(x, d) == x) if x == x else 0


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


def half_unit(decimals: int) -> Fraction:
    """Half a unit of the last decimal, ``0.5 * 10**-decimals``: how far a value written
    with ``decimals`` decimals may be from the number it rounds (the GRIM tolerance)."""
    return Fraction(1, 2 * 10**decimals)


def matches(x: Fraction, reported: Fraction, decimals: int) -> bool:
    """Does ``x`` round to ``reported`` at ``decimals``? The boundary is inclusive: an
    exact half rounds either way depending on the author's convention (half-up, half-even,
    or truncation of a longer decimal)."""
    return abs(x - reported) <= half_unit(decimals)


def reproduces(k: int, n: int, percent: float, decimals: int) -> bool:
    """Whether ``k`` events of ``n`` round to ``percent`` as written with ``decimals`` decimals.

    The GRIM rule (Brown & Heathers 2017, Soc Psychol Personal Sci 8:363):
    ``|100 k / n - percent| <= 0.5 * 10**-decimals`` (:func:`matches`), the boundary
    inclusive because an exact half rounds either way depending on the author's convention;
    computed exactly in integers (times ``2 n 10**decimals``) on the percentage as written.
    """
    scale = 10**decimals
    written = round(percent * scale)  # exact for <= 16 significant digits
    return abs(200 * k * scale - 2 * written * n) <= n


def rounding_set(percent: float, n: int, decimals: int) -> tuple[int, int]:
    """``[k_lo, k_hi]``: the counts whose percentage of ``n`` rounds to ``percent``.

    The counts ``k`` with ``|100 k / n - percent| <= 0.5 * 10**-decimals``
    (:func:`reproduces`, the GRIM rule of Brown & Heathers 2017), in exact integer
    arithmetic. When no count reproduces the percentage (a GRIM failure) the set is the
    two counts either side of ``percent * n / 100``.

    >>> rounding_set(91, 45, 0)   # 41 / 45 = 91.1%
    (41, 41)
    >>> rounding_set(92, 45, 0)   # 41 / 45 = 91.1%, 42 / 45 = 93.3%
    (41, 42)
    """
    scale = 10**decimals
    w = round(percent * scale)
    lo = max(0, -(-(2 * w - 1) * n // (200 * scale)))
    hi = min(n, (2 * w + 1) * n // (200 * scale))
    if lo <= hi:
        return lo, hi
    below = w * n // (100 * scale)
    return max(0, below), min(n, below + 1)
