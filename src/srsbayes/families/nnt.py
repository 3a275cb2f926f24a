"""Numbers needed to treat for benefit or harm, with intervals that may pass through infinity.

The number needed to treat is 100 / (absolute benefit in percentage points). A positive
benefit gives a number needed to treat for one more patient to benefit (NNTB), a negative
one a number needed to treat for one more to be harmed (NNTH). When the interval of the
absolute benefit includes no effect, the NNT interval is not the range between the two
inverted limits but runs from the NNTB through infinity (no effect) to the NNTH:
"NNTB 5 to ∞ to NNTH 40" (Altman 1998).

In numbers an NNT is signed, as 100 / benefit: positive for an NNTB, negative for an NNTH,
``None`` (JSON null) for infinity (a benefit of exactly 0). The text rounds each NNT up to
whole patients, as is conventional (Cochrane Handbook, section 15.4.4); numbers are unrounded.

References
----------
Altman DG (1998). Confidence intervals for the number needed to treat. BMJ 317:1309-1312.

Higgins JPT, Thomas J, Chandler J, et al. (eds.) (2023). Cochrane Handbook for Systematic
Reviews of Interventions, version 6.4, section 15.4.4.
"""

from __future__ import annotations

import math
from typing import Literal, NotRequired, TypedDict

import numpy as np
import xarray as xr

from ..draws import central_interval


def signed_nnt(benefit: float) -> float | None:
    """100 / ``benefit`` (percentage points): > 0 an NNTB, < 0 an NNTH, None for infinity.

    >>> signed_nnt(20.0), signed_nnt(-2.5), signed_nnt(0.0)
    (5.0, -40.0, None)
    """
    return None if benefit == 0 else float(100.0 / benefit)


class NNTSummary(TypedDict):
    """An NNT with its interval (:func:`nnt_summary`): JSON-ready as it is, read by key."""

    median: float | None
    kind: Literal["NNTB", "NNTH"] | None
    ci95: list[float | None]
    includes_no_effect: bool
    text: str
    head: str
    interval_text: str
    note: NotRequired[str]
    """What it is conditional on."""


def kind(nnt: float | None) -> Literal["NNTB", "NNTH"] | None:
    """"NNTB", "NNTH", or None (infinite) for a signed NNT."""
    return None if nnt is None else ("NNTB" if nnt > 0 else "NNTH")


def _whole(nnt: float) -> str:
    # Rounded up to whole patients; the tolerance keeps 100 / 20 at 5, not 6.
    return str(math.ceil(abs(nnt) - 1e-9))


def _words(nnt: float | None) -> str:
    return "∞" if nnt is None else f"{kind(nnt)} {_whole(nnt)}"


def interval_text(lo: float, hi: float) -> str:
    """The NNT interval of an absolute-benefit interval ``[lo, hi]``, in words.

    Benefit only: "NNTB 8 to 30"; harm only: "NNTH 8 to 30"; both: "NNTB 5 to ∞ to NNTH
    40" (Altman 1998 writes the NNTB end first); a limit at exactly no effect is "∞".

    >>> interval_text(3.3, 12.5), interval_text(-12.5, -3.3), interval_text(-2.5, 20.0)
    ('NNTB 8 to 31', 'NNTH 8 to 31', 'NNTB 5 to ∞ to NNTH 40')
    """
    if lo > hi:
        raise ValueError(f"lower limit {lo} above upper limit {hi}")
    at_hi, at_lo = signed_nnt(hi), signed_nnt(lo)
    if lo > 0:
        return f"NNTB {_whole(at_hi)} to {_whole(at_lo)}"
    if hi < 0:  # the larger harm (lo) gives the smaller NNTH
        return f"NNTH {_whole(at_lo)} to {_whole(at_hi)}"
    if at_hi is None or at_lo is None:
        return f"{_words(at_hi)} to {_words(at_lo)}"
    return f"{_words(at_hi)} to ∞ to {_words(at_lo)}"


def nnt_summary(lo: float, median: float, hi: float) -> NNTSummary:
    """NNT at the median absolute benefit and its 95% interval, in numbers and in words.

    Parameters
    ----------
    lo, median, hi
        The 2.5%, 50% and 97.5% posterior quantiles of the absolute benefit, in
        percentage points (positive = benefit of the treatment).

    Returns
    -------
    NNTSummary
        JSON-safe: ``median`` (signed NNT at the median benefit, None if infinite),
        ``kind`` ("NNTB", "NNTH" or None), ``ci95`` = ``[100 / hi, 100 / lo]`` (signed,
        None where a limit is exactly 0; when the signs differ the interval passes
        through infinity), ``includes_no_effect`` (``lo <= 0 <= hi``), ``text`` and,
        for a renderer that adds its own interval label, ``head`` and ``interval_text``
        (``text`` is ``f"{head} ({interval_text})"``).

    >>> nnt_summary(-2.5, 8.4, 20.0)["text"]
    'NNTB 12 (NNTB 5 to ∞ to NNTH 40)'
    """
    med = signed_nnt(median)
    head = "NNT ∞" if med is None else _words(med)
    iv = interval_text(lo, hi)
    return NNTSummary(median=med, kind=kind(med), ci95=[signed_nnt(hi), signed_nnt(lo)],
                      includes_no_effect=bool(lo <= 0 <= hi), text=f"{head} ({iv})",
                      head=head, interval_text=iv)


def nnt_from_draws(benefit: np.ndarray | xr.DataArray) -> NNTSummary:
    """:func:`nnt_summary` of draws of the absolute benefit (percentage points).

    Quantiles are order statistics (:func:`srsbayes.draws.central_interval`, as for every
    summary), so each NNT is exactly 100 over one draw of the benefit, and the NNT interval
    is the inverse of the benefit's interval in ``summary.json``.
    """
    return nnt_summary(*central_interval(benefit))
