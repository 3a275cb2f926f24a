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

import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import arviz as az
import numpy as np
import xarray as xr

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

    def as_dict(self) -> dict:
        d = asdict(self)
        d["failures"] = list(self.failures)
        d["ok"] = self.ok
        return d


def _nan_names(ds: xr.Dataset) -> tuple[str, ...]:
    """Every element of ``ds`` that is NaN, as ``name`` or ``name[i, ...]``."""
    out = []
    for name, v in ds.data_vars.items():
        values = np.asarray(v.values, dtype=float)
        if values.ndim == 0:
            out.extend([str(name)] if np.isnan(values) else [])
            continue
        out.extend(f"{name}[{', '.join(str(i) for i in idx)}]"
                   for idx in np.argwhere(np.isnan(values)))
    return tuple(out)


def _extreme(tree: xr.DataTree, reduce: Callable[[np.ndarray], Any]
             ) -> tuple[float, tuple[str, ...]]:
    """``reduce`` (``np.max`` or ``np.min``) of a statistic over every variable and element,
    with the elements where it is NaN.

    NaN propagates (``np.max``, not ``np.nanmax``): an R-hat or ESS that could not be
    computed (a chain stuck at one value, non-finite draws) must fail the gate, not be
    dropped while the other variables pass it.
    """
    ds = tree.to_dataset()
    values = [np.asarray(v.values, dtype=float).ravel() for v in ds.data_vars.values()]
    return float(reduce(np.concatenate(values))), _nan_names(ds)


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
    """
    names = list(var_names)
    rhat, rhat_nan = _extreme(az.rhat(idata, var_names=names), np.max)
    ess_bulk, bulk_nan = _extreme(az.ess(idata, var_names=names, method="bulk"), np.min)
    ess_tail, tail_nan = _extreme(az.ess(idata, var_names=names, method="tail"), np.min)
    divergences = int(idata["sample_stats"]["diverging"].sum())
    energy = np.asarray(az.bfmi(idata).to_dataset()["energy"].values, dtype=float).ravel()
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
