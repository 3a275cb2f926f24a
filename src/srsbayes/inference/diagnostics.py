"""Convergence gate and model checks: no result is reported from an unconverged fit.

References
----------
Vehtari A, Gelman A, Simpson D, Carpenter B, Bürkner P-C (2021). Rank-normalization,
folding, and localization: an improved R-hat for assessing convergence of MCMC.
Bayesian Anal 16:667-718 (R-hat <= 1.01, bulk and tail ESS >= 400).

Betancourt M (2016). Diagnosing suboptimal cotangent disintegrations in Hamiltonian
Monte Carlo. arXiv:1604.00695 (E-BFMI >= 0.3).

Vehtari A, Gelman A, Gabry J (2017). Practical Bayesian model evaluation using
leave-one-out cross-validation and WAIC. Stat Comput 27:1413-1432; Vehtari A, Simpson D,
Gelman A, Yao Y, Gabry J (2024). Pareto smoothed importance sampling. JMLR 25:1-58.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import arviz as az
import numpy as np
import xarray as xr
from arviz_stats.base import array_stats

RHAT_MAX = 1.01
ESS_MIN = 400
BFMI_MIN = 0.3
PARETO_K_WARN = 0.7


@dataclass(frozen=True)
class Diagnostics:
    """The convergence gate's verdict on one fit."""

    rhat_max: float
    ess_bulk_min: float
    ess_tail_min: float
    divergences: int
    bfmi_min: float
    failures: tuple[str, ...] = field(default=())
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def mixing_failed(self) -> bool:
        """Whether R-hat or an ESS failed (or is NaN): the chains mixed too little for the
        draws, a failure more draws address, unlike a divergence or a low E-BFMI."""
        return not (self.rhat_max <= RHAT_MAX and self.ess_bulk_min >= ESS_MIN
                    and self.ess_tail_min >= ESS_MIN)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["failures"] = list(self.failures)
        d["ok"] = self.ok
        return d


_Gated = tuple[str, tuple[int, ...], np.ndarray]
"""A gated variable: its name, its element shape and its draws (chain, draw, element)."""


def _gated_draws(posterior: xr.DataTree, names: Sequence[str]) -> list[_Gated]:
    """Each gated variable's name, element shape and draws as a (chain, draw, element)
    array: its elements flattened in C order, the order ``np.argwhere`` names them in."""
    out = []
    for name in names:
        values = posterior[name].transpose("chain", "draw", ...).values
        shape = values.shape[2:]
        out.append((name, shape, values.reshape(*values.shape[:2], math.prod(shape))))
    return out


def _per_element(statistic: Callable[[np.ndarray], np.ndarray],
                 draws: Sequence[np.ndarray]) -> np.ndarray:
    """``statistic`` of every element of ``draws`` (chain, draw, element), in one call.

    Variables of different dtypes (a float32 beside a float64) are not stacked: promoting
    float32 draws would change their ranks' ties and so the statistic."""
    groups = ([list(draws)] if len({d.dtype for d in draws}) == 1
              else [[d] for d in draws])
    return np.concatenate([statistic(np.concatenate(g, axis=2)) for g in groups])


def _element_names(gated: Sequence[_Gated], flat: np.ndarray) -> tuple[str, ...]:
    """The names, ``name`` or ``name[i, ...]`` (positions, not coordinate labels), of the
    elements at positions ``flat`` of the stacked elements of ``gated``."""
    ends = np.cumsum([math.prod(shape) for _, shape, _ in gated])
    out = []
    for i in flat:
        v = int(np.searchsorted(ends, i, side="right"))
        name, shape, _ = gated[v]
        local = int(i - (ends[v - 1] if v else 0))
        out.append(f"{name}[{', '.join(str(j) for j in np.unravel_index(local, shape))}]"
                   if shape else str(name))
    return tuple(out)


def _extreme(values: np.ndarray, reduce: Callable[[np.ndarray], Any],
             gated: Sequence[_Gated]) -> tuple[float, tuple[str, ...]]:
    """``reduce`` (``np.max`` or ``np.min``) of a statistic over every gated element, with
    the elements where it is NaN.

    NaN propagates (``np.max``, not ``np.nanmax``): an R-hat or ESS that could not be
    computed (a chain stuck at one value, non-finite draws) must fail the gate, not be
    dropped while the other variables pass it.
    """
    return float(reduce(values)), _element_names(gated, np.flatnonzero(np.isnan(values)))


def _nan_failure(statistic: str, names: Sequence[str]) -> str:
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return f"{statistic} is NaN for {shown} (a stuck chain or non-finite draws)"


def _bound_failure(statistic: str, value: float, nan: Sequence[str], bound: float, *,
                   upper: bool, fmt: str) -> list[str]:
    """The gate's message for one statistic (none when it passes); NaN always fails."""
    if nan:
        return [_nan_failure(statistic, nan)]
    if value <= bound if upper else value >= bound:
        return []
    return [f"{statistic} {value:{fmt}} {'>' if upper else '<'} {bound}"]


def check_convergence(idata: xr.DataTree, var_names: Sequence[str], attempts: int = 1
                      ) -> Diagnostics:
    """Apply the gate: R-hat <= 1.01, bulk/tail ESS >= 400, no divergences, E-BFMI >= 0.3.

    A NaN statistic fails the gate with a message naming the statistic and the variables
    where it is NaN, and the reported extreme is then NaN too (``null`` in JSON).

    The statistics are arviz_stats' array functions on the gated draws stacked into one
    (chain, draw, element) array: the arithmetic of ``az.rhat(idata)``, ``az.ess`` and
    ``az.bfmi`` (bit for bit), without their per-variable xarray wrapping.
    """
    gated = _gated_draws(idata["posterior"], list(var_names))
    draws = [d for _, _, d in gated]
    axes = {"chain_axis": 0, "draw_axis": 1}
    rhat, rhat_nan = _extreme(_per_element(
        lambda a: array_stats.rhat(a, method="rank", **axes), draws), np.max, gated)
    ess_bulk, bulk_nan = _extreme(_per_element(
        lambda a: array_stats.ess(a, method="bulk", **axes), draws), np.min, gated)
    # az.ess(method="tail") takes its probability from rcParams when none is given.
    prob = az.rcParams["stats.ci_prob"]
    ess_tail, tail_nan = _extreme(_per_element(
        lambda a: array_stats.ess(a, method="tail", prob=prob, **axes), draws), np.min, gated)
    divergences = int(idata["sample_stats"]["diverging"].sum())
    energy = np.asarray(array_stats.bfmi(
        idata["sample_stats"]["energy"].transpose("chain", "draw").values, **axes),
        dtype=float).ravel()
    bfmi = float(np.min(energy))
    bfmi_nan = [f"chain {i}" for i in np.flatnonzero(np.isnan(energy))]
    failures = [
        *_bound_failure("R-hat", rhat, rhat_nan, RHAT_MAX, upper=True, fmt=".3f"),
        *_bound_failure("bulk ESS", ess_bulk, bulk_nan, ESS_MIN, upper=False, fmt=".0f"),
        *_bound_failure("tail ESS", ess_tail, tail_nan, ESS_MIN, upper=False, fmt=".0f"),
        *([f"{divergences} divergent transition(s)"] if divergences else []),
        *_bound_failure("E-BFMI", bfmi, bfmi_nan, BFMI_MIN, upper=False, fmt=".2f"),
    ]
    return Diagnostics(rhat, ess_bulk, ess_tail, divergences, bfmi, tuple(failures), attempts)


def ppc_pvalues(observed: dict[str, np.ndarray], replicated: dict[str, xr.DataArray]
                ) -> dict[str, list[float]]:
    """Posterior-predictive mid-p-values P(y_rep > y) + P(y_rep = y)/2 per study.

    Values near 0 or 1 flag a study the model cannot reproduce. A study with no value for
    an observed name (NaN: e.g. a study that reports a contrast has no event counts) gets
    NaN, written as null in ``summary.json``.
    """
    out = {}
    for name, y in observed.items():
        rep = replicated[name]
        yy = xr.DataArray(np.asarray(y, dtype=float), dims="study")
        p = (rep > yy).mean(("chain", "draw")) + 0.5 * (rep == yy).mean(("chain", "draw"))
        out[name] = [float(v) for v in p.where(yy.notnull()).values]
    return out


def _study_log_lik(log_lik: dict[str, xr.DataArray]) -> xr.DataArray:
    """Each study's log-likelihood summed over observed names, leaving out a name that is
    NaN in every draw of a study (not observed there, e.g. event counts of a study that
    reports a contrast); a NaN in only some draws stays NaN (a numerical failure)."""
    total = None
    for da in log_lik.values():
        sample_dims = [d for d in da.dims if d != "study"]
        part = da.where(~da.isnull().all(sample_dims), 0.0)
        total = part if total is None else total + part
    assert total is not None, "no log-likelihood"
    return total


def loo_by_study(posterior: xr.Dataset, log_lik: dict[str, xr.DataArray]) -> dict:
    """PSIS-LOO with one study (both arms together, or its contrast) left out at a time."""
    total = _study_log_lik(log_lik)
    tree = xr.DataTree.from_dict({"posterior": posterior,
                                  "log_likelihood": xr.Dataset({"study": total})})
    with warnings.catch_warnings():
        # The Pareto-k warning is reported in the summary instead (``warning``, ``pareto_k``).
        warnings.filterwarnings("ignore", message="Estimated shape parameter of Pareto")
        res = az.loo(tree, var_name="study", pointwise=True)
    k = np.asarray(res.pareto_k).ravel()
    return {
        "elpd_loo": float(res.elpd), "se": float(res.se), "p_loo": float(res.p),
        "pareto_k": [float(v) for v in k],
        "pareto_k_max": float(np.max(k)),
        "warning": bool(np.max(k) > PARETO_K_WARN),
    }
