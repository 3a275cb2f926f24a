"""How the report and the CLI word each clinical-threshold measure, in one place.

A family names its threshold measures in :attr:`srsbayes.families.FamilyInfo.thresholds`
(one of them, :attr:`~srsbayes.families.FamilyInfo.absolute_measure`, read from the
absolute ``benefit`` draws; the others are ratios). Everything that words a threshold,
an absolute effect or a region of practical equivalence reads it from here, keyed by
the measure, so a new family with a new measure registers its wording once with
:func:`register_measure`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..families import FamilyInfo, summary_info

if TYPE_CHECKING:
    from ..inference.summaries import FitSummary


@dataclass(frozen=True)
class MeasureWording:
    """The words of one threshold measure.

    Templates are :meth:`str.format` strings. ``threshold`` (a table label) takes
    ``thr``, ``cmp`` (``≤`` or ``≥``, toward benefit), ``toward`` (``fewer``/``more``,
    toward benefit) and ``s`` (``"s"`` unless ``thr`` is 1); ``sentence`` (a P(...)
    phrase) and ``equivalence`` (a region of practical equivalence) take ``thr``, and
    ratio measures' ``equivalence`` also ``lo`` and ``hi``. Labels and sentences may also
    name the outcome's measure (:func:`threshold_fields`): ``ratio`` (its short form,
    "HR"), ``name`` ("hazard ratio"), ``bound`` ("at most"/"at least", toward benefit) and
    ``signed`` (``thr`` as a difference toward benefit: ``-thr`` when lower is better).

    Absolute measures also say how a difference reads: ``more``/``fewer`` follow the
    number (``8.4 fewer``), then ``suffix`` (``per 100 patients``) in full statements and
    ``short_suffix`` in the bottom line; ``verb`` (taking ``label``, the outcome's label in
    lower case) replaces the default "lowers the risk of ..." when benefit is not about
    events; ``nnt`` says whether a number needed to treat is shown; ``axis`` labels the
    figure of the signed benefit (``toward``: ``Fewer``/``More``, ``event``);
    ``difference`` states the difference treatment - control with its interval (``{}``) for
    the command line. Templates name the arms as ``{t}`` (treatment) and ``{c}`` (control):
    the arms' ``word`` of the review question (:mod:`srsbayes.inputs.question`); ``axis``
    and ``sentence`` also take ``{t_short}`` (the treatment's ``short`` wording).
    """

    threshold: str
    sentence: str
    equivalence: str
    more: str = ""
    fewer: str = ""
    suffix: str = ""
    short_suffix: str = ""
    verb: str = ""
    nnt: bool = False
    axis: str = ""
    difference: str = ""


MEASURES: dict[str, MeasureWording] = {}


def register_measure(name: str, wording: MeasureWording) -> MeasureWording:
    """Make the wording of threshold measure ``name`` known (returns ``wording``)."""
    MEASURES[name] = wording
    return wording


register_measure("risk_difference", MeasureWording(
    threshold="≥ {thr:g} {toward} per 100",
    sentence="an absolute benefit of at least {thr:g} percentage points",
    equivalence="the risks differ by less than {thr:g} percentage points",
    more="more", fewer="fewer", suffix=" per 100 patients", short_suffix=" per 100 patients",
    nnt=True, axis="{toward} patients with {event} per 100 ({t} vs {c})",
    difference="risk difference ({t} - {c}): {} percentage points"))
register_measure("months", MeasureWording(
    threshold="≥ {thr:g} month{s} longer",
    sentence="at least {thr:g} more month(s) of median survival",
    equivalence="median survival differs by less than {thr:g} month(s)",
    more="months longer", fewer="months shorter", suffix=" median OS",
    short_suffix=" median survival", verb="lengthens {label}",
    axis="Longer median survival with {t_short} (months)",
    difference="difference in median OS: {} months"))
register_measure("odds_ratio", MeasureWording(
    threshold="OR {cmp} {thr:g}",
    sentence="an odds ratio at least as favourable as {thr:g}",
    equivalence="the odds ratio lies between {lo:.2f} and {hi:.2f}"))
register_measure("ratio", MeasureWording(
    threshold="{ratio} {cmp} {thr:g}",
    sentence="a {name} of {bound} {thr:g}",
    equivalence="the ratio lies between {lo:.2f} and {hi:.2f}"))
register_measure("difference", MeasureWording(
    threshold="{ratio} {cmp} {signed:g}",
    sentence="a {name} of at least {thr:g} in favour of {t_short}",
    equivalence="the difference is below {thr:g}",
    difference="difference ({t} - {c}): {}"))


def family_of(s: FitSummary) -> FamilyInfo:
    """The family of a fit's summary (``s["family"]``), worded for its measure (a contrast
    outcome's ``s["measure_code"]``: "hazard ratio", "mean difference", ...)."""
    return summary_info(s)


def has_absolute(s: FitSummary) -> bool:
    """Whether the fit has absolute effects: they need a control-arm level, i.e. a
    family with a baseline model (published contrasts have none)."""
    return "baseline" in family_of(s).slots


def absolute_wording(s: FitSummary) -> MeasureWording:
    """The wording of the summary's family's absolute measure."""
    return MEASURES[family_of(s).absolute_measure]


def threshold_fields(thr: float, lower: bool, fam: FamilyInfo) -> dict[str, Any]:
    """Format fields of a threshold label: ``cmp``, ``toward``, plural ``s``, ``bound``,
    ``signed`` and, from the outcome's family (worded for its measure), ``name`` and
    ``ratio`` (an acronym such as "HR" as it is; a word such as "Ratio" in lower case)."""
    abbrev = fam.measure_abbrev
    return {"thr": thr, "cmp": "≤" if lower else "≥", "toward": "fewer" if lower else "more",
            "s": "s" if thr != 1 else "", "bound": "at most" if lower else "at least",
            "signed": -thr if lower else thr, "name": fam.measure_name,
            "ratio": abbrev.lower() if abbrev.istitle() else abbrev}
