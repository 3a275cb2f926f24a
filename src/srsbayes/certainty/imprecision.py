"""Imprecision: does the 95% CrI of the absolute effect cross no effect or the threshold?

The minimally contextualised approach (Zeng et al. 2022, J Clin Epidemiol 150:216) rates
down one level when the interval crosses one threshold (no effect, or the smallest
important benefit or harm) and two when it crosses two or more: the evidence then cannot
say on which side of them the effect lies. Intervals from the posterior replace the
frequentist ones (Guyatt et al. 2011, GRADE 6, J Clin Epidemiol 64:1283).

An interval that crosses nothing is still checked against the **optimal information size**
(OIS; GRADE 6 and Zeng et al. 2022, GRADE 34): the patients a single adequately powered
trial would need (two-sided α 0.05, power 0.80, a relative risk reduction of 25% from the
studies' pooled control risk). A narrow interval from fewer patients — typically a large
effect from few events — is fragile, and is rated down one level. The OIS is computed for
count data only (a continuous or published-ratio outcome has no outcome SD here: said so).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scipy import stats

from .levels import NOT_SERIOUS, SERIOUS, VERY_SERIOUS, Domain, domain

if TYPE_CHECKING:
    from ..outputs import JSONObject
from .thresholds import BenefitScale, as_scale, crossed, describe, marks

NAME = "imprecision"


OIS_RRR, OIS_ALPHA, OIS_POWER = 0.25, 0.05, 0.80


@dataclass(frozen=True)
class InformationSize:
    """The evidence's patients and events against the optimal information size."""

    patients: int
    events: float
    control_risk: float
    required: int
    rrr: float = OIS_RRR

    @property
    def met(self) -> bool:
        return self.patients >= self.required

    def as_dict(self) -> JSONObject:
        return {"patients": self.patients, "events": self.events,
                "control_risk": self.control_risk, "required": self.required,
                "rrr": self.rrr, "alpha": OIS_ALPHA, "power": OIS_POWER, "met": self.met}


def optimal_information_size(control_risk: float, rrr: float = OIS_RRR,
                             alpha: float = OIS_ALPHA, power: float = OIS_POWER) -> int:
    """Patients (both arms, 1:1) a trial needs to detect a relative risk reduction ``rrr``
    from ``control_risk`` (normal approximation for two proportions; GRADE 6)."""
    p0 = control_risk
    p1 = p0 * (1 - rrr)
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    per_arm = z**2 * (p0 * (1 - p0) + p1 * (1 - p1)) / (p0 - p1) ** 2
    return 2 * math.ceil(per_arm)


def information_size(patients: int, events: float, control_risk: float | None
                     ) -> InformationSize | None:
    """The OIS check's numbers; ``None`` when it cannot be computed (no counts, or a
    control risk of 0 or 1)."""
    if control_risk is None or not 0 < control_risk < 1 or not math.isfinite(events):
        return None
    return InformationSize(int(patients), float(events), float(control_risk),
                           optimal_information_size(control_risk))


def rate_imprecision(ci95: tuple[float, float], threshold: float | None,
                     unit: str | BenefitScale, ois: InformationSize | None = None
                     ) -> Domain:
    """Rate imprecision from the 95% CrI of the absolute benefit.

    Parameters
    ----------
    ci95
        Central 95% credible interval of the absolute effect, signed so that positive
        favours preop (percentage points or months).
    threshold
        Smallest important benefit (and harm), positive; ``None``: no effect only.
    unit
        Unit suffix for the reason, e.g. ``" percentage points"``, or the
        :class:`~.thresholds.BenefitScale` (published ratios: shown as the ratio).
    ois
        The optimal-information-size check (:func:`information_size`); ``None``: not
        computable (no event counts), and ``values["information_size"]`` is null.
    """
    scale = as_scale(unit)
    lo, hi = ci95
    hits = crossed(lo, hi, marks(threshold))
    rating = NOT_SERIOUS if not hits else SERIOUS if len(hits) == 1 else VERY_SERIOUS
    shown = f"the 95% CrI of the {scale.what}, {scale.interval(lo, hi)}"
    if not hits:
        side = _side(lo, hi, threshold)
        reason = f"{shown}, lies {side}"
    else:
        reason = f"{shown}, includes {describe(hits, scale)}"
    if ois is not None:  # (None: no event counts; ``information_size`` is then null)
        size = (f"{ois.patients} patients with {ois.events:.0f} events against an optimal "
                f"information size of {ois.required} (relative risk reduction "
                f"{ois.rrr:.0%} from a control risk of {100 * ois.control_risk:.1f}%, "
                f"α {OIS_ALPHA}, power {OIS_POWER:.0%})")
        if ois.met:
            reason += f"; {size}: met"
        elif not hits:
            rating = SERIOUS
            reason += (f", but {size}: not met, so the interval is fragile (a large effect "
                       "from few events; Zeng et al. 2022, GRADE 34)")
        else:
            reason += f"; {size}: not met either (already counted)"
    return domain(NAME, rating, reason, ci95=[lo, hi], threshold=threshold,
                  thresholds_crossed=list(hits),
                  information_size=None if ois is None else ois.as_dict())


def _side(lo: float, hi: float, threshold: float | None) -> str:
    """Where an interval that crosses nothing lies, in words."""
    t = threshold
    if t is not None and lo >= t:
        return "wholly beyond the smallest important benefit"
    if t is not None and hi <= -t:
        return "wholly beyond the smallest important harm"
    if lo >= 0:
        return ("wholly on the side of benefit" if t is None
                else "between no effect and the smallest important benefit (a trivial benefit)")
    return ("wholly on the side of harm" if t is None
            else "between the smallest important harm and no effect (a trivial harm)")
