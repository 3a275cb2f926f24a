"""Fit an outcome: compile once per model structure, swap data and priors, gate, retry once.

A model structure is a likelihood family, a number of studies and, for a family with a
``structure(data)`` hook, the keyword arguments of ``build_model`` that hook derives from
the data (the binomial family's ``count_sets`` and ``pairs``: whether any count set is
wider than one count, and whether none is wider than two); everything else (data, prior
families and hyperparameters) lives in ``pm.Data`` and is swapped into the compiled nutpie
model with ``with_data``, so refits cost a fraction of a second.

References
----------
Hoffman MD, Gelman A (2014). The No-U-Turn sampler. JMLR 15:1593-1623.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
import xarray as xr

from .. import interrupts
from ..errors import InputError
from ..families import FAMILIES, get_family
from ..families.bias_term import bias_scale, bias_terms
from ..inputs.data import StudyTable, outcome_table
from ..inputs.specs import OutcomeSpec
from ..outputs import (
    OutputUnit,
    command_line,
    json_text,
    package_versions,
    write_json,
    write_with,
)
from ..priors.bias import BiasPriors
from ..priors.distributions import Prior, merge_priors, slot_data
from ..priors.heterogeneity import resolve_uisd
from ..values import DEFAULT_SEED, SEED_MAX
from .budget import check_memory
from .derived import derive
from .diagnostics import Diagnostics, check_convergence, loo_by_study, ppc_pvalues
from .exact import with_exact_check
from .parametrisation import centring_data
from .summaries import Estimates, FitSummary, PosteriorChecks, estimates, summarise

PPC_STREAM = 2
"""Random stream ``default_rng([seed, PPC_STREAM])`` of the replicated data."""

_PLACEHOLDER = {"real": Prior("normal", (0.0, 1.0)), "positive": Prior("halfnormal", (1.0,))}


DEFAULT_TUNE = 1000
"""Tuning steps of a family whose ``FamilyInfo`` names no ``tune``."""
FAMILY_TUNE_MAX_K = 100
"""Most studies for which a family's own (shorter) tuning length was measured to suffice."""
RETRY_MIN_TUNE = 1000
"""Fewest tuning steps of a retry. On the 250 bundled fits of ``benchmarks/bench_sweep.py``
every first attempt that failed (1-3 divergent transitions) passed its retry with 600,
1000 or 2000 steps; on four studies of 1500 patients per arm (``tests/integration/test_fit.py``, the
hardest geometry we know) the retry passed for 6/6 seeds and codings with 1000, against
4/6 with 600 and 5/6 with 2000 (one R-hat 1.014) when it keeps the draws (issue 15)."""
RETRY_TARGET_ACCEPT = 0.999
"""Lowest target acceptance of a retry. dat.cannon2006 (four trials of 2,000-5,000 patients
per arm, tau's posterior spanning 0.003-0.4; ``tests/published/test_metadat.py``) diverged after
its retry at 0.99 at 5 of seeds 1-10 (1-2 divergences each) and passed at 0.999 at 10 of
10 (issue 23): no one parametrisation of its study effects suits all of tau's range, and
the smaller step crosses the part that does not suit."""


Adaptation = Literal["diag", "draw_diag", "low_rank"]
"""nutpie's mass-matrix adaptations a fit may ask for (``FitSettings.adaptation``)."""


@dataclass(frozen=True)
class FitSettings:
    """Sampler settings. ``retry()`` is what a fit that failed its gate is rerun with.

    ``tune=None`` (the default) takes the family's tuning length, ``FamilyInfo.tune``
    (:data:`DEFAULT_TUNE` for a family that declares none); an explicit ``tune`` is used
    as given. Per-family lengths were chosen by measurement (issue 15,
    ``benchmarks/bench_scaling.py``): the gate's first-attempt failure rate at 300 tuning
    steps was no higher than at 1000 for the binomial family (LMD: 0/40 seeds on the
    bundled data, 1/120 vs 2/120 data sets simulated from the priors) and for the
    log-normal median family (OS, SBC data sets: 7/320 vs 15/320 over seeds 11 and 12,
    none failing its retry, every uniformity test passed at both; an earlier run had
    4/160 vs 1/160), and for the contrast family (0/160 at both, the exact-posterior check
    included). The family's length applies up to :data:`FAMILY_TUNE_MAX_K` studies:
    at k = 1000 300 steps adapted worse than 1000 (R-hat 1.030 vs 1.007).
    """

    draws: int = 1000
    tune: int | None = None
    chains: int = 4
    seed: int = DEFAULT_SEED
    target_accept: float = 0.95
    cores: int | None = None
    adaptation: Adaptation = "diag"
    """nutpie's mass-matrix adaptation, passed as it is: ``diag`` (the default; the gate's
    numbers in ``docs/performance.md`` were measured with it), ``draw_diag`` or ``low_rank``
    (learns the few correlated directions of the posterior)."""

    def __post_init__(self) -> None:
        # the command line checks these as it parses them (srsbayes.cli.types); the API too
        if isinstance(self.seed, bool) or not isinstance(self.seed, int | np.integer) \
                or not 0 <= self.seed <= SEED_MAX:
            raise InputError(f"a seed must be a whole number from 0 to 2^64 - 1, got "
                             f"{self.seed!r}", column="seed")
        for name in ("draws", "tune", "chains"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, int | np.integer) and value >= 1):
                raise InputError(f"must be a whole number >= 1, got {value!r}", column=name)
        if self.adaptation not in get_args(Adaptation):
            raise InputError(f"must be one of {', '.join(get_args(Adaptation))}, got "
                             f"{self.adaptation!r}", column="adaptation")

    def resolved(self, family: str, k: int) -> FitSettings:
        """These settings with ``tune`` made concrete for ``k`` studies of ``family``."""
        if self.tune is not None:
            return self
        tune = FAMILIES[family].tune
        return replace(self, tune=tune if k <= FAMILY_TUNE_MAX_K else max(tune, DEFAULT_TUNE))

    def retry(self, more_draws: bool = True) -> FitSettings:
        """Safer settings for the one rerun of a fit that failed its gate.

        A smaller step size (target acceptance :data:`RETRY_TARGET_ACCEPT`) and twice the
        tuning (at least :data:`RETRY_MIN_TUNE`) address divergences and poor adaptation.
        A mixing failure (``more_draws``: R-hat or an ESS failed,
        :attr:`Diagnostics.mixing_failed`) is addressed by what it lacked, draws: twice the
        chains, each with twice the draws.
        The ESS grows about linearly with the draws once the chains mix, and R-hat compares
        chains, so more and longer chains both estimate it better and give a chain that
        was slow to leave its start less weight (Vehtari et al. 2021, Bayesian Anal
        16:667); more tuning alone rarely lifts either past the gate. A divergence needs a
        smaller step, not more draws.
        """
        factor = 2 if more_draws else 1
        return replace(self, target_accept=max(self.target_accept, RETRY_TARGET_ACCEPT),
                       tune=max(2 * (self.tune or 0), RETRY_MIN_TUNE),
                       draws=factor * self.draws, chains=factor * self.chains)


Structure = tuple[tuple[str, Any], ...]
"""A model structure's ``build_model`` keyword arguments, as sorted ``(name, value)`` pairs
(hashable, so part of a cache key)."""


def model_structure(family: str, data: dict[str, np.ndarray] | None = None) -> Structure:
    """The structure of ``family``'s model that ``data`` need: the entries of the family's
    ``structure(data)`` (keyword arguments of its ``build_model``) that differ from
    ``build_model``'s defaults. ``()`` is the default structure: for a family without the
    hook, when ``data`` is None, or when the data need the defaults, so that
    ``ModelCache.get(family, k)`` is the model such data are fitted with."""

    fam = get_family(family)
    if data is None:
        return ()
    defaults = inspect.signature(fam.build_model).parameters
    return tuple(sorted((name, value) for name, value in fam.structure(data).items()
                        if value != defaults[name].default))


class ModelCache:
    """Compiled models keyed by (family, number of studies) and, for data that need a
    structure other than the default (:func:`model_structure`), (family, number of
    studies, structure); each compiled once per process.

    Compilation goes through :func:`.compile_cache.compile_model`, so a structure compiled
    by any earlier process of the same user (same graph, same package versions) is loaded
    from disk instead of compiled again.
    """

    def __init__(self, root: Path | str | None = "default") -> None:
        self._compiled: dict[tuple, Any] = {}
        self._root = root
        """Disk cache folder; ``"default"`` reads ``$SRSBAYES_CACHE_DIR``, ``None`` = off."""

    def __len__(self) -> int:
        return len(self._compiled)

    def get(self, family: str, k: int, structure: Structure = ()):
        """The compiled model of ``family`` for ``k`` studies with ``structure`` (``()``:
        ``build_model``'s defaults)."""
        key = (family, k, structure) if structure else (family, k)
        if key not in self._compiled:
            from .compile_cache import compile_structure

            fam = get_family(family)
            placeholders = {s: _PLACEHOLDER[sup] for s, sup in FAMILIES[family].slots.items()}
            description = {"family": family, "module": fam.module_name, "k": k,
                           "structure": repr(structure),
                           "placeholders": {s: repr(p) for s, p in placeholders.items()}}
            # A cache hit by this description never builds the PyMC model (issue 25);
            # nutpie's default (no freezing) keeps pm.Data swappable (checked in tests).
            self._compiled[key] = compile_structure(
                description, fam.source_file,
                lambda: fam.build_model(k, placeholders, **dict(structure)), self._root)
        return self._compiled[key]

    def for_data(self, family: str, data: dict[str, np.ndarray]):
        """The compiled model that ``data`` (a family's ``model_data``) are fitted with."""
        return self.get(family, _n_studies(data), model_structure(family, data))


def _n_studies(data: dict[str, np.ndarray]) -> int:
    """The number of studies of a family's model data (the length of its first vector; a
    scalar entry such as the spec's ``arm_coding`` is not a per-study vector)."""
    return len(next(v for v in data.values() if np.ndim(v)))


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


def model_data(spec: OutcomeSpec, wide: pd.DataFrame) -> dict[str, np.ndarray]:
    """The family's ``pm.Data`` values for ``wide``, with the spec's ``[model]`` choices."""
    data = get_family(spec.family).model_data(wide)
    return {**data, **{k: np.asarray(v) for k, v in spec.model_options.items()}}


def sample_posterior(family: str, data: dict[str, np.ndarray], priors: dict[str, Prior],
                     settings: FitSettings, cache: ModelCache | None = None) -> xr.DataTree:
    """One NUTS run of the compiled model for ``family`` on ``data`` under ``priors``."""
    import nutpie

    k = _n_studies(data)
    settings = settings.resolved(family, k)
    values = dict(data)
    for slot, prior in priors.items():
        values.update(slot_data(slot, prior))
    values.update(centring_data(get_family(family), data, priors))  # per-study geometry
    cache = cache if cache is not None else DEFAULT_CACHE
    compiled = cache.for_data(family, data).with_data(**values)
    interrupts.check()
    interrupts.checkpoint("sampling")
    idata = nutpie.sample(compiled, draws=settings.draws, tune=settings.tune,
                          chains=settings.chains, seed=settings.seed, cores=settings.cores,
                          progress_bar=False, target_accept=settings.target_accept,
                          save_warmup=False, adaptation=settings.adaptation)
    # nutpie answers Ctrl-C by returning the draws so far: never use a partial trace
    interrupts.check()
    if idata["posterior"].sizes.get("draw", 0) < settings.draws:
        raise KeyboardInterrupt("sampling was interrupted")
    return idata


def sample_gated(family: str, data: dict[str, np.ndarray], priors: dict[str, Prior],
                 settings: FitSettings, cache: ModelCache | None = None
                 ) -> tuple[xr.DataTree, Diagnostics, FitSettings]:
    """Sample, apply the convergence gate, and retry once with safer settings if it fails.

    The settings returned are the ones used, with ``tune`` resolved for the family."""
    k = _n_studies(data) if data else 0
    settings = settings.resolved(family, k)
    check_memory(settings.draws, settings.chains, k)  # before any sampling
    fam = get_family(family)
    idata = sample_posterior(family, data, priors, settings, cache)
    # Families with an exact posterior (the normal-normal contrast model) also fail the
    # gate when NUTS disagrees with it beyond Monte Carlo error.
    diag = with_exact_check(check_convergence(idata, fam.DIAGNOSTIC_VARS), fam, idata, data,
                            priors)
    if not diag.ok:
        settings = settings.retry(more_draws=diag.mixing_failed)
        idata = sample_posterior(family, data, priors, settings, cache)
        diag = with_exact_check(check_convergence(idata, fam.DIAGNOSTIC_VARS, attempts=2), fam,
                                idata, data, priors)
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
    estimates: Estimates | None = None
    """The headline numbers; ``None`` when the fit failed its convergence gate."""
    summary: FitSummary = field(default=None)  # type: ignore[assignment]
    """The typed summary (``summary.json`` is :meth:`FitSummary.as_dict`); set by
    :func:`fit_outcome` before the result is returned."""

    @property
    def ok(self) -> bool:
        return self.diagnostics.ok


def _check_baseline(fam: Any, value: float, spec: OutcomeSpec) -> str | None:
    """The family's ``check_stated_baseline``, given the spec when it takes one (a contrast
    outcome's measure decides whether a stated risk applies); a family without absolute
    effects at a stated level refuses every one."""
    return fam.check_stated_baseline(value, spec)


def fit_outcome(table: StudyTable, spec: OutcomeSpec, *,
                priors: dict[str, Prior] | None = None,
                settings: FitSettings | None = None,
                cache: ModelCache | None = None,
                checks: bool = True,
                baselines: Sequence[float] = (),
                bias: BiasPriors | None = None, tipping: bool | None = None,
                wide: pd.DataFrame | None = None) -> FitResult:
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
    baselines
        Stated control-arm levels (postop risks for binary outcomes, postop median months
        for OS) at which absolute effects are also reported.
    bias
        Bias-adjustment priors (:func:`srsbayes.priors.bias.load_bias_priors`): fit with an
        additive bias per study (Turner et al. 2009; Welton et al. 2009), recorded in
        ``summary["bias_adjustment"]``; None: the unadjusted model.
    tipping
        Add the bias tipping points and the reverse-Bayes prior (:func:`bias_tipping`) to
        an unadjusted converged fit's summary; default: as ``checks`` (sweep rows skip it).
    wide
        The outcome's table when the caller has built it already
        (:func:`srsbayes.inputs.data.outcome_table` of ``table`` and ``spec``).

    Returns
    -------
    FitResult
        ``result.summary`` is the :class:`~srsbayes.inference.summaries.FitSummary` written to
        ``summary.json``; ``result.ok`` is the gate.
    """
    settings = settings or FitSettings()
    fam = get_family(spec.family)
    for b in baselines:
        if (why := _check_baseline(fam, b, spec)) is not None:
            raise InputError(why, column="--baseline")
    if wide is None:
        wide = outcome_table(table, spec)
    merged = resolve_priors(spec, wide, priors)
    data = model_data(spec, wide)
    adjustment = None
    if bias is not None:
        terms = bias_terms(spec, wide, bias)
        data = {**data, **terms.overrides()}
        adjustment = {"file": bias.path, "scale": bias_scale(spec),
                      "rules": [r.as_dict() for r in bias.rules if r.name in terms.rules],
                      "studies": terms.as_dict()}
    idata, diag, used = sample_gated(spec.family, data, merged, settings, cache)
    studies = list(wide["study"])
    post = idata["posterior"].to_dataset()
    if "study" in post.dims:  # compiled models are labelled 0..k-1
        post = post.assign_coords(study=studies)
        idata["posterior"] = post
    result = FitResult(spec, merged, wide, idata, diag, used)
    if diag.ok:  # an unconverged fit gets no derived quantity and no estimate
        derived = derive(post, data, merged, spec, used.seed, baselines)
        idata["derived"] = derived
        result.estimates = estimates(spec, post, derived)
    checks_out: PosteriorChecks | None = None
    if checks and diag.ok:  # LOO and PPC describe a posterior: none for an unconverged fit
        obs = fam.observed(data)
        log_lik = fam.loglik(post, data)
        rep = fam.simulate(post, data, np.random.default_rng([used.seed, PPC_STREAM]))
        idata["observed_data"] = xr.Dataset(
            {k: ("study", np.asarray(v)) for k, v in obs.items()}, coords={"study": studies})
        # per-study vectors, and the spec's [model] choices, which are scalars (arm_coding)
        idata["constant_data"] = xr.Dataset(
            {k: (("study",) if np.ndim(v) else (), np.asarray(v)) for k, v in data.items()},
            coords={"study": studies})
        idata["log_likelihood"] = xr.Dataset(log_lik)
        idata["posterior_predictive"] = xr.Dataset(rep)
        checks_out = posterior_checks(obs, rep, post, log_lik)
    summary = summarise(result, data, checks_out, table)
    if adjustment is not None:
        summary = replace(summary, bias_adjustment=adjustment)
    elif (checks if tipping is None else tipping) and diag.ok:
        summary = replace(summary, tipping=bias_tipping(spec, wide, merged, post))
    result.summary = summary
    idata.attrs.update(provenance_attrs(result, table))
    idata.attrs["srsbayes_bias_adjustment"] = json_text(adjustment or {}, indent=None)
    return result


def posterior_checks(obs: dict[str, np.ndarray], rep: dict[str, xr.DataArray],
                     post: xr.Dataset, log_lik: dict[str, xr.DataArray]) -> PosteriorChecks:
    """Posterior-predictive p-values and PSIS-LOO of a converged fit.

    Either can fail on a posterior that passed the gate (PSIS needs a spread of tail
    values: a study with a near-zero standard error, or very few draws, gives "All tail
    values are the same"); the check is then left out and its error reported
    (``summary.json`` → ``ppc.errors``), never raised: the checks describe the fit, they do
    not decide it.
    """
    errors: dict[str, str] = {}
    pvalues, loo = None, None
    try:
        pvalues = ppc_pvalues(obs, rep)
    except (ValueError, ArithmeticError, TypeError, IndexError, RuntimeError) as exc:
        errors["ppc_pvalues"] = _one_line(exc)
    if post.sizes.get("study", 2) < 2:
        loo = {}  # leaving the only study out leaves nothing to predict it from
    else:
        try:
            loo = loo_by_study(post, log_lik)
        except (ValueError, ArithmeticError, TypeError, IndexError, RuntimeError) as exc:
            errors["loo"] = _one_line(exc)
    return PosteriorChecks(pvalues, loo, errors)


def _one_line(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".splitlines())


def bias_tipping(spec: OutcomeSpec, wide: pd.DataFrame, priors: dict[str, Prior],
                 post: xr.Dataset) -> dict[str, Any]:
    """``tipping_points`` and ``reverse_bayes`` of an unadjusted fit
    (:mod:`srsbayes.inference.tipping`): the shared bias, and the sceptical prior, at which
    P(benefit) falls below the decision probability. The SD tipping point is taken at the
    mean of the bundled bias prior of the outcome's studies (0 when none applies)."""
    from ..priors.bias import load_bias_priors
    from .tipping import reverse_bayes, tipping_points

    theta = np.asarray(post["effect"], dtype=float).ravel()
    scale = bias_scale(spec)
    mean = 0.0
    if scale is not None:
        terms = bias_terms(spec, wide, load_bias_priors())
        covered = [spec.sign * m for m, r in zip(terms.mean, terms.rules, strict=True) if r]
        mean = float(np.mean(covered)) if covered else 0.0
    tp = tipping_points(theta, priors["effect"], spec.sign, spec.decision_probability, mean)
    tp["scale"] = scale or "the effect's own scale"
    if scale is None:  # a difference: no ratio of ratios
        tp["mean_ratio"] = tp["sd_at_mean_ratio"] = None
    rb = reverse_bayes(theta, priors["effect"], spec.sign, spec.decision_probability)
    if scale is None:
        rb["sceptical_limit"] = None
    return {"tipping_points": tp, "reverse_bayes": rb}


def write_fit(result: FitResult, out: Path) -> None:
    """Write ``posterior.nc`` and ``summary.json`` into ``out`` as one unit
    (:class:`srsbayes.outputs.OutputUnit`)."""
    # to bytes in memory first: HDF5 writing into a full disk prints pages of errors and
    # can crash the process; Python's own write raises one OSError
    nc = bytes(result.idata.to_netcdf(engine="h5netcdf"))
    with OutputUnit(out, "fit", result.summary.provenance) as unit:
        folder = unit.folder()
        write_with(folder / "posterior.nc", lambda tmp: tmp.write_bytes(nc))
        write_json(folder / "summary.json", result.summary.as_dict())


def provenance_attrs(result: FitResult, table: StudyTable) -> dict[str, str | int]:
    """NetCDF-safe attributes recording how a posterior was made."""
    return {
        "srsbayes_outcome": result.spec.id,
        "srsbayes_family": result.spec.family,
        "srsbayes_data_path": table.path,
        "srsbayes_data_sha256": table.sha256,
        "srsbayes_spec": result.spec.text,
        "srsbayes_priors": json_text({k: str(v) for k, v in result.priors.items()}, indent=None),
        "srsbayes_seed": result.settings.seed,
        "srsbayes_settings": json_text(result.settings.__dict__, indent=None),
        "srsbayes_diagnostics": json_text(result.diagnostics.as_dict(), indent=None),
        "srsbayes_converged": int(result.ok),
        "srsbayes_versions": json_text(package_versions(), indent=None),
        "srsbayes_command": command_line(),
        "srsbayes_provenance": json_text(result.summary.provenance, indent=None),
    }
