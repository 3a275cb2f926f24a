"""Published analysis reproduced: BUGS "Blockers" (binomial-normal, exact binomial
likelihood), MultiBUGS posterior summaries reproduced by the binomial family, fitted through
``fit_outcome``.

Tolerances are stated next to each comparison: Monte Carlo standard errors (ours and,
where printed, the publication's) at z = 3.5, plus the precision of the printed figures.
"""

from __future__ import annotations

from pathlib import Path

import arviz as az
import numpy as np
import pytest
import xarray as xr
from scipy import stats

from conftest import Z, draws
from srsbayes.inference.fitting import FitSettings, fit_outcome
from srsbayes.inputs.data import read_table
from srsbayes.inputs.specs import load_specs

DATA = Path(__file__).parents[1] / "data"


@pytest.fixture(scope="module")
def ref_specs():
    return load_specs(DATA / "models")



def _ess(x: np.ndarray, method: str) -> float:
    return float(az.ess(xr.Dataset({"x": (("chain", "draw"), x)}), method=method)["x"])


# -- 1. BUGS Blockers ---------------------------------------------------------------------------
#
# Source: MultiBUGS example "Blockers: random effects meta-analysis of clinical trials"
# (Spiegelhalter et al., BUGS Examples Vol. 1; data from Carlin 1992, Stat Med 11:141-158),
# file MultiBUGS/MultiBUGS-txt@1249f62e940bec9fb91f0fd9d50ba08effc72341:Examples/Blockers.odc.cp,
# also https://www.multibugs.org/examples/latest/Blockers.html. Model (verbatim):
#     rc[i] ~ dbin(pc[i], nc[i]); rt[i] ~ dbin(pt[i], nt[i]); logit(pc[i]) <- mu[i]
#     logit(pt[i]) <- mu[i] + delta[i]; mu[i] ~ dnorm(0.0,1.0E-5); delta[i] ~ dnorm(d, tau)
#     d ~ dnorm(0.0,1.0E-6); tau ~ dgamma(0.001,0.001); delta.new ~ dnorm(d, tau)
#     sigma <- 1 / sqrt(tau)
# Published results (2 chains, start 1001, sample 20000):
#                mean     median   sd       MC_error  val2.5pc  val97.5pc  ESS
#     d          -0.2502  -0.2514   0.06137  0.001762  -0.3692   -0.1276    1213
#     delta.new  -0.2501  -0.2524   0.1443   0.002002  -0.5473    0.05888   5201
#     sigma       0.1134   0.1008   0.06737  0.002498   0.02589   0.2709    727
# Data: tests/data/blocker.csv (treated arms coded preop, controls postop).

BUGS_BLOCKERS = {
    "d": {"mean": -0.2502, "median": -0.2514, "sd": 0.06137, "q025": -0.3692,
          "q975": -0.1276, "mc_error": 0.001762, "ess": 1213},
    "delta.new": {"mean": -0.2501, "median": -0.2524, "sd": 0.1443, "q025": -0.5473,
                  "q975": 0.05888, "mc_error": 0.002002, "ess": 5201},
    "sigma": {"mean": 0.1134, "median": 0.1008, "sd": 0.06737, "q025": 0.02589,
              "q975": 0.2709, "mc_error": 0.002498, "ess": 727},
}
GAMMA_A = GAMMA_B = 0.001  # tau (precision) ~ dgamma(0.001, 0.001)


def log_bugs_over_proposal(tau: np.ndarray, mu: float, sigma: float) -> np.ndarray:
    """log p_BUGS(tau) - log p_proposal(tau), up to a constant.

    1/tau^2 ~ Gamma(a, b) gives p(tau) ∝ tau^(-2a-1) exp(-b / tau^2); the proposal is
    log-normal(mu, sigma): p(tau) ∝ tau^-1 exp(-(log tau - mu)^2 / (2 sigma^2)).
    """
    lt = np.log(tau)
    return -2 * GAMMA_A * lt - GAMMA_B / tau**2 + (lt - mu) ** 2 / (2 * sigma**2)


def _weighted_summary(x: np.ndarray, w: np.ndarray) -> dict[str, float]:
    order = np.argsort(x)
    xs, ws = x[order], w[order]
    cdf = np.cumsum(ws) - ws / 2  # mid-point weighted ECDF

    def q(p: float) -> float:
        return float(np.interp(p, cdf, xs))

    mean = float(np.sum(w * x))
    var = float(np.sum(w * (x - mean) ** 2))
    return {"mean": mean, "sd": var**0.5, "median": q(0.5), "q025": q(0.025),
            "q975": q(0.975), "m4": float(np.sum(w * (x - mean) ** 4))}


def _mcse_stat(stat: str, s: dict[str, float], dens, n: float) -> float:
    """Monte Carlo SE of a summary from ``n`` effective draws.

    Mean: sd / sqrt(n). SD: sqrt((m4 - sd^4) / (4 sd^2 n)) (delta method). Quantile q_p:
    sqrt(p (1 - p) / n) / f(q_p), with f the posterior density (weighted KDE).
    """
    if stat == "mean":
        return s["sd"] / np.sqrt(n)
    if stat == "sd":
        return float(np.sqrt((s["m4"] - s["sd"] ** 4) / (4 * s["sd"] ** 2 * n)))
    p = {"median": 0.5, "q025": 0.025, "q975": 0.975}[stat]
    return float(np.sqrt(p * (1 - p) / n) / dens(s[stat])[0])


@pytest.mark.slow
def test_blockers_reproduce_multibugs(ref_specs):
    """Importance reweighting gives the BUGS prior exactly.

    Our prior slots cannot hold BUGS's Gamma(0.001, 0.001) on the precision 1/tau^2, so
    the fit uses a log-normal(-2.3, 1.5) proposal for tau (blocker.toml) and the draws are
    reweighted by p_BUGS(tau) / p_proposal(tau) with Pareto-smoothed importance sampling
    (Vehtari et al. 2024, JMLR 25:1-58); only tau's prior differs, so the weighted draws
    are the BUGS posterior. Every other prior is BUGS's: d ~ N(0, 1000), mu[i] ~
    N(0, 316.2278).

    Tolerance per summary: 3.5 x sqrt(MCSE_ours^2 + MCSE_BUGS^2) + 5e-5 (the figures are
    printed to 4 decimals). MCSE_BUGS of a mean is the printed MC_error; of an SD or
    quantile it uses the printed ESS with the formulas of ``_mcse_stat``. MCSE_ours uses
    ESS (bulk for mean, SD and median, tail for the 2.5% / 97.5% quantiles) times the
    importance-sampling efficiency ESS_IS / N.
    """
    from arviz_stats.base import array_stats

    table = read_table(DATA / "blocker.csv", ref_specs)
    spec = ref_specs["blocker"]
    assert str(spec.priors["effect"]) == "normal(0, 1000)"
    res = fit_outcome(table, spec, settings=FitSettings(draws=2500, seed=1992), checks=False)
    assert res.ok, res.diagnostics
    d, tau = draws(res, "effect"), draws(res, "tau")
    mu, sig = spec.priors["tau"].params
    log_ratio = log_bugs_over_proposal(tau, mu, sig)
    lw, khat = array_stats.psislw(-log_ratio, r_eff=1.0, axis=(0, 1))  # takes -log ratios
    assert float(khat) < 0.5  # reliable importance sampling (Pareto k < 0.5)
    w = np.exp(lw - lw.max()).ravel()
    w /= w.sum()
    efficiency = 1 / np.sum(w**2) / w.size
    assert efficiency > 0.3
    rng = np.random.default_rng(1992)
    quantities = {"d": d, "sigma": tau, "delta.new": d + tau * rng.standard_normal(d.shape)}
    report = {}
    for name, x in quantities.items():
        ours = _weighted_summary(x.ravel(), w)
        ref = BUGS_BLOCKERS[name]
        dens = stats.gaussian_kde(x.ravel(), weights=w)
        n_bulk = _ess(x, "bulk") * efficiency
        n_tail = _ess(x, "tail") * efficiency
        for stat in ("mean", "median", "sd", "q025", "q975"):
            n = n_tail if stat in ("q025", "q975") else n_bulk
            se_ours = _mcse_stat(stat, ours, dens, n)
            se_bugs = (ref["mc_error"] if stat == "mean"
                       else _mcse_stat(stat, ours, dens, ref["ess"]))
            tol = Z * np.hypot(se_ours, se_bugs) + 5e-5
            report[(name, stat)] = (ours[stat], ref[stat], tol)
    bad = {k: v for k, v in report.items() if abs(v[0] - v[1]) > v[2]}
    assert not bad, bad
    # The comparison has power: the unweighted posterior (proposal prior on tau) is not the
    # BUGS posterior, and sigma's mean fails the same tolerance.
    assert abs(tau.mean() - BUGS_BLOCKERS["sigma"]["mean"]) > report[("sigma", "mean")][2]
