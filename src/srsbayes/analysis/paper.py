"""The source paper's pooled values and claims against the posterior (numbers only;
:mod:`srsbayes.report.sections.paper` words them).

References
----------
Kruschke JK (2018). Rejecting or accepting parameter values in Bayesian estimation.
Adv Methods Pract Psychol Sci 1:270-280.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from ..audit import Claim, PooledRow
from ..families import get_family
from .outcome import equivalence, interval
from .results import ClaimAnswer, PooledComparison

if TYPE_CHECKING:
    from ..inference.summaries import FitSummary
    from ..inputs.specs import OutcomeSpec

_REDUCTION = re.compile(r"relative_reduction_(\d+(?:\.\d+)?)$")

"""How the paper's pooled values are written, by the family's audit column."""


def compare_pooled(spec: OutcomeSpec, summary: FitSummary, pooled: list[PooledRow]
                   ) -> list[PooledComparison]:
    """The paper's pooled value per arm next to the model's pooled absolute value (the
    family's absolute level of that arm)."""
    out = []
    fam = get_family(spec.family)
    absolute = summary.estimates.absolute if summary.estimates is not None else {}
    for row in pooled:
        if row.outcome != spec.id:
            continue
        key, unit = fam.pooled_absolute(row.measure)  # the family knows its columns
        key = key.format(arm=row.arm)
        ours = absolute.get(key) if key else None
        out.append(PooledComparison(row.arm, float(row.value), f"{float(row.value):g}{unit}",
                                    None if ours is None else ours.as_dict(), unit,
                                    row.measure, row.n, row.source))
    return out


def compare_claims(spec: OutcomeSpec, prob_benefit: float, draws: dict[str, np.ndarray],
                   claims: list[Claim]) -> list[ClaimAnswer]:
    """Each of the paper's claims about this outcome, with what the posterior says.

    ``relative_reduction_NN``: the posterior relative risk reduction ``1 - RR`` and
    P(RRR >= NN%). ``*significant*``: P(benefit) and the credible interval (the posterior
    has no notion of significance). ``comparable`` / ``similar`` / ``no_difference``:
    P(difference within the clinical threshold). Other claims: P(benefit)
    (``prob_benefit``, the fit's).
    """
    out = []
    p = prob_benefit
    for c in claims:
        if c.outcome != spec.id:
            continue
        claim = c.claim
        m = _REDUCTION.match(claim)
        if m and "relative_risk" in draws:
            target = float(m.group(1)) / 100
            rrr = 1 - draws["relative_risk"]
            answer = ClaimAnswer(claim, c.quote, c.source, p, "reduction", target=target,
                                 rrr=interval(rrr),
                                 prob_at_least=float((rrr >= target).mean()))
        elif any(w in claim for w in ("comparable", "similar", "no_difference")):
            answer = ClaimAnswer(claim, c.quote, c.source, p, "equivalence",
                                 equivalence=equivalence(spec, draws))
        elif "significant" in claim:
            answer = ClaimAnswer(claim, c.quote, c.source, p, "significance")
        else:
            answer = ClaimAnswer(claim, c.quote, c.source, p, "direction")
        out.append(answer)
    return out
