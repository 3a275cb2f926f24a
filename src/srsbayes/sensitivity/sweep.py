"""Prior- and data-sensitivity sweeps: does the clinical conclusion survive other choices?

A sweep computes one outcome under a grid of prior settings (by default heterogeneity
priors from small to large half-normal scales, a half-Cauchy and an empirical prior,
crossed with sceptical, weakly informative and vague effect priors), without each study
in turn, and with the percentage-derived event counts rounded the other ways. Each
setting is one row of a tidy table; the verdict says whether the conclusion
``P(benefit) >= decision_probability`` is the same in the settings that passed the
convergence gate (saying how many did not, and which lie within Monte Carlo error of the
threshold), and names the settings where it flips and their kind. Power-scaling
sensitivity of the default fit is added.

The reference (spec-default) row is a fit. Every row that is the reference model with
other priors, without one study, or with other data of the same parameters is computed
from the reference posterior by Pareto-smoothed importance sampling (Vehtari et al. 2024)
where that is reliable, and refitted where it is not; rows whose model differs are refitted,
beside the reference fit. This module orchestrates; the parts are :mod:`.plan` (the rows and
their routes), :mod:`.importance` and :mod:`.reweight` (PSIS rows), :mod:`.refit` (refits
as tasks of :func:`srsbayes.parallel.map_tasks`, every structure compiled once, its data
swapped in), :mod:`.rows` (the typed :class:`~.rows.SweepRow`), :mod:`.result` (the files),
:mod:`.grid` and :mod:`.verdict` (re-exported here).

References
----------
Spiegelhalter DJ, Abrams KR, Myles JP (2004). Bayesian Approaches to Clinical Trials and
Health-Care Evaluation. Wiley, Section 5.5 (sceptical and enthusiastic priors) and 3.10
(sensitivity analysis).

Vehtari A, Simpson D, Gelman A, Yao Y, Gabry J (2024). Pareto smoothed importance sampling.
JMLR 25(72):1-58.

Kallioinen N, Paananen T, Bürkner P-C, Vehtari A (2024). Detecting and diagnosing prior
and likelihood sensitivity with power-scaling. Stat Comput 34:57.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import xarray as xr

from ..families import get_family
from ..inference.diagnostics import Diagnostics
from ..inference.fitting import (
    DEFAULT_CACHE,
    FitSettings,
    ModelCache,
    bias_tipping,
    sample_gated,
)
from ..inputs.data import StudyTable, outcome_table
from ..inputs.specs import OutcomeSpec
from ..parallel import Backend
from ..provenance import provenance
from .grid import Grid, Setting, default_grid, load_grid, short_label
from .importance import Attempt, psis_decisions, psis_row
from .plan import Job, plan_jobs
from .refit import Counter, Refit, compile_structures, run_refits
from .result import SweepResult, format_table
from .rows import Method, SweepRow, frame, posterior_row, threshold_column
from .variants import psense_report
from .verdict import conclusion_text, verdict

__all__ = ["SWEEP_TARGET_ACCEPT", "Grid", "Setting", "SweepResult", "SweepRow",
           "conclusion_text", "default_grid", "format_table", "load_grid", "run_sweep",
           "short_label", "threshold_column", "verdict"]

SWEEP_TARGET_ACCEPT = 0.95
"""Lowest NUTS target acceptance rate a sweep samples with."""

STRUCTURE_REASON = "the model differs from the reference model (not an importance-sampling problem)"
REFIT_ALL_REASON = "refit_all (--refit-all)"


def _default_workers(settings: FitSettings) -> int:
    cpus = os.cpu_count() or 1
    return max(1, min(cpus, 2)) if settings.cores is None else max(1, cpus // settings.cores)


def _sweep_settings(settings: FitSettings | None, workers: int | None
                    ) -> tuple[FitSettings, int]:
    """The sampler settings every row uses, and the number of rows sampled at once.

    With a handful of studies most settings diverge a few times at target_accept 0.8 and
    the gate reruns them at 0.95; starting at 0.95 saves that rerun (the gate and its one
    retry still apply to every refit)."""
    settings = settings or FitSettings()
    settings = replace(settings, target_accept=max(settings.target_accept, SWEEP_TARGET_ACCEPT))
    workers = workers or _default_workers(settings)
    if settings.cores is None:
        settings = replace(settings, cores=max(1, (os.cpu_count() or 1) // workers))
    return settings, workers


class _Background:
    """Refits started now in a thread of their own (the rows whose model differs, sampled
    while the reference fit samples; the rows PSIS hands back, sampled while the reference
    fit's tipping points are computed), collected by :meth:`result`."""

    def __init__(self, refits: list[Refit], run: Callable[[list[Refit]], dict[int, SweepRow]]
                 ) -> None:
        self._rows: dict[int, SweepRow] = {}
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, args=(refits, run),
                                        name="srsbayes-sweep-refits", daemon=True)
        self._thread.start()

    def _work(self, refits: list[Refit], run: Callable[[list[Refit]], dict[int, SweepRow]]
              ) -> None:
        try:
            self._rows = run(refits)
        except BaseException as exc:  # re-raised in the caller's thread
            self._error = exc

    def join(self) -> None:
        self._thread.join()

    def result(self) -> dict[int, SweepRow]:
        self.join()
        if self._error is not None:
            raise self._error
        return self._rows


def _longest_first(refits: list[Refit], ref: Job) -> list[Refit]:
    """``refits`` in the order they are handed to the workers: rows whose model data
    (overrides aside, :attr:`.plan.Job.share`) differ from the reference's first (they cost
    most: another likelihood to sample, and derived quantities not shared with the
    reference, e.g. the family's baseline model), then the others, each group in table
    order. The rows finish at more even times than in table order, where the costliest came
    last and ran alone; each row's numbers do not depend on the order (every refit has the
    sweep's seed)."""
    key = ref.share
    return sorted(refits, key=lambda r: (r.job.share == key, r.job.index))


def _reference(ref: Job, spec: OutcomeSpec, settings: FitSettings, cache: ModelCache
               ) -> tuple[xr.Dataset, Diagnostics, FitSettings, float]:
    """The reference fit (this process: power-scaling and the reweighting read its draws),
    and the seconds it took."""
    t1 = time.perf_counter()
    idata, diag, used = sample_gated(spec.family, ref.data, ref.priors, settings, cache)
    return idata["posterior"].to_dataset(), diag, used, time.perf_counter() - t1


def _reference_row(ref: Job, spec: OutcomeSpec, post: xr.Dataset, diag: Diagnostics,
                   used: FitSettings, seconds: float) -> SweepRow:
    """The reference fit's row (``seconds``: of the fit; the row's own are added)."""
    t1 = time.perf_counter()
    row = posterior_row(ref.who, spec, ref.priors, ref.data, post, diag, used,
                        method=Method.REFERENCE)
    return replace(row, seconds=seconds + time.perf_counter() - t1)


def _extras(spec: OutcomeSpec, table_wide: Any, ref: Job, post: xr.Dataset, diag: Diagnostics,
            reference: str, do_psense: bool,
            loglik_ref: Callable[[], dict[str, xr.DataArray]] | None = None
            ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The reference fit's bias tolerance and power-scaling sensitivity (``loglik_ref``:
    the reference fit's pointwise log-likelihood, when the caller has it)."""
    tolerance = bias_tipping(spec, table_wide, ref.priors, post) if diag.ok else None
    if not do_psense:
        return tolerance, None
    if not diag.ok:
        return tolerance, {"setting": reference, "flags": [],
                           "skipped": "the default setting failed the convergence gate"}
    log_lik = loglik_ref() if loglik_ref else get_family(spec.family).loglik(post, ref.data)
    ps = psense_report(post, ref.priors, log_lik)
    return tolerance, {**ps, "setting": reference}


def run_sweep(table: StudyTable, spec: OutcomeSpec, grid: Grid | Sequence[Setting] | None = None,
              settings: FitSettings | None = None, cache: ModelCache | None = None, *,
              data_level: bool | None = None, psense: bool | None = None,
              workers: int | None = None,
              progress: Callable[[int, int, dict[str, object]], None] | None = None,
              backend: Backend | None = None, refit_all: bool = False
              ) -> SweepResult:
    """Compute ``spec``'s outcome under every setting of ``grid`` and judge the conclusion.

    The reference (spec-default) row is a fit; a row that changes only priors, leaves one
    study out, or changes the data of the same model is computed from the reference
    posterior by Pareto-smoothed importance sampling (:mod:`.importance`) unless k̂, the
    weights' ESS or the borderline rule call for a refit; a row whose model differs (a bias
    term, another arm coding) is refitted. Every row records ``method``, ``pareto_khat``,
    ``weights_ess`` and ``refit_reason``.

    Parameters
    ----------
    table
        Validated study data (any CSV of the schema).
    spec
        The outcome's spec.
    grid
        Prior settings (a :class:`Grid` or a sequence of :class:`Setting`); the family's
        :func:`default_grid` when None. If no setting has the spec's default priors, one
        is added, as the reference for the verdict and the data-level rows.
    settings
        Sampler settings, shared by every fit (same seed: common random numbers make
        differences between rows reflect the settings, not Monte Carlo noise). The target
        acceptance rate is raised to at least :data:`SWEEP_TARGET_ACCEPT`.
    cache
        Compiled-model cache (the process-wide one by default); each structure is compiled
        once and its data swapped in.
    data_level, psense
        Add leave-one-study-out, rounding and model-variant rows; add power-scaling of the
        default fit. Default: the grid's options (True unless a grid file turns them off).
    workers
        Fits sampled concurrently. Default: one per core, each sampling its chains on one
        core (when ``settings.cores`` is None).
    progress
        Called as ``progress(done, total, row)`` after each row.
    backend
        Where refits run (:func:`srsbayes.parallel.map_tasks`): threads of this process by
        default, or Dask workers (``Backend("local")``, a scheduler's address). The
        reference fit and the reweighting run here; each structure is compiled here first
        (workers load it from the shared disk cache). A failed task is a failed row.
    refit_all
        Refit every row (no importance sampling): the full sweep.

    Returns
    -------
    SweepResult
    """
    t_start = time.perf_counter()
    cache = cache if cache is not None else DEFAULT_CACHE
    if grid is None:
        grid = default_grid(spec)
    elif not isinstance(grid, Grid):
        grid = Grid(tuple(grid), source="api")
    settings, workers = _sweep_settings(settings, workers)
    wide = outcome_table(table, spec)
    settings = settings.resolved(spec.family, len(wide))  # the tuning it records is the one used
    jobs, ref_idx = plan_jobs(spec, wide, grid,
                              grid.data_level if data_level is None else data_level)
    ref = jobs[ref_idx]
    backend = backend or Backend("threads", workers)
    counter = Counter(len(jobs), progress)
    compiled = compile_structures(spec.family, [ref], cache)

    def refits(todo: list[Refit], on: Backend = backend) -> dict[int, SweepRow]:
        return run_refits(todo, spec, settings, cache, on, counter, compiled)

    first = [Refit(j, STRUCTURE_REASON) for j in jobs if j.route == "refit"]
    running: list[_Background] = []
    if first and backend.kind == "threads" and workers > 1:  # beside the reference fit
        running.append(_Background(first, lambda todo: refits(
            todo, Backend("threads", workers - 1))))
        first = []
    phases = {"start": time.perf_counter() - t_start}
    try:
        post, diag, used, ref_seconds = _reference(ref, spec, settings, cache)
        phases["reference"] = time.perf_counter() - t_start
        # the reference fit's pointwise log-likelihood, computed once for the PSIS rows and
        # power-scaling (one evaluation is ~50 ms for count sets)
        loglik_ref = functools.cache(lambda: get_family(spec.family).loglik(post, ref.data))
        if refit_all:
            attempts = {j.index: Attempt(None, reason=REFIT_ALL_REASON) for j in jobs
                        if j.route in ("prior", "loo", "data")}
        else:
            attempts = psis_decisions(jobs, ref, spec, post, diag, used, loglik_ref)
        later = first + [Refit(jobs[i], a.reason, a.khat, a.ess) for i, a in attempts.items()
                         if a.refit]
        # every rule that sends a row to a refit is applied by now: the refits sample while
        # the reference row, the PSIS rows, and the tipping points and power-scaling of the
        # reference fit are computed here
        running.append(_Background(_longest_first(later, ref), refits))
        phases["refits started"] = time.perf_counter() - t_start
        ref_row = _reference_row(ref, spec, post, diag, used, ref_seconds)
        rows = {ref_idx: ref_row}
        counter.tick(ref_row)
        for i, a in attempts.items():
            if not a.refit:
                rows[i] = psis_row(jobs[i], spec, a, diag, used).row
                counter.tick(rows[i])
        phases["psis"] = time.perf_counter() - t_start
        do_psense = grid.psense if psense is None else psense
        tolerance, ps = _extras(spec, wide, ref, post, diag, ref.setting.label, do_psense,
                                loglik_ref)
        phases["tipping and power-scaling"] = time.perf_counter() - t_start
    finally:  # never leave refits running behind an error
        for bg in running:
            bg.join()
    phases["refits"] = time.perf_counter() - t_start
    for bg in running:
        rows.update(bg.result())
    ordered = tuple(rows[j.index] for j in jobs)
    table_rows = frame(ordered)
    prov = _provenance(table, spec, jobs, ordered, settings, workers, backend, grid, compiled,
                       refit_all, time.perf_counter() - t_start)
    prov["seconds"]["finished"] = phases  # when each phase ended, since the start
    reference = ref.setting.label
    return SweepResult(spec, table_rows,
                       verdict(table_rows, spec.decision_probability, reference=reference),
                       ps, prov, reference, tolerance, ordered)


def _provenance(table: StudyTable, spec: OutcomeSpec, jobs: list[Job],
                rows: tuple[SweepRow, ...], settings: FitSettings, workers: int,
                backend: Backend, grid: Grid, compiled: dict, refit_all: bool,
                seconds: float) -> dict[str, Any]:
    """How the sweep was made: data, spec, priors, seed, settings, grid, structures, time."""
    methods: dict[str, int] = {}
    for r in rows:
        methods[str(r.method)] = methods.get(str(r.method), 0) + 1
    return {
        **provenance(table=table, specs=[spec], priors={spec.id: next(j.priors for j in jobs
                                                       if j.route == "reference")},
                     seed=settings.seed,
                     settings={"draws": settings.draws, "tune": settings.tune,
                               "chains": settings.chains,
                               "target_accept": settings.target_accept,
                               "cores": settings.cores, "workers": workers}),
        "backend": backend.label,
        "grid_source": grid.source,
        "grid": [{"setting": j.setting.label, "kind": j.setting.kind,
                  "priors": {s: str(p) for s, p in j.priors.items()},
                  "prior_labels": {s: p.display for s, p in j.priors.items()},
                  "overrides": {s: str(p) for s, p in j.setting.priors.items()},
                  "data": j.variant.key if j.variant else None} for j in jobs],
        "methods": {"refit_all": refit_all, "rows": methods},
        "compiled_structures": [{"family": spec.family, "n_studies": kk,
                                 "structure": dict(st), "compile_seconds": s}
                                for (kk, st), s in sorted(compiled.items())],
        "seconds": {"total": seconds, "per_setting": [float(r.seconds) for r in rows]},
    }
