"""Each study's parametrisation, chosen from the data before sampling.

The families' study deviation (:func:`srsbayes.families.bias_term.study_deviation`) is
partially centred with a weight ``w_i`` per study: 0 is the non-centred form, right for a
study whose likelihood says little next to the between-study spread, 1 the centred form,
right for a study that pins its own effect down (Papaspiliopoulos, Roberts & Sköld 2007;
Betancourt & Girolami 2015). The weight that makes the Gibbs sampler of the normal hierarchy
converge fastest is ``w_i = tau^2 / (tau^2 + v_i)`` for a study of sampling variance ``v_i``
(Papaspiliopoulos et al. 2007, sec. 3). ``tau`` is not known before the fit; the spread used
is the posterior median of ``tau`` under the normal approximation of the studies' estimates
and the fit's own ``tau`` prior (:func:`reference_tau`), a one-dimensional quadrature
(:mod:`srsbayes.inference.exact`) that takes milliseconds. The prior median alone would
centre the four large statin trials of ``dat.cannon2006``, whose posterior ``tau`` is
near 0.05 against a prior median of 0.67, and the centred form of a study whose deviation
is that small is a funnel (the battery of ``tests/published/test_metadat.py`` failed all three seeds
with it).

The weights change the geometry only, never the model: the posterior of every parameter is
the same for any ``w``.

References
----------
Papaspiliopoulos O, Roberts GO, Sköld M (2007). A general framework for the parametrization
of hierarchical models. Stat Sci 22:59-73.

Betancourt M, Girolami M (2015). Hamiltonian Monte Carlo for hierarchical models. In:
Current Trends in Bayesian Methodology with Applications, CRC Press, 79-101.
"""

from __future__ import annotations

import numpy as np

from ..families.bias_term import CENTRING, centring
from ..priors.distributions import Prior
from .exact import normal_normal_posterior

TAU_QUANTILE = 0.025
"""The quantile of the approximate posterior of tau the weights are computed at (see the
module docstring)."""
FLAT_SD = 1e4
"""SD of the (practically flat) normal prior of the overall effect in the approximation."""
GRID = 400
"""Grid points of each of the quadrature's two tau grids (the weights need no precision)."""


def reference_tau(estimates: np.ndarray, variances: np.ndarray, tau_prior: Prior) -> float:
    """The :data:`TAU_QUANTILE` quantile of the posterior of ``tau`` given approximate study
    estimates and variances (the normal-normal model, ``tau_prior``, a flat prior on the
    overall effect); the same quantile of ``tau_prior`` when no study has a finite
    estimate."""
    y, v = np.asarray(estimates, float), np.asarray(variances, float)
    keep = np.isfinite(y) & np.isfinite(v) & (v > 0)
    if not keep.any():
        return float(tau_prior.scipy().ppf(TAU_QUANTILE))
    post = normal_normal_posterior(y[keep], np.sqrt(v[keep]), FLAT_SD, tau_prior, n_grid=GRID)
    return float(post.tau_quantile(TAU_QUANTILE))


def centring_data(family_module: object, data: dict[str, np.ndarray],
                  priors: dict[str, Prior]) -> dict[str, np.ndarray]:
    """``{"centring": w}`` for a fit of ``data`` under ``priors`` by a family whose model
    takes its deviation from :func:`~srsbayes.families.bias_term.study_deviation` and which
    gives each study's approximate estimate and variance (``study_estimates(data)``);
    ``{}`` for another family, or when ``data`` set the weights themselves."""
    pair = None if CENTRING in data else family_module.study_estimates(data)
    if pair is None:
        return {}
    y, v = pair
    spread = reference_tau(y, v, priors["tau"])
    return {CENTRING: centring(v, spread, np.asarray(data.get("bias_sd", 0.0), dtype=float))}
