"""The binomial family's row checks and spec keys: what :mod:`srsbayes.inputs` calls for a
binary outcome (:mod:`srsbayes.families.binomial`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError
from ..written import reproduces
from .binomial_counts import MAX_COUNT_SET, count_set

if TYPE_CHECKING:
    from .spec_view import SpecView as OutcomeSpec


# -- contrast rows and spec keys: srsbayes.inputs calls these for a binary outcome --------------

CONTRAST_MEASURE = "or"
"""The measure (CSV code) of a binary outcome's contrast rows: the model's log odds ratio."""


def contrast_measures(spec: OutcomeSpec) -> tuple[str, ...]:
    """CSV codes of the measures this outcome's contrast rows may report: ``or``, then the
    spec's ``approximate_measures`` (ratio measures pooled as if they were odds ratios,
    e.g. hazard ratios of a rare event)."""
    return (CONTRAST_MEASURE, *spec.approximate_measures)


def spec_keys(raw: dict, f: str) -> dict:
    """The optional spec key of a binary outcome, ``approximate_measures``: ratio measures
    whose contrast rows are pooled as log odds ratios, checked by the contrast family's
    :func:`srsbayes.families.contrast.spec_keys`. The measure itself is the odds ratio,
    so a ``measure`` key is not one of this family's.

    Raises
    ------
    InputError
        A ``measure`` key, or an unknown or non-ratio approximate measure.
    """
    from . import contrast

    if "measure" in raw:
        raise InputError("not a key of family 'binomial' (its measure is the odds ratio)",
                         file=f, column="measure")
    keys = contrast.spec_keys({"measure": contrast.MEASURES[CONTRAST_MEASURE],
                               "approximate_measures": raw.get("approximate_measures", [])}, f)
    return {"approximate_measures": keys["approximate_measures"]}


# -- row validation: srsbayes.inputs.data.read_table calls check_row for every binary row ---


def nearest_count(percent: float, n: int) -> int:
    """Whole number of events whose percentage of ``n`` is nearest to ``percent`` (halves up)."""
    return int(np.floor(percent * n / 100.0 + 0.5 + 1e-9))


def check_row(rec: dict, f: str, decimals: int) -> None:
    """Check one study-table row of a binary outcome and complete its ``events``.

    Parameters
    ----------
    rec
        The row, numbers parsed (NaN = not reported) and ``n`` checked to be > 0. Completed
        in place: ``events`` is the nearest whole count (:func:`nearest_count`) when only
        ``percent`` is reported, and ``events_rule`` says how it was obtained.
    f
        The file the row came from, for messages.
    decimals
        Decimals ``percent`` was written with: the precision it was reported at.

    Raises
    ------
    InputError
        ``events`` outside ``0..n``, ``percent`` outside 0-100, neither given, both given
        but ``100 events / n`` does not round to ``percent``
        (:func:`srsbayes.written.reproduces`), or only
        ``percent`` given for so large an ``n`` that it allows more than
        :data:`MAX_COUNT_SET` counts (``n = 2e15`` with 3.5%: report the events).
    """

    r, n, ev, pc = rec["row"], rec["n"], rec["events"], rec["percent"]
    if not np.isnan(ev) and ev < 0:
        raise InputError(f"must be >= 0, got {ev:g}", file=f, row=r, column="events")
    if not np.isnan(ev) and ev > n:
        raise InputError(f"{ev:g} events > n = {n:g}", file=f, row=r, column="events")
    if not np.isnan(pc) and not 0 <= pc <= 100:
        raise InputError(f"must be within 0-100, got {pc:g}", file=f, row=r, column="percent")
    if np.isnan(ev) and np.isnan(pc):
        raise InputError("binary outcome needs 'events' or 'percent'", file=f, row=r,
                         column="events")
    if np.isnan(ev):
        how = "km" if rec.get("rate_type") == "km" else "rounded"
        lo, hi = count_set(pc, int(n), decimals, how)
        if hi - lo + 1 > MAX_COUNT_SET:  # checked here, where the file and line are known
            raise InputError(f"{pc:g}% of n = {int(n)} allows {hi - lo + 1} event counts (at "
                             f"most {MAX_COUNT_SET}); report the events", file=f, row=r,
                             column="percent")
        k = nearest_count(pc, int(n))
        rec["events"] = float(k)
        rec["events_rule"] = ("nearest count to percent" if reproduces(k, int(n), pc, decimals)
                              else "nearest count; no whole count reproduces the percent")
        return
    if not np.isnan(pc) and not reproduces(int(ev), int(n), pc, decimals):
        shown = f"{pc:.{decimals}f}%"
        k, n = int(ev), int(n)  # whole numbers below 2^53 (checked by the loader)
        raise InputError(f"events = {k} and percent = {shown} disagree: {k} of {n} is "
                         f"{100 * k / n:.{decimals + 1}f}%, which does not round to {shown}",
                         file=f, row=r, column="percent")
    rec["events_rule"] = "reported"
