"""The binomial family's model data: each arm's count, or the set of counts a reported
percentage allows (rounding, GRIM, a Kaplan-Meier rate and its design effect), and the
contrast rows of mixed evidence (:mod:`srsbayes.families.binomial`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import InputError
from ..written import fewest_decimals, rounding_set
from . import ARMS, as_int

if TYPE_CHECKING:
    pass


MAX_COUNT_SET = 200
"""Most counts a set ``K`` may hold; :func:`model_data` rejects a wider one (an arm of more
than 20 000 given as a whole percentage). The general compiled likelihood's cost does not
depend on the width, but :func:`loglik` sums the pmf over the set for every draw."""


def _arm_mask(data: dict[str, np.ndarray]) -> np.ndarray:
    """Which studies have arm rows (data without ``arm_rows`` have only arm studies)."""
    y = np.asarray(data["y_postop"])
    return np.broadcast_to(np.asarray(data.get("arm_rows", 1.0)) > 0, y.shape)


def model_data(wide: pd.DataFrame) -> dict[str, np.ndarray]:
    """``pm.Data`` values for one outcome's studies
    (see :func:`srsbayes.inputs.data.outcome_table`).

    Per arm: ``n``, the event count ``y`` (reported, or the nearest count to the reported
    percentage), and its count set ``K = [y - k_below, y - k_below + k_width - 1]``
    (:func:`count_set`): the one reported count, or every count the reported rate allows.
    Per study: ``arm_rows`` (1 for a study with arm rows, 0 for one with a contrast row)
    and the contrast row's log odds ratio ``contrast_y`` and its standard error
    ``contrast_s`` (:mod:`srsbayes.inputs.contrasts`). A contrast study gets dummy arms
    (``n`` 1, ``y`` 0, one count) and an arm study ``contrast_y`` 0, ``contrast_s`` 1: the
    model multiplies each by 0.

    Raises
    ------
    InputError
        A set of more than :data:`MAX_COUNT_SET` counts (a very large arm given as a
        percentage): report its events instead.
    """
    is_contrast = contrast_rows(wide)
    arm = ~is_contrast
    data = {}
    part = _arm_data(wide[arm].reset_index(drop=True)) if arm.any() else {}
    for arm_name in ARMS:
        for key, dummy in (("n", 1), ("y", 0), ("k_below", 0), ("k_width", 1)):
            full = np.full(len(wide), dummy, dtype=np.int64)
            if part:
                full[arm] = part[f"{key}_{arm_name}"]
            data[f"{key}_{arm_name}"] = full
    y = _column(wide, "contrast_y")
    s = _column(wide, "contrast_se")
    data |= {"arm_rows": arm.astype(float),
             "contrast_y": np.where(is_contrast, y, 0.0),
             "contrast_s": np.where(is_contrast, s, 1.0)}
    return data


def contrast_rows(wide: pd.DataFrame) -> np.ndarray:
    """Which studies of an outcome table report a contrast (a published odds ratio, ...)
    instead of arms: those with an analysis-scale estimate ``contrast_y``."""
    return ~np.isnan(_column(wide, "contrast_y"))


def _column(wide: pd.DataFrame, col: str) -> np.ndarray:
    """A numeric column of ``wide`` as floats; all NaN when the table has no such column
    (an outcome table of arm rows has no contrast columns, one of contrast rows no arms)."""
    if col not in wide.columns:
        return np.full(len(wide), np.nan)
    return np.asarray(wide[col], dtype=float)


def _arm_data(wide: pd.DataFrame) -> dict[str, np.ndarray]:
    """:func:`model_data`'s arm values for a table of arm studies only."""
    data = {}
    for arm in ARMS:
        n, y = as_int(wide[f"n_{arm}"]), as_int(wide[f"events_{arm}"])
        lo, hi = y.copy(), y.copy()
        for i, how in enumerate(count_models(wide, arm)):
            if how != "exact":
                lo[i], hi[i] = count_set(float(wide[f"percent_{arm}"].iloc[i]), int(n[i]),
                                         _decimals(wide, arm, i), how)
        if np.any(hi - lo + 1 > MAX_COUNT_SET):
            i = int(np.argmax(hi - lo))
            line = wide[f"row_{arm}"].iloc[i] if f"row_{arm}" in wide else None
            where = f" (line {int(line)})" if line is not None and line == line else ""
            raise InputError(f"{wide['study'].iloc[i]} {arm}{where}: the reported rate allows "
                             f"{hi[i] - lo[i] + 1} event counts (at most {MAX_COUNT_SET}); "
                             "report the events", column="percent")
        data |= {f"n_{arm}": n, f"y_{arm}": y, f"k_below_{arm}": y - lo,
                 f"k_width_{arm}": hi - lo + 1}
    return data


COUNT_MODELS = ("exact", "rounded", "km")
"""How an arm's count enters the likelihood: the reported count (``exact``), every count
whose percentage rounds to the reported one (``rounded``), or the set widened for a
Kaplan-Meier rate (``km``); see :func:`count_set`."""

KM_DESIGN_EFFECT = 2.0
"""Assumed design effect ``n / n_eff`` of a Kaplan-Meier rate (see :func:`count_set`)."""


def count_models(wide: pd.DataFrame, arm: str) -> list[str]:
    """Each study's :data:`COUNT_MODELS` entry for ``arm``.

    A column ``count_model_<arm>`` (set by sensitivity variants) decides where present.
    Otherwise a reported count is ``exact`` and a count rebuilt from a percentage
    (``events_rule`` "nearest count ...") is ``rounded``, or ``km`` when the row's
    ``rate_type`` is ``km``. A row that reports its events stays exact whatever its rate
    type: the count is then known.
    """
    col = f"count_model_{arm}"
    if col in wide:
        return [str(v) for v in wide[col]]
    rules = wide.get(f"events_rule_{arm}", pd.Series([""] * len(wide)))
    rates = wide.get(f"rate_type_{arm}", pd.Series(["crude"] * len(wide)))
    return ["exact" if not (isinstance(r, str) and r.startswith("nearest count"))
            else "km" if t == "km" else "rounded"
            for r, t in zip(rules, rates, strict=True)]


def _decimals(wide: pd.DataFrame, arm: str, i: int) -> int:
    """Decimals the percentage was reported with: ``percent_decimals_<arm>`` if the table
    carries it, else the fewest decimals that write the value (``91.0`` then counts as
    ``91``, a wider, never a narrower, set)."""
    col = f"percent_decimals_{arm}"
    if col in wide and pd.notna(wide[col].iloc[i]):
        return int(wide[col].iloc[i])
    return fewest_decimals(float(wide[f"percent_{arm}"].iloc[i]))


def count_set(percent: float, n: int, decimals: int, how: str = "rounded") -> tuple[int, int]:
    """The counts ``[k_lo, k_hi]`` a reported rate allows (the likelihood sums over them).

    ``rounded``: :func:`rounding_set`. ``km``, a Kaplan-Meier rate: censoring makes the
    rate less informative than a crude proportion of ``n``; its effective sample size is
    ``n_eff = S (1 - S) / Var(S)`` (Dorey & Korn 1987; Peto et al. 1977: ``n_eff = n(t) / S``
    with ``n(t)`` at risk at the landmark), i.e. a design effect ``D = n / n_eff``. The
    study table gives neither the KM variance nor the numbers at risk, so ``D`` is the
    stated assumption :data:`KM_DESIGN_EFFECT` = 2 (half the information, about half the
    patients still at risk at the landmark), not something learnt from the row. The set is
    widened to the counts within ``± a`` of the rate, ``a = sqrt(3 (D - 1) p (1 - p) / n)``:
    a flat set of that half-width adds ``a**2 / 3 = (D - 1) p (1 - p) / n`` to the
    binomial variance ``p (1 - p) / n``, so the likelihood is as wide as that of
    ``Binomial(n_eff, p)``. It always contains the rounding set.

    >>> count_set(2, 45, 0, "km")   # p (1 - p) / n = 0.021**2, a = 3.6 points
    (0, 2)

    References
    ----------
    Dorey FJ, Korn EL (1987). Effective sample sizes for confidence intervals for survival
    probabilities. Stat Med 6:679-687.

    Peto R, Pike MC, Armitage P, et al. (1977). Design and analysis of randomized clinical
    trials requiring prolonged observation of each patient. II. Br J Cancer 35:1-39.
    """
    lo, hi = rounding_set(percent, n, decimals)
    if how == "rounded":
        return lo, hi
    if how != "km":
        raise ValueError(f"unknown count model {how!r}")
    p = percent / 100.0
    a = np.sqrt(3 * (KM_DESIGN_EFFECT - 1) * p * (1 - p) / n)
    return (min(lo, max(0, int(np.ceil(n * (p - a) - 1e-9)))),
            max(hi, min(n, int(np.floor(n * (p + a) + 1e-9)))))
