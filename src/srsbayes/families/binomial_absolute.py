"""The binomial family's absolute effects: the postop arms' baseline model, risks and risk
differences for a new population and at stated postop risks, the unit-information SD and
the NNT summary (:mod:`srsbayes.families.binomial`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import expit

from ..errors import InputError
from ..priors.distributions import Prior
from .base import BaselineSensitivity
from .baseline import BaselineModel, binomial_baseline
from .binomial_counts import _arm_mask, _column, contrast_rows
from .binomial_predictive import count_bounds
from .binomial_rows import CONTRAST_MEASURE

if TYPE_CHECKING:
    from .spec_view import SpecView as OutcomeSpec


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
                         size: int = 20000) -> BaselineSensitivity:
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
