"""The analysis pipeline, once: every outcome's fit, bias-adjusted fit, sweep, certainty
and comparison with the source paper, then the net benefit and the trials under way.

:func:`run_analysis` takes validated :class:`~srsbayes.analysis.data.Inputs` and returns
an :class:`Analysis`; :mod:`srsbayes.report` words and draws it, the ``certainty`` command
runs :func:`srsbayes.analysis.evidence.fit_evidence`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..audit import Finding
from ..certainty import CertaintyReport, load_weights
from ..families import get_family
from ..inference.fitting import DEFAULT_CACHE, FitResult, FitSettings, ModelCache, write_fit
from ..inputs.data import StudyTable, is_bundled_table
from ..inputs.question import Question
from ..inputs.specs import OutcomeSpec
from ..status import Status
from .data import Inputs, OutcomeData, StudyEntry, count_table, study_list
from .evidence import certainty_report, rate
from .outcome import bias_adjusted, derived_draws, derived_of, main_fit, run_outcome_sweep
from .paper import compare_claims, compare_pooled
from .progress import Progress
from .provenance import run_provenance
from .results import OutcomeAnalysis, SweepInfo, SweepOptions, TrialOptions

Drawer = Callable[[OutcomeAnalysis, FitResult, dict[str, np.ndarray]], None]
"""Called with each converged outcome, its fit and its derived draws (the report draws
its figures there, while the fit's draws are at hand)."""


@dataclass
class Analysis:
    """Every outcome's analysis of validated inputs, the certainty across them and how
    it was made."""

    inputs: Inputs
    outcomes: list[OutcomeAnalysis]
    settings: FitSettings
    certainty: CertaintyReport
    provenance: dict[str, Any]
    studies: list[StudyEntry]
    bundled: bool
    sweep_requested: bool
    trials: list[dict[str, Any]] | None = None

    @property
    def table(self) -> StudyTable:
        return self.inputs.table

    @property
    def findings(self) -> list[Finding]:
        return self.inputs.findings

    @property
    def specs(self) -> dict[str, OutcomeSpec]:
        return self.inputs.specs

    @property
    def question(self) -> Question | None:
        return self.inputs.question


def analyse_outcome(inputs: Inputs, spec: OutcomeSpec, settings: FitSettings,
                    cache: ModelCache, out: Path | None, *, sweep: bool, grid: Any,
                    progress: Progress, sweep_options: SweepOptions | None = None,
                    fitted: FitResult | None = None, draw: Drawer | None = None
                    ) -> OutcomeAnalysis:
    """Fit one outcome (or take its ``fitted`` result, made on a Dask worker), rate it,
    write its posterior, run its sweep and compare it with the paper."""
    rep = OutcomeAnalysis(spec, Status.UNAVAILABLE,
                          count_table=count_table(inputs.table, spec))
    data = inputs.outcome(spec)
    with progress.step(f"fitting {spec.id}"):
        try:
            get_family(spec.family)
        except ImportError as exc:
            rep.message = (f"the {spec.family!r} model family is not available in this "
                           f"version ({exc})")
            rep.sweep = SweepInfo(False, "no model")
            progress.done += 1  # no sweep step
            return rep
        result = fitted if fitted is not None else main_fit(inputs.table, data, settings,
                                                             cache)
    rep.fit = result
    rep.status = Status.OK if result.ok else Status.FAILED
    if not result.ok:
        _rate(rep, result, inputs, None, out)
        rep.message = "; ".join(rep.summary.failures)
        rep.sweep = SweepInfo(False, "not run: the main fit did not converge")
        progress.done += 1  # no sweep step
        return rep
    with progress.step(f"sweeping {spec.id}" if sweep else f"drawing {spec.id}"):
        if sweep:
            rep.sweep = run_outcome_sweep(inputs.table, spec, settings, cache, grid,
                                          None if out is None else out / spec.id / "sweep",
                                          sweep_options, progress.update, inputs.question)
        else:
            rep.sweep = SweepInfo(False, "sensitivity analysis not run for this report")
        # The sweep's bias-adjusted row is the bias-adjusted fit (same data, priors, seed);
        # without a sweep (or with a grid without data-level rows) it is fitted here.
        adjusted = bias_adjusted(inputs.table, data, rep.sweep, settings, cache)
        _rate(rep, result, inputs, adjusted, out)
        s = rep.summary
        draws = derived_draws(result)
        rep.derived = derived_of(spec, draws)
        if draw is not None:
            draw(rep, result, draws)
        rep.pooled = compare_pooled(spec, s, inputs.pooled)
        rep.claims = compare_claims(spec, s.prob_benefit, draws, inputs.claims)
    return rep


def _rate(rep: OutcomeAnalysis, result: FitResult, inputs: Inputs, adjusted: Any,
          out: Path | None) -> None:
    """Rate the outcome's certainty once and write its posterior and summary."""
    rep.evidence, rep.certainty, _ = rate(result, inputs.outcome(rep.spec), adjusted,
                                          inputs.findings, inputs.question)
    rep.summary = result.summary
    if out is not None:
        write_fit(result, out / rep.spec.id)


def _fit_task(table: StudyTable, data: OutcomeData, settings: FitSettings) -> FitResult:
    """One outcome's main fit as a task on a Dask worker (its own compile cache)."""
    return main_fit(table, data, settings, None)


def fit_on_backend(inputs: Inputs, settings: FitSettings, backend: Any
                   ) -> dict[str, FitResult]:
    """Every outcome's main fit as a task of :func:`srsbayes.parallel.map_tasks` on a Dask
    ``backend`` (none for threads): by outcome id. The same seed and settings give the
    in-process draws; an outcome whose family is not available, or whose task failed, is
    left out and fitted in the calling process instead."""
    from ..parallel import map_tasks

    if backend is None or backend.kind == "threads":
        return {}
    specs = []
    for spec in inputs.outcomes:
        try:
            get_family(spec.family)
        except ImportError:
            continue
        specs.append(spec)
    results = map_tasks(_fit_task, [(f"report-fit-{s.id}",
                                     (inputs.table, inputs.outcome(s), settings))
                                    for s in specs], backend=backend)
    return {s.id: r.value for s, r in zip(specs, results, strict=True) if r.ok}


def run_analysis(inputs: Inputs, *, settings: FitSettings | None = None,
                 cache: ModelCache | None = None, out: Path | None = None,
                 sweep: bool = True, grid: Any = None,
                 sweep_options: SweepOptions | None = None,
                 progress: Progress | None = None,
                 trials: TrialOptions | None = None,
                 draw: Drawer | None = None) -> Analysis:
    """Analyse every outcome of validated ``inputs`` (writing each outcome's posterior,
    summary and sweep to ``out`` when given), rate the certainty across them and, with
    ``trials`` (keyword arguments of :func:`srsbayes.trials.run.run_designs`), simulate
    the trials under way."""
    settings = settings or FitSettings()
    cache = cache or DEFAULT_CACHE
    progress = progress or Progress(0, enabled=False)
    # on a Dask backend the outcomes' main fits run as tasks first, as their sweeps do
    fitted = fit_on_backend(inputs, settings, (sweep_options or {}).get("backend"))
    outcomes = [analyse_outcome(inputs, spec, settings, cache, out, sweep=sweep, grid=grid,
                                progress=progress, sweep_options=sweep_options,
                                fitted=fitted.get(spec.id), draw=draw)
                for spec in inputs.outcomes]
    table = inputs.table
    prov = run_provenance(table, [(o.spec, o.summary) for o in outcomes], settings)
    certainty = certainty_report(
        [o.certainty for o in outcomes if o.certainty is not None],
        [o.evidence for o in outcomes if o.evidence is not None], load_weights(),
        settings.seed, prov)
    trial_rows = None
    if trials is not None:
        from ..trials.run import run_designs

        with progress.step("simulating the trials under way"):
            trial_rows = run_designs({o.spec.id: o.fit for o in outcomes if o.fit is not None},
                                     table, inputs.specs, **trials)
    return Analysis(inputs, outcomes, settings, certainty, prov, study_list(table),
                    is_bundled_table(table), sweep, trial_rows)
