"""The bias-adjusted sweep row: "if these studies are biased as much as meta-epidemiology
suggests" (:mod:`srsbayes.priors.bias`; Turner et al. 2009, Welton et al. 2009).

The row refits the outcome with each study's bias prior switched on (same priors, same
data), so its verdict says whether the conclusion survives the bias that empirical studies
of observational and flawed randomised evidence report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ..families.bias_term import bias_scale, bias_terms
from ..priors.bias import BiasPriors, load_bias_priors
from .variants import DataVariant

if TYPE_CHECKING:
    from ..inputs.specs import OutcomeSpec

KEY = "bias:meta-epidemiology"
LABEL = "bias-adjusted (meta-epidemiology)"
KIND = "bias"


def bias_variants(wide: pd.DataFrame, spec: OutcomeSpec, priors: BiasPriors | None = None
                  ) -> list[DataVariant]:
    """The bias-adjusted row (none when the outcome's scale takes no bias prior or no study
    is covered by a rule)."""
    scale = bias_scale(spec)
    if scale is None:
        return []
    terms = bias_terms(spec, wide, priors or load_bias_priors())
    covered = [r for r in terms.rules if r]
    if not covered:
        return []
    rules = {r: covered.count(r) for r in dict.fromkeys(covered)}
    detail = (f"additive bias favouring preop on the {scale} scale: "
              + "; ".join(f"{n} stud{'y' if n == 1 else 'ies'} by rule {r!r} "
                          f"(mean {terms.mean[terms.rules.index(r)]:+.3f}, "
                          f"SD {terms.sd[terms.rules.index(r)]:.3f})"
                          for r, n in rules.items()))
    return [DataVariant(KEY, LABEL, KIND, wide, detail, overrides=terms.overrides())]
