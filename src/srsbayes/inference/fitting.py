"""Fit an outcome: compile once per model structure, swap data and priors, gate, retry once.

A model structure is a likelihood family and a number of studies; everything else
(data, prior families and hyperparameters) lives in ``pm.Data`` and is swapped into the
compiled nutpie model with ``with_data``, so refits cost a fraction of a second.

References
----------
Hoffman MD, Gelman A (2014). The No-U-Turn sampler. JMLR 15:1593-1623.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..families import FAMILIES, get_family
from ..inputs.data import StudyTable, outcome_table
from ..inputs.specs import OutcomeSpec
from ..outputs import command_line, package_versions, write_json, write_with
from ..priors.distributions import Prior, merge_priors, slot_data
from ..priors.heterogeneity import resolve_uisd
from .diagnostics import Diagnostics, check_convergence, loo_by_study, ppc_pvalues

_PLACEHOLDER = {"real": Prior("normal", (0.0, 1.0)), "positive": Prior("halfnormal", (1.0,))}


@dataclass(frozen=True)
class FitSettings:
    """Sampler settings. ``retry()`` is what a fit that failed its gate is rerun with."""

    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    seed: int = 20260226
    target_accept: float = 0.95
    cores: int | None = None

    def retry(self) -> FitSettings:
        return replace(self, target_accept=max(self.target_accept, 0.99),
                       tune=max(2 * self.tune, 2000))


class ModelCache:
    """Compiled models keyed by (family, number of studies); compile each once per process."""

    def __init__(self) -> None:
        self._compiled: dict[tuple[str, int], Any] = {}

    def __len__(self) -> int:
        return len(self._compiled)

    def get(self, family: str, k: int):
        key = (family, k)
        if key not in self._compiled:
            import nutpie

            fam = get_family(family)
            slots = FAMILIES[family].slots
            model = fam.build_model(k, {s: _PLACEHOLDER[sup] for s, sup in slots.items()})
            # Default freezing keeps pm.Data swappable (checked in tests) and compiles faster
            # than freeze_model=False.
            self._compiled[key] = nutpie.compile_pymc_model(model)
        return self._compiled[key]


DEFAULT_CACHE = ModelCache()


def resolve_priors(spec: OutcomeSpec, wide: pd.DataFrame,
                   overrides: dict[str, Prior] | None = None) -> dict[str, Prior]:
    """Spec defaults merged with overrides; data-scaled (``uisd``) priors made concrete."""
    fam = get_family(spec.family)
    merged = merge_priors(spec.priors, overrides or {}, FAMILIES[spec.family].slots)
    if any(p.dist == "uisd" for p in merged.values()):
        u = fam.uisd(wide)
        merged = {k: resolve_uisd(p, u) for k, p in merged.items()}
    return merged


def sample_posterior(family: str, data: dict[str, np.ndarray], priors: dict[str, Prior],
                     settings: FitSettings, cache: ModelCache | None = None) -> xr.DataTree:
    """One NUTS run of the compiled model for ``family`` on ``data`` under ``priors``."""
    import nutpie

    k = len(next(iter(data.values())))
    values = dict(data)
    for slot, prior in priors.items():
        values.update(slot_data(slot, prior))
    compiled = (cache if cache is not None else DEFAULT_CACHE).get(family, k).with_data(**values)
    return nutpie.sample(compiled, draws=settings.draws, tune=settings.tune,
                         chains=settings.chains, seed=settings.seed, cores=settings.cores,
                         progress_bar=False, target_accept=settings.target_accept,
                         save_warmup=False)


def sample_gated(family: str, data: dict[str, np.ndarray], priors: dict[str, Prior],
                 settings: FitSettings, cache: ModelCache | None = None
                 ) -> tuple[xr.DataTree, Diagnostics, FitSettings]:
    """Sample, apply the convergence gate, and retry once with safer settings if it fails."""
    fam = get_family(family)
    idata = sample_posterior(family, data, priors, settings, cache)
    diag = check_convergence(idata, fam.DIAGNOSTIC_VARS)
    if not diag.ok:
        settings = settings.retry()
        idata = sample_posterior(family, data, priors, settings, cache)
        diag = check_convergence(idata, fam.DIAGNOSTIC_VARS, attempts=2)
    return idata, diag, settings


@dataclass
class FitResult:
    """A fitted outcome: the posterior tree, its summary and the gate's verdict."""

    spec: OutcomeSpec
    priors: dict[str, Prior]
    wide: pd.DataFrame
    idata: xr.DataTree
    diagnostics: Diagnostics
    settings: FitSettings
    summary: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.diagnostics.ok


def fit_outcome(table: StudyTable, spec: OutcomeSpec, *,
                priors: dict[str, Prior] | None = None,
                settings: FitSettings | None = None,
                cache: ModelCache | None = None,
                checks: bool = True) -> FitResult:
    """Fit one outcome's random-effects model.

    Parameters
    ----------
    table
        Validated study data.
    spec
        The outcome's spec (family, benefit direction, thresholds, default priors).
    priors
        Overrides merged over the spec's priors by name.
    settings
        Sampler settings (draws, tune, chains, seed).
    cache
        Compiled-model cache to reuse across fits (a process-wide one by default).
    checks
        Add the posterior-predictive, log-likelihood and LOO checks (sweeps skip them).

    Returns
    -------
    FitResult
        ``result.summary`` is the dict written to ``summary.json``; ``result.ok`` is the gate.
    """
    from .summaries import summarise

    settings = settings or FitSettings()
    fam = get_family(spec.family)
    wide = outcome_table(table, spec)
    merged = resolve_priors(spec, wide, priors)
    data = fam.model_data(wide)
    idata, diag, used = sample_gated(spec.family, data, merged, settings, cache)
    studies = list(wide["study"])
    post = idata["posterior"].to_dataset()
    if "study" in post.dims:  # compiled models are labelled 0..k-1
        post = post.assign_coords(study=studies)
        idata["posterior"] = post
    rng = np.random.default_rng([used.seed, 1])
    checks_out: dict[str, Any] = {}
    if checks:
        obs = fam.observed(data)
        log_lik = fam.loglik(post, data)
        rep = fam.simulate(post, data, rng)
        idata["observed_data"] = xr.Dataset(
            {k: ("study", np.asarray(v)) for k, v in obs.items()}, coords={"study": studies})
        idata["constant_data"] = xr.Dataset(
            {k: ("study", np.asarray(v)) for k, v in data.items()}, coords={"study": studies})
        idata["log_likelihood"] = xr.Dataset(log_lik)
        idata["posterior_predictive"] = xr.Dataset(rep)
        checks_out = {"ppc_pvalues": ppc_pvalues(obs, rep), "loo": loo_by_study(post, log_lik)}
    result = FitResult(spec, merged, wide, idata, diag, used)
    result.summary = summarise(result, post, data, rng, checks_out, table)
    idata.attrs.update(provenance_attrs(result, table))
    return result


def write_fit(result: FitResult, out: Path) -> None:
    """Write ``posterior.nc`` and ``summary.json`` into ``out`` (each atomically)."""
    write_with(out / "posterior.nc",
               lambda tmp: result.idata.to_netcdf(tmp, engine="h5netcdf"))
    write_json(out / "summary.json", result.summary)


def provenance_attrs(result: FitResult, table: StudyTable) -> dict[str, str | int]:
    """NetCDF-safe attributes recording how a posterior was made."""
    return {
        "srsbayes_outcome": result.spec.id,
        "srsbayes_family": result.spec.family,
        "srsbayes_data_path": table.path,
        "srsbayes_data_sha256": table.sha256,
        "srsbayes_spec": result.spec.text,
        "srsbayes_priors": json.dumps({k: str(v) for k, v in result.priors.items()}),
        "srsbayes_seed": result.settings.seed,
        "srsbayes_settings": json.dumps(result.settings.__dict__),
        "srsbayes_diagnostics": json.dumps(result.diagnostics.as_dict()),
        "srsbayes_converged": int(result.ok),
        "srsbayes_versions": json.dumps(package_versions()),
        "srsbayes_command": command_line(),
    }
