"""Contrast rows: published estimates (HR, OR, ...) with a CI, an SE or a p-value.

A contrast row of the study CSV leaves ``arm`` empty and gives ``measure`` (``hr``, ``shr``,
``or``, ``rr``, ``rd``, ``ratio_of_medians``, ``mean_difference``), ``estimate`` on the
natural scale (e.g. HR 0.45) and at least one of ``ci_low`` + ``ci_high`` (with
``ci_level``, default 95), ``se`` (of the log estimate for ratio measures) or ``p_value``
(two-sided). Optional: ``n`` (total patients), ``adjusted`` (yes/no), ``design`` (``rct``,
``prospective``, ``retrospective``), ``time_months`` (the horizon of the estimate).
:func:`contrast_record` checks a row and derives its standard error on the analysis scale
(log for ratios, natural for differences) by the first rule its data allow:

1. ``se`` reported: taken as it is;
2. a confidence interval: ``SE = (g(ci_high) - g(ci_low)) / (2 z)``, ``z = Φ⁻¹(1/2 +
   level/200)``, ``g`` = log for ratios (Altman & Bland 2011, BMJ 343:d2090 and
   Higgins et al., Cochrane Handbook 2023, 6.3.2: ratio CIs are symmetric on the log scale);
3. a two-sided p-value: ``SE = |g(estimate)| / z_p``, ``z_p = Φ⁻¹(1 - p/2)`` (Altman & Bland
   2011, BMJ 343:d2090, with the exact normal quantile for their approximation of ``z``).

A CI that is asymmetric on the analysis scale beyond what the rounding of its printed
numbers explains (a profile-likelihood or exact interval, a typo) is flagged in the row
(``contrast_asymmetric``) and by :func:`ci_asymmetry_findings`; rule 2 then uses the full
width, the mean of the two half-widths. When a row reports both a CI and a p-value,
:func:`p_value_consistency` recomputes p from the CI over every rounding of the printed
numbers, as statcheck does for test statistics (Nuijten et al. 2016, Behav Res Methods
48:1205), and :func:`p_value_findings` reports rows where the two disagree.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, TypedDict

import pandas as pd
from scipy import stats

from ..errors import InputError
from ..families import get_family
from ..families.measures import SPEC_NAMES as MEASURES
from ..families.measures import is_ratio, measure, measure_code, measure_word
from ..values import clean_name
from ..written import decimals
from .cells import parse_number
from .specs import OutcomeSpec

FORM_NUMBERS = ("preop_percent", "postop_percent", "preop_n", "postop_n", "o_minus_e", "v",
                "events_total")
"""Numeric columns of the forms without a printed estimate (:func:`derive_from_form`)."""
NUMBERS = ("estimate", "ci_low", "ci_high", "ci_level", "se", "p_value", "time_months",
           *FORM_NUMBERS)
"""Numeric columns only contrast rows have."""
TEXTS = ("measure", "adjusted", "design", "lower_arm")
DERIVED = ("contrast_y", "contrast_se", "contrast_rule", "contrast_detail",
           "contrast_asymmetric", "contrast_p_check", "contrast_p_detail",
           "contrast_approximate")
"""Columns the loader adds to contrast rows (reserved names)."""
COLUMNS = (*NUMBERS, *TEXTS, *DERIVED)
"""Every column the contrast rows use; none of them is a study-level covariate."""

DEFAULT_LEVEL = 95.0
DESIGNS = ("rct", "prospective", "retrospective")
_YES, _NO = ("yes", "y", "true", "1"), ("no", "n", "false", "0")
RULES = ("reported se", "confidence interval", "p-value", "arm rates and p-value",
         "Peto O-E and V", "p-value and events")
"""How a row's SE was obtained: the first three from a printed estimate, the others from the
forms of :func:`derive_from_form` (4(a)-(c) of issue 23)."""
ARM_RATE_MEASURES = ("rr", "or")
"""Scales the contrast of two arm rates at a horizon may be taken on."""
PETO_MEASURES = ("hr", "shr", "or")
"""Measures Peto's O - E and V estimate: a log-rank HR, or Peto's OR of 2x2 counts."""


def is_contrast_row(rec: dict) -> bool:
    """A row with ``arm`` empty in a file that has a ``measure`` column."""
    return str(rec.get("arm", "")).strip() == "" and "measure" in rec


# -- parsing -------------------------------------------------------------------------------------

def _decimals(text: Any) -> int:
    """Decimals as written (``'0.450'`` -> 3): the precision a number was printed at
    (:func:`srsbayes.written.decimals`, at most 15)."""
    return decimals(text, 15)


def _choice(value: Any, allowed: dict[str, tuple[str, ...]], *, f: str, row: int,
            col: str) -> str:
    v = str(value).strip().lower()
    if v == "":
        return ""
    for name, spellings in allowed.items():
        if v in spellings:
            return name
    raise InputError(f"unknown value {value!r}; use {' or '.join(allowed)}", file=f, row=row,
                     column=col)


def _check_outcome(rec: dict, specs: dict[str, OutcomeSpec], f: str) -> OutcomeSpec:
    r = rec["row"]
    rec["study"] = clean_name(str(rec.get("study", "")))  # as for arm rows (inputs.data)
    for col in ("study", "outcome"):
        if str(rec.get(col, "")).strip() == "":
            raise InputError("empty value", file=f, row=r, column=col)
    rec["outcome"] = rec["outcome"].lower()
    rec["arm"] = ""
    if rec["outcome"] not in specs:
        raise InputError(f"unknown outcome {rec['outcome']!r}; specs exist for: "
                         + ", ".join(specs), file=f, row=r, column="outcome")
    return specs[rec["outcome"]]


def _check_measure(rec: dict, spec: OutcomeSpec, f: str) -> str:
    """The row's measure code, checked against what the outcome's spec accepts."""
    r, text = rec["row"], str(rec.get("measure", "")).strip()
    accepted = get_family(spec.family).contrast_measures(spec)
    if accepted is None:
        raise InputError(f"outcome {spec.id!r} (family {spec.family!r}) takes arm rows only; "
                         "a contrast row (arm empty) needs an outcome whose family takes "
                         "published estimates (contrast, binomial)", file=f, row=r,
                         column="arm")
    if text == "":
        raise InputError("empty value; a contrast row (arm empty) needs a measure: "
                         + ", ".join(MEASURES), file=f, row=r, column="measure")
    code = measure_code(text)
    if code is None:
        raise InputError(f"unknown measure {text!r}; use one of {', '.join(MEASURES)}",
                         file=f, row=r, column="measure")
    allowed = accepted
    if code not in allowed:
        own = MEASURES[allowed[0]]
        hint = ("" if not is_ratio(code) or not is_ratio(allowed[0]) else
                f"; to pool it as an approximate {own}, list it in the spec's "
                f"approximate_measures")
        raise InputError(f"measure {code!r} does not match outcome {spec.id!r}, whose "
                         f"measure is {own!r} (accepted: {', '.join(allowed)}){hint}",
                         file=f, row=r, column="measure")
    return code


def contrast_record(rec: dict, specs: dict[str, OutcomeSpec], f: str,
                    arm_numbers: tuple[str, ...] = ()) -> dict:
    """Check one contrast row and complete it with its analysis-scale estimate and SE.

    Parameters
    ----------
    rec
        The row as text fields, with its file line in ``row``.
    specs
        Known outcome specs.
    f
        The file, for messages.
    arm_numbers
        Numeric columns of arm rows (``n``, ``events``, ...): parsed too; only ``n`` may be
        given on a contrast row.

    Returns
    -------
    dict
        ``rec`` with numbers parsed (NaN = not reported), ``measure`` as its code and the
        :data:`DERIVED` columns (``contrast_y``, ``contrast_se``, ``contrast_rule``, ...).

    Raises
    ------
    InputError
        Naming file, row and column: unknown outcome or measure, a measure the spec does not
        accept, a non-positive ratio, a CI that does not contain the estimate, p outside
        (0, 1], a CI level that is not a number in (50, 100), nothing to derive an SE from.
    """
    spec = _check_outcome(rec, specs, f)
    code = _check_measure(rec, spec, f)
    r = rec["row"]
    raw = {c: str(rec.get(c, "")).strip() for c in ("estimate", "ci_low", "ci_high",
                                                    "p_value")}
    for col in (*arm_numbers, *NUMBERS):
        rec[col] = parse_number(str(rec.get(col, "")).strip(), f=f, row=r, col=col)
    for col in arm_numbers:
        if col not in ("n", "follow_up_months") and not math.isnan(rec[col]):
            raise InputError("not used on a contrast row (arm empty); leave it empty", file=f,
                             row=r, column=col)
    _one_horizon(rec, f)
    rec["measure"] = code
    rec["events_rule"] = ""
    rec["adjusted"] = _choice(rec.get("adjusted", ""), {"yes": _YES, "no": _NO}, f=f, row=r,
                              col="adjusted")
    rec["design"] = _choice(rec.get("design", ""), {d: (d,) for d in DESIGNS}, f=f, row=r,
                            col="design")
    rec["lower_arm"] = _choice(rec.get("lower_arm", ""), {a: (a,) for a in ("preop", "postop")},
                               f=f, row=r, col="lower_arm")
    form = _form(rec, f)
    if form is not None:  # no printed estimate: derived from what the row gives
        _check_counts(rec, f)
        rec.update(derive_from_form(form, rec, code, f))
        rec.update({"contrast_p_check": "", "contrast_p_detail": ""})
        return rec
    _check_values(rec, code, f)
    level = DEFAULT_LEVEL if math.isnan(rec["ci_level"]) else rec["ci_level"]
    h = {c: 0.5 * 10.0 ** -_decimals(raw[c]) for c in ("estimate", "ci_low", "ci_high")}
    rec.update(derive_se(code, rec["estimate"], rec["ci_low"], rec["ci_high"], level,
                         rec["se"], rec["p_value"], h, f=f, row=r))
    rec.update(p_value_consistency(code, rec["estimate"], rec["ci_low"], rec["ci_high"],
                                   level, rec["p_value"], h, _decimals(raw["p_value"])))
    rec["contrast_approximate"] = rec["contrast_rule"] == RULES[2]
    return rec


def _one_horizon(rec: dict, f: str) -> None:
    """``time_months`` and ``follow_up_months`` are one thing on a contrast row: the horizon
    of its estimate. Either name may be used; both must then agree. Both columns hold it."""
    t, fu = rec["time_months"], rec.get("follow_up_months", math.nan)
    if not math.isnan(t) and not math.isnan(fu) and t != fu:
        raise InputError(f"time_months = {t:g} and follow_up_months = {fu:g} differ; both "
                         "name the horizon of the estimate: give one of them", file=f,
                         row=rec["row"], column="follow_up_months")
    horizon = t if not math.isnan(t) else fu
    rec["time_months"] = horizon
    if "follow_up_months" in rec:
        rec["follow_up_months"] = horizon


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


def _form(rec: dict, f: str) -> str | None:
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


def _check_counts(rec: dict, f: str) -> None:
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


def _check_values(rec: dict, code: str, f: str) -> None:
    """Range checks of one contrast row's numbers (one message per bad value)."""
    r, est, lo, hi = rec["row"], rec["estimate"], rec["ci_low"], rec["ci_high"]
    name = measure_word(code)
    if math.isnan(est):
        raise InputError("missing value", file=f, row=r, column="estimate")
    for col in ("estimate", "ci_low", "ci_high"):
        if is_ratio(code) and rec[col] <= 0:
            raise InputError(f"a {name} must be > 0, got {rec[col]:g}", file=f, row=r,
                             column=col)
    if math.isnan(lo) != math.isnan(hi):
        missing = "ci_low" if math.isnan(lo) else "ci_high"
        raise InputError("ci_low and ci_high go together; give both or neither", file=f,
                         row=r, column=missing)
    if not math.isnan(lo):
        if not lo < hi:
            raise InputError(f"must be > ci_low = {lo:g}, got {hi:g}", file=f, row=r,
                             column="ci_high")
        if not lo <= est <= hi:
            col = "ci_low" if est < lo else "ci_high"
            raise InputError(f"the CI {lo:g} to {hi:g} does not contain the estimate {est:g}",
                             file=f, row=r, column=col)
    level = rec["ci_level"]
    if not math.isnan(level) and not 50 < level < 100:
        raise InputError(f"must be a percentage in (50, 100), e.g. 95; got {level:g}", file=f,
                         row=r, column="ci_level")
    if not math.isnan(level) and math.isnan(lo):
        raise InputError("ci_level without ci_low and ci_high", file=f, row=r,
                         column="ci_level")
    if not math.isnan(rec["se"]) and rec["se"] <= 0:
        raise InputError(f"must be > 0, got {rec['se']:g}", file=f, row=r, column="se")
    p = rec["p_value"]
    if not math.isnan(p) and not 0 < p <= 1:
        raise InputError(f"must be in (0, 1], got {p:g}", file=f, row=r, column="p_value")
    if math.isnan(lo) and math.isnan(rec["se"]) and math.isnan(p):
        raise InputError("a contrast row needs ci_low + ci_high, se or p_value", file=f, row=r,
                         column="se")
    n, t = rec.get("n", math.nan), rec["time_months"]
    if not math.isnan(n) and (n <= 0 or n != int(n)):
        raise InputError(f"must be a whole number > 0, got {n:g}", file=f, row=r, column="n")
    if not math.isnan(t) and t <= 0:
        raise InputError(f"must be > 0, got {t:g}", file=f, row=r, column="time_months")


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


# -- audit-style findings (the lead registers them as audit checks) ------------------------------

def _contrast_rows(table: Any) -> pd.DataFrame:
    frame = table.frame
    if "contrast_rule" not in frame.columns:
        return frame.iloc[0:0]
    return frame[frame["arm"] == ""]


class FindingFields(TypedDict):
    """The fields of an audit finding about one contrast row (:class:`srsbayes.audit.Finding`
    is built from them: the audit sits above the inputs)."""

    study: str
    outcome: str
    arm: None
    check: str
    severity: str
    detail: str
    row: int
    values: dict[str, float]
    file: str


def _finding(rec: Any, check: str, severity: str, detail: str, path: str,
             values: dict[str, float]) -> FindingFields:
    return FindingFields(study=rec.study, outcome=rec.outcome, arm=None, check=check,
                         severity=severity, detail=detail, row=int(rec.row), values=values,
                         file=path)


def ci_asymmetry_findings(table: Any) -> list[FindingFields]:
    """One warning per contrast row whose CI is asymmetric on the analysis scale beyond
    rounding (fields of :class:`srsbayes.audit.Finding`, check ``contrast_ci_asymmetry``)."""
    rows = _contrast_rows(table)
    return [_finding(r, "contrast_ci_asymmetry", "warning",
                     f"{r.measure.upper()} {r.estimate:g} ({r.ci_low:g} to {r.ci_high:g}): "
                     + r.contrast_detail.split("; ", 1)[1], table.path,
                     {"estimate": r.estimate, "ci_low": r.ci_low, "ci_high": r.ci_high})
            for r in rows.itertuples() if bool(r.contrast_asymmetric)]


def p_value_findings(table: Any) -> list[FindingFields]:
    """One warning per contrast row whose p-value disagrees with its CI (fields of
    :class:`srsbayes.audit.Finding`, check ``contrast_p_ci``); rows that agree are not
    reported."""
    rows = _contrast_rows(table)
    return [_finding(r, "contrast_p_ci", "warning",
                     ("gross inconsistency: " if r.contrast_p_check == "gross" else
                      "inconsistent: ") + r.contrast_p_detail, table.path,
                     {"p_value": r.p_value, "ci_low": r.ci_low, "ci_high": r.ci_high})
            for r in rows.itertuples() if r.contrast_p_check in ("inconsistent", "gross")]


# -- groups and the outcome table ----------------------------------------------------------------

def check_groups(frame: pd.DataFrame, f: str) -> pd.DataFrame:
    """Check contrast rows as a group and return the arm rows (for the arm-row checks).

    Raises
    ------
    InputError
        Two contrast rows for one study × outcome, or a study with both a contrast row and
        arm rows for the same outcome.
    """
    if "contrast_rule" not in frame.columns:
        return frame
    is_contrast = frame["arm"] == ""
    contrasts, arms = frame[is_contrast], frame[~is_contrast]
    dup = contrasts.duplicated(["study", "outcome"], keep="first")
    if dup.any():
        rec = contrasts[dup].iloc[0]
        raise InputError(f"second contrast row for study {rec['study']!r}, outcome "
                         f"{rec['outcome']!r}; give one estimate per study and outcome",
                         file=f, row=int(rec["row"]), column="study")
    both = contrasts.merge(arms[["study", "outcome"]].drop_duplicates(), on=["study",
                                                                           "outcome"])
    if not both.empty:
        rec = both.iloc[0]
        raise InputError(f"study {rec['study']!r} has both arm rows and a contrast row for "
                         f"outcome {rec['outcome']!r}; give one or the other", file=f,
                         row=int(rec["row"]), column="arm")
    return arms


WIDE = ("row", "measure", "estimate", "ci_low", "ci_high", "ci_level", "se", "p_value", "n",
        "time_months", "adjusted", "design", "source", *FORM_NUMBERS, "lower_arm", *DERIVED)
"""Columns of :func:`contrast_table` besides ``study`` and the covariates."""


def contrast_table(rows: pd.DataFrame, spec: OutcomeSpec, path: str,
                   covariates: list[str], min_studies: int = 2) -> pd.DataFrame:
    """One row per study of an outcome's contrast rows (what ``outcome_table`` returns for
    a contrast outcome, and the contrast studies of a mixed one).

    ``outcome_measure`` is the code of the measure the rows are pooled as: the outcome's
    (the first of its family's ``contrast_measures``).

    Raises
    ------
    InputError
        Fewer than ``min_studies`` studies (a meta-analysis needs >= 2; the contrast part
        of a mixed outcome may have one).
    """
    if len(rows) < min_studies:
        raise InputError(f"outcome {spec.id!r} has {len(rows)} stud"
                         f"{'y' if len(rows) == 1 else 'ies'}; a meta-analysis needs >= 2",
                         file=path, column="study")
    cols = ["study", *[c for c in (*WIDE, *covariates) if c in rows.columns]]
    wide = rows[cols].reset_index(drop=True).copy()
    for c in ("source", "adjusted", "design"):
        if c not in wide.columns:
            wide[c] = ""
    wide["outcome_measure"] = get_family(spec.family).contrast_measures(spec)[0]
    for c in ("contrast_y", "contrast_se", "n", "time_months"):
        wide[c] = wide[c].astype(float)
    return wide
