"""The bias-adjusted sweep rows: "if these studies shared a bias of the size
meta-epidemiology suggests" (:mod:`srsbayes.priors.bias`; Welton et al. 2009).

Each row refits the outcome with the bias priors switched on (same priors, same data): the
default family (Schwingshackl et al. 2021's pooled ratio, taken to favour preop: indirect
evidence from nutrition research) and the wider family (the same source's prediction
interval, either direction). Their verdicts say whether the conclusion survives a bias of
that size shared by the studies.
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
LABEL = "bias-adjusted (shared bias, Schwingshackl 2021 mean)"
KIND = "bias"
WIDE_KEY = "bias:wide"
WIDE_LABEL = "bias-adjusted (shared bias, either direction, wider)"


def bias_variants(wide: pd.DataFrame, spec: OutcomeSpec, priors: BiasPriors | None = None
                  ) -> list[DataVariant]:
    """The bias-adjusted rows (none when the outcome's scale takes no bias prior or no study
    is covered by a rule): the given priors (bundled by default), and with the bundled
    priors also the wider family (:data:`srsbayes.priors.bias.WIDE_BIAS_PRIORS`)."""
    if bias_scale(spec) is None:
        return []
    if priors is not None:
        return _row(wide, spec, priors, KEY, LABEL)
    return (_row(wide, spec, load_bias_priors(), KEY, LABEL)
            + _row(wide, spec, load_bias_priors("wide"), WIDE_KEY, WIDE_LABEL))


def _row(wide: pd.DataFrame, spec: OutcomeSpec, priors: BiasPriors, key: str, label: str
         ) -> list[DataVariant]:
    scale = bias_scale(spec)
    terms = bias_terms(spec, wide, priors)
    covered = [r for r in terms.rules if r]
    if not covered:
        return []
    rules = {r: covered.count(r) for r in dict.fromkeys(covered)}
    detail = (f"bias shared by the studies (Welton et al. 2009) on the {scale} scale, "
              "positive favouring preop: "
              + "; ".join(f"{n} stud{'y' if n == 1 else 'ies'} by rule {r!r} "
                          f"(mean {spec.sign * terms.mean[terms.rules.index(r)]:+.3f}, "
                          f"shared SD {terms.shared[terms.rules.index(r)]:.3f}, "
                          f"own SD {terms.sd[terms.rules.index(r)]:.3f})"
                          for r, n in rules.items()))
    return [DataVariant(key, label, KIND, wide, detail, overrides=terms.overrides())]
