"""The study deviation every family shares, with an optional additive bias per study.

``delta_i = bias_mean_i + sqrt(tau^2 + bias_sd_i^2) z_i`` (non-centred, ``z_i ~ N(0, 1)``):
the sum of the random effect ``N(0, tau^2)`` and an independent bias
``b_i ~ N(bias_mean_i, bias_sd_i^2)`` (:mod:`srsbayes.priors.bias`). The bias data are
zeros unless a bias-adjusted analysis sets them, and then ``delta_i = tau z_i``: the
model without bias.
"""

from __future__ import annotations

import numpy as np

BIAS_DATA = ("bias_mean", "bias_sd")
"""The ``pm.Data`` a bias-adjusted analysis swaps in (dims ``study``)."""


def study_deviation(tau, z, k: int):
    """``delta`` (a ``pm.Deterministic``, dims ``study``), inside the model's context."""
    import pymc as pm
    import pytensor.tensor as pt

    mean = pm.Data("bias_mean", np.zeros(k), dims="study")
    sd = pm.Data("bias_sd", np.zeros(k), dims="study")
    return pm.Deterministic("delta", mean + pt.sqrt(pt.sqr(tau) + pt.sqr(sd)) * z,
                            dims="study")


def no_bias(k: int) -> dict[str, np.ndarray]:
    """Bias data that switch the adjustment off (every fit that is not bias-adjusted)."""
    return {name: np.zeros(k) for name in BIAS_DATA}
