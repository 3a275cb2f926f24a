"""Contrast rows in the forms papers print without an estimate and its interval (issue 23
item 4): two arms' rates at a horizon with a p-value, Peto's O - E and V, or a p-value with
the number of events. :func:`derive_from_form` turns each into an estimate and a standard
error on the analysis scale, saying which rule it used (:data:`RULES`).

Peto's one-step estimate: log HR = (O - E) / V, SE = 1 / sqrt(V) (Yusuf et al. 1985, Prog
Cardiovasc Dis 27:335); a hazard ratio from a two-sided p-value and the number of events:
SE = 2 / sqrt(events) for a 1:1 allocation (Parmar et al. 1998, Stat Med 17:2815; Tierney
et al. 2007, Trials 8:16); arm rates and a p-value: the test's SE of the log ratio from z_p
(Altman & Bland 2011, BMJ 343:d2090).
"""

from __future__ import annotations

import math

from scipy import stats

from ..errors import InputError
from ..families.measures import is_ratio, measure, measure_word

FORM_NUMBERS = ("preop_percent", "postop_percent", "preop_n", "postop_n", "o_minus_e", "v",
                "events_total")
"""Numeric columns of the forms without a printed estimate (:func:`derive_from_form`)."""
RULES = ("reported se", "confidence interval", "p-value", "arm rates and p-value",
         "Peto O-E and V", "p-value and events")
"""How a row's SE was obtained: the first three from a printed estimate, the others from the
forms of :func:`derive_from_form` (4(a)-(c) of issue 23)."""
ARM_RATE_MEASURES = ("rr", "or")
"""Scales the contrast of two arm rates at a horizon may be taken on."""
PETO_MEASURES = ("hr", "shr", "or")
"""Measures Peto's O - E and V estimate: a log-rank HR, or Peto's OR of 2x2 counts."""


# -- forms without a printed estimate (issue 23 item 4) --------------------------------------

FORMS = {
    "arm_rates": ("preop_percent", "postop_percent"),
    "peto": ("o_minus_e", "v"),
    "p_events": ("events_total", "lower_arm"),
}
"""The forms a contrast row may take instead of a printed estimate, by the columns that
mark them (``preop_n`` and ``postop_n`` belong to the arm rates, and give the allocation
ratio of a hazard ratio from a p-value)."""


def _given(rec: dict, col: str) -> bool:
    v = rec.get(col, math.nan)
    return v != "" if isinstance(v, str) else not math.isnan(v)


def row_form(rec: dict, f: str) -> str | None:
    """The row's form: ``None`` for a printed estimate, else a key of :data:`FORMS`.

    Raises
    ------
    InputError
        Two forms at once, an estimate beside a form's columns, or a p-value without an
        estimate or anything else to derive one from (form 4(d): refused).
    """
    r = rec["row"]
    forms = [name for name, cols in FORMS.items() if any(_given(rec, c) for c in cols)]
    if len(forms) > 1:
        a, b = forms[:2]
        raise InputError(f"columns of two forms given ({', '.join(FORMS[a])} and "
                         f"{', '.join(FORMS[b])}); give one", file=f, row=r,
                         column=next(c for c in FORMS[b] if _given(rec, c)))
    if forms:
        if _given(rec, "estimate"):
            raise InputError(f"an estimate beside {', '.join(FORMS[forms[0]])}: the estimate "
                             "is derived from them; leave estimate empty (or give only the "
                             "estimate with its CI, se or p_value)", file=f, row=r,
                             column="estimate")
        for col in ("ci_low", "ci_high", "se"):
            if _given(rec, col):
                raise InputError(f"not used with {', '.join(FORMS[forms[0]])} (the standard "
                                 "error is derived from them); leave it empty", file=f, row=r,
                                 column=col)
        return forms[0]
    if not _given(rec, "estimate") and _given(rec, "p_value"):
        raise InputError(
            "a p-value without an estimate cannot be pooled: it says neither how large the "
            "effect is nor in which direction, so no estimate and standard error follow from "
            "it; give the estimate (with its CI, se or this p-value), or the arms' rates "
            "(preop_percent, postop_percent, preop_n, postop_n), Peto's o_minus_e and v, or "
            "for a hazard ratio events_total and lower_arm", file=f, row=r, column="estimate")
    return None


def check_counts(rec: dict, f: str) -> None:
    """Range checks of the form columns and of ``n``/``time_months`` (form rows)."""
    r = rec["row"]
    for col in ("preop_n", "postop_n", "events_total", "n"):
        v = rec.get(col, math.nan)
        if not math.isnan(v) and (v <= 0 or v != int(v)):
            raise InputError(f"must be a whole number > 0, got {v:g}", file=f, row=r,
                             column=col)
    for col in ("preop_percent", "postop_percent"):
        v = rec[col]
        if not math.isnan(v) and not 0 < v < 100:
            raise InputError(f"a rate to take a ratio of must be in (0, 100) percent, got "
                             f"{v:g}", file=f, row=r, column=col)
    p = rec["p_value"]
    if not math.isnan(p) and not 0 < p < 1:
        raise InputError(f"must be in (0, 1) to give a standard error, got {p:g}", file=f,
                         row=r, column="p_value")
    if not math.isnan(rec["v"]) and rec["v"] <= 0:
        raise InputError(f"a variance must be > 0, got {rec['v']:g}", file=f, row=r,
                         column="v")
    t = rec["time_months"]
    if not math.isnan(t) and t <= 0:
        raise InputError(f"must be > 0, got {t:g}", file=f, row=r, column="time_months")
    if not math.isnan(rec["ci_level"]):
        raise InputError("ci_level without ci_low and ci_high", file=f, row=r,
                         column="ci_level")


def _require(rec: dict, cols: tuple[str, ...], what: str, f: str) -> None:
    for col in cols:
        if not _given(rec, col):
            raise InputError(f"missing value; {what} needs {', '.join(cols)}", file=f,
                             row=rec["row"], column=col)


def derive_from_form(form: str, rec: dict, code: str, f: str = "") -> dict:
    """The analysis-scale estimate and SE of a row that prints no estimate.

    Parameters
    ----------
    form
        ``"arm_rates"``, ``"peto"`` or ``"p_events"`` (:data:`FORMS`).
    rec
        The row, numbers parsed (NaN = not given).
    code
        The row's measure code: the scale the contrast is taken on.
    f
        The file, for messages.

    Returns
    -------
    dict
        ``estimate`` (natural scale), ``n`` (completed from the arms where given) and the
        :data:`DERIVED` columns; ``contrast_approximate`` says whether the SE rests on an
        approximation.

    Notes
    -----
    **Arm rates at a horizon and a p-value** (4(a)): two cumulative incidences (or
    Kaplan-Meier rates) ``r1`` (preop) and ``r0`` (postop) at the same horizon, with the arm
    sizes and a two-sided p-value. The contrast is taken on the row's scale, ``log RR =
    log(r1 / r0)`` or ``log OR = logit r1 - logit r0``, and its SE from the p-value,
    ``SE = |y| / z_p`` (Altman & Bland 2011, BMJ 343:d2090). This is an approximation: the
    p-value comes from the study's own test (e.g. Gray's test of cumulative incidence
    functions, or a log-rank test), not from a Wald test on this scale; the row is flagged.

    **Peto O - E and V** (4(b)): ``log HR = (O - E) / V``, ``SE = 1 / sqrt(V)`` (Tierney et al.
    2007, Trials 8:16; the same for Peto's log OR of 2x2 counts).

    **A p-value and the total number of events** (4(c), hazard ratios): under the log-rank
    test with allocation ratio ``R = n_preop / n_postop`` (1 when the arm sizes are not
    given), ``V = E R / (1 + R)^2`` (``E / 4`` for 1:1) and ``O - E = ± z_p sqrt(V)``, the
    sign from the arm with the lower hazard (``lower_arm``); then ``log HR = (O - E) / V``,
    ``SE = 1 / sqrt(V)`` (Tierney et al. 2007). Approximate: ``V`` is the log-rank variance
    under the null with few events relative to the numbers at risk; flagged.
    """
    r = rec["row"]
    zp = float(stats.norm.isf(rec["p_value"] / 2)) if _given(rec, "p_value") else math.nan
    n = rec.get("n", math.nan)
    if form == "arm_rates":
        _require(rec, (*FORMS["arm_rates"], "preop_n", "postop_n", "p_value"),
                 "an estimate from the arms' rates", f)
        if code not in ARM_RATE_MEASURES:
            raise InputError(f"the arms' rates give a risk ratio or an odds ratio of the rates "
                             f"(measure rr or or), not a {measure_word(code)}", file=f, row=r,
                             column="measure")
        n1, n0 = rec["preop_n"], rec["postop_n"]
        if not math.isnan(n) and n != n1 + n0:
            raise InputError(f"n = {n:g} is not preop_n + postop_n = {n1 + n0:g}", file=f,
                             row=r, column="n")
        r1, r0 = rec["preop_percent"] / 100, rec["postop_percent"] / 100
        y = (math.log(r1 / r0) if code == "rr"
             else math.log(r1 / (1 - r1)) - math.log(r0 / (1 - r0)))
        s = abs(y) / zp
        at = (f" at {rec['time_months']:g} months" if not math.isnan(rec["time_months"])
              else "")
        how = (f"{'log RR' if code == 'rr' else 'log OR'} of the arms' rates{at}, "
               f"{rec['preop_percent']:g}% (n = {n1:g}) vs {rec['postop_percent']:g}% "
               f"(n = {n0:g}) = {y:.4f}; SE = |y| / z_p, z_p = {zp:.4f} for two-sided p = "
               f"{rec['p_value']:g} (Altman & Bland 2011): approximate, as the p-value comes "
               "from the study's own test, not a test on this scale")
        return _derived(code, y, s, RULES[3], how, approximate=True, n=n1 + n0)
    if form == "peto":
        _require(rec, FORMS["peto"], "Peto's estimate", f)
        if code not in PETO_MEASURES:
            raise InputError(f"O - E and V give a log hazard ratio (or Peto's log odds ratio), "
                             f"not a {measure_word(code)}", file=f, row=r, column="measure")
        oe, v = rec["o_minus_e"], rec["v"]
        y, s = oe / v, 1 / math.sqrt(v)
        how = (f"log {measure(code).abbrev} = (O - E) / V = {oe:g} / {v:g} = {y:.4f}, "
               f"SE = 1 / sqrt(V) = {s:.4f} (Tierney et al. 2007)")
        return _derived(code, y, s, RULES[4], how, approximate=False, n=n)
    _require(rec, ("p_value", "events_total", "lower_arm"), "a hazard ratio from a p-value", f)
    if code not in ("hr", "shr"):
        raise InputError(f"a p-value and the number of events give a hazard ratio (measure "
                         f"hr), not a {measure_word(code)}", file=f, row=r, column="measure")
    arms = _given(rec, "preop_n") and _given(rec, "postop_n")
    ratio = rec["preop_n"] / rec["postop_n"] if arms else 1.0
    e = rec["events_total"]
    v = e * ratio / (1 + ratio) ** 2
    oe = (-1 if rec["lower_arm"] == "preop" else 1) * zp * math.sqrt(v)
    y, s = oe / v, 1 / math.sqrt(v)
    alloc = (f"allocation ratio R = {rec['preop_n']:g}/{rec['postop_n']:g} = {ratio:.4f}" if arms
             else "1:1 allocation assumed (no preop_n, postop_n)")
    how = (f"V = E R / (1 + R)^2 = {v:.4f} for E = {e:g} events, {alloc}; O - E = "
           f"{'-' if oe < 0 else '+'}z_p sqrt(V) = {oe:.4f}, z_p = {zp:.4f} for two-sided p = "
           f"{rec['p_value']:g}, lower hazard {rec['lower_arm']}; log HR = (O - E) / V = "
           f"{y:.4f}, SE = 1 / sqrt(V) (Tierney et al. 2007): approximate")
    total = rec["preop_n"] + rec["postop_n"] if arms and math.isnan(n) else n
    return _derived(code, y, s, RULES[5], how, approximate=True, n=total)


def _derived(code: str, y: float, s: float, rule: str, how: str, *, approximate: bool,
             n: float) -> dict:
    est = math.exp(y) if is_ratio(code) else y
    return {"estimate": est, "n": n, "contrast_y": y, "contrast_se": float(s),
            "contrast_rule": rule, "contrast_detail": how, "contrast_asymmetric": False,
            "contrast_approximate": approximate}
