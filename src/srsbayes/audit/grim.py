"""The GRIM test of reported percentages (Brown & Heathers 2017), and its check.

References
----------
Brown NJL, Heathers JAJ (2017). The GRIM test: a simple technique detects numerous
anomalies in the reporting of results in psychology. Soc Psychol Personal Sci 8:363-369.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from ..written import half_unit
from .cells import count_rows, raw_cells
from .findings import Finding
from .numbers import decimals_word, exact, fixed, is_missing, matches, short
from .registry import AuditInputs


@dataclass(frozen=True)
class Grim:
    """GRIM result for one reported percentage.

    Attributes
    ----------
    percent
        The reported value, exactly as written.
    n
        Denominator.
    decimals
        Reporting precision (decimals as written).
    k
        Nearest whole count, halves up (the loader's ``events`` rule).
    k_percent
        ``100 k / n``.
    error
        ``k_percent - percent``: the rounding error the report implies.
    consistent
        Whether some whole count rounds to ``percent`` at ``decimals`` (exact halves are
        accepted in either rounding direction).
    testable
        ``False`` when ``100 / n`` is finer than the reporting unit, so every value passes.
    """

    percent: Fraction
    n: int
    decimals: int
    k: int
    k_percent: Fraction
    error: Fraction
    consistent: bool
    testable: bool


def grim(percent: str | float, n: int, decimals: int | None = None) -> Grim:
    """GRIM test of a percentage: can any whole ``k`` in ``0..n`` give it when rounded?

    Parameters
    ----------
    percent
        The value as written (``"89"``, ``"3.50"``); a float loses trailing zeros, so
        its precision is its shortest representation unless ``decimals`` is given.
    n
        Denominator (whole number > 0).
    decimals
        Reporting precision; default: counted from ``percent``.

    Returns
    -------
    Grim
        ``consistent`` is true when ``|100 k / n - percent| <= 0.5 * 10**-decimals`` for
        the nearest ``k``, computed in exact rational arithmetic. The boundary is
        inclusive because a value exactly halfway rounds either way depending on the
        author's convention (half-up, half-even, or truncation of a longer decimal).

    References
    ----------
    Brown NJL, Heathers JAJ (2017). The GRIM test: a simple technique detects numerous
    anomalies in the reporting of results in psychology. Soc Psychol Personal Sci
    8:363-369.

    Examples
    --------
    >>> grim("89", 48).consistent      # k=42 -> 87.50%, k=43 -> 89.58%
    False
    >>> grim("87", 40).consistent      # k=35 -> 87.50%: exactly halfway, accepted
    True
    """
    p, d = exact(percent)
    if decimals is not None:
        d = decimals
    if n <= 0:
        raise ValueError(f"n must be > 0, got {n}")
    k = min(max(math.floor(p * n / 100 + Fraction(1, 2)), 0), n)
    kp = Fraction(100 * k, n)
    return Grim(p, n, d, k, kp, kp - p, matches(kp, p, d), n < 100 * 10**d)


def grim_pass_rate(n: int, decimals: int = 0) -> float:
    """Share of the values ``0, 10**-d, ..., 100`` that some whole ``k`` of ``n`` reproduces.

    The chance that an arbitrary percentage written at ``decimals`` passes GRIM: the
    benchmark for how many passes to expect if the percentages bear no relation to counts.
    """
    scale = 10**decimals
    hit: set[int] = set()
    for k in range(n + 1):
        x = Fraction(100 * k * scale, n)
        hit.update(range(math.ceil(x - Fraction(1, 2)), math.floor(x + Fraction(1, 2)) + 1))
    grid = 100 * scale + 1
    return len({j for j in hit if 0 <= j < grid}) / grid


def _row_detail(g: Grim, shown: str) -> tuple[str, str, dict[str, int]]:
    """Severity, sentence and extra values of one percentage's GRIM result."""
    n = g.n
    if not g.testable:
        return "info", (f"{shown}% of {n}: not testable at {decimals_word(g.decimals)} "
                        f"(100/n = {fixed(Fraction(100, n), 3)} is finer than the reporting "
                        "unit)"), {}
    if g.consistent:
        half = abs(g.error) == half_unit(g.decimals)
        return "info", (f"{shown}% of {n}: k={g.k} gives {fixed(g.k_percent)}%"
                        + (" — exactly halfway, reproduces it if rounded "
                           f"{'down' if g.error > 0 else 'up'} (accepted)" if half
                           else f", rounding error {float(g.error):+.2f}: consistent")), {}
    lo = min(math.floor(g.percent * n / 100), n)
    hi = min(lo + 1, n)
    sides = ", ".join(f"k={k} gives {fixed(Fraction(100 * k, n))}%"
                      for k in dict.fromkeys((lo, hi)))
    return "warning", (f"{shown}% of {n}: no whole count reproduces it at "
                       f"{decimals_word(g.decimals)} ({sides}); the nearest, k={g.k}, implies "
                       f"a rounding error of {float(g.error):+.2f} points"), {
        "k_below": lo, "k_above": hi}


def check_grim(inputs: AuditInputs) -> list[Finding]:
    """Every reported percentage against the whole counts its ``n`` allows.

    The precision is read from the CSV text as written, then an overall line compares
    the number of passes with the number expected if the percentages were arbitrary
    (:func:`grim_pass_rate`).
    """
    table = inputs.table
    raw = raw_cells(table, "percent")
    found: list[Finding] = []
    failed: list[str] = []
    expected = 0.0
    for rec in count_rows(table, inputs.specs):
        if is_missing(rec["percent"]):
            continue
        row, n = int(rec["row"]), int(rec["n"])
        text = raw.get(row) or rec["percent"]
        g = grim(text, n)
        expected += grim_pass_rate(n, g.decimals)
        shown = text if isinstance(text, str) else short(g.percent)
        sev, detail, extra = _row_detail(g, shown)
        values = {"percent": g.percent, "n": n, "decimals": g.decimals, "k": g.k,
                  "k_percent": g.k_percent, "error": g.error, "consistent": g.consistent,
                  "testable": g.testable, **extra}
        if sev == "warning":
            failed.append(f"{rec['study']} {rec['outcome']} {rec['arm']} ({shown}% of {n})")
        found.append(Finding(rec["study"], rec["outcome"], rec["arm"], "grim", sev, detail,
                             row, values))
    if found:
        found.insert(0, _summary(len(found), failed, expected))
    return found


def _summary(total: int, failed: list[str], expected: float) -> Finding:
    ok = total - len(failed)
    detail = (f"{ok} of {total} reported percentages can come from a whole count of the "
              f"stated n; if they were arbitrary numbers at the same precision about "
              f"{expected:.1f} would pass by chance")
    if failed:
        detail += ("; a failure means the value is not k/n of the stated n (an actuarial "
                   "estimate, another denominator such as lesions, or a transcription or "
                   "fabrication problem). Failing: " + "; ".join(failed))
    return Finding(None, None, None, "grim", "warning" if failed else "info", detail, None,
                   {"n_tested": total, "n_consistent": ok, "n_inconsistent": len(failed),
                    "expected_by_chance": expected})
