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

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import xarray as xr

from ..priors.distributions import Prior, prior_slot
from ..written import reproduces, rounding_set
from . import ARMS, FAMILIES
from .bias_term import study_deviation
from .binomial_counts import _arm_mask

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
    agree on such data (``tests/integration/test_mixed.py``). ``pairs``: whether every set holds at
    most two counts, so :func:`_pair_logp` can replace it (``tests/unit/test_rounding.py``).
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


# -- the family: the concerns above and the modules beside this one, under one contract ------
# (binomial_counts: model data and count sets; binomial_predictive: observed, log-likelihood,
# replications; binomial_absolute: baseline model and absolute effects; binomial_rows: row
# checks and spec keys; binomial_sbc: the SBC simulator). Their names stay importable here.

from . import binomial_absolute as _absolute  # noqa: E402
from . import binomial_counts as _counts  # noqa: E402
from . import binomial_predictive as _predictive  # noqa: E402
from . import binomial_rows as _rows  # noqa: E402
from . import binomial_sbc as _sbc  # noqa: E402
from .base import Family, PPCPanel, TableColumn, arm_title  # noqa: E402
from .binomial_absolute import (  # noqa: E402
    BASELINE_SD_PRIOR,
    BASELINE_SD_SENSITIVITY,
    BASELINE_SENSITIVITY_STREAM,
    STATED_BASELINE_LABEL,
    STATED_BASELINE_SCALE,
    STATED_LEVEL_SCALE,
    STATED_LEVEL_UNIT,
    absolute_at,
    absolute_effects,
    baseline_model,
    baseline_sensitivity,
    check_stated_baseline,
    extra_summary,
    uisd,
)
from .binomial_counts import (  # noqa: E402
    COUNT_MODELS,
    KM_DESIGN_EFFECT,
    MAX_COUNT_SET,
    _decimals,
    contrast_rows,
    count_models,
    count_set,
    model_data,
)
from .binomial_predictive import (  # noqa: E402
    ESTIMATE,
    EVENTS,
    _log_set_prob,
    count_bounds,
    loglik,
    observed,
    observed_effects,
    simulate,
)
from .binomial_rows import (  # noqa: E402
    CONTRAST_MEASURE,
    check_row,
    contrast_measures,
    nearest_count,
    spec_keys,
)

__all__ = [
    "ARM_CODINGS", "BASELINE_SD_PRIOR", "BASELINE_SD_SENSITIVITY", "BASELINE_SENSITIVITY_STREAM",
    "CONTRAST_MEASURE", "COUNT_MODELS", "DIAGNOSTIC_VARS", "ESTIMATE", "EVENTS", "FAMILY",
    "KM_DESIGN_EFFECT", "MAX_COUNT_SET", "MODEL_OPTIONS", "MODEL_VARIANTS", "OBSERVED",
    "STATED_BASELINE_LABEL", "STATED_BASELINE_SCALE", "STATED_LEVEL_SCALE", "STATED_LEVEL_UNIT",
    "BinomialFamily", "_count_set_logp", "_decimals", "_log_set_prob", "_pair_logp",
    "absolute_at", "absolute_effects", "arm_data", "baseline_model", "baseline_sensitivity",
    "bias_scale", "build_model", "check_row", "check_stated_baseline", "contrast_measures",
    "contrast_rows", "count_bounds", "count_models", "count_set", "extra_summary", "loglik",
    "model_data", "nearest_count", "observed", "observed_effects", "reproduces",
    "rounding_set", "simulate", "spec_keys", "structure", "study_estimates", "uisd",
]


class BinomialFamily(Family):
    __doc__ = __doc__  # the module's: the report's methods section prints it

    name = "binomial"
    DIAGNOSTIC_VARS = DIAGNOSTIC_VARS
    MODEL_OPTIONS = MODEL_OPTIONS
    MODEL_VARIANTS = MODEL_VARIANTS
    STATED_BASELINE_LABEL = STATED_BASELINE_LABEL
    STATED_BASELINE_SCALE = STATED_BASELINE_SCALE
    STATED_LEVEL_UNIT = STATED_LEVEL_UNIT
    STATED_LEVEL_SCALE = STATED_LEVEL_SCALE
    BASELINE_SD_PRIOR = BASELINE_SD_PRIOR
    ARM_TABLE = (TableColumn("Reported %", ("percent",)), TableColumn("Events used", ("events",)),
                 TableColumn("Rule", ("events_rule",), text=True))
    PPC_WORDS: ClassVar[Mapping[str, str]] = {"events": "patients with the event",
                                               "estimate": "published estimate"}
    POOLED_COLUMNS: ClassVar[Mapping[str, tuple[str, str]]] = {
        "percent": ("risk_{arm}", "%")}

    build_model = staticmethod(build_model)
    model_data = staticmethod(_counts.model_data)
    check_row = staticmethod(_rows.check_row)
    observed = staticmethod(_predictive.observed)
    loglik = staticmethod(_predictive.loglik)
    simulate = staticmethod(_predictive.simulate)
    observed_effects = staticmethod(_predictive.observed_effects)
    absolute_effects = staticmethod(_absolute.absolute_effects)
    uisd = staticmethod(_absolute.uisd)
    structure = staticmethod(structure)
    spec_keys = staticmethod(_rows.spec_keys)
    contrast_measures = staticmethod(_rows.contrast_measures)
    study_estimates = staticmethod(study_estimates)
    bias_scale = staticmethod(bias_scale)
    baseline_model = staticmethod(_absolute.baseline_model)
    absolute_at = staticmethod(_absolute.absolute_at)
    extra_summary = staticmethod(_absolute.extra_summary)
    baseline_sensitivity = staticmethod(_absolute.baseline_sensitivity)
    sbc_simulate = staticmethod(_sbc.simulate_binomial)
    # binomial-specific: count sets (sensitivity variants, the baseline grid)
    count_models = staticmethod(_counts.count_models)
    count_bounds = staticmethod(_predictive.count_bounds)

    def check_stated_baseline(self, value: float, spec: OutcomeSpec) -> str | None:
        return _absolute.check_stated_baseline(value)

    def ppc_panel(self, name: str, const: xr.Dataset | None, k: int, info: Any) -> PPCPanel:
        """Counts as percentages of the arm size when the constant data hold it
        (``events_preop`` / ``n_preop``), so studies of different size share an axis."""
        if const is not None and name.startswith("events_"):
            n = f"n_{name.removeprefix('events_')}"
            if n in const.data_vars:
                return PPCPanel(100.0 / np.asarray(const[n].values, dtype=float),
                                "% of the arm", *arm_title(name, self.PPC_WORDS))
        return super().ppc_panel(name, const, k, info)


FAMILY = BinomialFamily()
