"""The rows a sweep computes, and how each can be computed.

A sweep row is the reference model (the spec's priors and data) with one thing changed. How
it can be computed follows from what changed (:data:`Route`):

* ``"prior"`` — only priors: Pareto-smoothed importance sampling (PSIS) of the reference
  posterior by the prior ratio;
* ``"loo"`` — one study left out, nothing else: PSIS by ``1 / p(y_i | θ)``;
* ``"data"`` — the same studies and parameters with other data (counts taken as exact,
  rates read as Kaplan-Meier): PSIS by ``p(y' | θ) / p(y | θ)``;
* ``"refit"`` — the model itself changes (a bias term, another arm coding: model-data
  overrides): a NUTS refit of the compiled structure with its data swapped in.

Any PSIS row whose weights are unreliable, or whose conclusion lies within 2 Monte Carlo
SEs of the decision probability, is refitted too (:mod:`srsbayes.sensitivity.sweep`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from ..errors import InputError
from ..inference.fitting import Structure, model_data, model_structure, resolve_priors
from ..inputs.specs import OutcomeSpec
from ..priors.distributions import Prior
from .bias import bias_variants
from .coding import model_variants
from .grid import Grid, Setting
from .rows import Identity
from .variants import DataVariant, leave_one_out, rounding_variants

Route = Literal["reference", "prior", "loo", "data", "refit"]
"""How a row can be computed (see the module docstring)."""


@dataclass(frozen=True)
class Job:
    """One row to compute: its setting, data variant, priors, model data and route."""

    index: int
    setting: Setting
    variant: DataVariant | None
    priors: dict[str, Prior]
    data: dict[str, np.ndarray]
    k: int
    route: Route
    left_out: int | None = None
    """Position of the left-out study in the reference data (route ``loo``)."""

    @property
    def who(self) -> Identity:
        v = self.variant
        return Identity.of(self.setting.label, self.setting.kind,
                           v.label if v else "all studies", v.detail if v else "", self.k,
                           self.priors)

    @property
    def share(self) -> str:
        """A digest of the row's model data without its model overrides: rows with the same
        digest (the reference, and its bias-adjusted and recoded variants) share the
        family's memoised baseline model; a row with another digest (a study left out, other
        counts) computes its own, so its refit costs more (the sweep hands those out first)."""
        digest = hashlib.sha256()
        skip = set(self.variant.overrides) if self.variant else set()
        for name in sorted(set(self.data) - skip):
            value = np.ascontiguousarray(self.data[name])
            digest.update(f"{name}|{value.dtype.str}|{value.shape}|".encode())
            digest.update(value.tobytes())
        return digest.hexdigest()

    def structure(self, family: str) -> tuple[int, Structure]:
        """The compiled structure the row is refitted with (studies, structure)."""
        return self.k, model_structure(family, self.data)


def _route(v: DataVariant, wide: pd.DataFrame) -> Route:
    """A data variant's route: model-data overrides change the model (refit); otherwise the
    same model on fewer studies (one left out) or on other data of the same studies."""
    if v.overrides:
        return "refit"
    if v.left_out is not None and list(v.wide["study"]) == [
            s for s in wide["study"] if s != v.left_out]:
        return "loo"
    if list(v.wide["study"]) == list(wide["study"]):
        return "data"
    return "refit"


def plan_jobs(spec: OutcomeSpec, wide: pd.DataFrame, grid: Grid, data_level: bool
              ) -> tuple[list[Job], int]:
    """The sweep's rows in table order (prior settings, then data-level variants) and the
    index of the reference row. If no grid setting has the spec's default priors, one is
    added first, as the reference for the verdict and the data-level rows.

    Raises
    ------
    InputError
        Two rows with the same label.
    """
    base_priors = resolve_priors(spec, wide)
    prior_settings = list(grid.settings)
    resolved = [resolve_priors(spec, wide, dict(s.priors)) for s in prior_settings]
    ref_idx = next((i for i, p in enumerate(resolved) if p == base_priors), None)
    if ref_idx is None:
        prior_settings.insert(0, Setting("spec default priors", {}))
        resolved.insert(0, base_priors)
        ref_idx = 0
    data, k = model_data(spec, wide), len(wide)
    jobs = [Job(i, s, None, pri, data, k, "reference" if i == ref_idx else "prior")
            for i, (s, pri) in enumerate(zip(prior_settings, resolved, strict=True))]
    variants: list[DataVariant] = []
    if data_level:
        variants = (rounding_variants(wide, spec.family, spec.sign)
                    + model_variants(wide, spec.family) + bias_variants(wide, spec)
                    + leave_one_out(wide))
    for v in variants:
        s = Setting(v.label, {}, kind=v.kind, variant=v.key)
        vdata = {**model_data(spec, v.wide),
                 **{n: np.asarray(x) for n, x in v.overrides.items()}}
        route = _route(v, wide)
        left_out = list(wide["study"]).index(v.left_out) if route == "loo" else None
        jobs.append(Job(len(jobs), s, v, resolved[ref_idx], vdata, len(v.wide), route,
                        left_out))
    labels = [j.setting.label for j in jobs]
    dup = next((x for x in labels if labels.count(x) > 1), None)
    if dup is not None:
        raise InputError(f"duplicate setting label {dup!r} (data-level rows use 'without "
                         "STUDY' and 'counts ...'; rename the grid setting)", column="label")
    return jobs, ref_idx
