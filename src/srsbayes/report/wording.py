"""Phrases the report's sections share: intervals, differences in words, threshold
labels, what benefit and harm mean for an outcome.

Everything family-specific comes from the summary's family
(:data:`srsbayes.families.FAMILIES`) and its measures' wording
(:mod:`srsbayes.report.vocabulary`); nothing here branches on a family's name.
"""

from __future__ import annotations

from typing import Any

from .text import verb
from .vocabulary import (
    MEASURES,
    absolute_wording,
    family_of,
    has_absolute,
    threshold_fields,
)


def ci(stats: dict[str, Any], fmt: str = "{:.2f}") -> str:
    """``median (lo to hi)`` of a summary entry with ``median`` and ``ci95``."""
    lo, hi = stats["ci95"]
    return f"{fmt.format(stats['median'])} ({fmt.format(lo)} to {fmt.format(hi)})"


def ratio_name(s: dict[str, Any], short: bool = False) -> str:
    """The pooled measure's name ("odds ratio"), or its abbreviation ("OR")."""
    fam = family_of(s)
    return fam.measure_abbrev if short else fam.measure_name


def signed(v: float, more: str, fewer: str, d: int = 1) -> str:
    """``|v|`` and the word for its direction: ``8.4 fewer``."""
    return f"{abs(v):.{d}f} {fewer if v < 0 else more}"


def directional(stats: dict[str, Any], more: str, fewer: str, d: int = 1,
                label: str = "95% CrI ") -> str:
    """A difference with its interval in words: ``8.4 fewer (95% CrI 2.7 to 19.2 fewer)``."""
    med, (lo, hi) = stats["median"], stats["ci95"]
    if hi < 0:
        iv = f"{abs(hi):.{d}f} to {abs(lo):.{d}f} {fewer}"
    elif lo > 0:
        iv = f"{lo:.{d}f} to {hi:.{d}f} {more}"
    else:
        iv = f"{abs(lo):.{d}f} {fewer} to {hi:.{d}f} {more}"
    return f"{signed(med, more, fewer, d)} ({label}{iv})"


def _nnt_text(s: dict[str, Any], label: str) -> str:
    """The number needed to treat; ``label`` goes before its interval."""
    nnt = s.get("nnt") or {}
    if "head" in nnt:  # NNTB / NNTH, an interval through infinity (srsbayes.families.nnt)
        return f"{nnt['head']} ({label}{nnt['interval_text']})"
    med, iv = nnt.get("median"), nnt.get("ci95")
    if med is not None and med > 0:
        return f"NNT {med:.0f}" + (f" ({label}{iv[0]:.0f} to {iv[1]:.0f})" if iv
                                   else " (interval includes no benefit)")
    return "NNT not defined (the median effect favours postop SRS)"


def absolute_text(s: dict[str, Any], label: str = "95% CrI ") -> list[str]:
    """The absolute effect in words (e.g. per 100 patients and NNT, or months of median OS)."""
    a = s.get("absolute", {})
    measure = family_of(s).absolute_measure
    if measure not in a or not has_absolute(s):
        return []
    w = absolute_wording(s)
    out = [directional(a[measure], w.more, w.fewer, label=label) + w.suffix]
    if w.nnt:
        out.append(_nnt_text(s, label))
    return out


def short_absolute(s: dict[str, Any]) -> str:
    """The median absolute effect for the bottom line (the ratio if there is none)."""
    a = s.get("absolute", {})
    measure = family_of(s).absolute_measure
    if measure in a and has_absolute(s):
        w = absolute_wording(s)
        return "about " + signed(a[measure]["median"], w.more, w.fewer) + w.short_suffix
    return f"{ratio_name(s)} {s['effect']['median']:.2f}"


def threshold_label(s: dict[str, Any], t: dict[str, Any]) -> str:
    """A clinical threshold as a short label, e.g. ``≥ 5 fewer per 100`` or ``OR ≤ 0.8``."""
    m, thr = t["measure"], t["threshold"]
    if m not in MEASURES:
        return f"{m} {thr:g}"
    return MEASURES[m].threshold.format(**threshold_fields(thr, s["benefit"] == "lower",
                                                           family_of(s)))


def opposite(s: dict[str, Any]) -> str:
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
