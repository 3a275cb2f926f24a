"""The thresholds a credible interval is judged against in the minimally contextualised
approach: no effect and the spec's smallest important benefit (and harm of the same size).

Zeng L, Brignardello-Petersen R, Hultcrantz M, et al. (2021). GRADE guidelines 32: GRADE
offers guidance on choosing targets of GRADE certainty of evidence ratings. J Clin
Epidemiol 137:163-175. Zeng L, Brignardello-Petersen R, Hultcrantz M, et al. (2022). GRADE
Guidance 34: update on rating imprecision using a minimally contextualized approach. J Clin
Epidemiol 150:216-224.
"""

from __future__ import annotations

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


def describe(points: tuple[float, ...], unit: str) -> str:
    """``"no effect and a benefit of 5 percentage points"`` for crossed points."""
    words = ["no effect" if p == 0 else
             f"{'a benefit' if p > 0 else 'a harm'} of {amount(abs(p), unit)}" for p in points]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]
