"""Expected value of perfect and of sample information (EVPI, EVSI) of the decision preop
vs postop SRS, per patient and for a stated population.

The incremental net benefit of preop over postop in one patient is
``INB = w * benefit / 100``: ``benefit`` is the outcome's absolute benefit (percentage
points, or months; positive favours preop), ``w`` its weight in the net-benefit weights
file (:mod:`srsbayes.certainty.weights`: the value of one unit of benefit relative to one
percentage point of LMD), so INB is in *LMD-equivalent events avoided per patient*. The
decision today takes the option with the larger expected net benefit, preop when
``E[INB] > 0``. Then (Ades, Lu & Claxton 2004)::

    EVPI = E_theta[max(INB, 0)] - max(E_theta[INB], 0)
    EVSI = E_y[max(E_theta|y[INB], 0)] - max(E_theta[INB], 0)

with ``E_theta|y`` the preposterior mean after a simulated trial ``y``
(:mod:`.preposterior`). ``0 <= EVSI <= EVPI``, and EVSI grows to EVPI as the trial grows.
For a population of ``N`` patients (``patients_per_year * horizon_months / 12``, given by
the user, undiscounted) both are multiplied by ``N`` (Claxton & Posnett 1996; O'Hagan,
Stevens & Campbell 2005 for assurance beside value).

An outcome the weights file does not weigh (a contrast outcome of a user's own) is valued
on its own benefit scale (weight 1, no division by 100) and the units say so.

References
----------
Ades AE, Lu G, Claxton K (2004). Expected value of sample information calculations in
medical decision modeling. Med Decis Making 24:207-227.

Claxton K, Posnett J (1996). An economic approach to clinical trial design and research
priority-setting. Health Econ 5:513-524.

Strong M, Oakley JE, Brennan A, Breeze P (2015). Estimating the expected value of sample
information using the probabilistic sensitivity analysis sample: a fast, nonparametric
regression-based method. Med Decis Making 35:570-583.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..certainty.weights import NetBenefitSettings
from ..families import FAMILIES
from ..inputs.specs import OutcomeSpec

if TYPE_CHECKING:
    from ..outputs import JSONObject

_POINT_UNITS = {"risk_difference", "months"}
"""Absolute measures the weights file values per unit (a percentage point; a month)."""


@dataclass(frozen=True)
class ValueScale:
    """How the absolute benefit becomes a per-patient net benefit: ``weight * benefit /
    divisor``, in ``units``."""

    weight: float
    divisor: float
    units: str
    note: str

    def inb(self, benefit: np.ndarray) -> np.ndarray:
        return self.weight * np.asarray(benefit, float) / self.divisor


def value_scale(spec: OutcomeSpec, weights: NetBenefitSettings) -> ValueScale:
    """The :class:`ValueScale` of ``spec`` under ``weights``."""
    measure = FAMILIES[spec.family].absolute_measure
    if spec.id in weights.weights and measure in _POINT_UNITS:
        w = weights.weights[spec.id]
        unit = "percentage point" if measure == "risk_difference" else "month"
        return ValueScale(w, 100.0, "LMD-equivalent events avoided per patient",
                          f"weight {w:g} per {unit} of {spec.label} relative to one point of "
                          f"LMD ({weights.path})")
    return ValueScale(1.0, 1.0, f"units of the benefit of {spec.label} per patient "
                      "(sign x effect on the analysis scale)",
                      f"no net-benefit weight for {spec.id!r} in {weights.path}: valued on "
                      "its own scale with weight 1")


def evpi(inb: np.ndarray) -> float:
    """EVPI per patient from draws of the incremental net benefit: the expected loss of
    today's choice, ``E[max(-INB, 0)]`` when it is preop (``E[max(INB, 0)]`` otherwise)."""
    x = np.asarray(inb, float)
    return float(np.maximum(-x, 0).mean() if x.mean() > 0 else np.maximum(x, 0).mean())


@dataclass(frozen=True)
class Value:
    """EVSI and EVPI per patient (with EVSI's Monte Carlo error) and for the population."""

    evsi: float
    evsi_mcse: float
    evpi: float
    expected_inb: float
    decision_today: str
    p_choice_changes: float
    scale: ValueScale
    population: float | None = None

    def as_dict(self) -> JSONObject:
        pop = self.population
        return {"units": self.scale.units, "weighting": self.scale.note,
                "expected_net_benefit_per_patient": self.expected_inb,
                "decision_today": self.decision_today,
                "p_choice_changes": self.p_choice_changes,
                "evsi_per_patient": self.evsi, "evsi_mcse": self.evsi_mcse,
                "evpi_per_patient": self.evpi, "population": pop,
                "evsi_population": None if pop is None else self.evsi * pop,
                "evpi_population": None if pop is None else self.evpi * pop}


def expected_value(scale: ValueScale, benefit: np.ndarray, benefit_after: np.ndarray,
                   population: float | None = None) -> Value:
    """EVSI and EVPI from today's benefit draws and each simulated trial's post-trial mean
    benefit (NaN entries, failed refits, are left out).

    EVSI is estimated as ``mean(max(m_i, 0)) - max(mean(m_i), 0)`` over the post-trial
    means ``m_i``: by the martingale property ``mean(m_i)`` estimates ``E[INB]``, and using
    it instead of today's mean removes the Monte Carlo noise of the difference between the
    two (the estimate is then never negative; Strong, Oakley, Brennan & Breeze 2015, Med
    Decis Making 35:570). Its Monte Carlo error is that of the mean of
    ``max(-m_i, 0)`` (or ``max(m_i, 0)`` when the choice today is postop).
    """
    inb = scale.inb(benefit)
    after = scale.inb(benefit_after[np.isfinite(benefit_after)])
    today = float(inb.mean())
    loss = np.maximum(-after, 0.0) if after.mean() > 0 else np.maximum(after, 0.0)
    evsi = float(loss.mean())
    mcse = float(loss.std(ddof=1) / math.sqrt(after.size)) if after.size > 1 else math.nan
    changes = float(((after > 0) != (today > 0)).mean())
    choice = ("none: the outcome has weight 0" if scale.weight == 0
              else "preop" if today > 0 else "postop")
    return Value(evsi, mcse, evpi(inb), today, choice, changes, scale, population)
