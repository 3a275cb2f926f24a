"""Standard errors of published contrasts on the analysis scale (log for ratios), from a
reported SE, a confidence interval or a two-sided p-value (Altman & Bland 2011, BMJ
343:d2090; Higgins et al., Cochrane Handbook 2023, 6.3.2), with the two checks of the
printed numbers: a CI asymmetric beyond rounding, and a p-value that disagrees with the CI
over every rounding of the printed numbers (as statcheck does, Nuijten et al. 2016, Behav
Res Methods 48:1205).
"""

from __future__ import annotations

import itertools
import math

from scipy import stats

from ..errors import InputError
from ..families.measures import is_ratio
from .contrast_forms import RULES

# -- standard errors -----------------------------------------------------------------------------

def analysis_scale(code: str, x: float) -> float:
    """``x`` on the scale the model uses: log for ratio measures, as it is for differences."""
    return math.log(x) if is_ratio(code) else x


def _scaled_half(code: str, x: float, h: float) -> float:
    """Largest change of ``g(x)`` when ``x`` moves by the rounding half-unit ``h``."""
    if not is_ratio(code):
        return h
    return math.log(x / (x - h)) if x > h else math.inf


def ci_asymmetry(code: str, est: float, lo: float, hi: float, h: dict[str, float]
                 ) -> tuple[bool, float, float, float]:
    """Whether a CI is asymmetric about its estimate on the analysis scale beyond rounding.

    Returns ``(asymmetric, lower half-width, upper half-width, tolerance)``: the half-widths
    ``g(est) - g(lo)`` and ``g(hi) - g(est)`` may differ by rounding alone by up to
    ``2 h(est) + h(lo) + h(hi)`` (each printed number is within half a unit of its last
    digit, ``h``, of the unrounded one).
    """
    g = analysis_scale
    a, b = g(code, est) - g(code, lo), g(code, hi) - g(code, est)
    tol = (2 * _scaled_half(code, est, h["estimate"]) + _scaled_half(code, lo, h["ci_low"])
           + _scaled_half(code, hi, h["ci_high"]))
    return abs(a - b) > tol, a, b, tol


def z_of_level(level: float) -> float:
    """Normal quantile of a two-sided ``level``% interval (1.95996 for 95)."""
    return float(stats.norm.ppf(0.5 + level / 200.0))


def derive_se(code: str, est: float, lo: float, hi: float, level: float, se: float,
              p: float, h: dict[str, float], *, f: str = "", row: int | None = None) -> dict:
    """The analysis-scale estimate and standard error of one contrast row.

    Parameters
    ----------
    code
        Measure code (``hr``, ``or``, ``rd``, ...).
    est, lo, hi, level
        Estimate and CI (natural scale; NaN = not reported) and the CI level in percent.
    se, p
        Reported standard error (analysis scale) and two-sided p-value (NaN = not given).
    h
        Rounding half-units of ``estimate``, ``ci_low`` and ``ci_high`` as printed.

    Returns
    -------
    dict
        The :data:`DERIVED` columns ``contrast_y``, ``contrast_se``, ``contrast_rule`` (one of
        :data:`RULES`), ``contrast_detail`` and ``contrast_asymmetric``.
    """
    y = analysis_scale(code, est)
    scale = "log " if is_ratio(code) else ""
    asym, detail_asym = False, ""
    if not math.isnan(lo):
        asym, a, b, tol = ci_asymmetry(code, est, lo, hi, h)
        if asym:
            detail_asym = (f"; CI asymmetric on the {scale or 'natural '}scale: half-widths "
                           f"{a:.4f} below and {b:.4f} above the estimate (rounding explains "
                           f"up to {tol:.4f}); SE from the full width")
    if not math.isnan(se):
        rule, s, how = RULES[0], se, f"reported SE of the {scale}estimate"
    elif not math.isnan(lo):
        z = z_of_level(level)
        s = (analysis_scale(code, hi) - analysis_scale(code, lo)) / (2 * z)
        rule = RULES[1]
        how = (f"({'log ' if scale else ''}ci_high - {'log ' if scale else ''}ci_low) / "
               f"(2 x {z:.4f}) for a {level:g}% CI")
    else:
        zp = float(stats.norm.isf(p / 2))
        if zp == 0 or y == 0:
            raise InputError(f"p = {p:g} with estimate {est:g} gives no standard error "
                             "(|estimate| / z_p is 0 / 0 or infinite); give a CI or se",
                             file=f, row=row, column="p_value")
        rule, s = RULES[2], abs(y) / zp
        how = (f"|{scale}estimate| / z_p, z_p = {zp:.4f} for two-sided p = {p:g} "
               "(Altman & Bland 2011)")
    return {"contrast_y": y, "contrast_se": float(s), "contrast_rule": rule,
            "contrast_detail": how + detail_asym, "contrast_asymmetric": asym}


# -- consistency of a p-value with its CI --------------------------------------------------------

def p_value_consistency(code: str, est: float, lo: float, hi: float, level: float, p: float,
                        h: dict[str, float], p_decimals: int) -> dict:
    """Does a reported two-sided p-value agree with the CI of the same row? (statcheck-style)

    The p-value implied by the CI, ``2 Φ(-|g(est)| / SE)`` with SE from the CI width, is
    recomputed at every rounding corner of the printed estimate and limits (each ± half a
    unit of its last digit); the reported p, itself rounded to ``p_decimals``, is
    consistent when the two ranges overlap (Nuijten et al. 2016). An inconsistency is
    *gross* when the two disagree about whether the CI excludes the null (p below
    1 - level/100 or not), statcheck's "decision error".

    Returns
    -------
    dict
        ``contrast_p_check`` (``""`` when the row lacks a CI or p, ``"consistent"``,
        ``"inconsistent"`` or ``"gross"``) and ``contrast_p_detail`` (text with the numbers).
    """
    if math.isnan(p) or math.isnan(lo):
        return {"contrast_p_check": "", "contrast_p_detail": ""}
    z = z_of_level(level)
    implied = []
    for de, dl, dh in itertools.product((-1, 0, 1), repeat=3):
        e, a, b = est + de * h["estimate"], lo + dl * h["ci_low"], hi + dh * h["ci_high"]
        if (is_ratio(code) and min(e, a, b) <= 0) or b <= a:
            continue
        s = (analysis_scale(code, b) - analysis_scale(code, a)) / (2 * z)
        implied.append(2 * stats.norm.sf(abs(analysis_scale(code, e)) / s))
    y_lo = analysis_scale(code, max(est - h["estimate"], 1e-300) if is_ratio(code)
                          else est - h["estimate"])
    y_hi = analysis_scale(code, est + h["estimate"])
    if y_lo <= 0 <= y_hi:  # the estimate may round from the null itself
        implied.append(1.0)
    p_min, p_max = min(implied), max(implied)
    hp = 0.5 * 10.0 ** -p_decimals
    centre = 2 * stats.norm.sf(abs(analysis_scale(code, est))
                               / ((analysis_scale(code, hi) - analysis_scale(code, lo))
                                  / (2 * z)))
    detail = (f"reported p = {p:g}; the {level:g}% CI {lo:g} to {hi:g} implies p = "
              f"{centre:.3g} (range {p_min:.3g}-{p_max:.3g} over rounding)")
    if p + hp >= p_min and p - hp <= p_max:
        return {"contrast_p_check": "consistent", "contrast_p_detail": detail}
    alpha = 1 - level / 100
    gross = (p < alpha) != (centre < alpha)
    return {"contrast_p_check": "gross" if gross else "inconsistent",
            "contrast_p_detail": detail + ("; they disagree on whether the CI excludes the "
                                           "null" if gross else "")}
