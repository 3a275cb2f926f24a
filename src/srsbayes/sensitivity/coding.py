"""Sweep rows for arbitrary modelling choices (e.g. the binomial family's arm coding).

A choice that should not matter, such as which arm carries the baseline prior, gets a row
of its own so that the report shows whether the conclusion moves with it. Each family lists
its choices as ``MODEL_VARIANTS`` (key -> label, kind, detail, model-data overrides).
"""

from __future__ import annotations

import pandas as pd

from ..families import get_family
from .variants import DataVariant


def model_variants(wide: pd.DataFrame, family: str) -> list[DataVariant]:
    """One row per modelling choice the family declares (none if it declares none)."""
    declared = get_family(family).MODEL_VARIANTS
    return [DataVariant(key, label, kind, wide, detail, overrides=dict(overrides))
            for key, (label, kind, detail, overrides) in declared.items()]
