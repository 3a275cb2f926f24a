"""Derived quantities of a fit, computed once and kept in the fit's ``DataTree``.

The effect in a new study and the absolute effects need random draws beyond the
posterior (a new study's deviation; a new population's control-arm risk). They are drawn
once per fit, from a random stream of their own, and stored as the tree's ``derived``
group (as ArviZ keeps ``log_likelihood`` beside ``posterior``). ``summary.json``, sweep
rows, figures and the report all read that group, so they agree exactly.

The predictive effect of a new study draws ``theta + tau * z`` with ``z ~ Normal(0, 1)``
once per posterior draw (Higgins, Thompson & Spiegelhalter 2009, J R Stat Soc A
172:137-159).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from ..families import get_family
from ..inputs.specs import OutcomeSpec
from ..priors.distributions import Prior

DERIVED_STREAM = 1
"""Random stream ``default_rng([seed, DERIVED_STREAM])`` of the derived draws; it is used
for nothing else, so the derived draws do not depend on which checks a fit ran."""


AT_BASELINE = "at_baseline_"
"""Prefix of the derived variables at stated baselines (dims ``baseline``)."""


def derive(post: xr.Dataset, data: dict[str, np.ndarray], priors: dict[str, Prior],
           spec: OutcomeSpec, seed: int, baselines: Sequence[float] = ()) -> xr.Dataset:
    """The ``derived`` group of a fit: draws aligned with the posterior's (chain, draw).

    Parameters
    ----------
    post
        Posterior draws with at least ``effect`` (θ, log scale) and ``tau``.
    data, priors
        The fit's model data and priors (the family's baseline model is fitted to them).
    spec
        The outcome's spec (family and direction of benefit).
    seed
        The fit's seed.
    baselines
        Stated control-arm levels (postop risks, median months) at which the absolute
        effects are also given, as guideline tables report them.

    Returns
    -------
    xarray.Dataset
        ``log_effect`` (θ), ``log_effect_new`` (θ + τz) and the family's absolute effects
        (``benefit`` and ``benefit_new`` signed so that positive favours preop), each for a
        new population drawn from the family's baseline model; and, per stated baseline,
        ``at_baseline_*`` with a ``baseline`` dimension.
    """
    rng = np.random.default_rng([seed, DERIVED_STREAM])
    theta, tau = post["effect"], post["tau"]
    z = xr.DataArray(rng.standard_normal(theta.shape), dims=theta.dims, coords=theta.coords)
    log_new = theta + tau * z
    fam = get_family(spec.family)
    absolute = fam.absolute_effects(post, data, priors, spec, rng, log_new)
    out = xr.Dataset({"log_effect": theta, "log_effect_new": log_new, **absolute})
    if len(baselines):
        b = xr.DataArray(np.asarray(baselines, dtype=float), dims="baseline",
                         coords={"baseline": np.asarray(baselines, dtype=float)})
        out = out.assign({AT_BASELINE + k: v for k, v in fam.absolute_at(theta, b, spec).items()})
    return out
