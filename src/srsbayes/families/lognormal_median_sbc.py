"""SBC simulator of the log-normal median family: medians drawn from the model equations of
:mod:`srsbayes.families.lognormal_median` and rounded as papers report them (not by the
family's own ``simulate``; see :mod:`srsbayes.validation.sbc`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from .base import Truth, draw, draw_above

if TYPE_CHECKING:
    import pandas as pd

    from ..priors.distributions import Prior


def report_rounded(m: np.ndarray) -> np.ndarray:
    """Medians as a paper reports them: whole months, or 0.1 month below half a month.

    The bundled medians are whole months. A simulated median below 0.5 months (about one
    arm in 3000 under the ``os`` priors) would round to 0, which no paper reports; it is
    given one decimal instead.
    """
    whole = np.round(m)
    return np.where(whole >= 1, whole, np.maximum(np.round(m, 1), 0.1))


def simulate_lognormal_median(wide: pd.DataFrame, priors: Mapping[str, Prior],
                              rng: np.random.Generator
                              ) -> tuple[Truth, dict[str, np.ndarray]]:
    """Parameters from the priors and rounded medians from the log-normal median model.

    ``log m*_ij ~ Normal(mu_i + x_j (theta + tau z_i), s_ij lambda^f_ij)`` and the reported
    median is ``m*`` rounded (:func:`report_rounded`); see
    :mod:`srsbayes.families.lognormal_median`.

    The standard errors ``s_ij`` and inflation flags ``f_ij`` are those the family derives
    for the bundled design (rule 3: arm size, follow-up and the bundled median) and are held
    fixed: the model treats them as known, and SBC checks the computation of that model's
    posterior. (Re-deriving ``s`` from each simulated median would make the standard
    error depend on the data it describes, a different generative model.)
    """
    from .lognormal_median import SE_INFLATION_MIN, model_data

    design = model_data(wide)
    k = len(wide)
    theta, tau = float(draw(priors["effect"], rng)), float(draw(priors["tau"], rng))
    mu = np.asarray(draw(priors["baseline"], rng, k), dtype=float)
    lam = float(draw_above(priors["se_inflation"], rng, SE_INFLATION_MIN))
    z = rng.standard_normal(k)
    delta = tau * z
    sim = wide.copy()
    for arm, eta in (("postop", mu), ("preop", mu + theta + delta)):
        sd = design[f"se_{arm}"] * np.where(design[f"inflate_{arm}"] > 0.5, lam, 1.0)
        sim[f"median_months_{arm}"] = report_rounded(np.exp(eta + sd * rng.standard_normal(k)))
    data = model_data(sim)
    for arm in ("postop", "preop"):
        data[f"se_{arm}"] = design[f"se_{arm}"]
        data[f"inflate_{arm}"] = design[f"inflate_{arm}"]
    truth = {"effect": theta, "tau": tau, "baseline": mu, "se_inflation": lam, "z": z,
             "delta": delta}
    return truth, data
