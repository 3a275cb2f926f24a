"""Arm-based normal model for log median survival, with derived and inflated standard errors.

For study *i* and arm *j* (x = 1 for preop, 0 for postop)::

    log m*_ij ~ Normal(mu[i] + x_j (theta + delta[i]),  s_ij * lambda^f_ij)
    delta[i] = tau * z[i],  z[i] ~ Normal(0, 1)                (non-centred)
    m_ij = m*_ij rounded to the reported precision             (coarsened data)

``theta`` (prior slot ``effect``) is the log ratio of medians, preop / postop; ``mu[i]``
(``baseline``) the log postop median of study *i*; ``tau`` the between-study SD.

Within-study standard errors. Studies rarely report the standard error of a median, so
``s_ij`` is derived per row by the best rule the row allows (:func:`se_rules`):

1. ``median_ci_low``/``median_ci_high``: the Wald rule of McGrath et al. (2025),
   ``se(m) = (ub - lb) / (2 z_0.975)`` (or ``(m - lb) / z`` or ``(ub - m) / z`` when one
   bound is missing, e.g. an upper limit "not reached"), then ``s = se(m) / m`` (delta
   method), exactly as ``metamedian::metamedian_survival(estimand = "ratio_median")``;
2. ``deaths``: exponential survival, ``Var(log m) = 1 / deaths``;
3. ``n`` and ``follow_up_months``: exponential survival, expected deaths
   ``d = n (1 - 2^(-F / m))``, ``s = 1 / sqrt(d)``;
4. ``n`` only: ``d = n`` (every patient died), the smallest possible standard error.

Rules 3 and 4 are assumptions, so their ``s_ij`` is multiplied by a shared inflation factor
``lambda`` (prior slot ``se_inflation``) whose uncertainty reaches the posterior
(``f_ij = 1`` for those rows, 0 otherwise).

Rounding. A median reported with precision ``p`` (1 month for whole numbers, else inferred
from its decimals) only says that the unrounded estimate lies in ``[m - p/2, m + p/2)``. The
likelihood of each row is therefore the exact probability of that interval,
``Phi((log(m + p/2) - eta) / sd) - Phi((log(m - p/2) - eta) / sd)`` (Heitjan 1989), not a
normal density at ``log m``.

References
----------
McGrath S, Yang C-H, Kimmelman J, Ozturk O, Steele R, Benedetti A (2025). Meta-analysis of
median survival times with inverse-variance weighting. arXiv:2503.03065 (v2, 2026);
R package metamedian, function ``metamedian_survival``.

Heitjan DF (1989). Inference from grouped continuous data: a review. Stat Sci 4:164-179.

Brookmeyer R, Crowley J (1982). A confidence interval for the median survival time.
Biometrics 38:29-41.

Collett D (2015). Modelling Survival Data in Medical Research, 3rd ed., Section 6.1
(exponential model: the variance of the log median estimate is 1 / number of deaths).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats
from scipy.special import log_ndtr

from ..draws import central_interval
from ..errors import InputError
from ..priors.distributions import Prior, prior_slot
from . import FAMILIES, as_int
from .bias_term import study_deviation

if TYPE_CHECKING:
    from .spec_view import SpecView as OutcomeSpec
from .baseline import BaselineModel, normal_baseline

INFO = FAMILIES["lognormal_median"]
ARMS = ("postop", "preop")
OBSERVED = ("log_median_postop", "log_median_preop")
DIAGNOSTIC_VARS = ("effect", "tau", "baseline", "z", "se_inflation")
SE_INFLATION_MIN = 1.0
"""Lower bound of the inflation factor lambda: its prior is truncated to lambda >= 1.

A Kaplan-Meier median is never more precise than the exponential-model standard error of
rules 3-4 assumes, so lambda < 1 has no physical reading; but the studies here scatter less
than sampling error allows (the audit's homogeneity finding), and with lambda free that
too-small scatter pulled it below 1 and narrowed the pooled interval. Bounding it is the
simpler of the two remedies (a Plummer 2015 cut of the data's feedback to lambda would need
a two-stage sampler) and keeps lambda's prior as stated above its bound."""

Z975 = float(stats.norm.ppf(0.975))
RULES = {1: "confidence interval", 2: "deaths", 3: "n and follow-up", 4: "n only"}
INFLATED_RULES = (3, 4)
"""Rules whose standard errors are assumptions and get the shared inflation factor."""

MAX_DECIMALS = 6
_DATA = ("y", "se", "half", "inflate")


# -- standard errors and precision ---------------------------------------------------------------

def written_precision(x: float) -> float:
    """Reporting precision of a positive number: 1 for whole numbers, 0.1 for one decimal, ...

    Trailing zeros are lost when a CSV cell is read as a number ("14.0" reads as 14), which
    makes the precision coarser than written: the rounding interval is then wider, which
    is conservative.
    """
    for k in range(MAX_DECIMALS + 1):
        if abs(round(x, k) - x) <= 1e-9 * max(1.0, abs(x)):
            return 10.0**-k
    return 10.0**-MAX_DECIMALS


def se_rule(median: float, n: float, ci_low: float = math.nan, ci_high: float = math.nan,
            deaths: float = math.nan, follow_up: float = math.nan) -> dict:
    """The standard error of one arm's log median, by the best rule its data allow.

    Parameters
    ----------
    median
        Reported median survival (months).
    n
        Patients in the arm.
    ci_low, ci_high
        95% confidence limits of the median (NaN = not reported).
    deaths
        Deaths in the arm (NaN = not reported).
    follow_up
        Follow-up in months (NaN = not reported).

    Returns
    -------
    dict
        ``rule`` (1-4), ``rule_name``, ``se`` (of the log median, before any inflation),
        ``inflated`` (whether the shared inflation factor applies) and ``detail`` (text).

    Notes
    -----
    Rule 1 assumes 95% Wald-type limits on the months scale (McGrath et al. 2025). For a
    limit pair that is symmetric on the log scale instead, it overstates ``se`` by the
    factor ``sinh(1.96 s) / (1.96 s)`` (1.6% at s = 0.2, 6% at s = 0.3): conservative. An
    interval of zero width carries no information and falls through to the next rule.
    """
    lo_ok, hi_ok = not math.isnan(ci_low), not math.isnan(ci_high)
    se_m = math.nan
    if lo_ok and hi_ok:
        se_m, how = (ci_high - ci_low) / (2 * Z975), "(ub - lb) / (2 z) / median"
    elif lo_ok:
        se_m, how = (median - ci_low) / Z975, "(median - lb) / z / median (no upper limit)"
    elif hi_ok:
        se_m, how = (ci_high - median) / Z975, "(ub - median) / z / median (no lower limit)"
    if se_m > 0:
        return _rule(1, se_m / median, how)
    note = "; interval of zero width ignored" if (lo_ok or hi_ok) else ""
    if not math.isnan(deaths):
        return _rule(2, 1 / math.sqrt(deaths), f"1 / sqrt(deaths = {deaths:g}){note}")
    if not math.isnan(follow_up):
        d = n * (1 - 2.0 ** (-follow_up / median))
        return _rule(3, 1 / math.sqrt(d), f"expected deaths n (1 - 2^(-F/m)) = {d:.1f}{note}",
                     expected_deaths=d)
    return _rule(4, 1 / math.sqrt(n), f"expected deaths = n = {n:g} (all died){note}",
                 expected_deaths=float(n))


def _rule(rule: int, se: float, detail: str, **extra: float) -> dict:
    return {"rule": rule, "rule_name": RULES[rule], "se": float(se),
            "inflated": rule in INFLATED_RULES, "detail": detail, **extra}


def _col(wide: pd.DataFrame, name: str) -> np.ndarray:
    return (np.asarray(wide[name], dtype=float) if name in wide.columns
            else np.full(len(wide), np.nan))


def se_rules(wide: pd.DataFrame, arm: str) -> list[dict]:
    """:func:`se_rule` for every study's ``arm`` row, plus the row's inputs and precision."""
    cols = {c: _col(wide, f"{c}_{arm}") for c in
            ("median_months", "n", "median_ci_low", "median_ci_high", "deaths",
             "follow_up_months")}
    out = []
    for i in range(len(wide)):
        v = {c: float(a[i]) for c, a in cols.items()}
        r = se_rule(v["median_months"], v["n"], v["median_ci_low"], v["median_ci_high"],
                    v["deaths"], v["follow_up_months"])
        r["precision"] = written_precision(v["median_months"])
        r["inputs"] = {c: (None if math.isnan(x) else x) for c, x in v.items()}
        out.append(r)
    return out


# -- model ---------------------------------------------------------------------------------------

def _log_ndtr_pt(z):
    """log Phi(z) for PyTensor, stable in the lower tail, with finite gradients everywhere.

    Each branch only sees arguments in its own region (the "double where"), so the branch
    that ``switch`` discards can never produce an inf/NaN gradient.
    """
    import pytensor.tensor as pt

    zl, zu = pt.minimum(z, -1.0), pt.maximum(z, -1.0)
    lower = pt.log(pt.erfcx(-zl / math.sqrt(2.0)) / 2.0) - zl**2 / 2.0
    upper = pt.log1p(-pt.erfc(zu / math.sqrt(2.0)) / 2.0)
    return pt.switch(pt.lt(z, -1.0), lower, upper)


def log_interval_prob_pt(lo, hi):
    """log(Phi(hi) - Phi(lo)) for standardised ``lo < hi`` (PyTensor).

    An interval in the upper tail is reflected into the lower tail (Phi(hi) - Phi(lo) =
    Phi(-lo) - Phi(-hi)), where log Phi has full relative precision.
    """
    import pytensor.tensor as pt

    flip = pt.gt(lo, 0.0)
    a, b = pt.switch(flip, -hi, lo), pt.switch(flip, -lo, hi)
    la, lb = _log_ndtr_pt(a), _log_ndtr_pt(b)
    return lb + pt.log1mexp(la - lb)


def log_interval_prob(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """NumPy twin of :func:`log_interval_prob_pt`."""
    lo, hi = np.broadcast_arrays(np.asarray(lo, float), np.asarray(hi, float))
    flip = lo > 0
    a, b = np.where(flip, -hi, lo), np.where(flip, -lo, hi)
    la, lb = log_ndtr(a), log_ndtr(b)
    x = la - lb
    return lb + np.where(x < -math.log(2.0), np.log1p(-np.exp(x)), np.log(-np.expm1(x)))


def build_model(k: int, priors: dict[str, Prior]):
    """The model for ``k`` studies; data and priors are ``pm.Data`` to be swapped later."""
    import pymc as pm
    import pytensor.tensor as pt

    ones, zeros = np.ones(k), np.zeros(k)
    init = {"y": ones, "se": ones, "half": zeros + 0.01, "inflate": zeros}
    with pm.Model(coords={"study": np.arange(k)}) as model:
        d = {f"{name}_{arm}": pm.Data(f"{name}_{arm}", init[name], dims="study")
             for arm in ARMS for name in _DATA}
        theta = prior_slot("effect", priors["effect"], "real")
        tau = prior_slot("tau", priors["tau"], "positive")
        mu = prior_slot("baseline", priors["baseline"], "real", dims="study")
        lam = prior_slot("se_inflation", priors["se_inflation"], "positive",
                         bound=SE_INFLATION_MIN)
        delta = study_deviation(theta, tau, k)  # tau * z unless bias-adjusted or centred
        for arm, eta in (("postop", mu), ("preop", mu + theta + delta)):
            y, half = d[f"y_{arm}"], d[f"half_{arm}"]
            sd = d[f"se_{arm}"] * pt.switch(pt.gt(d[f"inflate_{arm}"], 0.5), lam, 1.0)
            lo = (y + pt.log1p(-half) - eta) / sd
            hi = (y + pt.log1p(half) - eta) / sd
            pm.Potential(f"log_median_{arm}", log_interval_prob_pt(lo, hi).sum())
    return model


def study_estimates(data: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Each study's log ratio of medians (preop over postop) and its approximate sampling
    variance ``se_preop^2 + se_postop^2`` (before any SE inflation), which set its
    parametrisation (:mod:`srsbayes.inference.parametrisation`)."""
    y = np.asarray(data["y_preop"], dtype=float) - np.asarray(data["y_postop"], dtype=float)
    return y, sum(np.asarray(data[f"se_{arm}"], dtype=float) ** 2 for arm in ARMS)


def bias_scale(spec: OutcomeSpec) -> str:
    """The scale a bias-adjustment prior (:mod:`srsbayes.priors.bias`) is applied on."""
    return "log ratio of medians"


def model_data(wide: pd.DataFrame) -> dict[str, np.ndarray]:
    """``pm.Data`` values: log medians ``y``, standard errors ``se`` of the log medians (before
    inflation), rounding half-widths relative to the median ``half`` (p / 2 / m) and the
    inflation flags ``inflate``, per arm."""
    out = {}
    for arm in ARMS:
        m = np.asarray(wide[f"median_months_{arm}"], dtype=float)
        rules = se_rules(wide, arm)
        out[f"y_{arm}"] = np.log(m)
        out[f"se_{arm}"] = np.array([r["se"] for r in rules])
        out[f"half_{arm}"] = np.array([r["precision"] for r in rules]) / 2 / m
        out[f"inflate_{arm}"] = np.array([float(r["inflated"]) for r in rules])
    return out


def observed(data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Observed log medians by observed-variable name."""
    return {f"log_median_{arm}": data[f"y_{arm}"] for arm in ARMS}


def _arm_params(post: xr.Dataset, data: dict[str, np.ndarray], arm: str
                ) -> tuple[xr.DataArray, xr.DataArray]:
    """Location and SD (inflation applied) of one arm's unrounded log median, per draw."""
    eta = post["baseline"] if arm == "postop" else (
        post["baseline"] + post["effect"] + post["delta"])
    flag = xr.DataArray(data[f"inflate_{arm}"] > 0.5, dims="study")
    se = xr.DataArray(data[f"se_{arm}"], dims="study")
    return eta, se * xr.where(flag, post["se_inflation"], 1.0)


def loglik(post: xr.Dataset, data: dict[str, np.ndarray]) -> dict[str, xr.DataArray]:
    """Pointwise log-likelihood (probability of the rounding interval) per study and arm."""
    out = {}
    for arm in ARMS:
        eta, sd = _arm_params(post, data, arm)
        y = xr.DataArray(data[f"y_{arm}"], dims="study")
        half = xr.DataArray(data[f"half_{arm}"], dims="study")
        lo, hi = (y + np.log1p(-half) - eta) / sd, (y + np.log1p(half) - eta) / sd
        out[f"log_median_{arm}"] = xr.apply_ufunc(log_interval_prob, lo, hi)
    return out


def simulate(post: xr.Dataset, data: dict[str, np.ndarray], rng: np.random.Generator
             ) -> dict[str, xr.DataArray]:
    """Replicated log medians, rounded to each row's reported precision like the data."""
    out = {}
    for arm in ARMS:
        eta, sd = _arm_params(post, data, arm)
        sd = sd.broadcast_like(eta).transpose(*eta.dims)
        m = np.exp(eta + sd * eta.copy(data=rng.standard_normal(eta.shape)))
        precision = 2 * data[f"half_{arm}"] * np.exp(data[f"y_{arm}"])
        scale = xr.DataArray(10.0 ** np.round(-np.log10(precision)), dims="study")
        # Round as the data were (k / scale, exactly), never below one unit of precision.
        rounded = np.maximum(np.round(m * scale), 1.0) / scale
        out[f"log_median_{arm}"] = np.log(rounded).transpose(*eta.dims)
    return out


# -- effects -------------------------------------------------------------------------------------

def observed_effects(wide: pd.DataFrame) -> pd.DataFrame:
    """Each study's log ratio of medians with a 95% interval from the derived standard errors
    (no inflation, no rounding; for forest plots only)."""
    data = model_data(wide)
    est = data["y_preop"] - data["y_postop"]
    se = np.sqrt(data["se_preop"] ** 2 + data["se_postop"] ** 2)
    return pd.DataFrame({"study": wide["study"], "estimate": est,
                         "lo": est - Z975 * se, "hi": est + Z975 * se})


BASELINE_SD_PRIOR = Prior("halfnormal", (0.5,))
"""Prior of the between-population SD of log postop medians in the baseline model: 0.5 is
a 1.6-fold spread of median survival, wide for one procedure in one disease."""


def baseline_model(data: dict[str, np.ndarray], priors: dict[str, Prior],
                   inflation: float = 1.0) -> BaselineModel:
    """The postop arms' own hierarchical model of log medians (:mod:`.baseline`); the
    standard errors of rule-3/4 rows are multiplied by ``inflation``."""
    se = data["se_postop"] * np.where(data["inflate_postop"] > 0.5, inflation, 1.0)
    return normal_baseline(data["y_postop"], se, priors["baseline"], BASELINE_SD_PRIOR)


def absolute_effects(post: xr.Dataset, data: dict[str, np.ndarray], priors: dict[str, Prior],
                     spec: OutcomeSpec, rng: np.random.Generator,
                     log_effect_new: xr.DataArray) -> dict[str, xr.DataArray]:
    """Median OS in months for a new population and the difference preop - postop.

    The new population's log postop median is a draw from the baseline model's predictive
    distribution (Dias et al. 2013), fitted to the postop medians with their standard
    errors (inflated by the posterior median of lambda), independently of the effect.
    """
    theta = post["effect"]
    lam = float(np.median(np.asarray(post["se_inflation"])))
    log_m = baseline_model(data, priors, lam).predictive(rng, theta.size)
    m_post = theta.copy(data=np.exp(log_m).reshape(theta.shape))
    m_pre = m_post * np.exp(post["effect"])
    m_pre_new = m_post * np.exp(log_effect_new)
    return {
        "median_postop": m_post,
        "median_preop": m_pre,
        "months": m_pre - m_post,  # preop - postop, months
        "benefit": spec.sign * (m_pre - m_post),
        "benefit_new": spec.sign * (m_pre_new - m_post),
    }


STATED_BASELINE_LABEL = "at a postop median of {:.3g} months"
"""What absolute effects at a stated baseline (``--baseline``, months) are conditional on."""
STATED_BASELINE_SCALE = 1.0
STATED_LEVEL_UNIT, STATED_LEVEL_SCALE = "months", 1.0
"""Unit of ``level_preop``/``difference`` at a stated baseline (months of median OS)."""


MAX_STATED_MEDIAN = 1200.0
"""Longest stated postop median survival, in months (100 years): ``--baseline 1e308``
printed 4.6e306 months."""


def check_stated_baseline(value: float) -> str | None:
    """Why ``value`` cannot be a stated postop median, or None when it can (a finite
    number of months in ``(0, MAX_STATED_MEDIAN]``)."""
    if not 0 < value <= MAX_STATED_MEDIAN:  # NaN fails too
        return (f"a postop median must be > 0 and at most {MAX_STATED_MEDIAN:g} months, "
                f"got {value:g}")
    return None


def absolute_at(theta: xr.DataArray, baseline: xr.DataArray, spec: OutcomeSpec
                ) -> dict[str, xr.DataArray]:
    """Median OS at stated postop medians ``baseline`` (months, dims ``baseline``)."""
    m_pre = baseline * np.exp(theta)
    return {"level_preop": m_pre, "difference": m_pre - baseline, "months": m_pre - baseline,
            "benefit": spec.sign * (m_pre - baseline)}


def uisd(wide: pd.DataFrame) -> float:
    """Unit-information SD of the studies' log ratios of medians (Röver et al. 2021, eq. 6),
    from the derived standard errors before inflation."""
    from ..priors.heterogeneity import unit_information_sd

    data = model_data(wide)
    se = np.sqrt(data["se_preop"] ** 2 + data["se_postop"] ** 2)
    return unit_information_sd(as_int(wide["n_preop"]) + as_int(wide["n_postop"]), se)


def extra_summary(wide: pd.DataFrame, data: dict[str, np.ndarray],
                  absolute: dict[str, xr.DataArray]) -> dict:
    """How each arm's standard error was obtained (``se_rules``), one entry per study × arm."""
    rows = []
    for arm in ("preop", "postop"):
        for i, r in enumerate(se_rules(wide, arm)):
            rows.append({"study": wide["study"].iloc[i], "arm": arm, **r,
                         "rounding_half_width_log": float(data[f"half_{arm}"][i])})
    rows.sort(key=lambda r: (list(wide["study"]).index(r["study"]), r["arm"] != "preop"))
    return {"se_rules": rows}


def posterior_summary(post: xr.Dataset) -> dict:
    """Posterior of the shared inflation factor of rule-3/4 standard errors."""
    lo, med, hi = central_interval(post["se_inflation"])
    return {"se_inflation": {"median": med, "ci95": [lo, hi],
                             "applies_to_rules": list(INFLATED_RULES)}}


# -- row validation: srsbayes.inputs.data.read_table calls check_row for every median row ---


def check_row(rec: dict, f: str, decimals: int) -> None:
    """Check one study-table row of a median-survival outcome.

    Parameters
    ----------
    rec
        The row, numbers parsed (NaN = not reported) and ``n`` checked to be > 0;
        ``events_rule`` is set to ``""`` (counts are not used).
    f
        The file the row came from, for messages.
    decimals
        Decimals of ``percent`` (unused: a median's precision is read from the median
        itself, :func:`written_precision`).

    Raises
    ------
    InputError
        ``median_months`` missing or not > 0, a confidence limit on the wrong side of the
        median, or ``deaths`` outside ``1..n``. Zero deaths cannot go with a median: a
        Kaplan-Meier median is reached only once deaths bring survival down to 50%.
    """

    r, med, n = rec["row"], rec["median_months"], rec["n"]
    if math.isnan(med):
        raise InputError("missing value", file=f, row=r, column="median_months")
    if med <= 0:
        raise InputError(f"must be > 0, got {med:g}", file=f, row=r, column="median_months")
    lo, hi = rec["median_ci_low"], rec["median_ci_high"]
    if not math.isnan(lo) and not 0 < lo <= med:
        raise InputError(f"must be in (0, median], got {lo:g}", file=f, row=r,
                         column="median_ci_low")
    if not math.isnan(hi) and hi < med:
        raise InputError(f"must be >= median, got {hi:g}", file=f, row=r,
                         column="median_ci_high")
    d = rec["deaths"]
    if d == 0:
        raise InputError("0 deaths, but a median survival is reported: a Kaplan-Meier median "
                         "is reached only once deaths bring survival down to 50%; leave "
                         "deaths empty if not reported", file=f, row=r, column="deaths")
    if d < 0:
        raise InputError(f"must be in 1..n, got {d:g}", file=f, row=r, column="deaths")
    if d > n:
        raise InputError(f"{int(d)} deaths > n = {int(n)}", file=f, row=r, column="deaths")
    rec["events_rule"] = ""


# -- the family ----------------------------------------------------------------------------------

from . import lognormal_median_sbc as _sbc  # noqa: E402
from .base import Family, PPCPanel, TableColumn, arm_title  # noqa: E402


class LognormalMedianFamily(Family):
    __doc__ = __doc__  # the module's: the report's methods section prints it

    name = "lognormal_median"
    DIAGNOSTIC_VARS = DIAGNOSTIC_VARS
    STATED_BASELINE_LABEL = STATED_BASELINE_LABEL
    STATED_BASELINE_SCALE = STATED_BASELINE_SCALE
    STATED_LEVEL_UNIT = STATED_LEVEL_UNIT
    STATED_LEVEL_SCALE = STATED_LEVEL_SCALE
    BASELINE_SD_PRIOR = BASELINE_SD_PRIOR
    ARM_TABLE = (TableColumn("Median (months)", ("median_months",)),
                 TableColumn("Follow-up", ("follow_up_months",)),
                 TableColumn("Deaths", ("deaths",)),
                 TableColumn("Median CI", ("median_ci_low", "median_ci_high")))
    PPC_WORDS: ClassVar[Mapping[str, str]] = {"log_median": "median survival"}
    POOLED_COLUMNS: ClassVar[Mapping[str, tuple[str, str]]] = {
        "median_months": ("median_{arm}", " months")}

    build_model = staticmethod(build_model)
    model_data = staticmethod(model_data)
    check_row = staticmethod(check_row)
    observed = staticmethod(observed)
    loglik = staticmethod(loglik)
    simulate = staticmethod(simulate)
    observed_effects = staticmethod(observed_effects)
    absolute_effects = staticmethod(absolute_effects)
    uisd = staticmethod(uisd)
    study_estimates = staticmethod(study_estimates)
    bias_scale = staticmethod(bias_scale)
    baseline_model = staticmethod(baseline_model)
    absolute_at = staticmethod(absolute_at)
    extra_summary = staticmethod(extra_summary)
    posterior_summary = staticmethod(posterior_summary)
    sbc_simulate = staticmethod(_sbc.simulate_lognormal_median)
    se_rules = staticmethod(se_rules)  # family-specific: how each arm's SE was obtained

    def check_stated_baseline(self, value: float, spec: OutcomeSpec) -> str | None:
        return check_stated_baseline(value)

    def ppc_panel(self, name: str, const: xr.Dataset | None, k: int, info: Any) -> PPCPanel:
        """Log medians are read in months."""
        if name.startswith("log_median"):
            return PPCPanel(np.ones(k), "median (months)", *arm_title(name, self.PPC_WORDS),
                            exponentiate=True)
        return super().ppc_panel(name, const, k, info)


FAMILY = LognormalMedianFamily()
