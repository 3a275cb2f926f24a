"""NUTS draws against an exact posterior, within Monte Carlo error (shared by the tests)."""

from __future__ import annotations

import arviz as az
import numpy as np
import xarray as xr

Z = 3.5
"""Monte Carlo standard errors allowed per comparison (two-sided 5e-4)."""


def draws(result, name: str) -> np.ndarray:
    """Posterior draws of ``name`` as a (chain, draw) array."""
    return np.asarray(result.idata["posterior"][name].transpose("chain", "draw"), dtype=float)


def mcse(x: np.ndarray, method: str) -> float:
    """ArviZ's Monte Carlo standard error of a (chain, draw) array's mean, sd or median."""
    return float(az.mcse(xr.Dataset({"x": (("chain", "draw"), x)}), method=method)["x"])


def exact_disagreements(theta: np.ndarray, tau: np.ndarray, exact) -> list[tuple]:
    """The moments of θ and τ (mean, median, sd of θ; mean and median of τ) that differ from
    the exact posterior's by more than ``Z`` Monte Carlo SEs (plus 0.001 for the grid)."""
    checks = [
        ("mu mean", theta.mean(), exact.mu_mean_total(), mcse(theta, "mean")),
        ("mu median", np.median(theta), exact.mu_quantile(0.5), mcse(theta, "median")),
        ("mu sd", theta.std(ddof=1), exact.mu_sd_total(), mcse(theta, "sd")),
        ("tau mean", tau.mean(), exact.tau_mean(), mcse(tau, "mean")),
        ("tau median", np.median(tau), float(exact.tau_quantile(0.5)), mcse(tau, "median")),
    ]
    return [(n, ours, ref, Z * se + 1e-3) for n, ours, ref, se in checks
            if abs(ours - ref) > Z * se + 1e-3]
