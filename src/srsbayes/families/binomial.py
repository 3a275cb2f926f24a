"""Arm-based binomial-normal random-effects model on the log-odds scale.

For study *i*::

    events_postop[i] ~ Binomial(n_postop[i], p_c[i])
    events_preop[i]  ~ Binomial(n_preop[i],  p_t[i])
    logit p_c[i] = alpha[i] - c * (theta + delta[i])
    logit p_t[i] = alpha[i] + (1 - c) * (theta + delta[i])
    delta[i] = tau * z[i],  z[i] ~ Normal(0, 1)          (non-centred)

(plus an additive bias per study in a bias-adjusted analysis: :mod:`.bias_term`)

with priors ``effect`` (theta), ``tau`` and ``baseline`` (each alpha[i]) held in
run-time prior slots. The likelihood is exact, so zero-event arms need no
continuity correction.

An arm that reports only a percentage gives no count, only the set ``K`` of counts whose
percentage rounds to it; its likelihood is ``P(count in K) = sum_{k in K} Binomial(k | n,
p)`` (:func:`count_set`: the two neighbouring counts when no count reproduces the
percentage, a GRIM failure; widened for a Kaplan-Meier rate). Below 100 patients a
percentage that some count reproduces allows that count only, so ``K`` has more than one
count only for GRIM failures, larger arms, reported decimals that are coarse for ``n``, and
Kaplan-Meier rates.

The arm coding ``c`` (``pm.Data`` ``arm_coding``) is 1/2 by default: ``alpha[i]`` is then
the average log-odds of the two arms and the model is invariant to swapping them (Turner
et al. 2000; the default of metafor's ``rma.glmm``). With 0/1 coding (``c = 0``) the prior
on ``alpha[i]`` sits on the postop arm only and, with one or two preop events per study,
where that prior sits moves the pooled odds ratio (:data:`ARM_CODINGS`).

A study that publishes an odds ratio instead of arms (a contrast row,
:mod:`srsbayes.inputs.contrasts`) enters the same model through ``y_j ~ Normal(theta +
delta_j, s_j)`` on its log OR (mixed evidence, ``docs/methods/contrast.md``); the 0/1 data
vector ``arm_rows`` selects each study's likelihood, so one compiled graph serves arm-only
and mixed data.

References
----------
Smith TC, Spiegelhalter DJ, Thomas A (1995). Bayesian approaches to random-effects
meta-analysis: a comparative study. Stat Med 14:2685-2699.

Spiegelhalter DJ, Thomas A, Best NG, Gilks WR (1996). BUGS Examples Volume 1,
"Blockers: random effects meta-analysis of clinical trials".

Turner RM, Omar RZ, Yang M, Goldstein H, Thompson SG (2000). A multilevel model framework
for meta-analysis of clinical trials with binary outcomes. Stat Med 19:3417-3432.

Jackson D, Law M, Stijnen T, Viechtbauer W, White IR (2018). A comparison of seven
random-effects models for meta-analyses that estimate the summary odds ratio.
Stat Med 37:1059-1085. Study intercepts with independent priors (not drawn from a common
distribution) and a random treatment effect are their model 2 with 0/1 coding and
model 3 with the 1/2 coding used here; their model 4 has random intercepts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats
from scipy.special import expit

from ..errors import InputError
from ..priors.distributions import Prior, prior_slot
from ..written import fewest_decimals, reproduces, rounding_set
from . import ARMS, FAMILIES, as_int
from .baseline import BaselineModel, binomial_baseline
from .bias_term import study_deviation

if TYPE_CHECKING:
    from .spec_view import SpecView as OutcomeSpec

INFO = FAMILIES["binomial"]
OBSERVED = ("events_postop", "events_preop")
DIAGNOSTIC_VARS = ("effect", "tau", "baseline", "z")


def arm_data(k: int) -> tuple[dict[str, Any], ...]:
    """The per-arm ``pm.Data`` of ``k`` studies (inside a model's context): ``n``, the count
    ``y`` and its count set ``K`` as ``k_below``/``k_width`` (defaults: one exact count)."""
    import pymc as pm

    zeros = np.zeros(k, dtype=np.int64)
    return tuple({arm: pm.Data(f"{name}_{arm}", zeros + init, dims="study") for arm in ARMS}
                 for name, init in (("n", 1), ("y", 0), ("k_below", 0), ("k_width", 1)))


def build_model(k: int, priors: dict[str, Prior], count_sets: bool = True,
                pairs: bool = False):
    """The model for ``k`` studies; data and priors are ``pm.Data`` to be swapped later.

    Each arm's likelihood is :func:`_count_set_logp`: the probability that the event count
    lies in its set ``K`` (one count when events are reported). The set is given relative
    to ``y`` (``k_below``, ``k_width``), so data that leave them out (their defaults 0 and
    1) get the exact binomial at ``y``. Two cheaper forms give the same likelihood on the
    data :func:`structure` chooses them for: with ``count_sets=False`` (every set holds one
    count) it is the binomial log-pmf itself, and with ``pairs=True`` (no set holds more
    than two counts: a percentage of an arm of fewer than a few hundred patients)
    :func:`_pair_logp`; they cost about a third of the incomplete beta function's gradient.

    Studies that report a contrast instead of arms (``arm_rows`` 0; see :func:`model_data`)
    enter through ``contrast_y ~ Normal(theta + delta, contrast_s)``, the contrast family's
    likelihood, with the same ``theta``, ``tau`` and ``delta``; their arm likelihood (of
    dummy data) is multiplied by 0, and so is the normal term of every arm study. The graph
    is therefore the same for arm-only and mixed data (one compile, data swapped).
    """
    import pymc as pm

    with pm.Model(coords={"study": np.arange(k)}) as model:
        n, y, below, width = arm_data(k)
        arm_rows = pm.Data("arm_rows", np.ones(k), dims="study")
        contrast_y = pm.Data("contrast_y", np.zeros(k), dims="study")
        contrast_s = pm.Data("contrast_s", np.ones(k), dims="study")
        theta = prior_slot("effect", priors["effect"], "real")
        tau = prior_slot("tau", priors["tau"], "positive")
        c = pm.Data("arm_coding", ARM_CODINGS["symmetric"])
        alpha = prior_slot("baseline", priors["baseline"], "real", dims="study")
        delta = study_deviation(theta, tau, k)  # tau * z unless bias-adjusted or centred
        logit_c = pm.Deterministic("logit_postop", alpha - c * (theta + delta), dims="study")
        logits = {"postop": logit_c, "preop": logit_c + theta + delta}
        arm_logp = (_exact_count_logp if not count_sets
                    else _pair_logp if pairs else _count_set_logp)
        for arm in ARMS:
            pm.Potential(f"events_{arm}", (arm_rows * arm_logp(
                n[arm], y[arm] - below[arm], width[arm], logits[arm])).sum())
        pm.Potential("estimate", ((1.0 - arm_rows) * _normal_logp(
            contrast_y, theta + delta, contrast_s)).sum())
    return model


def study_estimates(data: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Each study's approximate log odds ratio and its sampling variance, which set its
    parametrisation (:mod:`srsbayes.inference.parametrisation`): for an arm study the
    empirical log odds ratio and Woolf's variance ``sum 1/y + 1/(n - y)`` over both arms,
    with Haldane's 1/2 added to every cell so that a zero count gives finite values; for
    a contrast study its reported log odds ratio and SE squared."""
    arm = _arm_mask(data)
    y = {a: np.asarray(data[f"y_{a}"], dtype=float) + 0.5 for a in ARMS}
    f = {a: np.asarray(data[f"n_{a}"], dtype=float) - y[a] + 1.0 for a in ARMS}
    est = np.log(y["preop"] / f["preop"]) - np.log(y["postop"] / f["postop"])
    var = sum(1.0 / y[a] + 1.0 / f[a] for a in ARMS)
    n = len(arm)
    cy = np.asarray(data.get("contrast_y", np.zeros(n)), dtype=float)
    cs = np.asarray(data.get("contrast_s", np.ones(n)), dtype=float)
    return np.where(arm, est, cy), np.where(arm, var, cs**2)


def bias_scale(spec: OutcomeSpec) -> str:
    """The scale a bias-adjustment prior (:mod:`srsbayes.priors.bias`) is applied on."""
    return "log odds ratio"


def structure(data: dict[str, np.ndarray]) -> dict[str, bool]:
    """The model structure ``data`` need (keyword arguments of :func:`build_model`).

    ``count_sets``: whether some arm study's count set holds more than the reported count
    (a percentage that several counts round to, a GRIM failure, a Kaplan-Meier rate).
    When none does, the plain binomial log-pmf replaces :func:`_count_set_logp`; the two
    agree on such data (``tests/test_mixed.py``). ``pairs``: whether every set holds at
    most two counts, so :func:`_pair_logp` can replace it (``tests/test_rounding.py``).
    """
    arms = np.asarray(data.get("arm_rows", 1.0)) > 0
    widths = [np.asarray(data.get(f"k_width_{a}", 1)) for a in ARMS]
    shifted = [np.asarray(data.get(f"k_below_{a}", 0)) != 0 for a in ARMS]
    wider = [w != 1 for w in widths]
    if not np.any(arms & np.logical_or.reduce([*wider, *shifted])):
        return {"count_sets": False}
    return {"count_sets": True, "pairs": bool(all(np.all(w[arms] <= 2) for w in widths))}


def _log_pmf(n, k, logit_p):
    """``log Binomial(k | n, expit(logit_p))`` elementwise, from the logit."""
    import pytensor.tensor as pt

    log_choose = pt.gammaln(n + 1.0) - pt.gammaln(k + 1.0) - pt.gammaln(n - k + 1.0)
    return log_choose - k * pt.softplus(-logit_p) - (n - k) * pt.softplus(logit_p)


def _exact_count_logp(n, k, width, logit_p):
    """``log Binomial(k | n, expit(logit_p))``, per study (``width`` must be 1: a wider set
    gives -inf, so data that need :func:`_count_set_logp` cannot be fitted silently)."""
    import pytensor.tensor as pt

    return pt.switch(pt.eq(width, 1), _log_pmf(n, k, logit_p), -np.inf)


def _pair_logp(n, k_lo, width, logit_p):
    """``log P(k_lo <= X <= k_lo + width - 1)`` for sets of one or two counts, per study.

    The pmf's ratio ``P(X = k + 1) / P(X = k) = (n - k) / (k + 1) * p / (1 - p)`` makes a
    two-count set's probability ``P(X = k) (1 + exp(r + logit p))`` with
    ``r = log((n - k) / (k + 1))``: the log-pmf plus one softplus, exact and with no
    cancellation in either tail. A set of more than two counts gives -inf, so data that
    need :func:`_count_set_logp` cannot be fitted with this form by mistake.
    """
    import pytensor.tensor as pt

    second = pt.log(n - k_lo) - pt.log(k_lo + 1.0) + logit_p  # -inf when k_lo = n
    lp = _log_pmf(n, k_lo, logit_p) + pt.switch(pt.eq(width, 2), pt.softplus(second), 0.0)
    return pt.switch(pt.le(width, 2), lp, -np.inf)


def _normal_logp(y, mu, s):
    """``log Normal(y | mu, s)`` elementwise (the contrast rows' likelihood)."""
    import pytensor.tensor as pt

    return -0.5 * ((y - mu) / s) ** 2 - pt.log(s) - 0.5 * np.log(2 * np.pi)


MAX_COUNT_SET = 200
"""Most counts a set ``K`` may hold; :func:`model_data` rejects a wider one (an arm of more
than 20 000 given as a whole percentage). The general compiled likelihood's cost does not
depend on the width, but :func:`loglik` sums the pmf over the set for every draw."""


def _count_set_logp(n, k_lo, width, logit_p):
    """``log P(k_lo <= X <= k_lo + width - 1)``, ``X ~ Binomial(n, expit(logit_p))``, per study.

    A difference of binomial CDFs through the regularised incomplete beta function,
    ``P(X <= k) = I_{1-p}(n - k, k + 1)``, so the cost does not grow with the width of the
    set. To avoid cancellation the difference is taken in the tail the set lies in: a set
    above the mean ``n p`` is mirrored, ``P(lo <= X <= hi) = P(n - hi <= n - X <= n - lo)``
    with ``n - X ~ Binomial(n, 1 - p)``, so both CDF terms are small. The arguments of
    ``betainc`` are kept valid where its value is replaced by 0 or 1 (``k < 0``, ``k >= n``),
    so no NaN reaches the gradient. With ``width = 1`` this is the binomial pmf.
    """
    import pytensor.tensor as pt

    hi = k_lo + width - 1
    above = k_lo > n * pt.sigmoid(logit_p)
    lo_m, hi_m = pt.where(above, n - hi, k_lo), pt.where(above, n - k_lo, hi)
    q_fail = pt.sigmoid(pt.where(above, logit_p, -logit_p))  # 1 - P(event) of the mirrored X

    def cdf(k):  # P(X <= k) for -1 <= k <= n
        value = pt.betainc(pt.maximum(n - k, 1), pt.maximum(k + 1, 1), q_fail)
        return pt.where(k >= n, 1.0, pt.where(k < 0, 0.0, value))

    return pt.log(cdf(hi_m) - cdf(lo_m - 1))


ARM_CODINGS = {"symmetric": 0.5, "postop_reference": 0.0}
"""Share ``c`` of the study's effect taken off the postop arm: ±1/2 coding, or 0/1 coding
with postop as the reference arm."""

MODEL_OPTIONS = {"arm_coding": ARM_CODINGS}
"""A spec's ``[model]`` choices: ``arm_coding = "symmetric"`` (default) or
``"postop_reference"`` (the 0/1 coding)."""

MODEL_VARIANTS = {
    "coding:0/1": ("0/1 arm coding (postop reference)", "coding",
                   "baseline prior on the postop arm only (the coding before ±1/2)",
                   {"arm_coding": ARM_CODINGS["postop_reference"]}),
}
"""Sweep rows that change a modelling choice, not the data: key -> (label, kind, detail,
model-data overrides)."""


def model_data(wide: pd.DataFrame) -> dict[str, np.ndarray]:
    """``pm.Data`` values for one outcome's studies
    (see :func:`srsbayes.inputs.data.outcome_table`).

    Per arm: ``n``, the event count ``y`` (reported, or the nearest count to the reported
    percentage), and its count set ``K = [y - k_below, y - k_below + k_width - 1]``
    (:func:`count_set`): the one reported count, or every count the reported rate allows.
    Per study: ``arm_rows`` (1 for a study with arm rows, 0 for one with a contrast row)
    and the contrast row's log odds ratio ``contrast_y`` and its standard error
    ``contrast_s`` (:mod:`srsbayes.inputs.contrasts`). A contrast study gets dummy arms
    (``n`` 1, ``y`` 0, one count) and an arm study ``contrast_y`` 0, ``contrast_s`` 1: the
    model multiplies each by 0.

    Raises
    ------
    InputError
        A set of more than :data:`MAX_COUNT_SET` counts (a very large arm given as a
        percentage): report its events instead.
    """
    is_contrast = contrast_rows(wide)
    arm = ~is_contrast
    data = {}
    part = _arm_data(wide[arm].reset_index(drop=True)) if arm.any() else {}
    for arm_name in ARMS:
        for key, dummy in (("n", 1), ("y", 0), ("k_below", 0), ("k_width", 1)):
            full = np.full(len(wide), dummy, dtype=np.int64)
            if part:
                full[arm] = part[f"{key}_{arm_name}"]
            data[f"{key}_{arm_name}"] = full
    y = _column(wide, "contrast_y")
    s = _column(wide, "contrast_se")
    data |= {"arm_rows": arm.astype(float),
             "contrast_y": np.where(is_contrast, y, 0.0),
             "contrast_s": np.where(is_contrast, s, 1.0)}
    return data


def contrast_rows(wide: pd.DataFrame) -> np.ndarray:
    """Which studies of an outcome table report a contrast (a published odds ratio, ...)
    instead of arms: those with an analysis-scale estimate ``contrast_y``."""
    return ~np.isnan(_column(wide, "contrast_y"))


def _column(wide: pd.DataFrame, col: str) -> np.ndarray:
    """A numeric column of ``wide`` as floats; all NaN when the table has no such column
    (an outcome table of arm rows has no contrast columns, one of contrast rows no arms)."""
    if col not in wide.columns:
        return np.full(len(wide), np.nan)
    return np.asarray(wide[col], dtype=float)


def _arm_data(wide: pd.DataFrame) -> dict[str, np.ndarray]:
    """:func:`model_data`'s arm values for a table of arm studies only."""
    data = {}
    for arm in ARMS:
        n, y = as_int(wide[f"n_{arm}"]), as_int(wide[f"events_{arm}"])
        lo, hi = y.copy(), y.copy()
        for i, how in enumerate(count_models(wide, arm)):
            if how != "exact":
                lo[i], hi[i] = count_set(float(wide[f"percent_{arm}"].iloc[i]), int(n[i]),
                                         _decimals(wide, arm, i), how)
        if np.any(hi - lo + 1 > MAX_COUNT_SET):
            i = int(np.argmax(hi - lo))
            line = wide[f"row_{arm}"].iloc[i] if f"row_{arm}" in wide else None
            where = f" (line {int(line)})" if line is not None and line == line else ""
            raise InputError(f"{wide['study'].iloc[i]} {arm}{where}: the reported rate allows "
                             f"{hi[i] - lo[i] + 1} event counts (at most {MAX_COUNT_SET}); "
                             "report the events", column="percent")
        data |= {f"n_{arm}": n, f"y_{arm}": y, f"k_below_{arm}": y - lo,
                 f"k_width_{arm}": hi - lo + 1}
    return data


COUNT_MODELS = ("exact", "rounded", "km")
"""How an arm's count enters the likelihood: the reported count (``exact``), every count
whose percentage rounds to the reported one (``rounded``), or the set widened for a
Kaplan-Meier rate (``km``); see :func:`count_set`."""

KM_DESIGN_EFFECT = 2.0
"""Assumed design effect ``n / n_eff`` of a Kaplan-Meier rate (see :func:`count_set`)."""


def count_models(wide: pd.DataFrame, arm: str) -> list[str]:
    """Each study's :data:`COUNT_MODELS` entry for ``arm``.

    A column ``count_model_<arm>`` (set by sensitivity variants) decides where present.
    Otherwise a reported count is ``exact`` and a count rebuilt from a percentage
    (``events_rule`` "nearest count ...") is ``rounded``, or ``km`` when the row's
    ``rate_type`` is ``km``. A row that reports its events stays exact whatever its rate
    type: the count is then known.
    """
    col = f"count_model_{arm}"
    if col in wide:
        return [str(v) for v in wide[col]]
    rules = wide.get(f"events_rule_{arm}", pd.Series([""] * len(wide)))
    rates = wide.get(f"rate_type_{arm}", pd.Series(["crude"] * len(wide)))
    return ["exact" if not (isinstance(r, str) and r.startswith("nearest count"))
            else "km" if t == "km" else "rounded"
            for r, t in zip(rules, rates, strict=True)]


def _decimals(wide: pd.DataFrame, arm: str, i: int) -> int:
    """Decimals the percentage was reported with: ``percent_decimals_<arm>`` if the table
    carries it, else the fewest decimals that write the value (``91.0`` then counts as
    ``91``, a wider, never a narrower, set)."""
    col = f"percent_decimals_{arm}"
    if col in wide and pd.notna(wide[col].iloc[i]):
        return int(wide[col].iloc[i])
    return fewest_decimals(float(wide[f"percent_{arm}"].iloc[i]))


def count_set(percent: float, n: int, decimals: int, how: str = "rounded") -> tuple[int, int]:
    """The counts ``[k_lo, k_hi]`` a reported rate allows (the likelihood sums over them).

    ``rounded``: :func:`rounding_set`. ``km``, a Kaplan-Meier rate: censoring makes the
    rate less informative than a crude proportion of ``n``; its effective sample size is
    ``n_eff = S (1 - S) / Var(S)`` (Dorey & Korn 1987; Peto et al. 1977: ``n_eff = n(t) / S``
    with ``n(t)`` at risk at the landmark), i.e. a design effect ``D = n / n_eff``. The
    study table gives neither the KM variance nor the numbers at risk, so ``D`` is the
    stated assumption :data:`KM_DESIGN_EFFECT` = 2 (half the information, about half the
    patients still at risk at the landmark), not something learnt from the row. The set is
    widened to the counts within ``± a`` of the rate, ``a = sqrt(3 (D - 1) p (1 - p) / n)``:
    a flat set of that half-width adds ``a**2 / 3 = (D - 1) p (1 - p) / n`` to the
    binomial variance ``p (1 - p) / n``, so the likelihood is as wide as that of
    ``Binomial(n_eff, p)``. It always contains the rounding set.

    >>> count_set(2, 45, 0, "km")   # p (1 - p) / n = 0.021**2, a = 3.6 points
    (0, 2)

    References
    ----------
    Dorey FJ, Korn EL (1987). Effective sample sizes for confidence intervals for survival
    probabilities. Stat Med 6:679-687.

    Peto R, Pike MC, Armitage P, et al. (1977). Design and analysis of randomized clinical
    trials requiring prolonged observation of each patient. II. Br J Cancer 35:1-39.
    """
    lo, hi = rounding_set(percent, n, decimals)
    if how == "rounded":
        return lo, hi
    if how != "km":
        raise ValueError(f"unknown count model {how!r}")
    p = percent / 100.0
    a = np.sqrt(3 * (KM_DESIGN_EFFECT - 1) * p * (1 - p) / n)
    return (min(lo, max(0, int(np.ceil(n * (p - a) - 1e-9)))),
            max(hi, min(n, int(np.floor(n * (p + a) + 1e-9)))))


EVENTS = {"events_postop": "postop", "events_preop": "preop"}
"""Observed name of each arm's event count."""
ESTIMATE = "estimate"
"""Observed name of a contrast study's log odds ratio (as in the contrast family)."""


def _arm_mask(data: dict[str, np.ndarray]) -> np.ndarray:
    """Which studies have arm rows (data without ``arm_rows`` have only arm studies)."""
    y = np.asarray(data["y_postop"])
    return np.broadcast_to(np.asarray(data.get("arm_rows", 1.0)) > 0, y.shape)


def _observed_names(data: dict[str, np.ndarray]) -> tuple[str, ...]:
    """The observed names ``data`` have a value for in at least one study."""
    arm = _arm_mask(data)
    return (*(EVENTS if arm.any() else ()), *((ESTIMATE,) if not arm.all() else ()))


def _where_observed(values: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """``values`` with NaN (not observed) in the studies where ``observed`` is False; as
    they are (integers stay integers) when every study is observed."""
    return values if observed.all() else np.where(observed, values, np.nan)


def observed(data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Observed values by observed-variable name: each arm's count ``y`` (that stands for
    ``K``) and, when some study reports a contrast, its log odds ratio ``estimate``; NaN
    where a study has no such value."""
    arm = _arm_mask(data)
    values = {name: _where_observed(np.asarray(data[f"y_{a}"]), arm)
              for name, a in EVENTS.items()}
    if not arm.all():
        values[ESTIMATE] = _where_observed(np.asarray(data["contrast_y"], float), ~arm)
    return {name: values[name] for name in _observed_names(data)}


def _probs(post: xr.Dataset) -> tuple[xr.DataArray, xr.DataArray]:
    logit_c = post["logit_postop"]
    p_c = xr.apply_ufunc(expit, logit_c)
    p_t = xr.apply_ufunc(expit, logit_c + post["effect"] + post["delta"])
    return p_c, p_t


def count_bounds(data: dict[str, np.ndarray], arm: str) -> tuple[np.ndarray, np.ndarray]:
    """``(k_lo, k_hi)`` of each study's count set of ``arm`` in :func:`model_data`'s
    ``data`` (the exact count when no set is given)."""
    return _set_bounds(data, arm)


def _set_bounds(data: dict[str, np.ndarray], arm: str) -> tuple[np.ndarray, np.ndarray]:
    """``(k_lo, k_hi)`` of each study's count set (the exact count when no set is given)."""
    y = np.asarray(data[f"y_{arm}"])
    lo = y - np.asarray(data.get(f"k_below_{arm}", 0))
    return lo, lo + np.asarray(data.get(f"k_width_{arm}", 1)) - 1


def _log_set_prob(p: np.ndarray, n: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``log P(lo <= X <= hi)``, ``X ~ Binomial(n, p)``, as a log-sum-exp of the pmf (the
    scipy twin of :func:`_count_set_logp`)."""
    from scipy.special import logsumexp

    j = np.arange(int(np.max(hi - lo)) + 1)
    k = np.minimum(lo[..., None] + j, hi[..., None])
    lp = stats.binom.logpmf(k, n[..., None], p[..., None])
    return logsumexp(np.where(lo[..., None] + j <= hi[..., None], lp, -np.inf), axis=-1)


def _contrast_parts(post: xr.Dataset, data: dict[str, np.ndarray]
                    ) -> tuple[xr.DataArray, xr.DataArray, xr.DataArray]:
    """Location ``theta + delta`` of each study's log odds ratio, and ``contrast_y`` and
    ``contrast_s`` as study arrays."""
    loc = post["effect"] + post["delta"]
    y, s = (xr.DataArray(np.asarray(data[c], float), dims="study")
            for c in ("contrast_y", "contrast_s"))
    return loc, y, s


def loglik(post: xr.Dataset, data: dict[str, np.ndarray]) -> dict[str, xr.DataArray]:
    """Pointwise log-likelihood per study and arm, ``log P(count in K)``, and per contrast
    study, ``log Normal(y | theta + delta, s)``; NaN where a study has no such value (the
    LOO of :func:`srsbayes.inference.diagnostics.loo_by_study` leaves those out)."""
    p_c, p_t = _probs(post)
    arm = xr.DataArray(_arm_mask(data), dims="study")
    out = {}
    for name, p, a in (("events_postop", p_c, "postop"), ("events_preop", p_t, "preop")):
        lo, hi = _set_bounds(data, a)
        n, lo_x, hi_x = (xr.DataArray(v, dims="study") for v in (data[f"n_{a}"], lo, hi))
        out[name] = xr.apply_ufunc(_log_set_prob, p, n, lo_x, hi_x).where(arm)
    if not bool(arm.all()):
        loc, y, s = _contrast_parts(post, data)
        out[ESTIMATE] = xr.apply_ufunc(stats.norm.logpdf, y, loc, s).where(~arm)
    return {name: out[name] for name in _observed_names(data)}


def simulate(post: xr.Dataset, data: dict[str, np.ndarray], rng: np.random.Generator
             ) -> dict[str, xr.DataArray]:
    """Replicated data per study, one set per posterior draw (NaN where a study has no such
    value).

    Event counts per arm are coarsened like the data: a replicate inside the arm's count
    set ``K`` is recorded as the observed ``y``, one outside it as itself. The
    posterior-predictive mid-p of :func:`srsbayes.inference.diagnostics.ppc_pvalues` is
    then ``P(k_rep > k_hi) + P(k_rep in K) / 2``, the exact-count mid-p applied to the
    interval the data report (for a reported count, exactly the usual one). A contrast
    study's log odds ratio is replicated as ``theta + delta + s * N(0, 1)``.
    """
    p_c, p_t = _probs(post)
    arm = _arm_mask(data)
    out = {}
    for name, p, a in (("events_postop", p_c, "postop"), ("events_preop", p_t, "preop")):
        n = np.broadcast_to(data[f"n_{a}"], p.shape)
        k = rng.binomial(n, p.values)
        lo, hi = _set_bounds(data, a)
        inside = (k >= lo) & (k <= hi)
        rep = np.where(inside, np.asarray(data[f"y_{a}"]), k)
        out[name] = p.copy(data=_where_observed(rep, np.broadcast_to(arm, rep.shape)))
    if not arm.all():
        loc, _, s = _contrast_parts(post, data)
        rep = loc.values + np.broadcast_to(s.values, loc.shape) * rng.standard_normal(loc.shape)
        out[ESTIMATE] = loc.copy(data=np.where(np.broadcast_to(~arm, rep.shape), rep, np.nan))
    return {name: out[name] for name in _observed_names(data)}


def observed_effects(wide: pd.DataFrame) -> pd.DataFrame:
    """Each study's empirical log odds ratio with a 95% interval (for forest plots only).

    Arm studies: the Wald interval of the log odds ratio from the counts, adding 0.5 to
    every cell of a study with a zero cell (the model itself needs no correction). Contrast
    studies: the reported log odds ratio ``y`` with ``y ± 1.96 s``.
    """
    est, se = np.full(len(wide), np.nan), np.full(len(wide), np.nan)
    arm = ~contrast_rows(wide)
    if arm.any():
        rows = wide[arm]
        a, n1 = as_int(rows["events_preop"]), as_int(rows["n_preop"])
        c, n2 = as_int(rows["events_postop"]), as_int(rows["n_postop"])
        b, d = n1 - a, n2 - c
        cc = np.where((a == 0) | (b == 0) | (c == 0) | (d == 0), 0.5, 0.0)
        est[arm] = np.log((a + cc) * (d + cc) / ((b + cc) * (c + cc)))
        se[arm] = np.sqrt(1 / (a + cc) + 1 / (b + cc) + 1 / (c + cc) + 1 / (d + cc))
    est[~arm], se[~arm] = _column(wide, "contrast_y")[~arm], _column(wide, "contrast_se")[~arm]
    return pd.DataFrame({"study": wide["study"], "estimate": est,
                         "lo": est - 1.959964 * se, "hi": est + 1.959964 * se})


BASELINE_SD_PRIOR = Prior("halfnormal", (1.0,))
"""Prior of the between-population SD of postop log-odds in the baseline model: a spread
of 1 on the log-odds scale (e.g. risks of 5% against 13% one SD apart) is already large
for one procedure in one disease."""


def baseline_model(data: dict[str, np.ndarray], priors: dict[str, Prior],
                   sd_prior: Prior = BASELINE_SD_PRIOR) -> BaselineModel:
    """The postop arms' own hierarchical model (:mod:`srsbayes.families.baseline`), fitted
    to the studies with arm rows (a published contrast has no postop arm), with the same
    count sets as the relative-effect model (an arm given as a percentage that no count
    reproduces enters as its set of counts, not as the nearest count). ``sd_prior``: the
    prior of the between-population SD (:data:`BASELINE_SD_PRIOR`; other values for the
    sensitivity of :func:`baseline_sd_sensitivity`).

    Raises
    ------
    InputError
        No study has arm rows: there is no postop risk to base absolute effects on (fit
        such an outcome with ``family = "contrast"``).
    """
    arm = _arm_mask(data)
    if not arm.any():
        raise InputError("every study of this binary outcome reports a contrast; absolute "
                         "effects need the postop arm of at least one study (or use family "
                         "= \"contrast\")", column="arm")
    lo, hi = count_bounds(data, "postop")
    return binomial_baseline(lo[arm], np.asarray(data["n_postop"])[arm], priors["baseline"],
                             sd_prior, events_hi=hi[arm])


BASELINE_SD_SENSITIVITY = (Prior("halfnormal", (0.25,)), BASELINE_SD_PRIOR)
"""Priors of the between-population SD compared in :func:`baseline_sensitivity`: no
published between-centre variation of postop risks is at hand to set it, so the report
shows how much the new-population postop risk depends on it."""
BASELINE_SENSITIVITY_STREAM = 11
"""Random stream ``default_rng([seed, BASELINE_SENSITIVITY_STREAM])`` of that comparison."""


def baseline_sensitivity(data: dict[str, np.ndarray], priors: dict[str, Prior], seed: int,
                         size: int = 20000) -> dict[str, Any]:
    """The new-population postop risk (%, median and central 95% interval of the baseline
    model's predictive distribution, Dias et al. 2013) under each prior of
    :data:`BASELINE_SD_SENSITIVITY`: it drives the secondary (new-population) absolute
    effect, not the primary one at the stated baseline risk."""
    from ..draws import central_interval

    rng = np.random.default_rng([seed, BASELINE_SENSITIVITY_STREAM])
    rows = []
    for sd in BASELINE_SD_SENSITIVITY:
        r = 100 * expit(baseline_model(data, priors, sd).predictive(rng, size))
        lo, med, hi = central_interval(r)
        rows.append({"sd_prior": str(sd), "default": sd == BASELINE_SD_PRIOR,
                     "risk_postop_new": {"median": med, "ci95": [lo, hi]}})
    return {"what": "postop risk (%) of a new population, baseline-model predictive",
            "rows": rows}


def absolute_effects(post: xr.Dataset, data: dict[str, np.ndarray], priors: dict[str, Prior],
                     spec: OutcomeSpec, rng: np.random.Generator,
                     log_effect_new: xr.DataArray) -> dict[str, xr.DataArray]:
    """Absolute effects of preop vs postop for a new population (risks in %, differences in
    percentage points, signed so that positive = benefit of preop).

    The postop risk of the new population is a draw from the baseline model's predictive
    distribution, independent of the relative effect's posterior (Dias et al. 2013).
    """
    theta = post["effect"]
    a0 = theta.copy(data=baseline_model(data, priors).predictive(rng, theta.size)
                    .reshape(theta.shape))
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


STATED_BASELINE_LABEL = "at a postop risk of {:.3g}%"
"""What absolute effects at a stated baseline (``--baseline``, a proportion) are
conditional on; formatted with the risk in %."""
STATED_BASELINE_SCALE = 100.0
STATED_LEVEL_UNIT, STATED_LEVEL_SCALE = "per 100 patients", 100.0
"""Unit of ``level_preop``/``difference`` at a stated baseline: a risk ``r`` is ``100 r``
patients per 100, the unit of the thresholds, the new-population effect and the net
benefit, so that one absolute effect reads the same everywhere (GRADE allows per 100 or
per 1,000; mixing them made the same effect look like two)."""


def check_stated_baseline(value: float) -> str | None:
    """Why ``value`` cannot be a stated postop risk, or None when it can."""
    return None if 0 < value < 1 else f"a postop risk must lie in (0, 1), got {value:g}"


def absolute_at(theta: xr.DataArray, baseline: xr.DataArray, spec: OutcomeSpec
                ) -> dict[str, xr.DataArray]:
    """Absolute effects at stated postop risks ``baseline`` (dims ``baseline``), as guideline
    tables report them: preop risk ``expit(logit r + theta)`` per draw, per 100 patients."""
    p_t = xr.apply_ufunc(expit, np.log(baseline / (1 - baseline)) + theta)
    return {"level_preop": STATED_LEVEL_SCALE * p_t,
            "difference": STATED_LEVEL_SCALE * (p_t - baseline),
            "risk_difference": 100 * (p_t - baseline),
            "benefit": spec.sign * 100 * (p_t - baseline)}


def uisd(wide: pd.DataFrame) -> float:
    """Unit-information SD of the studies' log odds ratios (Röver et al. 2021, Res Synth
    Methods 12:448, eq. 6): arm studies' SEs from their counts with ``n`` both arms'
    patients, contrast studies' SEs as derived from the row with its ``n``.

    Raises
    ------
    InputError
        A contrast row without ``n``.
    """
    from ..priors.heterogeneity import log_or_se, unit_information_sd

    arm = ~contrast_rows(wide)
    rows = wide[arm]
    se = np.full(len(wide), np.nan)
    n = np.full(len(wide), np.nan)
    if arm.any():
        se[arm] = log_or_se(rows["events_preop"], rows["n_preop"], rows["events_postop"],
                            rows["n_postop"])
        n[arm] = np.asarray(rows["n_preop"], float) + np.asarray(rows["n_postop"], float)
    se[~arm], n[~arm] = _column(wide, "contrast_se")[~arm], _column(wide, "n")[~arm]
    if np.isnan(n).any():
        study = wide["study"][np.isnan(n)].iloc[0]
        raise InputError(f"a uisd() prior needs n on every contrast row; study {study!r} "
                         "has none", column="n")
    return unit_information_sd(n, se)


def extra_summary(wide: pd.DataFrame, data: dict[str, np.ndarray],
                  absolute: dict[str, xr.DataArray]) -> dict:
    """Number needed to treat (Altman 1998, BMJ 317:1309), and how the data were obtained.

    The NNT is 100 / absolute benefit of preop SRS (percentage points): an NNTB when the
    benefit is positive, an NNTH when it is negative, and an interval that includes no
    effect runs "NNTB x to ∞ to NNTH y" (:func:`srsbayes.families.nnt.nnt_summary`).
    ``count_rules`` says how each arm study's counts were obtained. When some studies
    report a contrast, ``se_rules``, ``ci_asymmetry`` and ``approximations`` describe
    those rows as for the contrast family
    (:func:`srsbayes.families.contrast.extra_summary`): ``approximations`` lists the rows
    of another measure (e.g. a hazard ratio) pooled as log odds ratios, which the spec's
    ``approximate_measures`` allows.
    """
    from .nnt import nnt_from_draws

    # the NNT of the primary absolute effect (at the first stated baseline) when there is one
    at = absolute.get("at_baseline_benefit")
    primary = at is not None and "baseline" in at.dims and at.sizes["baseline"] > 0
    nnt = nnt_from_draws(np.asarray(at.isel(baseline=0) if primary else absolute["benefit"]))
    nnt["note"] = ("patients treated with preop instead of postop SRS for one more to "
                   "benefit (NNTB) or to be harmed (NNTH)"
                   + (", at the first stated baseline risk" if primary
                      else ", in a new population"))
    is_contrast = contrast_rows(wide)
    rules = [{"study": s, "arm": arm, "rule": wide[f"events_rule_{arm}"].iloc[i],
              "events": int(data[f"y_{arm}"][i]), "n": int(data[f"n_{arm}"][i])}
             for i, s in enumerate(wide["study"]) if not is_contrast[i]
             for arm in ("preop", "postop")]
    out = {"nnt": nnt, "count_rules": rules}
    if is_contrast.any():
        from . import contrast

        rows = wide[is_contrast].assign(outcome_measure=CONTRAST_MEASURE)
        extra = contrast.extra_summary(rows, {}, absolute)
        out |= {k: extra[k] for k in ("se_rules", "ci_asymmetry", "approximations",
                                      "se_approximations")}
    return out


# -- contrast rows and spec keys: srsbayes.inputs calls these for a binary outcome --------------

CONTRAST_MEASURE = "or"
"""The measure (CSV code) of a binary outcome's contrast rows: the model's log odds ratio."""


def contrast_measures(spec: OutcomeSpec) -> tuple[str, ...]:
    """CSV codes of the measures this outcome's contrast rows may report: ``or``, then the
    spec's ``approximate_measures`` (ratio measures pooled as if they were odds ratios,
    e.g. hazard ratios of a rare event)."""
    return (CONTRAST_MEASURE, *spec.approximate_measures)


def spec_keys(raw: dict, f: str) -> dict:
    """The optional spec key of a binary outcome, ``approximate_measures``: ratio measures
    whose contrast rows are pooled as log odds ratios, checked by the contrast family's
    :func:`srsbayes.families.contrast.spec_keys`. The measure itself is the odds ratio,
    so a ``measure`` key is not one of this family's.

    Raises
    ------
    InputError
        A ``measure`` key, or an unknown or non-ratio approximate measure.
    """
    from . import contrast

    if "measure" in raw:
        raise InputError("not a key of family 'binomial' (its measure is the odds ratio)",
                         file=f, column="measure")
    keys = contrast.spec_keys({"measure": contrast.MEASURES[CONTRAST_MEASURE],
                               "approximate_measures": raw.get("approximate_measures", [])}, f)
    return {"approximate_measures": keys["approximate_measures"]}


# -- row validation: srsbayes.inputs.data.read_table calls check_row for every binary row ---


def nearest_count(percent: float, n: int) -> int:
    """Whole number of events whose percentage of ``n`` is nearest to ``percent`` (halves up)."""
    return int(np.floor(percent * n / 100.0 + 0.5 + 1e-9))


def check_row(rec: dict, f: str, decimals: int) -> None:
    """Check one study-table row of a binary outcome and complete its ``events``.

    Parameters
    ----------
    rec
        The row, numbers parsed (NaN = not reported) and ``n`` checked to be > 0. Completed
        in place: ``events`` is the nearest whole count (:func:`nearest_count`) when only
        ``percent`` is reported, and ``events_rule`` says how it was obtained.
    f
        The file the row came from, for messages.
    decimals
        Decimals ``percent`` was written with: the precision it was reported at.

    Raises
    ------
    InputError
        ``events`` outside ``0..n``, ``percent`` outside 0-100, neither given, both given
        but ``100 events / n`` does not round to ``percent``
        (:func:`srsbayes.written.reproduces`), or only
        ``percent`` given for so large an ``n`` that it allows more than
        :data:`MAX_COUNT_SET` counts (``n = 2e15`` with 3.5%: report the events).
    """

    r, n, ev, pc = rec["row"], rec["n"], rec["events"], rec["percent"]
    if not np.isnan(ev) and ev < 0:
        raise InputError(f"must be >= 0, got {ev:g}", file=f, row=r, column="events")
    if not np.isnan(ev) and ev > n:
        raise InputError(f"{ev:g} events > n = {n:g}", file=f, row=r, column="events")
    if not np.isnan(pc) and not 0 <= pc <= 100:
        raise InputError(f"must be within 0-100, got {pc:g}", file=f, row=r, column="percent")
    if np.isnan(ev) and np.isnan(pc):
        raise InputError("binary outcome needs 'events' or 'percent'", file=f, row=r,
                         column="events")
    if np.isnan(ev):
        how = "km" if rec.get("rate_type") == "km" else "rounded"
        lo, hi = count_set(pc, int(n), decimals, how)
        if hi - lo + 1 > MAX_COUNT_SET:  # checked here, where the file and line are known
            raise InputError(f"{pc:g}% of n = {int(n)} allows {hi - lo + 1} event counts (at "
                             f"most {MAX_COUNT_SET}); report the events", file=f, row=r,
                             column="percent")
        k = nearest_count(pc, int(n))
        rec["events"] = float(k)
        rec["events_rule"] = ("nearest count to percent" if reproduces(k, int(n), pc, decimals)
                              else "nearest count; no whole count reproduces the percent")
        return
    if not np.isnan(pc) and not reproduces(int(ev), int(n), pc, decimals):
        shown = f"{pc:.{decimals}f}%"
        k, n = int(ev), int(n)  # whole numbers below 2^53 (checked by the loader)
        raise InputError(f"events = {k} and percent = {shown} disagree: {k} of {n} is "
                         f"{100 * k / n:.{decimals + 1}f}%, which does not round to {shown}",
                         file=f, row=r, column="percent")
    rec["events_rule"] = "reported"
