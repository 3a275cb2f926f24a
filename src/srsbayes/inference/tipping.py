"""How much bias, and how sceptical a prior, it takes for a conclusion of benefit to fail.

**Tipping points for a shared bias** (Mathur & VanderWeele 2020, for meta-analyses). Add
one bias ``b`` to every study's effect: study *i* estimates ``theta + delta_i + b``. In
every family here ``theta`` enters the likelihood only through ``theta + delta_i`` and its
prior is independent of the other parameters, so the posterior given ``b`` is

    p(theta | y, b)  ∝  p0(theta) L(theta + b).

With ``phi = theta + b``, the unadjusted posterior draws ``theta_j`` are draws of ``phi``
from ``p0(phi) L(phi)``; ``theta_j - b`` with importance weights
``w_j = p0(theta_j - b) / p0(theta_j)`` are therefore draws of the adjusted posterior —
exactly, up to Monte Carlo error, with no refit (the weights are 1 when the prior is flat,
and the adjustment is then a plain shift). A random shared bias ``b ~ N(m, s^2)`` is drawn
alongside each posterior draw and weighted the same way (a shared bias with no per-study
part, the Welton et al. 2009 ``beta``). Both are monotone in the bias, so the tipping
points are found by bisection on the weighted draws:

* ``mean``: the smallest fixed bias ``m`` favouring preop (SD 0) at which P(benefit)
  falls below the decision probability, shown as a ratio of ratios ``exp(m)``;
* ``sd``: the smallest SD ``s`` of a shared bias with the bias prior's mean at which it
  does.

**Reverse-Bayes** (Matthews 2018; Held 2019): the widest sceptical prior
``theta ~ N(0, s^2)`` under which P(benefit) falls below the decision probability. The
likelihood of ``theta`` is approximated by a normal (the posterior's mean and variance with
the default prior's removed, as the Analysis of Credibility does with a confidence
interval), which gives ``s`` in closed form; the P(benefit) of that sceptical prior is then
recomputed exactly by importance weights ``N(theta_j; 0, s^2) / p0(theta_j)``, with their
effective sample size. The *sceptical limit* ``exp(1.96 s)`` says it in words: a sceptic
whose prior puts 95% probability on ratios between ``1/SL`` and ``SL`` is not convinced.

References
----------
Mathur MB, VanderWeele TJ (2020). Sensitivity analysis for unmeasured confounding in
meta-analyses. J Am Stat Assoc 115:163-172.

Welton NJ, Ades AE, Carlin JB, Altman DG, Sterne JAC (2009). Models for potentially biased
evidence in meta-analysis using empirically based priors. J R Stat Soc A 172:119-136.

Matthews RAJ (2018). Beyond 'significance': principles and practice of the Analysis of
Credibility. R Soc Open Sci 5:171047; and Matthews RAJ (2001). Methods for assessing the
credibility of clinical trial outcomes. Drug Inf J 35:1469-1478.

Held L (2019). The assessment of intrinsic credibility and a new argument for p < 0.005.
R Soc Open Sci 6:181534.

Held L, Matthews R, Ott M, Pawel S (2022). Reverse-Bayes methods for evidence assessment
and research synthesis. Res Synth Methods 13:295-314.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from ..outputs import JSONObject

Z95 = 1.959963984540054
SD_MAX = 3.0
"""Largest bias SD (log scale) searched: beyond it the answer is "more than 3"."""
REPLICATES = 16
"""Shared-bias draws per posterior draw for the SD tipping point (common random numbers)."""
SEED = 20200163
"""Seed of those draws (fixed: the tipping point is a function of the posterior draws)."""


def _ess(logw: np.ndarray) -> float:
    w = np.exp(logw - logw.max())
    return float(w.sum() ** 2 / np.square(w).sum())


def _weighted(logw: np.ndarray, hit: np.ndarray) -> float:
    w = np.exp(logw - logw.max())
    return float((w * hit).sum() / w.sum())


def prob_benefit_shifted(theta: np.ndarray, logprior, sign: int, bias: np.ndarray | float,
                         base: np.ndarray | None = None) -> tuple[float, float]:
    """P(benefit) and the importance weights' ESS when every study shares the bias ``bias``
    (favouring preop when positive; an array: one draw per row of ``theta``'s broadcast).

    ``theta`` are unadjusted posterior draws of θ; ``logprior`` θ's prior log density;
    ``base`` its value at ``theta`` when already computed.
    """
    theta = np.asarray(theta, dtype=float)
    b = np.asarray(bias, dtype=float)
    adjusted = theta - sign * b  # the bias made preop look better: remove it
    if base is None:
        base = logprior(theta)
    logw = logprior(adjusted) - base
    logw = np.where(np.isfinite(logw), logw, -np.inf).ravel()
    if not np.isfinite(logw).any():
        return math.nan, 0.0
    return _weighted(logw, (sign * adjusted > 0).ravel()), _ess(logw)


def _logpdf(prior):
    """θ's prior log density as a fast vectorised function (a normal prior without scipy's
    per-call overhead, which the bisection would pay some hundred times)."""
    if prior.dist == "normal":
        mu, sd = (float(x) for x in prior.params[:2])
        c = -math.log(sd) - 0.5 * math.log(2 * math.pi)
        return lambda x: c - 0.5 * np.square((x - mu) / sd)
    return prior.scipy().logpdf


def _bisect(f, lo: float, hi: float, target: float, iters: int = 32) -> float:
    """The point in [lo, hi] where the decreasing ``f`` crosses ``target``."""
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        if f(mid) < target:
            hi = mid
        else:
            lo = mid
    return hi


def tipping_points(theta: np.ndarray, prior, sign: int, decision_probability: float,
                   bias_mean: float) -> JSONObject:
    """The shared-bias tipping points of one outcome (see the module docstring).

    Parameters
    ----------
    theta
        Posterior draws of θ (log scale) of the unadjusted fit.
    prior
        θ's prior (:class:`srsbayes.priors.distributions.Prior`).
    sign
        +1 when a larger θ is benefit, else -1.
    decision_probability
        The spec's P(benefit) that supports a conclusion.
    bias_mean
        Mean of the shared bias for the SD tipping point (log scale, positive favours
        preop): the bias prior's mean for these studies.

    Returns
    -------
    dict
        ``applies`` (False when P(benefit) is already below the decision probability),
        ``mean`` (log scale), ``mean_ratio`` (``exp(mean)``), ``sd``, ``sd_at_mean``, the
        P(benefit) at each tipping point, ``ess_min``, and ``sd_beyond`` when even
        :data:`SD_MAX` keeps the conclusion.
    """
    theta = np.asarray(theta, dtype=float).ravel()
    logprior = _logpdf(prior)
    base = logprior(theta)
    dp = decision_probability
    p0, _ = prob_benefit_shifted(theta, logprior, sign, 0.0)
    out: JSONObject = {"decision_probability": dp, "prob_benefit": p0,
                           "sd_at_mean": bias_mean, "sd_at_mean_ratio": math.exp(bias_mean),
                           "method": "importance reweighting of the posterior of theta "
                                     "(exact for a bias shared by every study)"}
    if not p0 >= dp:
        return {**out, "applies": False, "mean": None, "mean_ratio": None, "sd": None,
                "sd_beyond": False}

    def p_mean(m: float) -> float:
        return prob_benefit_shifted(theta, logprior, sign, m, base)[0]

    span = float(np.abs(theta).max()) + 1.0
    m = _bisect(p_mean, 0.0, span, dp)
    u = np.random.default_rng(SEED).standard_normal((theta.size, REPLICATES))
    tiled = theta[:, None]

    tiled_base = base[:, None]

    def p_sd(s: float) -> float:
        return prob_benefit_shifted(tiled, logprior, sign, bias_mean + s * u, tiled_base)[0]

    ess = [prob_benefit_shifted(theta, logprior, sign, m, base)[1]]
    if p_sd(0.0) < dp:  # the mean alone tips it
        s, beyond = 0.0, False
    elif p_sd(SD_MAX) >= dp:
        s, beyond = SD_MAX, True
    else:
        s, beyond = _bisect(p_sd, 0.0, SD_MAX, dp), False
    ess.append(prob_benefit_shifted(tiled, logprior, sign, bias_mean + s * u, tiled_base)[1]
               / REPLICATES)
    return {**out, "applies": True, "mean": m, "mean_ratio": math.exp(m),
            "prob_benefit_at_mean": p_mean(m), "sd": s, "sd_beyond": beyond,
            "prob_benefit_at_sd": p_sd(s), "ess_min": min(ess)}


def reverse_bayes(theta: np.ndarray, prior, sign: int, decision_probability: float
                  ) -> JSONObject:
    """The sceptical prior ``N(0, s^2)`` on θ at which the conclusion just fails.

    Returns
    -------
    dict
        ``applies`` (False when the unadjusted P(benefit) is below the decision probability
        or the likelihood cannot be approximated), ``sd`` (``s``), ``sceptical_limit``
        (``exp(1.96 s)``), ``prob_benefit_exact`` (importance-weighted P(benefit) under
        that prior) and ``ess``; ``data_alone`` is False when even a flat prior leaves
        P(benefit) below the decision probability on the normal approximation.
    """
    theta = np.asarray(theta, dtype=float).ravel()
    p0 = prior.scipy()
    dp, z = decision_probability, float(stats.norm.ppf(decision_probability))
    p_fit = float((sign * theta > 0).mean())
    out: JSONObject = {"decision_probability": dp, "prob_benefit": p_fit,
                           "method": "normal approximation to the likelihood of theta "
                                     "(Matthews 2018), checked by importance reweighting"}
    v_post, m_post = float(theta.var(ddof=1)), float(theta.mean())
    v0, m0 = float(p0.var()), float(p0.mean())
    prec = 1.0 / v_post - (1.0 / v0 if math.isfinite(v0) and v0 > 0 else 0.0)
    if not p_fit >= dp or not prec > 0:
        return {**out, "applies": False, "sd": None, "sceptical_limit": None}
    like_mean = (m_post / v_post - (m0 / v0 if math.isfinite(v0) and v0 > 0 else 0.0)) / prec
    strength = sign * like_mean * math.sqrt(prec)  # z of the likelihood alone
    if not strength > z:
        return {**out, "applies": False, "data_alone": False, "sd": None,
                "sceptical_limit": None}
    s = 1.0 / math.sqrt((prec * sign * like_mean / z) ** 2 - prec)
    logw = stats.norm(0.0, s).logpdf(theta) - p0.logpdf(theta)
    return {**out, "applies": True, "data_alone": True, "sd": s,
            "sceptical_limit": math.exp(Z95 * s),
            "prob_benefit_exact": _weighted(logw, sign * theta > 0), "ess": _ess(logw)}
