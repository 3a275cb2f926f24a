"""The thresholds a credible interval is judged against in the minimally contextualised
approach: no effect and the spec's smallest important benefit (and harm of the same size).

Zeng L, Brignardello-Petersen R, Hultcrantz M, et al. (2021). GRADE guidelines 32: GRADE
offers guidance on choosing targets of GRADE certainty of evidence ratings. J Clin
Epidemiol 137:163-175. Zeng L, Brignardello-Petersen R, Hultcrantz M, et al. (2022). GRADE
Guidance 34: update on rating imprecision using a minimally contextualized approach. J Clin
Epidemiol 150:216-224.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..families import FAMILIES
from ..inputs.specs import OutcomeSpec


def absolute_threshold(spec: OutcomeSpec) -> float | None:
    """The spec's first threshold on its family's absolute measure (percentage points,
    months), as a positive size; ``None`` when it has none (or it is 0)."""
    measure = FAMILIES[spec.family].absolute_measure
    for t in spec.thresholds:
        if t.measure == measure and t.threshold != 0:
            return abs(float(t.threshold))
    return None


def marks(threshold: float | None) -> tuple[float, ...]:
    """Important harm, no effect and important benefit on the benefit scale (positive =
    benefit of preop); just no effect without a threshold."""
    return (0.0,) if threshold is None else (-threshold, 0.0, threshold)


def crossed(lo: float, hi: float, points: tuple[float, ...]) -> tuple[float, ...]:
    """The points strictly inside the interval ``(lo, hi)``: the thresholds it crosses."""
    return tuple(p for p in points if lo < p < hi)


def amount(x: float, unit: str) -> str:
    """``"5 percentage points"``, ``"1 month"``."""
    return f"{x:g}{unit[:-1] if x == 1 and unit.endswith('s') else unit}"


@dataclass(frozen=True)
class BenefitScale:
    """How reasons show the benefit scale (positive favours preop) they rate on.

    The absolute benefit (percentage points, months) is shown as it is. Published ratios
    (the contrast family) have no absolute scale: their benefit is ``sign * log ratio``,
    shown as the ratio itself (``ratio`` its abbreviation, e.g. "HR").
    """

    what: str = "absolute benefit"
    unit: str = ""
    ratio: str = ""
    sign: int = 1

    def value(self, x: float) -> str:
        """A size on the benefit scale: ``"5 percentage points"``, ``"HR 0.80"``."""
        if not self.ratio:
            return amount(x, self.unit)
        return f"{self.ratio} {math.exp(self.sign * x):.2f}"

    def signed(self, p: float) -> str:
        """A crossed point: no effect, a benefit of ..., a harm of ..."""
        if p == 0:
            return "no effect"
        if self.ratio:
            return f"{'a benefit' if p > 0 else 'a harm'} of {self.value(p)}"
        return f"{'a benefit' if p > 0 else 'a harm'} of {self.value(abs(p))}"

    def interval(self, lo: float, hi: float) -> str:
        """An interval of the benefit: ``"-1.2 to 8.0 percentage points"``, ``"0.70 to 1.05"``."""
        if not self.ratio:
            return f"{lo:.1f} to {hi:.1f}{self.unit}"
        a, b = sorted(math.exp(self.sign * v) for v in (lo, hi))
        return f"{a:.2f} to {b:.2f}"


def as_scale(unit: str | BenefitScale) -> BenefitScale:
    """A unit suffix (``" months"``) as the absolute-benefit scale it names."""
    return unit if isinstance(unit, BenefitScale) else BenefitScale(unit=unit)


def describe(points: tuple[float, ...], unit: str | BenefitScale) -> str:
    """``"no effect and a benefit of 5 percentage points"`` for crossed points."""
    words = [as_scale(unit).signed(p) for p in points]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]
