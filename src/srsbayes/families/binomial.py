"""Arm-based binomial-normal random-effects model on the log-odds scale.

For study *i*::

    events_postop[i] ~ Binomial(n_postop[i], p_c[i]),  logit p_c[i] = alpha[i]
    events_preop[i]  ~ Binomial(n_preop[i],  p_t[i]),  logit p_t[i] = alpha[i] + theta + delta[i]
    delta[i] = tau * z[i],  z[i] ~ Normal(0, 1)          (non-centred)

with priors ``effect`` (theta), ``tau`` and ``baseline`` (each alpha[i]) held in
run-time prior slots. The likelihood is exact, so zero-event arms need no
continuity correction.

References
----------
Smith TC, Spiegelhalter DJ, Thomas A (1995). Bayesian approaches to random-effects
meta-analysis: a comparative study. Stat Med 14:2685-2699.

Spiegelhalter DJ, Thomas A, Best NG, Gilks WR (1996). BUGS Examples Volume 1,
"Blockers: random effects meta-analysis of clinical trials".

Jackson D, Law M, Stijnen T, Viechtbauer W, White IR (2018). A comparison of seven
random-effects models for meta-analyses that estimate the summary odds ratio.
Stat Med 37:1059-1085 (model 4 is this one).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats
from scipy.special import expit

from ..inputs.data import as_int
from ..inputs.specs import OutcomeSpec
from ..priors.distributions import Prior, prior_slot
from . import FAMILIES

INFO = FAMILIES["binomial"]
OBSERVED = ("events_postop", "events_preop")
DIAGNOSTIC_VARS = ("effect", "tau", "baseline", "z")


def build_model(k: int, priors: dict[str, Prior]):
    """The model for ``k`` studies; data and priors are ``pm.Data`` to be swapped later."""
    import pymc as pm

    zeros = np.zeros(k, dtype=np.int64)
    with pm.Model(coords={"study": np.arange(k)}) as model:
        n_c = pm.Data("n_postop", zeros + 1, dims="study")
        n_t = pm.Data("n_preop", zeros + 1, dims="study")
        y_c = pm.Data("y_postop", zeros, dims="study")
        y_t = pm.Data("y_preop", zeros, dims="study")
        theta = prior_slot("effect", priors["effect"], "real")
        tau = prior_slot("tau", priors["tau"], "positive")
        alpha = prior_slot("baseline", priors["baseline"], "real", dims="study")
        z = pm.Normal("z", 0.0, 1.0, dims="study")
        delta = pm.Deterministic("delta", tau * z, dims="study")
        pm.Binomial("events_postop", n=n_c, logit_p=alpha, observed=y_c, dims="study")
        pm.Binomial("events_preop", n=n_t, logit_p=alpha + theta + delta, observed=y_t,
                    dims="study")
    return model


def model_data(wide: pd.DataFrame) -> dict[str, np.ndarray]:
    """``pm.Data`` values for one outcome's studies (see :func:`srsbayes.data.outcome_table`)."""
    return {
        "n_postop": as_int(wide["n_postop"]), "n_preop": as_int(wide["n_preop"]),
        "y_postop": as_int(wide["events_postop"]), "y_preop": as_int(wide["events_preop"]),
    }


def observed(data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Observed values by observed-variable name."""
    return {"events_postop": data["y_postop"], "events_preop": data["y_preop"]}


def _probs(post: xr.Dataset) -> tuple[xr.DataArray, xr.DataArray]:
    p_c = xr.apply_ufunc(expit, post["baseline"])
    p_t = xr.apply_ufunc(expit, post["baseline"] + post["effect"] + post["delta"])
    return p_c, p_t


def loglik(post: xr.Dataset, data: dict[str, np.ndarray]) -> dict[str, xr.DataArray]:
    """Pointwise log-likelihood per study and arm."""
    p_c, p_t = _probs(post)
    out = {}
    for name, p, arm in (("events_postop", p_c, "postop"), ("events_preop", p_t, "preop")):
        n = xr.DataArray(data[f"n_{arm}"], dims="study")
        y = xr.DataArray(data[f"y_{arm}"], dims="study")
        out[name] = xr.apply_ufunc(stats.binom.logpmf, y, n, p)
    return out


def simulate(post: xr.Dataset, data: dict[str, np.ndarray], rng: np.random.Generator
             ) -> dict[str, xr.DataArray]:
    """Replicated event counts per study and arm, one set per posterior draw."""
    p_c, p_t = _probs(post)
    out = {}
    for name, p, arm in (("events_postop", p_c, "postop"), ("events_preop", p_t, "preop")):
        n = np.broadcast_to(data[f"n_{arm}"], p.shape)
        out[name] = p.copy(data=rng.binomial(n, p.values))
    return out


def observed_effects(wide: pd.DataFrame) -> pd.DataFrame:
    """Each study's empirical log odds ratio with a 95% Wald interval (for forest plots only).

    Adds 0.5 to every cell of a study with a zero cell (the model itself needs no correction).
    """
    a, n1 = as_int(wide["events_preop"]), as_int(wide["n_preop"])
    c, n2 = as_int(wide["events_postop"]), as_int(wide["n_postop"])
    b, d = n1 - a, n2 - c
    cc = np.where((a == 0) | (b == 0) | (c == 0) | (d == 0), 0.5, 0.0)
    est = np.log((a + cc) * (d + cc) / ((b + cc) * (c + cc)))
    se = np.sqrt(1 / (a + cc) + 1 / (b + cc) + 1 / (c + cc) + 1 / (d + cc))
    return pd.DataFrame({"study": wide["study"], "estimate": est,
                         "lo": est - 1.959964 * se, "hi": est + 1.959964 * se})


def baseline_draws(post: xr.Dataset, rng: np.random.Generator) -> xr.DataArray:
    """Postop log-odds of a new population, one per posterior draw.

    Each draw takes a normal on the log-odds scale with the mean and standard deviation
    of that draw's study baselines alpha[i]: both the uncertainty in each postop arm and
    the spread between the postop arms reach the absolute effects.
    """
    a = post["baseline"]
    mu, sd = a.mean("study"), a.std("study", ddof=1)
    return mu + sd * xr.DataArray(rng.standard_normal(mu.shape), dims=mu.dims)


def absolute_effects(post: xr.Dataset, spec: OutcomeSpec, rng: np.random.Generator,
                     log_effect_new: xr.DataArray) -> dict[str, xr.DataArray]:
    """Absolute effects of preop vs postop for a new population (risks in %, differences in
    percentage points, signed so that positive = benefit of preop)."""
    a0 = baseline_draws(post, rng)
    p_c = xr.apply_ufunc(expit, a0)
    p_t = xr.apply_ufunc(expit, a0 + post["effect"])
    p_t_new = xr.apply_ufunc(expit, a0 + log_effect_new)
    return {
        "risk_postop": 100 * p_c,
        "risk_preop": 100 * p_t,
        "risk_difference": 100 * (p_t - p_c),  # preop - postop, percentage points
        "relative_risk": p_t / p_c,
        "benefit": spec.sign * 100 * (p_t - p_c),
        "benefit_new": spec.sign * 100 * (p_t_new - p_c),
    }


def uisd(wide: pd.DataFrame) -> float:
    """Unit-information SD of the studies' log odds ratios (Röver et al. 2021, eq. 6)."""
    from ..priors.heterogeneity import log_or_se, unit_information_sd

    se = log_or_se(wide["events_preop"], wide["n_preop"], wide["events_postop"], wide["n_postop"])
    return unit_information_sd(np.asarray(wide["n_preop"]) + np.asarray(wide["n_postop"]), se)


def extra_summary(wide: pd.DataFrame, data: dict[str, np.ndarray],
                  absolute: dict[str, xr.DataArray]) -> dict:
    """Number needed to treat (Altman 1998, BMJ 317:1309), and how counts were obtained.

    The NNT is 100 / absolute benefit (percentage points). Its interval is only given when
    the benefit's 95% interval excludes zero; otherwise it spans 'benefit' and 'harm'.
    """
    b = np.asarray(absolute["benefit"]).ravel()
    lo, med, hi = np.quantile(b, [0.025, 0.5, 0.975])
    nnt = {"median": float(100 / med) if med != 0 else None,
           "ci95": [float(100 / hi), float(100 / lo)] if lo > 0 else None,
           "note": ("number of patients to treat with preop SRS for one to benefit"
                    if med > 0 else "median absolute effect favours postop SRS")}
    rules = [{"study": s, "arm": arm, "rule": wide[f"events_rule_{arm}"].iloc[i],
              "events": int(data[f"y_{arm}"][i]), "n": int(data[f"n_{arm}"][i])}
             for i, s in enumerate(wide["study"]) for arm in ("preop", "postop")]
    return {"nnt": nnt, "count_rules": rules}
