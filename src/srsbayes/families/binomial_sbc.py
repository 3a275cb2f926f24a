"""SBC simulator of the binomial family: data drawn from the binomial-normal model and
reported as the bundled data report them, as whole percentages.

The data are simulated from the model equations written out in :mod:`.binomial`'s
docstring, not by the family's own ``simulate`` and not with its count sets (which
:func:`percent_count_set` writes out again): a likelihood coded wrongly in both places
would otherwise go unnoticed (:mod:`srsbayes.validation.sbc`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import expit

from .base import Truth, draw

if TYPE_CHECKING:
    import pandas as pd

    from ..priors.distributions import Prior

def reported_percent(k: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Whole percentages as a paper reports ``k`` events of ``n``: ``100 k / n`` rounded,
    halves up (exact, in integers)."""
    return (200 * k + n) // (2 * n)


def percent_count_set(percent: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(k_lo, k_hi)``: every count whose percentage of ``n`` rounds to the whole
    ``percent`` (``|100 k / n - percent| <= 1/2``, inclusive as in the fitted model), found by
    enumerating ``0..n``; written out here, not taken from the family (see the module
    docstring). Never empty: the simulated count is in it."""
    lo, hi = np.empty_like(n), np.empty_like(n)
    for i, (p, m) in enumerate(zip(percent, n, strict=True)):
        k = np.arange(m + 1)
        ok = np.abs(200 * k - 2 * p * m) <= m
        lo[i], hi[i] = k[ok].min(), k[ok].max()
    return lo, hi


def simulate_binomial(wide: pd.DataFrame, priors: Mapping[str, Prior], rng: np.random.Generator
                      ) -> tuple[Truth, dict[str, np.ndarray]]:
    """Parameters from the priors, event counts from the binomial-normal model, and the
    counts reported as the bundled data report them: as whole percentages.

    ``logit p_postop = alpha_i - (theta + tau z_i) / 2``, ``logit p_preop = alpha_i +
    (theta + tau z_i) / 2`` (the default arm coding of :mod:`srsbayes.families.binomial`);
    arm sizes are those of ``wide``. Each count ``k ~ Binomial(n, p)`` is reported as its
    rounded percentage (:func:`reported_percent`), and the data the model sees are those of
    that percentage: the nearest count ``y`` and the set ``K`` of counts that reproduce it
    (:func:`percent_count_set`), so SBC checks the rounding-aware likelihood that ``fit``
    uses for rows that give only a percentage. Only arm data are simulated: the family reads
    data without its contrast-row keys (``arm_rows``, ...) as studies that all report arms.
    """
    from .binomial import ARM_CODINGS

    k = len(wide)
    theta, tau = float(draw(priors["effect"], rng)), float(draw(priors["tau"], rng))
    alpha = np.asarray(draw(priors["baseline"], rng, k), dtype=float)
    z = rng.standard_normal(k)
    delta = tau * z
    c = ARM_CODINGS["symmetric"]
    logits = {"postop": alpha - c * (theta + delta), "preop": alpha + (1 - c) * (theta + delta)}
    data: dict[str, np.ndarray] = {}
    for arm in ("postop", "preop"):
        n = wide[f"n_{arm}"].to_numpy().astype(np.int64)
        pc = reported_percent(rng.binomial(n, expit(logits[arm])), n)
        y = (2 * pc * n + 100) // 200  # nearest count to the percentage, halves up
        lo, hi = percent_count_set(pc, n)
        data |= {f"n_{arm}": n, f"y_{arm}": y, f"k_below_{arm}": y - lo,
                 f"k_width_{arm}": hi - lo + 1}
    truth = {"effect": theta, "tau": tau, "baseline": alpha, "z": z, "delta": delta,
             "logit_postop": logits["postop"]}
    return truth, data
