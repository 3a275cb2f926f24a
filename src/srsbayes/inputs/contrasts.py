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

import math
from typing import Any, TypedDict

import pandas as pd

from ..errors import InputError
from ..families import get_family
from ..families.measures import SPEC_NAMES as MEASURES
from ..families.measures import is_ratio, measure_code, measure_word
from ..values import clean_name
from ..written import decimals
from .cells import parse_number
from .contrast_forms import FORM_NUMBERS, RULES, check_counts, derive_from_form, row_form
from .contrast_se import analysis_scale as analysis_scale
from .contrast_se import ci_asymmetry as ci_asymmetry
from .contrast_se import derive_se, p_value_consistency
from .contrast_se import z_of_level as z_of_level
from .specs import OutcomeSpec

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
    form = row_form(rec, f)
    if form is not None:  # no printed estimate: derived from what the row gives
        check_counts(rec, f)
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
