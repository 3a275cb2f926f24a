"""The binomial family's observed values, pointwise log-likelihood, replicated data and
each study's empirical log odds ratio (:mod:`srsbayes.families.binomial`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats
from scipy.special import expit

from . import as_int
from .binomial_counts import _arm_mask, _column, contrast_rows

if TYPE_CHECKING:
    pass


EVENTS = {"events_postop": "postop", "events_preop": "preop"}
"""Observed name of each arm's event count."""
ESTIMATE = "estimate"
"""Observed name of a contrast study's log odds ratio (as in the contrast family)."""


def _observed_names(data: dict[str, np.ndarray]) -> tuple[str, ...]:
    """The observed names ``data`` have a value for in at least one study."""
    arm = _arm_mask(data)
    return (*(EVENTS if arm.any() else ()), *((ESTIMATE,) if not arm.all() else ()))


def _where_observed(values: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """``values`` with NaN (not observed) in the studies where ``observed`` is False; as
    they are (integers stay integers) when every study is observed."""
    return values if observed.all() else np.where(observed, values, np.nan)


def observed(data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Observed values by observed-variable name: each arm's count ``y`` (that stands for
    ``K``) and, when some study reports a contrast, its log odds ratio ``estimate``; NaN
    where a study has no such value."""
    arm = _arm_mask(data)
    values = {name: _where_observed(np.asarray(data[f"y_{a}"]), arm)
              for name, a in EVENTS.items()}
    if not arm.all():
        values[ESTIMATE] = _where_observed(np.asarray(data["contrast_y"], float), ~arm)
    return {name: values[name] for name in _observed_names(data)}


def _probs(post: xr.Dataset) -> tuple[xr.DataArray, xr.DataArray]:
    logit_c = post["logit_postop"]
    p_c = xr.apply_ufunc(expit, logit_c)
    p_t = xr.apply_ufunc(expit, logit_c + post["effect"] + post["delta"])
    return p_c, p_t


def count_bounds(data: dict[str, np.ndarray], arm: str) -> tuple[np.ndarray, np.ndarray]:
    """``(k_lo, k_hi)`` of each study's count set of ``arm`` in :func:`model_data`'s
    ``data`` (the exact count when no set is given)."""
    return _set_bounds(data, arm)


def _set_bounds(data: dict[str, np.ndarray], arm: str) -> tuple[np.ndarray, np.ndarray]:
    """``(k_lo, k_hi)`` of each study's count set (the exact count when no set is given)."""
    y = np.asarray(data[f"y_{arm}"])
    lo = y - np.asarray(data.get(f"k_below_{arm}", 0))
    return lo, lo + np.asarray(data.get(f"k_width_{arm}", 1)) - 1


def _log_set_prob(p: np.ndarray, n: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``log P(lo <= X <= hi)``, ``X ~ Binomial(n, p)``, as a log-sum-exp of the pmf (the
    scipy twin of :func:`_count_set_logp`)."""
    from scipy.special import logsumexp

    j = np.arange(int(np.max(hi - lo)) + 1)
    k = np.minimum(lo[..., None] + j, hi[..., None])
    lp = stats.binom.logpmf(k, n[..., None], p[..., None])
    return logsumexp(np.where(lo[..., None] + j <= hi[..., None], lp, -np.inf), axis=-1)


def _contrast_parts(post: xr.Dataset, data: dict[str, np.ndarray]
                    ) -> tuple[xr.DataArray, xr.DataArray, xr.DataArray]:
    """Location ``theta + delta`` of each study's log odds ratio, and ``contrast_y`` and
    ``contrast_s`` as study arrays."""
    loc = post["effect"] + post["delta"]
    y, s = (xr.DataArray(np.asarray(data[c], float), dims="study")
            for c in ("contrast_y", "contrast_s"))
    return loc, y, s


def loglik(post: xr.Dataset, data: dict[str, np.ndarray]) -> dict[str, xr.DataArray]:
    """Pointwise log-likelihood per study and arm, ``log P(count in K)``, and per contrast
    study, ``log Normal(y | theta + delta, s)``; NaN where a study has no such value (the
    LOO of :func:`srsbayes.inference.diagnostics.loo_by_study` leaves those out)."""
    p_c, p_t = _probs(post)
    arm = xr.DataArray(_arm_mask(data), dims="study")
    out = {}
    for name, p, a in (("events_postop", p_c, "postop"), ("events_preop", p_t, "preop")):
        lo, hi = _set_bounds(data, a)
        n, lo_x, hi_x = (xr.DataArray(v, dims="study") for v in (data[f"n_{a}"], lo, hi))
        out[name] = xr.apply_ufunc(_log_set_prob, p, n, lo_x, hi_x).where(arm)
    if not bool(arm.all()):
        loc, y, s = _contrast_parts(post, data)
        out[ESTIMATE] = xr.apply_ufunc(stats.norm.logpdf, y, loc, s).where(~arm)
    return {name: out[name] for name in _observed_names(data)}


def simulate(post: xr.Dataset, data: dict[str, np.ndarray], rng: np.random.Generator
             ) -> dict[str, xr.DataArray]:
    """Replicated data per study, one set per posterior draw (NaN where a study has no such
    value).

    Event counts per arm are coarsened like the data: a replicate inside the arm's count
    set ``K`` is recorded as the observed ``y``, one outside it as itself. The
    posterior-predictive mid-p of :func:`srsbayes.inference.diagnostics.ppc_pvalues` is
    then ``P(k_rep > k_hi) + P(k_rep in K) / 2``, the exact-count mid-p applied to the
    interval the data report (for a reported count, exactly the usual one). A contrast
    study's log odds ratio is replicated as ``theta + delta + s * N(0, 1)``.
    """
    p_c, p_t = _probs(post)
    arm = _arm_mask(data)
    out = {}
    for name, p, a in (("events_postop", p_c, "postop"), ("events_preop", p_t, "preop")):
        n = np.broadcast_to(data[f"n_{a}"], p.shape)
        k = rng.binomial(n, p.values)
        lo, hi = _set_bounds(data, a)
        inside = (k >= lo) & (k <= hi)
        rep = np.where(inside, np.asarray(data[f"y_{a}"]), k)
        out[name] = p.copy(data=_where_observed(rep, np.broadcast_to(arm, rep.shape)))
    if not arm.all():
        loc, _, s = _contrast_parts(post, data)
        rep = loc.values + np.broadcast_to(s.values, loc.shape) * rng.standard_normal(loc.shape)
        out[ESTIMATE] = loc.copy(data=np.where(np.broadcast_to(~arm, rep.shape), rep, np.nan))
    return {name: out[name] for name in _observed_names(data)}


def observed_effects(wide: pd.DataFrame) -> pd.DataFrame:
    """Each study's empirical log odds ratio with a 95% interval (for forest plots only).

    Arm studies: the Wald interval of the log odds ratio from the counts, adding 0.5 to
    every cell of a study with a zero cell (the model itself needs no correction). Contrast
    studies: the reported log odds ratio ``y`` with ``y ± 1.96 s``.
    """
    est, se = np.full(len(wide), np.nan), np.full(len(wide), np.nan)
    arm = ~contrast_rows(wide)
    if arm.any():
        rows = wide[arm]
        a, n1 = as_int(rows["events_preop"]), as_int(rows["n_preop"])
        c, n2 = as_int(rows["events_postop"]), as_int(rows["n_postop"])
        b, d = n1 - a, n2 - c
        cc = np.where((a == 0) | (b == 0) | (c == 0) | (d == 0), 0.5, 0.0)
        est[arm] = np.log((a + cc) * (d + cc) / ((b + cc) * (c + cc)))
        se[arm] = np.sqrt(1 / (a + cc) + 1 / (b + cc) + 1 / (c + cc) + 1 / (d + cc))
    est[~arm], se[~arm] = _column(wide, "contrast_y")[~arm], _column(wide, "contrast_se")[~arm]
    return pd.DataFrame({"study": wide["study"], "estimate": est,
                         "lo": est - 1.959964 * se, "hi": est + 1.959964 * se})
