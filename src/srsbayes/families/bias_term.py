"""The study deviation every family shares, with an optional additive bias.

``delta_i = bias_mean_i + bias_shared_i u + sqrt(tau^2 + bias_sd_i^2) z_i`` (non-centred,
``z_i ~ N(0, 1)``, one ``u ~ N(0, 1)`` for all studies): the random effect
``N(0, tau^2)`` plus the bias of Welton et al. (2009), ``b_i = beta + eps_i`` with a
shared ``beta = bias_mean_i + bias_shared_i u`` and each study's own
``eps_i ~ N(0, bias_sd_i^2)`` (:mod:`srsbayes.priors.bias`). Studies of different rules
share the one ``u`` (their shared biases are fully correlated: biases of the same kind
reinforce rather than cancel). The bias data are zeros unless a bias-adjusted analysis
sets them, and then ``delta_i = tau z_i``: the model without bias (``u`` is then a free
standard normal that no likelihood term touches).
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


def study_deviation(tau, z, k: int):
    """``delta`` (a ``pm.Deterministic``, dims ``study``), inside the model's context."""
    import pymc as pm
    import pytensor.tensor as pt

    mean = pm.Data("bias_mean", np.zeros(k), dims="study")
    shared = pm.Data("bias_shared", np.zeros(k), dims="study")
    sd = pm.Data("bias_sd", np.zeros(k), dims="study")
    u = pm.Normal("bias_u", 0.0, 1.0)
    return pm.Deterministic("delta", mean + shared * u + pt.sqrt(pt.sqr(tau) + pt.sqr(sd)) * z,
                            dims="study")


def no_bias(k: int) -> dict[str, np.ndarray]:
    """Bias data that switch the adjustment off (every fit that is not bias-adjusted)."""
    return {name: np.zeros(k) for name in BIAS_DATA}


def bias_scale(spec: OutcomeSpec) -> str | None:
    """The scale ``spec``'s family applies a bias prior on (e.g. "log odds ratio"), or None
    when it cannot: a difference measure, or a family without a bias term."""
    from . import get_family

    hook = getattr(get_family(spec.family), "bias_scale", None)
    return None if hook is None else hook(spec)


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
