"""Constructed fit summaries for the certainty tests."""

from __future__ import annotations

import numpy as np
import xarray as xr

from srsbayes.families import get_family
from srsbayes.inference.summaries import DrawStats


def at_baseline_entry(spec, theta, value: float) -> dict:
    """A ``summary["absolute_at_baseline"]`` entry made as a fit makes it: the family's
    ``absolute_at`` per draw of θ, then :class:`DrawStats`."""
    b = xr.DataArray([value], dims="baseline", coords={"baseline": [value]})
    th = xr.DataArray(np.asarray(theta, float).reshape(1, -1), dims=("chain", "draw"))
    effects = get_family(spec.family).absolute_at(th, b, spec)
    return {"baseline": value,
            **{k: DrawStats.of(v.sel(baseline=value)).as_dict() for k, v in effects.items()}}
