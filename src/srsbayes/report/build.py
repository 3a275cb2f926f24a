"""``python -m srsbayes report``: fit every outcome, run its sensitivity sweep, audit the
evidence and write one self-contained clinical report (``index.html``) and its Markdown
twin (``index.md``), beside each outcome's ``posterior.nc`` and ``summary.json``.

The analysis (validation, fits, bias-adjusted fits, sweeps, certainty, the comparison with
the source paper, provenance) is :mod:`srsbayes.analysis`; this module draws each outcome's
figures (:mod:`srsbayes.plots.figures`) while its draws are at hand, assembles the
:class:`~srsbayes.report.model.Report` and writes it (:mod:`srsbayes.report.render`: HTML
and Markdown). Input is validated completely before anything is written (bad input: exit
2, nothing written). A fit that fails its convergence gate is still reported, as NOT
TRUSTWORTHY and without numbers (exit 3).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..analysis.data import Inputs, validate_inputs
from ..analysis.progress import Progress
from ..analysis.provenance import models_folder, reproduce_command, versions
from ..analysis.results import OutcomeAnalysis, SweepOptions, TrialOptions
from ..analysis.run import Analysis, run_analysis
from ..certainty import write_certainty
from ..families import FAMILIES
from ..inference.fitting import FitResult, FitSettings, ModelCache
from ..inference.summaries import FitSummary
from ..inputs.data import StudyTable
from ..inputs.question import Question, asked
from ..inputs.specs import OutcomeSpec
from ..outputs import OutputUnit, write_json, write_with
from . import render
from .model import OutcomeReport, Report
from .vocabulary import MEASURES


def absolute_benefit(spec: OutcomeSpec, summary: FitSummary,
                     draws: dict[str, np.ndarray], question: Question | None = None
                     ) -> tuple[np.ndarray | None, dict[str, Any] | None, str]:
    """Signed absolute benefit draws (positive = preop better), the summary's clinical
    threshold on that scale (if any), and an axis label (for the effect figure).

    None for a family without a baseline model: an absolute effect needs a control-arm
    level (published contrasts have none; a difference is shown as the effect itself).
    """
    if "benefit" not in draws or "baseline" not in FAMILIES[spec.family].slots:
        return None, None, ""
    measure = FAMILIES[spec.family].absolute_measure
    thr = {t["measure"]: t for t in summary.get("thresholds", [])}
    q = asked(question)
    label = MEASURES[measure].axis.format(
        toward="Fewer" if spec.benefit == "lower" else "More", event=spec.event,
        t=q.treatment.word, c=q.control.word, t_short=q.treatment.short)
    return draws["benefit"], thr.get(measure), label


def draw_figures(o: OutcomeAnalysis, result: FitResult, draws: dict[str, np.ndarray],
                 question: Question | None = None) -> dict[str, bytes]:
    """The figures of a converged outcome: forest, effect, posterior-predictive, sweep."""
    from ..plots import figures

    s = result.summary
    benefit, thr, label = absolute_benefit(o.spec, s, draws, question)
    out = {"forest": figures.forest_plot(s, question),
           "effect": figures.effect_plot(s, draws["effect"], benefit, thr, label, question)}
    ppc = figures.ppc_plot(s, result.idata, question)
    if ppc is not None:
        out["ppc"] = ppc
    if o.sweep.figure is not None:
        out["sweep"] = o.sweep.figure
    return out


def build_report(inputs: Inputs, *, settings: FitSettings | None = None,
                 cache: ModelCache | None = None, out: Path | None = None,
                 sweep: bool = True, grid: Any = None,
                 sweep_options: SweepOptions | None = None,
                 progress: Progress | None = None,
                 trials: TrialOptions | None = None) -> Report:
    """Analyse every outcome of validated ``inputs`` (:func:`srsbayes.analysis.run.
    run_analysis`, writing per-outcome files to ``out`` when given), draw its figures and
    collect what the report shows."""
    drawn: dict[str, dict[str, bytes]] = {}

    def draw(o: OutcomeAnalysis, result: FitResult, draws: dict[str, np.ndarray]) -> None:
        drawn[o.spec.id] = draw_figures(o, result, draws, inputs.question)

    analysis = run_analysis(inputs, settings=settings, cache=cache, out=out, sweep=sweep,
                            grid=grid, sweep_options=sweep_options, progress=progress,
                            trials=trials, draw=draw)
    return report_of(analysis, drawn, out)


def report_of(analysis: Analysis, figures: dict[str, dict[str, bytes]],
              out: Path | None) -> Report:
    """The report of an analysis with each outcome's figures."""
    inputs, settings = analysis.inputs, analysis.settings
    outcomes = [OutcomeReport.of(o, figures.get(o.spec.id, {})) for o in analysis.outcomes]
    return Report(
        trials=analysis.trials,
        table=inputs.table, outcomes=outcomes, findings=inputs.findings, settings=settings,
        specs=inputs.specs, studies=analysis.studies,
        command=analysis.provenance["command"],
        reproduce=reproduce_command(inputs.table, settings, analysis.bundled,
                                    models=models_folder(inputs.specs), out=out,
                                    question=inputs.question),
        provenance=analysis.provenance,
        versions=versions(o.summary for o in outcomes if o.summary is not None),
        created=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        bundled=analysis.bundled, sweep_requested=analysis.sweep_requested,
        paper_compared=inputs.compared, certainty=analysis.certainty,
        question=inputs.question)


def write_report(table: StudyTable, specs: dict[str, OutcomeSpec], out: Path, *,
                 settings: FitSettings | None = None, cache: ModelCache | None = None,
                 sweep: bool = True, grid: Any = None,
                 sweep_options: SweepOptions | None = None,
                 progress: Progress | None = None,
                 pooled_path: Path | None = None, claims_path: Path | None = None,
                 paper_path: Path | None = None,
                 trials: TrialOptions | None = None,
                 question: Question | None = None) -> Report:
    """Validate, fit, sweep and write ``out/index.html``, ``out/index.md`` (with
    ``out/figures/*.png``) and each outcome's ``posterior.nc`` / ``summary.json``.

    Parameters
    ----------
    table, specs
        Validated study data and outcome specs.
    out
        Output folder.
    settings
        Sampler settings (lighter ones make quick test reports).
    sweep
        Run each outcome's default sensitivity sweep.
    grid
        Sweep grid (a :class:`srsbayes.sensitivity.grid.Grid` or a list of
        :class:`srsbayes.sensitivity.grid.Setting`); each outcome's default grid when None.
    sweep_options
        Extra keyword arguments of :func:`srsbayes.sensitivity.sweep.run_sweep` (e.g.
        ``data_level=False, psense=False`` for a quick report).
    progress
        Progress bar (none by default).
    pooled_path, claims_path, paper_path
        The paper's pooled rows, claims and text (see :func:`srsbayes.audit.run_audit`).
    trials
        Add the section "The trials under way": keyword arguments of
        :func:`srsbayes.trials.run.run_designs` (``designs`` and optionally ``sizes``,
        ``sims``, ``max_refits``).
    question
        The review question (:func:`srsbayes.inputs.question.read_question`): the report's
        title and source paper, the audit's topic terms. Default: the bundled question.

    Returns
    -------
    Report
        ``report.exit_status`` is 0 when every fit converged, 3 otherwise.

    Raises
    ------
    InputError
        Before anything is written, for any problem with the inputs.
    """
    out = Path(out)
    inputs = validate_inputs(table, specs, out, pooled_path=pooled_path,
                             claims_path=claims_path, paper_path=paper_path,
                             question=question)
    if progress is None:
        progress = Progress(0, enabled=False)
    progress.total = 2 * len(inputs.outcomes) + 1 + (trials is not None)
    # every file (each outcome's fit and sweep, certainty.json, the report) is staged and
    # moved into place together: never a new report beside an old outcome's files
    with OutputUnit(out, "report") as unit:
        stage = unit.folder()
        report = build_report(inputs, settings=settings, cache=cache, out=stage, sweep=sweep,
                              grid=grid, sweep_options=sweep_options, progress=progress,
                              trials=trials)
        report.reproduce = reproduce_command(
            report.table, report.settings, report.bundled,
            models=models_folder(inputs.specs), out=out, question=question)
        unit.provenance = report.provenance
        with progress.step("writing the report"):
            if report.certainty is not None:
                write_certainty(report.certainty, stage / "certainty.json")
            if report.trials is not None:
                write_json(stage / "trials.json", report.trials)
            files = render.report_files(report)  # one document tree for every file
            for name, data in files.items():  # index.html last: it appears only when complete
                write_with(stage / name, _bytes_writer(data))
    return report


def _bytes_writer(data: bytes) -> Callable[[Path], None]:
    def write(tmp: Path) -> None:
        tmp.write_bytes(data)

    return write
