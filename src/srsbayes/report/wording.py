"""Phrases the report's sections share: intervals, differences in words, threshold
labels, what benefit and harm mean for an outcome.

Everything family-specific comes from the summary's family
(:data:`srsbayes.families.FAMILIES`) and its measures' wording
(:mod:`srsbayes.report.vocabulary`); nothing here branches on a family's name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..draws import directional as draws_directional
from .text import verb
from .vocabulary import (
    MEASURES,
    absolute_wording,
    family_of,
    has_absolute,
    threshold_fields,
)

if TYPE_CHECKING:
    from ..inference.summaries import FitSummary


def ci(stats: dict[str, Any], fmt: str = "{:.2f}") -> str:
    """``median (lo to hi)`` of a summary entry with ``median`` and ``ci95``."""
    lo, hi = stats["ci95"]
    return f"{fmt.format(stats['median'])} ({fmt.format(lo)} to {fmt.format(hi)})"


def ratio_name(s: FitSummary, short: bool = False) -> str:
    """The pooled measure's name ("odds ratio"), or its abbreviation ("OR")."""
    fam = family_of(s)
    return fam.measure_abbrev if short else fam.measure_name


def signed(v: float, more: str, fewer: str, d: int = 1) -> str:
    """``|v|`` and the word for its direction: ``8.4 fewer``."""
    return f"{abs(v):.{d}f} {fewer if v < 0 else more}"


def directional(stats: dict[str, Any], more: str, fewer: str, d: int = 1,
                label: str = "95% CrI ", unit: str = "") -> str:
    """A difference with its interval in words: ``8.4 fewer`` + ``unit`` + ``(95% CrI 2.7
    to 19.2 fewer)`` (:func:`srsbayes.draws.directional`)."""
    lo, hi = stats["ci95"]
    return draws_directional(stats["median"], lo, hi, more, fewer, d, label, unit)


def primary_absolute(s: FitSummary) -> tuple[dict[str, Any], str] | None:
    """The outcome's primary absolute effect (preop − postop) and what it is conditional
    on: the summary-of-findings effect at the stated or pooled baseline
    (``summary["absolute_primary"]``); None when the fit had no baseline."""
    ap = s.get("absolute_primary")
    measure = family_of(s).absolute_measure
    if not ap or measure not in ap or not has_absolute(s):
        return None
    return ap[measure], ap["label"]


def _nnt_text(s: FitSummary, label: str) -> str:
    """The number needed to treat; ``label`` goes before its interval."""
    nnt = s.get("nnt") or {}
    if "head" in nnt:  # NNTB / NNTH, an interval through infinity (srsbayes.families.nnt)
        return f"{nnt['head']} ({label}{nnt['interval_text']})"
    med, iv = nnt.get("median"), nnt.get("ci95")
    if med is not None and med > 0:
        return f"NNT {med:.0f}" + (f" ({label}{iv[0]:.0f} to {iv[1]:.0f})" if iv
                                   else " (interval includes no benefit)")
    return "NNT not defined (the median effect favours the control arm)"


def absolute_text(s: FitSummary, label: str = "95% CrI ") -> list[str]:
    """The primary absolute effect in words with what it is conditional on (e.g. per 100
    patients at the baseline risk, or months of median OS at the baseline median), and the
    NNT; the new-population effect when the fit had no baseline, labelled so."""
    primary = primary_absolute(s)
    a = s.get("absolute", {})
    measure = family_of(s).absolute_measure
    w = absolute_wording(s)
    if primary is not None:
        stats, given_ = primary
        out = [directional(stats, w.more, w.fewer, label=label, unit=w.suffix) + f" {given_}"]
        if w.nnt:
            out.append(_nnt_text(s, label))
        return out
    if measure not in a or not has_absolute(s):
        return []
    out = [directional(a[measure], w.more, w.fewer, label=label, unit=w.suffix)
           + " in a new population (predictive)"]
    if w.nnt:
        out.append(_nnt_text(s, label))
    return out


def new_population_text(s: FitSummary, label: str = "95% CrI ") -> str:
    """The secondary absolute effect, for a new population whose postop level is drawn
    from the baseline model (predictive), in words; "" when there is none."""
    a = s.get("absolute", {})
    measure = family_of(s).absolute_measure
    if measure not in a or not has_absolute(s):
        return ""
    w = absolute_wording(s)
    return directional(a[measure], w.more, w.fewer, label=label, unit=w.suffix)


def short_absolute(s: FitSummary) -> str:
    """The primary absolute effect for the bottom line, with its interval and baseline
    (the ratio if there is none)."""
    primary = primary_absolute(s)
    if primary is not None:
        stats, given_ = primary
        w = absolute_wording(s)
        return directional(stats, w.more, w.fewer, label="", unit=w.short_suffix) + f" {given_}"
    return f"{ratio_name(s)} {ci(s['effect'])}"


NO_ABSOLUTE = "not estimable: no baseline risk (give one with --baseline)"
"""What an absolute-effect cell says for an outcome of published ratios without a baseline."""


def absolute_cell(s: FitSummary) -> str:
    """The primary absolute effect for a table column headed "absolute effect": as
    :func:`short_absolute`, but never the ratio in its place."""
    return short_absolute(s) if primary_absolute(s) is not None else NO_ABSOLUTE


def threshold_label(s: FitSummary, t: dict[str, Any]) -> str:
    """A clinical threshold as a short label, e.g. ``≥ 5 fewer per 100`` or ``OR ≤ 0.8``."""
    m, thr = t["measure"], t["threshold"]
    if m not in MEASURES:
        return f"{m} {thr:g}"
    return MEASURES[m].threshold.format(**threshold_fields(thr, s["benefit"] == "lower",
                                                           family_of(s)))


def opposite(s: FitSummary) -> str:
    """What harm means, as a verb phrase (the opposite of :func:`srsbayes.report.text.verb`)."""
    v = verb(s)
    swaps = (("lowers", "raises"), ("raises", "lowers"), ("lengthens", "shortens"),
             ("shortens", "lengthens"), ("increases", "decreases"), ("decreases", "increases"))
    for a, b in swaps:
        if v.startswith(a):
            return b + v[len(a):]
    return "is worse for " + s["label"].lower()


def given(v: Any) -> bool:
    """Whether a table cell holds a value (not None, NaN or empty)."""
    return v is not None and not (isinstance(v, float) and v != v) and v != ""


def num(v: Any) -> str:
    """A number for a table cell: whole floats without ``.0``, missing as ``—``."""
    if not given(v):
        return "—"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return f"{v:g}" if isinstance(v, float) else str(v)


TIPPING_FIELD = "tipping_points"
"""The ``summary.json`` field with an outcome's bias tipping points (written by the
bias-adjustment analysis); the brief shows it when present and says so when not."""


def tipping_text(s: FitSummary) -> str | None:
    """The outcome's bias tipping points (``summary[TIPPING_FIELD]``, computed by the fit;
    Mathur & VanderWeele 2020) in one clause: "holds unless the cohorts' shared bias exceeds
    a ratio of odds ratios of 1.73 (or, around 1.09, has an SD above 0.51 on the log
    scale)". ``""`` when there is no conclusion of benefit to tip; None when the fit
    carries no tipping points."""
    tp = s.get(TIPPING_FIELD)
    if not tp:
        return None
    if not tp.get("applies"):
        return ""
    scale = str(tp.get("scale", ""))
    ratio = tp.get("mean_ratio") is not None
    log = " on the log scale" if ratio else ""
    sd = (f"no SD up to {tp['sd']:.1f}{log} tips it" if tp.get("sd_beyond")
          else f"has an SD above {tp['sd']:.2f}{log}")
    at = f"{tp['sd_at_mean_ratio']:.2f}" if ratio else f"{tp['sd_at_mean']:.2f}"
    # the bias source's mean alone already tips it: no SD is needed
    rest = (f", which the bias source's mean, {at}, already does" if tp["sd"] <= 0
            else f" (or, around {at}, {sd})")
    if ratio:
        what = scale.removeprefix("log ").strip()
        return (f"holds unless the cohorts' shared bias exceeds a ratio of {what}s of "
                f"{tp['mean_ratio']:.2f}{rest}")
    return f"holds unless the cohorts' shared bias exceeds {tp['mean']:.2f} on the {scale}{rest}"
