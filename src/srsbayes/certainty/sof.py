"""Summary-of-findings table: one row per outcome, from the fit's posterior draws.

Each row gives the relative effect with its 95% CrI, absolute effects at stated baseline
levels, the number of studies and patients, the certainty with its reasons and a
plain-language statement (Guyatt et al. 2011, J Clin Epidemiol 64:383; Santesso et al.
2020, J Clin Epidemiol 119:126).

Absolute effects are the fit's own, computed once per posterior draw by the family's
``absolute_at`` (:mod:`srsbayes.inference.derived`): for count data, at a baseline (postop)
risk r the preop risk is p_t = expit(logit(r) + θ) with θ the log odds ratio, per 1,000
patients; for the median family the preop median is m·exp(θ) months. They are conditional
on the baseline, which carries no uncertainty of its own; the default baseline is the
pooled control-arm level of the studies, labelled so. The baselines are therefore chosen
before the fit (:func:`outcome_baselines`) and passed to it. Published contrasts (HRs,
mean differences, ...) carry no control-arm level, so their absolute effects are not
estimable (:data:`NO_BASELINE`) rather than computed at an invented baseline; their
relative effect is shown on its own scale (:func:`srsbayes.families.measure_info`: a
ratio, or a difference as it is).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..families import FAMILIES, get_family, measure_info
from ..families.measures import pooled_note
from ..inference.summaries import DrawStats
from ..inputs.question import Question, asked
from ..inputs.specs import OutcomeSpec
from .evidence import Baseline, OutcomeEvidence, primary_absolute
from .grade import Certainty
from .statements import plain_language
from .thresholds import absolute_threshold

if TYPE_CHECKING:
    from ..outputs import JSONObject


@dataclass(frozen=True)
class AbsoluteEffect:
    """Absolute effects at one baseline: the postop level, the preop level and the
    difference preop − postop (per 1,000 patients, or months)."""

    baseline: Baseline
    unit: str
    control: float
    intervention: DrawStats
    difference: DrawStats

    def as_dict(self) -> JSONObject:
        return {"baseline": self.baseline.value, "baseline_label": self.baseline.label,
                "unit": self.unit, "control": self.control,
                "intervention": self.intervention.as_dict(),
                "difference": self.difference.as_dict()}


def absolute_at(ev: OutcomeEvidence, baseline: Baseline) -> AbsoluteEffect:
    """The fit's absolute effects at ``baseline`` (``summary["absolute_at_baseline"]``)."""
    fam = get_family(ev.spec.family)
    at = next((a for a in ev.summary.get("absolute_at_baseline", [])
               if a["baseline"] == baseline.value), None)
    if at is None:
        raise ValueError(f"{ev.spec.id} was fitted without the baseline {baseline.value:g}; "
                         "pass outcome_baselines(...) to fit_outcome(baselines=...)")
    assumption = fam.risk_assumption(ev.spec)  # a published ratio's (OR, RR, HR)
    if assumption is not None:
        baseline = Baseline(baseline.value, f"{baseline.label} ({assumption})")
    return AbsoluteEffect(baseline, fam.STATED_LEVEL_UNIT,
                          fam.STATED_LEVEL_SCALE * baseline.value,
                          DrawStats.from_dict(at["level_preop"]),
                          DrawStats.from_dict(at["difference"]))


def stated_baseline(risk: float) -> Baseline:
    """A baseline risk given by the user (e.g. ``--baseline-risk 0.12``)."""
    return Baseline(float(risk), f"stated baseline risk {100 * risk:g}%")


def outcome_baselines(spec: OutcomeSpec, pooled: Baseline | None,
                      stated: dict[str | None, list[float]]) -> list[Baseline]:
    """The baselines of an outcome's row: risks stated for it (key = outcome id) or for
    every outcome (key ``None``) when its data are counts, else the data's pooled level
    (``pooled``; none at all when the data have no control-arm level)."""
    if takes_stated_risk(spec):
        risks = stated.get(spec.id) or stated.get(None) or []
        if risks:
            return [stated_baseline(r) for r in risks]
    return [] if pooled is None else [pooled]


def takes_stated_risk(spec: OutcomeSpec) -> bool:
    """Whether a stated baseline risk gives the outcome absolute effects: count data, or a
    published ratio whose family says how (a contrast OR, RR or HR: its ``takes_stated_risk``)."""
    return FAMILIES[spec.family].count_data or get_family(spec.family).takes_stated_risk(spec)


def baselines_for(ev: OutcomeEvidence, stated: dict[str | None, list[float]]) -> list[Baseline]:
    """:func:`outcome_baselines` of a fitted outcome."""
    return outcome_baselines(ev.spec, ev.baseline, stated)


@dataclass(frozen=True)
class SoFRow:
    """One outcome of the summary-of-findings table."""

    outcome: str
    label: str
    measure: str
    relative: DrawStats | None
    absolute: tuple[AbsoluteEffect, ...]
    n_studies: int
    n_patients: int
    certainty: Certainty
    statement: str
    absolute_note: str = ""
    """Why there are no absolute effects (:data:`NO_BASELINE`), when there are none."""
    pooled_note: str = ""
    """What was pooled when it is not simply the measure (e.g. hazard ratios as odds ratios;
    :func:`srsbayes.families.measures.pooled_note`)."""
    new_population: DrawStats | None = None
    """The secondary absolute effect, preop − postop in a new population (the fit's
    ``summary["absolute"]``, predictive), in :attr:`new_population_unit`."""
    new_population_unit: str = ""
    new_population_conditional_on: str = ""

    def as_dict(self) -> JSONObject:
        return {"outcome": self.outcome, "label": self.label, "measure": self.measure,
                "relative": None if self.relative is None else self.relative.as_dict(),
                "absolute": [a.as_dict() for a in self.absolute],
                "absolute_primary": ABSOLUTE_PRIMARY if self.absolute else "",
                "absolute_new_population": None if self.new_population is None else {
                    "role": "secondary", "unit": self.new_population_unit,
                    "conditional_on": self.new_population_conditional_on,
                    "difference": self.new_population.as_dict()},
                "absolute_note": self.absolute_note, "pooled_note": self.pooled_note,
                "n_studies": self.n_studies, "n_patients": self.n_patients,
                "certainty": self.certainty.as_dict(), "statement": self.statement}


ABSOLUTE_PRIMARY = ("the first entry of absolute is the primary absolute effect (GRADE's "
                    "summary of findings, at that baseline; point estimate = the posterior "
                    "median, as every output prints it); absolute_new_population is "
                    "secondary")


def direction(ev: OutcomeEvidence) -> int:
    """Direction of the effect on the outcome for the statement: the sign of the posterior
    median of the primary absolute effect, 0 when its benefit is smaller than the smallest
    important one (with no threshold: when the 95% CrI includes no effect)."""
    s = primary_absolute(ev.summary)
    measure = FAMILIES[ev.spec.family].absolute_measure
    benefit = s["benefit"]
    t = absolute_threshold(ev.spec)
    trivial = (abs(benefit["median"]) < t if t is not None
               else benefit["ci95"][0] <= 0 <= benefit["ci95"][1])
    # without an absolute measure (a published ratio), θ's sign is the outcome's direction
    change = s[measure]["median"] if measure in s else ev.summary["log_effect"]["median"]
    return 0 if trivial else int(np.sign(change))


def running_text(label: str) -> str:
    """A label inside a sentence: first letter lower case unless it opens an acronym."""
    return label if label[:2].isupper() else label[:1].lower() + label[1:]


NO_BASELINE = ("not estimable from contrasts: published estimates give no baseline risk "
               "to apply them to (for an OR, RR or HR, state one: --baseline-risk ID=R)")
"""The absolute-effects cell of an outcome whose family has no baseline model."""


def sof_row(ev: OutcomeEvidence, certainty: Certainty, baselines: list[Baseline],
            question: Question | None = None) -> SoFRow:
    """The SoF row of one outcome (no effect columns when its fit failed its gate); its
    statement and new-population wording name the arms of ``question`` (default: the
    bundled one)."""
    info = measure_info(ev.spec.family, ev.spec.measure)
    label = running_text(ev.spec.label)
    note = "" if "baseline" in info.slots or baselines else NO_BASELINE
    if not ev.ok:
        return SoFRow(ev.spec.id, ev.spec.label, info.measure_abbrev, None, (),
                      len(ev.studies), ev.n_patients, certainty,
                      plain_language(None, 0, label, question), note)
    absolute = tuple(absolute_at(ev, b) for b in baselines)
    fam = get_family(ev.spec.family)
    measure = FAMILIES[ev.spec.family].absolute_measure
    new = ev.summary.get("absolute", {}).get(measure) if not note else None
    new = new if new and "ci95" in new else None  # constructed summaries may lack it
    scale = fam.STATED_LEVEL_SCALE / 100 if FAMILIES[ev.spec.family].count_data else 1.0
    return SoFRow(ev.spec.id, ev.spec.label, info.measure_abbrev,
                  DrawStats.of(info.shown(ev.log_effect)), absolute, len(ev.studies),
                  ev.n_patients, certainty,
                  plain_language(certainty.level, direction(ev), label, question), note,
                  pooled_note=pooled_note(ev.summary),
                  new_population=(None if new is None
                                  else _scaled(DrawStats.from_dict(new), scale)),
                  new_population_unit=fam.STATED_LEVEL_UNIT,
                  new_population_conditional_on=new_population(question))


def new_population(question: Question | None = None) -> str:
    """What the secondary absolute effect is conditional on, the control arm worded as in
    ``question`` (default: the bundled one)."""
    c = asked(question).control.word
    return (f"a new population whose {c} level is drawn from the baseline model of "
            f"the studies' {c} arms (predictive; conditional on that model's prior "
            "for the spread between populations)")


def _scaled(d: DrawStats, k: float) -> DrawStats:
    """``d`` in another unit (percentage points -> per 100 or per 1,000 patients)."""
    if k == 1.0:
        return d
    return DrawStats(d.mean * k, d.sd * k, d.median * k, (d.ci95[0] * k, d.ci95[1] * k))
