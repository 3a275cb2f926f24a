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
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

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


def _max(tree) -> float:
    return float(max(float(np.nanmax(v.values)) for v in tree.to_dataset().data_vars.values()))


def _min(tree) -> float:
    return float(min(float(np.nanmin(v.values)) for v in tree.to_dataset().data_vars.values()))


def check_convergence(idata: xr.DataTree, var_names: Sequence[str], attempts: int = 1
                      ) -> Diagnostics:
    """Apply the gate: R-hat <= 1.01, bulk/tail ESS >= 400, no divergences, E-BFMI >= 0.3."""
    names = list(var_names)
    rhat = _max(az.rhat(idata, var_names=names))
    ess_bulk = _min(az.ess(idata, var_names=names, method="bulk"))
    ess_tail = _min(az.ess(idata, var_names=names, method="tail"))
    divergences = int(idata["sample_stats"]["diverging"].sum())
    bfmi = float(np.min(az.bfmi(idata).to_dataset()["energy"].values))
    failures = []
    if not rhat <= RHAT_MAX:
        failures.append(f"R-hat {rhat:.3f} > {RHAT_MAX}")
    if not ess_bulk >= ESS_MIN:
        failures.append(f"bulk ESS {ess_bulk:.0f} < {ESS_MIN}")
    if not ess_tail >= ESS_MIN:
        failures.append(f"tail ESS {ess_tail:.0f} < {ESS_MIN}")
    if divergences:
        failures.append(f"{divergences} divergent transition(s)")
    if not bfmi >= BFMI_MIN:
        failures.append(f"E-BFMI {bfmi:.2f} < {BFMI_MIN}")
    return Diagnostics(rhat, ess_bulk, ess_tail, divergences, bfmi, tuple(failures), attempts)


def ppc_pvalues(observed: dict[str, np.ndarray], replicated: dict[str, xr.DataArray]
                ) -> dict[str, list[float]]:
    """Posterior-predictive mid-p-values P(y_rep > y) + P(y_rep = y)/2 per study.

    Values near 0 or 1 flag a study the model cannot reproduce.
    """
    out = {}
    for name, y in observed.items():
        rep = replicated[name]
        yy = xr.DataArray(np.asarray(y), dims="study")
        p = (rep > yy).mean(("chain", "draw")) + 0.5 * (rep == yy).mean(("chain", "draw"))
        out[name] = [float(v) for v in p.values]
    return out


def loo_by_study(posterior: xr.Dataset, log_lik: dict[str, xr.DataArray]) -> dict:
    """PSIS-LOO with one study (both arms together) left out at a time."""
    total = sum(log_lik.values())
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
