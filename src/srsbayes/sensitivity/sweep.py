"""Prior- and data-sensitivity sweeps: does the clinical conclusion survive other choices?

A sweep refits one outcome under a grid of prior settings (by default heterogeneity
priors from small to large half-normal scales, a half-Cauchy and an empirical prior,
crossed with sceptical, weakly informative and vague effect priors), without each study
in turn, and with the percentage-derived event counts rounded the other ways. Each
setting is one row of a tidy table; the verdict says whether the conclusion
``P(benefit) >= decision_probability`` is the same in the settings that passed the
convergence gate (saying how many did not, and which lie within Monte Carlo error of the
threshold), and names the settings where it flips and their kind. Power-scaling
sensitivity of the default fit is added.

This module runs the rows and writes the results; the grids are in
:mod:`srsbayes.sensitivity.grid`, the verdict in :mod:`srsbayes.sensitivity.verdict` (both
re-exported here).

Every model structure (family × number of studies) is compiled once: priors and data
are ``pm.Data`` swapped into the compiled model (see :mod:`srsbayes.inference.fitting`). The
k − 1 structure for leave-one-out is compiled in a background thread while the k-study
settings sample (nutpie samples without holding the GIL), and settings run in parallel
threads, one chain-thread each.

References
----------
Spiegelhalter DJ, Abrams KR, Myles JP (2004). Bayesian Approaches to Clinical Trials and
Health-Care Evaluation. Wiley, Section 5.5 (sceptical and enthusiastic priors) and 3.10
(sensitivity analysis).

Kallioinen N, Paananen T, Bürkner P-C, Vehtari A (2024). Detecting and diagnosing prior
and likelihood sensitivity with power-scaling. Stat Comput 34:57.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import InputError
from ..families import get_family, measure_info
from ..inference.derived import derive
from ..inference.fitting import (
    DEFAULT_CACHE,
    FitSettings,
    ModelCache,
    Structure,
    bias_tipping,
    model_data,
    model_structure,
    resolve_priors,
    sample_gated,
)
from ..inference.summaries import estimates
from ..inputs.data import StudyTable, outcome_table
from ..inputs.question import Question
from ..inputs.specs import OutcomeSpec
from ..outputs import OutputUnit, csv_text, write_json, write_text, write_with
from ..parallel import Backend, TaskResult, map_tasks
from ..priors.distributions import Prior
from ..provenance import provenance
from .bias import bias_variants
from .coding import model_variants
from .grid import Grid, Setting, default_grid, load_grid, short_label
from .reweight import reweight as reweight_posterior
from .reweight import summary as rw_summary
from .variants import DataVariant, leave_one_out, psense_report, rounding_variants
from .verdict import BORDERLINE_MCSE, conclusion_text, indicator_mcse, verdict

__all__ = ["SWEEP_TARGET_ACCEPT", "Grid", "Setting", "SweepResult", "conclusion_text",
           "default_grid", "format_table", "load_grid", "run_sweep", "short_label",
           "threshold_column", "verdict"]


# -- running ---------------------------------------------------------------------------------


def threshold_column(measure: str, threshold: float) -> str:
    """Column name of a threshold probability, e.g. ``p_risk_difference_5``."""
    return f"p_{measure}_{threshold:g}"


def _row(setting: Setting, variant: DataVariant | None, spec: OutcomeSpec,
         priors: dict[str, Prior], data: dict[str, np.ndarray], idata: xr.DataTree, diag,
         used: FitSettings, n_studies: int) -> dict[str, Any]:
    """One table row; effect numbers are left empty when the gate failed."""
    row: dict[str, Any] = {
        "setting": setting.label,
        "kind": setting.kind,
        "data": variant.label if variant else "all studies",
        "data_detail": variant.detail if variant else "",
        "n_studies": n_studies,
        "effect_prior": str(priors["effect"]),
        "effect_prior_label": priors["effect"].display,
        "tau_prior": str(priors["tau"]),
        "tau_prior_label": priors["tau"].display,
        "other_priors": "; ".join(f"{k}={v}" for k, v in priors.items()
                                  if k not in ("effect", "tau")),
    }
    post = idata["posterior"].to_dataset()
    stats: dict[str, Any] = {
        "effect_median": math.nan, "effect_lo": math.nan, "effect_hi": math.nan,
        "tau_median": math.nan, "tau_lo": math.nan, "tau_hi": math.nan,
        "prob_benefit": math.nan, "prob_benefit_mcse": math.nan,
        "prob_benefit_new_study": math.nan,
    }
    for t in spec.thresholds:
        stats[threshold_column(t.measure, t.threshold)] = math.nan
    if diag.ok:
        # The same functions as fit_outcome, on the same draws: the default row equals
        # `fit`'s summary exactly.
        est = estimates(spec, post, derive(post, data, priors, spec, used.seed))
        # The effect on the scale it is shown (a ratio, or a difference as it is): the
        # quantiles are order statistics, so exp of θ's equals the ratio's exactly.
        shown = measure_info(spec.family, spec.measure).shown
        (lo, hi), med = est.log_effect.ci95, est.log_effect.median
        lo, med, hi = (float(shown(v)) for v in (lo, med, hi))
        stats.update({
            "effect_median": med, "effect_lo": lo, "effect_hi": hi,
            "tau_median": est.tau.median, "tau_lo": est.tau.ci95[0], "tau_hi": est.tau.ci95[1],
            "prob_benefit": est.prob_benefit,
            # The verdict calls a row borderline within 2 MCSE of the decision probability.
            "prob_benefit_mcse": indicator_mcse(spec.sign * post["effect"] > 0),
            "prob_benefit_new_study": est.prob_benefit_new_study,
        })
        for t in est.thresholds:
            stats[threshold_column(t.measure, t.threshold)] = t.probability
    row.update(stats)
    p = stats["prob_benefit"]
    row.update({
        "meets_decision": (None if not diag.ok else bool(p >= spec.decision_probability)),
        "conclusion": conclusion_text(None if not diag.ok else p, spec.decision_probability,
                                      stats["prob_benefit_mcse"]),
        "ok": diag.ok,
        "failures": "; ".join(diag.failures),
        "attempts": diag.attempts,
        "rhat_max": diag.rhat_max,
        "ess_bulk_min": diag.ess_bulk_min,
        "ess_tail_min": diag.ess_tail_min,
        "divergences": diag.divergences,
        "bfmi_min": diag.bfmi_min,
    })
    return row


@dataclass
class SweepResult:
    """A finished sweep: the table, the verdict, power-scaling and provenance."""

    spec: OutcomeSpec
    rows: pd.DataFrame
    verdict: dict[str, Any]
    psense: dict[str, Any] | None
    provenance: dict[str, Any]
    reference: str
    tolerance: dict[str, Any] | None = None
    """The reference fit's ``tipping_points`` and ``reverse_bayes``
    (:func:`srsbayes.inference.fitting.bias_tipping`: the same draws as ``fit``'s)."""

    def as_dict(self) -> dict[str, Any]:
        """The content of ``sweep.json``."""
        return {
            "outcome": self.spec.id, "label": self.spec.label, "family": self.spec.family,
            "measure": measure_info(self.spec.family, self.spec.measure).measure,
            "benefit": self.spec.benefit,
            "decision_probability": self.spec.decision_probability,
            "reference_setting": self.reference,
            "verdict": self.verdict,
            "psense": self.psense,
            **(self.tolerance or {}),
            "rows": [{k: _jsonable(v) for k, v in r.items()}
                     for r in self.rows.to_dict("records")],
            "provenance": self.provenance,
        }

    def figure(self, question: Question | None = None):
        """The two-panel matplotlib figure (P(benefit) and the effect per setting), its
        arms worded as in ``question`` (default: the bundled one)."""
        from ..plots.sweep import sweep_figure

        return sweep_figure(self.rows, self.spec, self.verdict, reference=self.reference,
                            question=question)

    def figure_png(self, dpi: int = 150, question: Question | None = None) -> bytes:
        """The figure as PNG bytes."""
        from ..plots.sweep import figure_png

        return figure_png(self.figure(question), dpi=dpi)

    def write(self, out: str | Path, question: Question | None = None) -> dict[str, Path]:
        """Write ``sweep.csv``, ``sweep.json`` and ``sweep.png`` into ``out`` as one unit
        (:class:`srsbayes.outputs.OutputUnit`); returns where they are."""
        out = Path(out)
        png = self.figure_png(question=question)  # drawn before anything is written
        with OutputUnit(out, "sweep", self.provenance) as unit:
            folder = unit.folder()
            write_text(folder / "sweep.csv", csv_text(self.rows))  # formula-like text neutralised
            write_json(folder / "sweep.json", self.as_dict())
            write_with(folder / "sweep.png", lambda tmp: tmp.write_bytes(png))
        return {"csv": out / "sweep.csv", "json": out / "sweep.json", "png": out / "sweep.png"}


def _jsonable(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return None
    if v is pd.NA or v is None:
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


@dataclass
class _Job:
    index: int
    setting: Setting
    variant: DataVariant | None
    priors: dict[str, Prior]
    data: dict[str, np.ndarray]
    k: int
    note: dict[str, Any] | None = None
    """How a prior row was made when reweighting was tried (``method``, k̂, ESS)."""


SWEEP_TARGET_ACCEPT = 0.95
"""Lowest NUTS target acceptance rate a sweep samples with."""


def _reweight_rows(jobs: list[_Job], ref_idx: int, spec: OutcomeSpec,
                   ref_fit: tuple[xr.DataTree, Any, FitSettings],
                   results: list[dict[str, Any] | None]) -> None:
    """Fill ``results`` for the prior settings that PSIS of the reference posterior gives
    reliably (:func:`.reweight.reweight`); the others stay None, to be refitted. Every
    prior row records ``method``, ``pareto_khat`` and ``weights_ess``."""
    idata, diag, used = ref_fit
    ref = jobs[ref_idx]
    results[ref_idx] = {**results[ref_idx], "method": "reference", "pareto_khat": math.nan,
                        "weights_ess": math.nan}
    if not diag.ok:
        return
    post = idata["posterior"].to_dataset()
    benefit = (spec.sign * post["effect"] > 0).transpose("chain", "draw").values
    for j in jobs:
        if j.index == ref_idx or j.variant is not None or j.k != ref.k:
            continue
        rw = reweight_posterior(post, ref.priors, j.priors, used.seed)
        if not rw.usable:
            results[j.index] = None
            j.note = rw_summary(rw)
            continue
        tree = xr.DataTree.from_dict({"posterior": rw.posterior})
        row = _row(j.setting, None, spec, j.priors, j.data, tree, diag, used, j.k)
        mcse = rw.indicator_mcse(benefit)
        row["prob_benefit_mcse"] = mcse
        row["conclusion"] = conclusion_text(row["prob_benefit"], spec.decision_probability,
                                            mcse)
        row["seconds"] = 0.0
        results[j.index] = {**row, **rw_summary(rw)}


def _sweep_task(spec: OutcomeSpec, setting: Setting, variant: DataVariant | None,
                priors: dict[str, Prior], data: dict[str, np.ndarray], settings: FitSettings,
                k: int) -> dict[str, Any]:
    """One setting's row, computed where :func:`srsbayes.parallel.map_tasks` runs it (a Dask
    worker process: the process-wide compile cache loads the structure from disk)."""
    t1 = time.perf_counter()
    idata, diag, used = sample_gated(spec.family, data, priors, settings, DEFAULT_CACHE)
    row = _row(setting, variant, spec, priors, data, idata, diag, used, k)
    row["seconds"] = time.perf_counter() - t1
    return row


def _failed_row(job: _Job, spec: OutcomeSpec, error: str) -> dict[str, Any]:
    """The row of a setting whose task failed (an exception, a worker that died): no
    estimate, ``ok`` False, the error in ``failures``."""
    row: dict[str, Any] = {
        "setting": job.setting.label, "kind": job.setting.kind,
        "data": job.variant.label if job.variant else "all studies",
        "data_detail": job.variant.detail if job.variant else "", "n_studies": job.k,
        "effect_prior": str(job.priors["effect"]),
        "effect_prior_label": job.priors["effect"].display,
        "tau_prior": str(job.priors["tau"]), "tau_prior_label": job.priors["tau"].display,
        "other_priors": "; ".join(f"{k}={v}" for k, v in job.priors.items()
                                  if k not in ("effect", "tau")),
    }
    for col in ("effect_median", "effect_lo", "effect_hi", "tau_median", "tau_lo", "tau_hi",
                "prob_benefit", "prob_benefit_mcse", "prob_benefit_new_study"):
        row[col] = math.nan
    for t in spec.thresholds:
        row[threshold_column(t.measure, t.threshold)] = math.nan
    row.update({"meets_decision": None,
                "conclusion": conclusion_text(None, spec.decision_probability, math.nan),
                "ok": False, "failures": error, "attempts": 0, "rhat_max": math.nan,
                "ess_bulk_min": math.nan, "ess_tail_min": math.nan, "divergences": 0,
                "bfmi_min": math.nan, "seconds": math.nan})
    return row


def _default_workers(settings: FitSettings) -> int:
    cpus = os.cpu_count() or 1
    return max(1, min(cpus, 2)) if settings.cores is None else max(1, cpus // settings.cores)


def run_sweep(table: StudyTable, spec: OutcomeSpec, grid: Grid | Sequence[Setting] | None = None,
              settings: FitSettings | None = None, cache: ModelCache | None = None, *,
              data_level: bool | None = None, psense: bool | None = None,
              workers: int | None = None,
              progress: Callable[[int, int, dict[str, Any]], None] | None = None,
              backend: Backend | None = None, reweight: bool = False
              ) -> SweepResult:
    """Refit ``spec``'s outcome under every setting of ``grid`` and judge the conclusion.

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
        Sampler settings, shared by every setting (same seed: common random numbers make
        differences between rows reflect the settings, not Monte Carlo noise). The target
        acceptance rate is raised to at least :data:`SWEEP_TARGET_ACCEPT`.
    cache
        Compiled-model cache (the process-wide one by default). A sweep compiles the
        ``k``-study structure and, for leave-one-out, the ``k - 1`` one.
    data_level, psense
        Add leave-one-study-out and rounding rows; add power-scaling of the default fit.
        Default: the grid's options (True unless a grid file turns them off).
    workers
        Settings sampled concurrently (threads). Default: one per core, each sampling its
        chains on one core (when ``settings.cores`` is None).
    progress
        Called as ``progress(done, total, row)`` after each setting.
    backend
        Where the settings run (:mod:`srsbayes.parallel`): threads of this process by
        default, or Dask workers (``Backend("local")``, a scheduler's address). On Dask
        every structure is compiled here first (the workers then load it from the shared
        disk cache), the reference setting runs here (power-scaling reads its draws), each
        worker samples its chains on one core, and a setting whose task fails is a failed
        row. The table is the same on every backend.
    reweight
        Compute prior settings from the reference posterior by Pareto-smoothed importance
        sampling where that is reliable (:mod:`srsbayes.sensitivity.reweight`: k̂ <= 0.7 and
        a weights' ESS of at least 400), refitting the others; rows gain ``method``,
        ``pareto_khat`` and ``weights_ess``, and a reweighted row's ``prob_benefit_mcse``
        carries the importance-sampling error into the borderline rule.

    Returns
    -------
    SweepResult
    """
    t_start = time.perf_counter()
    settings = settings or FitSettings()
    cache = cache if cache is not None else DEFAULT_CACHE
    if grid is None:
        grid = default_grid(spec)
    elif not isinstance(grid, Grid):
        grid = Grid(tuple(grid), source="api")
    data_level = grid.data_level if data_level is None else data_level
    do_psense = grid.psense if psense is None else psense
    # With a handful of studies most settings diverge a few times at target_accept 0.8 and
    # the gate reruns them at 0.95; starting at 0.95 saves that rerun (the gate and its
    # one retry still apply to every setting).
    settings = replace(settings, target_accept=max(settings.target_accept, SWEEP_TARGET_ACCEPT))
    workers = workers or _default_workers(settings)
    if settings.cores is None:
        settings = replace(settings, cores=max(1, (os.cpu_count() or 1) // workers))
    fam = get_family(spec.family)
    wide = outcome_table(table, spec)
    k = len(wide)
    settings = settings.resolved(spec.family, k)  # the tuning length it records is the one used
    base_priors = resolve_priors(spec, wide)

    prior_settings = list(grid.settings)
    resolved = [resolve_priors(spec, wide, dict(s.priors)) for s in prior_settings]
    ref_idx = next((i for i, p in enumerate(resolved) if p == base_priors), None)
    if ref_idx is None:
        prior_settings.insert(0, Setting("spec default priors", {}))
        resolved.insert(0, base_priors)
        ref_idx = 0
    reference = prior_settings[ref_idx].label

    variants: list[DataVariant] = []
    if data_level:
        variants = (rounding_variants(wide, spec.family, spec.sign)
                    + model_variants(wide, spec.family) + bias_variants(wide, spec)
                    + leave_one_out(wide))
    ref_label_priors = resolved[ref_idx]
    jobs: list[_Job] = []
    for s, pri in zip(prior_settings, resolved, strict=True):
        jobs.append(_Job(len(jobs), s, None, pri, model_data(spec, wide), k))
    for v in variants:
        s = Setting(v.label, {}, kind=v.kind, variant=v.key)
        data = {**model_data(spec, v.wide), **{n: np.asarray(x) for n, x in v.overrides.items()}}
        jobs.append(_Job(len(jobs), s, v, ref_label_priors, data, len(v.wide)))
    labels = [j.setting.label for j in jobs]
    dup = next((x for x in labels if labels.count(x) > 1), None)
    if dup is not None:
        raise InputError(f"duplicate setting label {dup!r} (data-level rows use 'without "
                         "STUDY' and 'counts ...'; rename the grid setting)", column="label")

    # Compile the reference structure now and every other one (k - 1 studies for
    # leave-one-out; the exact-count likelihood for "nearest counts") in the background
    # while the reference settings sample.
    def key(job: _Job) -> tuple[int, Structure]:
        return job.k, model_structure(spec.family, job.data)

    first = key(jobs[ref_idx])
    t0 = time.perf_counter()
    cache.get(spec.family, *first)
    compile_s = {first: time.perf_counter() - t0}
    pending: dict[tuple[int, Structure], Future] = {}
    others = sorted({key(j) for j in jobs} - {first})
    lock = threading.Lock()

    def compile_rest() -> None:
        for kk in others:
            t1 = time.perf_counter()
            cache.get(spec.family, *kk)
            with lock:
                compile_s[kk] = time.perf_counter() - t1

    bg = None
    if others:
        bg = ThreadPoolExecutor(1, thread_name_prefix="srsbayes-compile")
        fut = bg.submit(compile_rest)
        pending = dict.fromkeys(others, fut)

    results: list[dict[str, Any] | None] = [None] * len(jobs)
    fits: dict[int, tuple[xr.DataTree, Any]] = {}
    done = [0]

    def run(job: _Job) -> None:
        if key(job) in pending:
            pending[key(job)].result()  # wait for (and re-raise errors of) the compile
        t1 = time.perf_counter()
        idata, diag, used = sample_gated(spec.family, job.data, job.priors, settings, cache)
        row = _row(job.setting, job.variant, spec, job.priors, job.data, idata, diag, used,
                   job.k)
        row.update(job.note or {})
        row["seconds"] = time.perf_counter() - t1
        results[job.index] = row
        if job.index == ref_idx:
            fits[job.index] = (idata, diag, used)
        with lock:
            done[0] += 1
            if progress:
                progress(done[0], len(jobs), row)

    order = sorted(jobs, key=lambda j: (j.k != k, j.index))
    if reweight:
        run(jobs[ref_idx])
        _reweight_rows(jobs, ref_idx, spec, fits[ref_idx], results)
        for j in jobs:
            if results[j.index] is not None and j.index != ref_idx:
                with lock:
                    done[0] += 1
                    if progress:
                        progress(done[0], len(jobs), results[j.index])
        order = [j for j in order if results[j.index] is None]
    try:
        if backend is not None and backend.kind != "threads":
            if bg is not None:
                fut.result()  # workers load every structure from the disk cache
            if results[ref_idx] is None:
                run(jobs[ref_idx])
            rest = [j for j in order if j.index != ref_idx]
            tasks = [(j.setting.label, (spec, j.setting, j.variant, j.priors, j.data,
                                        replace(settings, cores=1), j.k)) for j in rest]

            def finished(n: int, total: int, res: TaskResult) -> None:
                if progress:
                    progress(done[0] + n, len(jobs), res.value if res.ok else {})

            for j, res in zip(rest, map_tasks(_sweep_task, tasks, backend=backend,
                                              progress=finished), strict=True):
                results[j.index] = {**(res.value if res.ok else
                                       _failed_row(j, spec, f"task failed: {res.error}")),
                                    **(j.note or {})}
        elif workers == 1:
            for job in order:
                run(job)
        else:
            with ThreadPoolExecutor(workers, thread_name_prefix="srsbayes-sweep") as ex:
                for f in [ex.submit(run, j) for j in order]:
                    f.result()
    finally:
        if bg is not None:
            bg.shutdown(wait=True)

    rows = pd.DataFrame([r for r in results if r is not None])
    if reweight:  # refitted rows say so too
        rows["method"] = rows["method"].fillna("refit")
    seconds = rows.pop("seconds")
    ver = verdict(rows, spec.decision_probability, reference=reference)

    tolerance = None
    if ref_idx in fits and fits[ref_idx][1].ok:  # how much bias, how sceptical a prior
        post = fits[ref_idx][0]["posterior"].to_dataset()
        tolerance = bias_tipping(spec, wide, ref_label_priors, post)

    ps = None
    if do_psense:
        idata, diag, _ = fits[ref_idx]
        if diag.ok:
            post = idata["posterior"].to_dataset()
            data = model_data(spec, wide)
            ps = psense_report(post, ref_label_priors, fam.loglik(post, data))
            ps["setting"] = reference
        else:
            ps = {"setting": reference, "flags": [], "skipped":
                  "the default setting failed the convergence gate"}

    prov = {
        **provenance(table=table, specs=[spec], priors={spec.id: base_priors},
                     seed=settings.seed,
                     settings={"draws": settings.draws, "tune": settings.tune,
                               "chains": settings.chains,
                               "target_accept": settings.target_accept,
                               "cores": settings.cores, "workers": workers}),
        "backend": (backend or Backend("threads", workers)).label,
        "grid_source": grid.source,
        "grid": [{"setting": j.setting.label, "kind": j.setting.kind,
                  "priors": {s: str(p) for s, p in j.priors.items()},
                  "prior_labels": {s: p.display for s, p in j.priors.items()},
                  "overrides": {s: str(p) for s, p in j.setting.priors.items()},
                  "data": j.variant.key if j.variant else None} for j in jobs],
        "compiled_structures": [{"family": spec.family, "n_studies": kk,
                                 "structure": dict(st), "compile_seconds": s}
                                for (kk, st), s in sorted(compile_s.items())],
        "seconds": {"total": time.perf_counter() - t_start,
                    "per_setting": [float(x) for x in seconds]},
    }
    return SweepResult(spec, rows, ver, ps, prov, reference, tolerance)


# -- command line ------------------------------------------------------------------------------


def format_table(rows: pd.DataFrame) -> str:
    """A plain-text table of the sweep for the terminal (``~`` marks a borderline row)."""
    width = min(max(len(s) for s in rows["setting"]), 46)
    lines = [f"{'setting':<{width}}  P(benefit)  effect (95% CrI)      tau     ok"]
    marked = False
    for r in rows.itertuples():
        name = r.setting if len(r.setting) <= width else r.setting[: width - 1] + "…"
        if r.ok:
            mark = "~" if str(getattr(r, "conclusion", "")).startswith("borderline") else " "
            marked = marked or mark == "~"
            sep = " to " if r.effect_lo < 0 else "-"  # a difference may be negative
            lines.append(f"{name:<{width}}  {r.prob_benefit:>9.3f}{mark}  "
                         f"{r.effect_median:5.2f} ({r.effect_lo:.2f}{sep}{r.effect_hi:.2f})  "
                         f"{r.tau_median:6.2f}   yes")
        else:
            lines.append(f"{name:<{width}}  {'-':>10}  {'not assessable':<21} {'-':>6}   NO")
    if marked:
        lines.append(f"~ borderline: within {BORDERLINE_MCSE:g} Monte Carlo SEs of the "
                     "decision probability (neither a hold nor a flip)")
    return "\n".join(lines)
