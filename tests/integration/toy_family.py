"""A toy likelihood family, registered by a test without editing the package.

Normal-normal model of each study's observed log ratio of medians with a made-up standard
error rule (``sqrt(4/n_preop + 4/n_postop)``): a shape for the extension test, not an
analysis anyone should run. It is the whole add-a-family path: this module (a
:class:`srsbayes.families.base.Family` subclass and its ``FAMILY``), one
``register_family`` call (the ``toy_family`` fixture of ``tests/test_extensions.py``) and
that test; everything else is the contract's defaults.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from srsbayes.families import as_int
from srsbayes.families import lognormal_median as same_rows
from srsbayes.families.base import Family
from srsbayes.priors.distributions import prior_slot


def _y_s(wide: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    y = np.log(np.asarray(wide["median_months_preop"], float)
               / np.asarray(wide["median_months_postop"], float))
    s = np.sqrt(4 / as_int(wide["n_preop"]) + 4 / as_int(wide["n_postop"]))
    return y, s


class ToyFamily(Family):
    """Normal-normal model of observed log ratios of medians (see the module docstring)."""

    name = "toy_log_ratio"
    DIAGNOSTIC_VARS = ("effect", "tau", "z")

    def build_model(self, k, priors):
        import pymc as pm

        with pm.Model(coords={"study": np.arange(k)}) as model:
            y = pm.Data("y", np.zeros(k), dims="study")
            s = pm.Data("s", np.ones(k), dims="study")
            theta = prior_slot("effect", priors["effect"], "real")
            tau = prior_slot("tau", priors["tau"], "positive")
            z = pm.Normal("z", 0.0, 1.0, dims="study")
            delta = pm.Deterministic("delta", tau * z, dims="study")
            pm.Normal("log_ratio", theta + delta, s, observed=y, dims="study")
        return model

    def model_data(self, wide):
        y, s = _y_s(wide)
        return {"y": y, "s": s}

    def check_row(self, rec, f, decimals):
        same_rows.check_row(rec, f, decimals)  # the same row columns as median OS

    def observed(self, data):
        return {"log_ratio": data["y"]}

    def loglik(self, post, data):
        s = xr.DataArray(data["s"], dims="study")
        y = xr.DataArray(data["y"], dims="study")
        return {"log_ratio": xr.apply_ufunc(stats.norm.logpdf, y, post["effect"] + post["delta"],
                                            s)}

    def simulate(self, post, data, rng):
        mean = post["effect"] + post["delta"]
        return {"log_ratio": mean.copy(data=rng.normal(mean.values, data["s"]))}

    def observed_effects(self, wide):
        y, s = _y_s(wide)
        return pd.DataFrame({"study": wide["study"], "estimate": y, "lo": y - 1.96 * s,
                             "hi": y + 1.96 * s})

    def absolute_effects(self, post, data, priors, spec, rng, log_effect_new):
        pct = 100 * (np.exp(post["effect"]) - 1)
        return {"percent": pct, "benefit": spec.sign * pct,
                "benefit_new": spec.sign * 100 * (np.exp(log_effect_new) - 1)}

    def uisd(self, wide):
        return float(np.mean(_y_s(wide)[1]))


FAMILY = ToyFamily()
