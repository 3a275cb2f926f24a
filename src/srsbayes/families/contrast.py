"""Contrast-level evidence: a normal-normal random-effects model of published estimates.

Comparative studies of preop vs postop SRS publish hazard ratios, odds ratios and the like
with a confidence interval, a standard error or a p-value, not 2×2 counts. For study *i*
with estimate ``y_i`` on the analysis scale (the log of a ratio measure; a risk or mean
difference as it is) and its standard error ``s_i``::

    y_i ~ Normal(theta + delta_i, s_i)
    delta_i = tau * z_i,  z_i ~ Normal(0, 1)               (non-centred)

with priors ``effect`` (theta) and ``tau`` in run-time prior slots; there is no baseline.
``s_i`` is treated as known (the normal-normal hierarchical model, NNHM), so the posterior
is a one-dimensional integral over tau: :mod:`srsbayes.inference.exact` computes it by
quadrature, and every NUTS fit of this family is checked against it (:func:`normal_normal`
gives it the data). How ``y_i`` and ``s_i`` are derived from what a study reports is
:mod:`srsbayes.inputs.contrasts`.

References
----------
Röver C (2020). Bayesian random-effects meta-analysis using the bayesmeta R package.
J Stat Softw 93(6):1-51 (the NNHM and its exact posterior).

Spiegelhalter DJ, Abrams KR, Myles JP (2004). Bayesian Approaches to Clinical Trials and
Health-Care Evaluation. Wiley, Section 3.6 (normal approximations to published estimates).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from ..errors import InputError
from ..priors.distributions import Prior, prior_slot
from . import FAMILIES, FamilyInfo
from .base import Family, SpecKeys, Truth, draw
from .bias_term import study_deviation
from .measures import MEASURES as TABLE
from .measures import RATIO_MEASURES as RATIO_MEASURES  # the measure vocabulary, as before
from .measures import SPEC_NAMES as MEASURES
from .measures import is_ratio, measure_code, measure_word
from .measures import pooled_note as pooled_note

if TYPE_CHECKING:
    from .spec_view import SpecView as OutcomeSpec

OBSERVED = ("estimate",)
DIAGNOSTIC_VARS = ("effect", "tau", "z")
Z975 = float(stats.norm.ppf(0.975))

# -- vocabulary: the measures a contrast row may report ------------------------------------------

THRESHOLD_FOR = {True: "ratio", False: "difference"}
"""The threshold measure a spec may use, by whether its measure is a ratio."""


def family_info(measure: str) -> FamilyInfo:
    """The contrast family's :class:`FamilyInfo` worded for one measure (code or spec name).

    The registered entry is generic ("effect estimate"); presentation code reads this one
    through :func:`srsbayes.families.measure_info` with a fit's ``summary["measure_code"]``
    or a spec's ``measure``. It is the one place that decides the scale an outcome is shown
    on: a ratio as exp θ (``log_scale``, no effect at 1), a difference as θ itself (no
    effect at 0).
    """
    code = measure_code(measure) or measure
    return replace(FAMILIES["contrast"], measure=MEASURES[code])


# -- spec keys: srsbayes.inputs.specs calls spec_keys for a contrast spec ------------------------

_MEASURE_LIST = ", ".join(MEASURES.values())


def spec_keys(raw: dict[str, Any], f: str) -> SpecKeys:
    """The spec keys of a contrast outcome: ``measure`` and ``approximate_measures``.

    Parameters
    ----------
    raw
        The parsed TOML of the spec.
    f
        The spec file, for messages.

    Returns
    -------
    dict
        ``measure`` (spec name, e.g. ``"odds_ratio"``) and ``approximate_measures`` (codes
        of other measures accepted as approximations on the same scale, e.g. HRs for ORs of
        a rare event), as :class:`~srsbayes.inputs.specs.OutcomeSpec` fields.

    Raises
    ------
    InputError
        ``measure`` missing or unknown, an approximate measure unknown or on the other scale
        (a ratio cannot stand in for a difference), or a threshold measure that does not fit
        the measure (``ratio`` thresholds for ratios, ``difference`` for differences).
    """
    if "measure" not in raw:
        raise InputError(f"missing required key for family 'contrast' ({_MEASURE_LIST})",
                         file=f, column="measure")
    code = measure_code(raw["measure"]) if isinstance(raw["measure"], str) else None
    if code is None:
        raise InputError(f"unknown measure {raw['measure']!r}; known: {_MEASURE_LIST}",
                         file=f, column="measure")
    approx = raw.get("approximate_measures", [])
    if not isinstance(approx, list) or not all(isinstance(a, str) for a in approx):
        raise InputError("must be an array of measure names, e.g. [\"hr\", \"or\"]", file=f,
                         column="approximate_measures")
    codes = []
    for a in approx:
        c = measure_code(a)
        if c is None:
            raise InputError(f"unknown measure {a!r}; known: {', '.join(MEASURES)}", file=f,
                             column="approximate_measures")
        if is_ratio(c) != is_ratio(code):
            raise InputError(f"{a!r} is on another scale than {MEASURES[code]!r} (a ratio "
                             "and a difference cannot be pooled)", file=f,
                             column="approximate_measures")
        codes.append(c)
    wanted = THRESHOLD_FOR[is_ratio(code)]
    thresholds = raw.get("thresholds", [])
    for i, t in enumerate(thresholds if isinstance(thresholds, list) else []):
        if isinstance(t, dict) and t.get("measure") not in (wanted, None):
            raise InputError(f"a {MEASURES[code]} outcome takes '{wanted}' thresholds, got "
                             f"{t.get('measure')!r}", file=f, column=f"thresholds[{i}]")
    return {"measure": MEASURES[code], "approximate_measures": tuple(c for c in codes
                                                                     if c != code)}


def contrast_measures(spec: OutcomeSpec) -> tuple[str, ...]:
    """CSV codes of the measures this outcome's contrast rows may report: the spec's
    measure first, then its ``approximate_measures``."""
    code = measure_code(spec.measure)
    assert code is not None  # spec_keys checked it
    return (code, *spec.approximate_measures)


# -- model ---------------------------------------------------------------------------------------

def build_model(k: int, priors: dict[str, Prior]):
    """The model for ``k`` studies; data and priors are ``pm.Data`` to be swapped later."""
    import pymc as pm

    with pm.Model(coords={"study": np.arange(k)}) as model:
        y = pm.Data("y", np.zeros(k), dims="study")
        s = pm.Data("s", np.ones(k), dims="study")
        theta = prior_slot("effect", priors["effect"], "real")
        tau = prior_slot("tau", priors["tau"], "positive")
        delta = study_deviation(theta, tau, k)  # tau * z unless bias-adjusted or centred
        pm.Normal("estimate", mu=theta + delta, sigma=s, observed=y, dims="study")
    return model


def study_estimates(data: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Each study's estimate and sampling variance ``s_i^2``, which set its parametrisation
    (:mod:`srsbayes.inference.parametrisation`)."""
    return np.asarray(data["y"], dtype=float), np.asarray(data["s"], dtype=float) ** 2


def bias_scale(spec: OutcomeSpec) -> str | None:
    """The scale a bias-adjustment prior (:mod:`srsbayes.priors.bias`, ratios of ratios)
    is applied on: the log of a ratio measure; None for a difference, to which a ratio of
    ratios does not translate."""
    code = measure_code(spec.measure)
    return f"log {measure_word(code)}" if code is not None and is_ratio(code) else None


def model_data(wide: pd.DataFrame) -> dict[str, np.ndarray]:
    """``pm.Data`` values: estimates ``y`` on the analysis scale and their standard errors
    ``s`` (from :func:`srsbayes.inputs.contrasts.contrast_table`)."""
    return {"y": np.asarray(wide["contrast_y"], dtype=float),
            "s": np.asarray(wide["contrast_se"], dtype=float)}


def normal_normal(data: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
    """Estimates and known standard errors of the NNHM, for the exact posterior
    (:func:`srsbayes.inference.exact.exact_failures`).

    A bias term ``b_i ~ N(m_i, v_i)`` independent across studies (:mod:`.bias_term`) folds
    into the NNHM exactly: ``y_i - m_i ~ N(theta + delta_i, s_i^2 + v_i)``. A shared bias
    (``bias_shared`` not zero) correlates the studies, which the NNHM does not: ``None``
    (no exact check for that fit).
    """
    if np.any(np.asarray(data.get("bias_shared", 0.0)) != 0):
        return None
    m, v = data.get("bias_mean", 0.0), np.square(data.get("bias_sd", 0.0))
    return data["y"] - m, np.sqrt(np.square(data["s"]) + v)


def observed(data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Observed estimates by observed-variable name."""
    return {"estimate": data["y"]}


def _location(post: xr.Dataset) -> xr.DataArray:
    return post["effect"] + post["delta"]


def loglik(post: xr.Dataset, data: dict[str, np.ndarray]) -> dict[str, xr.DataArray]:
    """Pointwise log-likelihood per study."""
    y = xr.DataArray(data["y"], dims="study")
    s = xr.DataArray(data["s"], dims="study")
    return {"estimate": xr.apply_ufunc(stats.norm.logpdf, y, _location(post), s)}


def simulate(post: xr.Dataset, data: dict[str, np.ndarray], rng: np.random.Generator
             ) -> dict[str, xr.DataArray]:
    """Replicated estimates per study, one set per posterior draw."""
    loc = _location(post)
    s = np.broadcast_to(data["s"], loc.shape)
    return {"estimate": loc.copy(data=loc.values + s * rng.standard_normal(loc.shape))}


def observed_effects(wide: pd.DataFrame) -> pd.DataFrame:
    """Each study's estimate with a 95% interval from its standard error (analysis scale)."""
    y, s = np.asarray(wide["contrast_y"], float), np.asarray(wide["contrast_se"], float)
    return pd.DataFrame({"study": wide["study"], "estimate": y,
                         "lo": y - Z975 * s, "hi": y + Z975 * s})


def absolute_effects(post: xr.Dataset, data: dict[str, np.ndarray], priors: dict[str, Prior],
                     spec: OutcomeSpec, rng: np.random.Generator,
                     log_effect_new: xr.DataArray) -> dict[str, xr.DataArray]:
    """Signed benefit on the measure's analysis scale (positive = benefit of preop).

    A contrast has no control-arm level, so there is no absolute risk: ``benefit`` is
    ``sign * theta`` (log ratio, or the difference itself) and ``benefit_new`` the same in
    a new study. A difference measure also gets ``difference`` (preop - postop, its own
    units), the draws its ``difference`` thresholds read.
    """
    out = {"benefit": spec.sign * post["effect"], "benefit_new": spec.sign * log_effect_new}
    code = measure_code(spec.measure)
    if code is not None and not is_ratio(code):
        out["difference"] = post["effect"]
    return out


# -- absolute effects at a stated baseline risk (fit --baseline, certainty --baseline-risk) -------

STATED_BASELINE_LABEL = "at a stated postop risk of {:.3g}%"
"""What absolute effects at a stated baseline risk are conditional on (the risk in %); the
assumption that carries the relative effect to it is added by
:func:`stated_baseline_label`."""
STATED_BASELINE_SCALE = 100.0
STATED_LEVEL_UNIT, STATED_LEVEL_SCALE = "per 1,000 patients", 1000.0
"""Unit of ``level_preop``/``difference`` at a stated baseline, as for binary outcomes."""
RISK_ASSUMPTIONS: dict[str, str] = {
    "or": "preop risk OR·p0 / (1 − p0 + OR·p0): the odds ratio applied to the baseline odds",
    "rr": "preop risk RR·p0: the risk ratio taken as constant across baseline risks, capped "
          "at 100%",
    "hr": "preop risk 1 − (1 − p0)^HR by the horizon of p0: proportional hazards",
    "shr": "preop cumulative incidence 1 − (1 − p0)^sHR by the horizon of p0: proportional "
           "subdistribution hazards (Fine & Gray 1999)",
}
"""Measures whose pooled effect gives a preop risk at a stated postop risk p0, each with the
assumption that does it (Guyatt et al. 2013, J Clin Epidemiol 66:158; GRADE absolute
effects from relative effects and an assumed baseline risk)."""


def takes_stated_risk(spec: OutcomeSpec) -> bool:
    """Whether the outcome's measure gives absolute effects at a stated baseline risk."""
    return measure_code(spec.measure) in RISK_ASSUMPTIONS


def check_stated_baseline(value: float, spec: OutcomeSpec | None = None) -> str | None:
    """Why ``value`` cannot be a stated postop risk of ``spec``'s measure, or None."""
    code = None if spec is None else measure_code(spec.measure)
    if spec is not None and code not in RISK_ASSUMPTIONS:
        return (f"absolute effects at a stated baseline risk need a ratio of risks, odds or "
                f"hazards (or, rr, hr, shr); outcome {spec.id!r} pools "
                f"{measure_word(code, plural=True) if code in TABLE else spec.measure}")
    return None if 0 < value < 1 else f"a postop risk must lie in (0, 1), got {value:g}"


def risk_assumption(spec: OutcomeSpec) -> str:
    """How the outcome's pooled ratio gives a preop risk at a stated postop risk p0, and the
    assumption that does it (:data:`RISK_ASSUMPTIONS`)."""
    return RISK_ASSUMPTIONS[measure_code(spec.measure)]


def stated_baseline_label(value: float, spec: OutcomeSpec) -> str:
    """The label of absolute effects at stated risk ``value``, with its assumption."""
    return (STATED_BASELINE_LABEL.format(value * STATED_BASELINE_SCALE)
            + f" ({risk_assumption(spec)})")


def preop_risk(code: str, log_ratio: Any, p0: Any) -> Any:
    """The preop risk at postop risk ``p0`` for a log ratio of measure ``code``.

    OR: ``OR p0 / (1 - p0 + OR p0)``; RR: ``min(RR p0, 1)``; HR (sHR) at the horizon of
    ``p0``: ``1 - (1 - p0)^HR`` (proportional (subdistribution) hazards: ``S1 = S0^HR``).
    Works on floats, numpy arrays and xarray objects alike.
    """
    ratio = np.exp(log_ratio)
    if code == "or":
        return ratio * p0 / (1 - p0 + ratio * p0)
    if code == "rr":
        return np.minimum(ratio * p0, 1.0)
    if code in ("hr", "shr"):
        return 1 - (1 - p0) ** ratio
    raise ValueError(f"no absolute effect at a stated risk for measure {code!r}")


def absolute_at(theta: xr.DataArray, baseline: xr.DataArray, spec: OutcomeSpec
                ) -> dict[str, xr.DataArray]:
    """Absolute effects at stated postop risks ``baseline`` (dims ``baseline``): the preop
    risk from the pooled ratio by the measure's assumption (:func:`preop_risk`), in % and
    per 1,000, as the binomial family reports them."""
    p_t = preop_risk(measure_code(spec.measure), theta, baseline)
    return {"level_preop": STATED_LEVEL_SCALE * p_t,
            "difference": STATED_LEVEL_SCALE * (p_t - baseline),
            "risk_difference": 100 * (p_t - baseline),
            "benefit": spec.sign * 100 * (p_t - baseline)}


def uisd(wide: pd.DataFrame) -> float:
    """Unit-information SD of the estimates (Röver et al. 2021, Res Synth Methods 12:448,
    eq. 6); needs ``n`` on every contrast row."""
    from ..priors.heterogeneity import unit_information_sd

    n = np.asarray(wide["n"], dtype=float)
    if np.isnan(n).any():
        study = wide["study"][np.isnan(n)].iloc[0]
        raise InputError(f"a uisd() prior needs n on every contrast row; study {study!r} "
                         "has none", column="n")
    return unit_information_sd(n, np.asarray(wide["contrast_se"], dtype=float))


def extra_summary(wide: pd.DataFrame, data: dict[str, np.ndarray],
                  absolute: dict[str, xr.DataArray]) -> dict:
    """The outcome's measure and how each study's standard error was obtained.

    ``se_rules`` has one entry per study (rule, standard error on the analysis scale and
    the numbers it came from); ``ci_asymmetry`` lists the confidence intervals that are
    asymmetric on the analysis scale beyond what rounding explains (their SE comes from the
    full width, i.e. the mean of the two half-widths, and is flagged rather than trusted
    silently). For a difference measure ``effect`` and ``prediction`` are replaced by the
    natural-scale values (the generic summary exponentiates θ).
    """
    from ..draws import central_interval

    code = str(wide["outcome_measure"].iloc[0])
    rules = [{"study": r.study, "row": int(r.row), "measure": r.measure,
              "estimate": float(r.estimate), "rule": r.contrast_rule,
              "se": float(r.contrast_se), "detail": r.contrast_detail,
              "asymmetric_ci": bool(r.contrast_asymmetric),
              "approximate": bool(getattr(r, "contrast_approximate", False)),
              "n": None if math.isnan(r.n) else int(r.n),
              "adjusted": r.adjusted, "design": r.design,
              "time_months": None if math.isnan(r.time_months) else float(r.time_months)}
             for r in wide.itertuples()]
    out: dict[str, Any] = {
        "measure": MEASURES[code] if code in MEASURES else code,
        "measure_code": code,
        "scale": "log" if is_ratio(code) else "natural",
        "se_rules": rules,
        "ci_asymmetry": [{"study": r["study"], "row": r["row"], "detail": r["detail"]}
                         for r in rules if r["asymmetric_ci"]],
        # rows pooled as if they reported the outcome's measure (the spec allows it)
        "approximations": [{"study": r["study"], "row": r["row"], "measure": r["measure"],
                            "pooled_as": code} for r in rules if r["measure"] != code],
        # rows whose SE rests on an approximation (a p-value on another test's scale, ...)
        "se_approximations": [{"study": r["study"], "row": r["row"], "rule": r["rule"],
                               "detail": r["detail"]} for r in rules if r["approximate"]],
    }
    if not is_ratio(code):
        for key, name in (("effect", "log_effect"), ("prediction", "log_effect_new")):
            v = np.asarray(absolute[name], dtype=float).ravel()
            lo, med, hi = central_interval(v)
            out[key] = {"mean": float(v.mean()), "sd": float(v.std(ddof=1)),
                        "median": med, "ci95": [lo, hi]}
    return out


# -- row validation: srsbayes.inputs.data.read_table calls check_row for every arm row ----------


def check_row(rec: dict, f: str, decimals: int) -> None:
    """Arm rows cannot feed a contrast outcome: its rows leave ``arm`` empty.

    Raises
    ------
    InputError
        Always (contrast rows are checked by :mod:`srsbayes.inputs.contrasts`).
    """
    raise InputError(f"outcome {rec['outcome']!r} is a contrast outcome: give one row per "
                     "study with arm empty and measure, estimate and ci_low + ci_high, se "
                     "or p_value", file=f, row=rec["row"], column="arm")


# -- SBC: simulator and design (srsbayes.validation.sbc asks the family) -------------------------

CONTRAST_SBC_PRIORS: dict[str, Prior] = {"effect": Prior("normal", (0.0, 4.0)),
                                         "tau": Prior("halfnormal", (0.5,))}
"""Priors of the contrast family's SBC. The family has no bundled outcome, hence no spec
priors; these are the minimal contrast spec's of issue 13 (``tests/data/
contrast_minimal_ar.toml``): θ ~ normal(0, 4) on the log odds ratio, and τ ~ half-normal(0.5),
the log-OR heterogeneity prior of the bundled ``lmd`` spec (Friede et al. 2017, Röver et al.
2021) and the middle of the family's default sweep grid."""


def simulate_contrast(wide: pd.DataFrame, priors: Mapping[str, Prior], rng: np.random.Generator
                      ) -> tuple[Truth, dict[str, np.ndarray]]:
    """Parameters from the priors and estimates from the normal-normal model.

    ``y_i ~ Normal(theta + tau z_i, s_i)``, ``z_i ~ Normal(0, 1)``, with the known standard
    errors ``s_i`` of the design (``wide["contrast_se"]``, held fixed as the model treats
    them), written out from the equations of this module's docstring.
    """
    s = np.asarray(wide["contrast_se"], dtype=float)
    theta, tau = float(draw(priors["effect"], rng)), float(draw(priors["tau"], rng))
    z = rng.standard_normal(len(s))
    delta = tau * z
    y = theta + delta + s * rng.standard_normal(len(s))
    return {"effect": theta, "tau": tau, "z": z, "delta": delta}, {"y": y, "s": s}


def log_or_se_design(wide: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Prior]]:
    """Contrast design from a binary outcome: the SEs of its studies' empirical log odds ratios.

    ``contrast_se`` is each study's Woolf (1955) standard error of the log odds ratio of
    preop vs postop, ``sqrt(1/a + 1/b + 1/c + 1/d)`` with 0.5 added to every cell of a study
    with a zero cell (:func:`srsbayes.priors.heterogeneity.log_or_se`), from the counts the
    binomial family fits (``events_<arm>``: the nearest count to each bundled percentage).
    ``contrast_y``, the empirical log odds ratio, is kept for the record only: SBC simulates
    its own estimates with these standard errors. Priors: :data:`CONTRAST_SBC_PRIORS`.

    References
    ----------
    Woolf B (1955). On estimating the relation between blood group and disease. Ann Hum
    Genet 19:251-253.
    """
    from ..priors.heterogeneity import log_or_se

    a, n1 = wide["events_preop"].to_numpy(float), wide["n_preop"].to_numpy(float)
    c, n2 = wide["events_postop"].to_numpy(float), wide["n_postop"].to_numpy(float)
    b, d = n1 - a, n2 - c
    cc = np.where((a == 0) | (b == 0) | (c == 0) | (d == 0), 0.5, 0.0)
    design = pd.DataFrame({
        "study": wide["study"].to_numpy(),
        **{col: wide[col].to_numpy() for col in ("n_preop", "events_preop", "n_postop",
                                                 "events_postop")},
        "contrast_y": np.log((a + cc) * (d + cc) / ((b + cc) * (c + cc))),
        "contrast_se": log_or_se(a, n1, c, n2),
    })
    return design, dict(CONTRAST_SBC_PRIORS)


# -- the family ----------------------------------------------------------------------------------

class ContrastFamily(Family):
    __doc__ = __doc__  # the module's: the report's methods section prints it

    name = "contrast"
    DIAGNOSTIC_VARS = DIAGNOSTIC_VARS
    STATED_BASELINE_LABEL = STATED_BASELINE_LABEL
    STATED_BASELINE_SCALE = STATED_BASELINE_SCALE
    STATED_LEVEL_UNIT = STATED_LEVEL_UNIT
    STATED_LEVEL_SCALE = STATED_LEVEL_SCALE
    PPC_WORDS: ClassVar[Mapping[str, str]] = {"estimate": "published estimate"}
    SBC_DESIGN_RULE = "log_or_se"
    has_exact_posterior = True

    build_model = staticmethod(build_model)
    model_data = staticmethod(model_data)
    check_row = staticmethod(check_row)
    observed = staticmethod(observed)
    loglik = staticmethod(loglik)
    simulate = staticmethod(simulate)
    observed_effects = staticmethod(observed_effects)
    absolute_effects = staticmethod(absolute_effects)
    uisd = staticmethod(uisd)
    spec_keys = staticmethod(spec_keys)
    contrast_measures = staticmethod(contrast_measures)
    study_estimates = staticmethod(study_estimates)
    bias_scale = staticmethod(bias_scale)
    normal_normal = staticmethod(normal_normal)
    absolute_at = staticmethod(absolute_at)
    stated_baseline_label = staticmethod(stated_baseline_label)
    takes_stated_risk = staticmethod(takes_stated_risk)
    risk_assumption = staticmethod(risk_assumption)
    extra_summary = staticmethod(extra_summary)
    family_info = staticmethod(family_info)
    sbc_simulate = staticmethod(simulate_contrast)

    def check_stated_baseline(self, value: float, spec: OutcomeSpec) -> str | None:
        return check_stated_baseline(value, spec)

    def sbc_design(self, wide: pd.DataFrame, priors: Mapping[str, Prior]
                   ) -> tuple[pd.DataFrame, dict[str, Prior]]:
        """The design of :func:`log_or_se_design` (the family has no bundled outcome)."""
        return log_or_se_design(wide)


FAMILY = ContrastFamily()
