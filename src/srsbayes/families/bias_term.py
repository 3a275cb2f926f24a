"""The study deviation every family shares: its parametrisation, chosen per study from the
data, and an optional additive bias (Welton et al. 2009).

``delta_i = bias_mean_i + bias_shared_i u + s_i^(1 - w_i) (z_i - w_i theta)``,
``z_i ~ N(w_i theta, s_i^w_i)``, ``s_i = sqrt(tau^2 + bias_sd_i^2)``, one ``u ~ N(0, 1)`` for
all studies: the random effect ``N(0, tau^2)`` plus the bias of Welton et al. (2009),
``b_i = beta + eps_i`` with a shared ``beta = bias_mean_i + bias_shared_i u`` and each
study's own ``eps_i ~ N(0, bias_sd_i^2)`` (:mod:`srsbayes.priors.bias`). Studies of
different rules share the one ``u`` (their shared biases are fully correlated: biases of the
same kind reinforce rather than cancel). The bias data are zeros unless a bias-adjusted
analysis sets them, and then ``delta_i`` is the random effect alone (``u`` is then a free
standard normal that no likelihood term touches).

The random effect plus the study's own bias is partially non-centred in location and scale
with weight ``w_i`` (``pm.Data`` ``centring``; Papaspiliopoulos et al. 2007). ``w_i = 0`` is
the non-centred form ``s_i z_i``, ``z_i ~ N(0, 1)``; ``w_i = 1`` the centred one, whose free
variable is the study's own effect less its bias, ``z_i ~ N(theta, s_i)``. Whatever ``w``,
the model (the joint density of ``theta``, ``tau`` and ``delta``) is the same; only the
geometry the sampler sees changes.

A study whose likelihood pins its effect down far more tightly than the between-study
spread makes the non-centred posterior a narrow ridge (in ``theta + tau z_i`` and in
``(tau, z_i)``) and the centred one nearly independent; a study that says little makes
the centred form a funnel and the non-centred one easy (Papaspiliopoulos, Roberts & Sköld
2007; Betancourt & Girolami 2015). :func:`centring` sets each ``w_i`` from the study's
information about its effect and a reference spread
(:mod:`srsbayes.inference.parametrisation`), the weight with which the Gibbs sampler of the
normal hierarchy converges fastest (Papaspiliopoulos et al. 2007, sec. 3).

References
----------
Papaspiliopoulos O, Roberts GO, Sköld M (2007). A general framework for the parametrization
of hierarchical models. Stat Sci 22:59-73.

Betancourt M, Girolami M (2015). Hamiltonian Monte Carlo for hierarchical models. In:
Current Trends in Bayesian Methodology with Applications, CRC Press, 79-101.

Welton NJ, Ades AE, Carlin JB, Altman DG, Sterne JAC (2009). Models for potentially biased
evidence in meta-analysis using empirically based priors. J R Stat Soc A 172:119-136.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError
from ..priors.bias import BiasPriors, BiasTerms, study_bias

if TYPE_CHECKING:
    import pandas as pd

    from .spec_view import SpecView as OutcomeSpec

BIAS_DATA = ("bias_mean", "bias_shared", "bias_sd")
"""The ``pm.Data`` a bias-adjusted analysis swaps in (dims ``study``)."""


CENTRING = "centring"
"""The ``pm.Data`` (dims ``study``) of each study's centring weight ``w_i`` in [0, 1]."""


def study_deviation(theta, tau, k: int):
    """``delta`` (a ``pm.Deterministic``, dims ``study``) and its free variable ``z``, inside
    the model's context; ``centring`` (default 0: non-centred) is set per fit by
    :func:`srsbayes.inference.parametrisation.centring_data`."""
    import pymc as pm
    import pytensor.tensor as pt

    w = pm.Data(CENTRING, np.zeros(k), dims="study")
    mean = pm.Data("bias_mean", np.zeros(k), dims="study")
    shared = pm.Data("bias_shared", np.zeros(k), dims="study")
    sd = pm.Data("bias_sd", np.zeros(k), dims="study")
    u = pm.Normal("bias_u", 0.0, 1.0)
    log_s = 0.5 * pt.log(pt.sqr(tau) + pt.sqr(sd))
    # z ~ Normal(w theta, s^w), written as a flat variable plus its log density so that
    # its initial point (0 + jitter) does not depend on theta's: the compile cache then
    # replays PyMC's initial points instead of compiling them (compile_cache.py)
    z = pm.Flat("z", dims="study")
    pm.Potential("z_prior", pm.logp(pm.Normal.dist(w * theta, pt.exp(w * log_s)), z).sum())
    return pm.Deterministic("delta", mean + shared * u + pt.exp((1.0 - w) * log_s)
                            * (z - w * theta), dims="study")


def centring(variance: np.ndarray, spread: float, bias_sd: np.ndarray | float = 0.0
             ) -> np.ndarray:
    """Centring weights ``w_i = s_i^2 I_i / (1 + s_i^2 I_i)``, ``I_i = 1 / variance_i``.

    ``variance_i`` is the approximate sampling variance of study i's effect estimate and
    ``s_i^2 = spread^2 + bias_sd_i^2`` the variance of its deviation: the weight that makes
    the Gibbs sampler of the normal hierarchy ``y_i ~ N(theta + delta_i, variance_i)``,
    ``delta_i ~ N(0, s_i^2)`` converge fastest (Papaspiliopoulos et al. 2007, sec. 3). It
    is near 1 (centred) when the study's likelihood dominates its deviation's spread and
    near 0 (non-centred) when the spread dominates; a study with no information (infinite
    or NaN variance) gets 0.
    """
    v = np.asarray(variance, dtype=float)
    ratio = (spread**2 + np.square(bias_sd)) / np.where(np.isfinite(v) & (v > 0), v, np.inf)
    return ratio / (1.0 + ratio)


def no_bias(k: int) -> dict[str, np.ndarray]:
    """Bias data that switch the adjustment off (every fit that is not bias-adjusted)."""
    return {name: np.zeros(k) for name in BIAS_DATA}


def bias_scale(spec: OutcomeSpec) -> str | None:
    """The scale ``spec``'s family applies a bias prior on (e.g. "log odds ratio"), or None
    when it cannot: a difference measure, or a family without a bias term."""
    from . import get_family

    return get_family(spec.family).bias_scale(spec)


def bias_terms(spec: OutcomeSpec, wide: pd.DataFrame, priors: BiasPriors) -> BiasTerms:
    """Each study's bias prior for a bias-adjusted fit of ``spec``'s outcome.

    Raises
    ------
    InputError
        The outcome's scale takes no ratio-of-ratios bias prior (a risk or mean difference).
    """
    if bias_scale(spec) is None:
        raise InputError(f"outcome {spec.id!r} is measured as a difference: the bias priors "
                         "(ratios of ratios) do not apply to it", file=spec.path,
                         column="--bias-adjusted")
    return study_bias(wide, spec.sign, priors, spec.outcome_type)
