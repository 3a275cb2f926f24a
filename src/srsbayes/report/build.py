"""``python -m srsbayes report``: fit every outcome, run its sensitivity sweep, audit the
evidence and write one self-contained clinical report (``index.html``) and its Markdown
twin (``index.md``), beside each outcome's ``posterior.nc`` and ``summary.json``.

The work is split three ways: this module orchestrates (validation, fits, sweeps, derived
posterior quantities, the comparison with the source paper); :mod:`srsbayes.plots.figures` draws;
:mod:`srsbayes.report.render` writes HTML and Markdown (section builders word what this
module computes). Input is validated completely before
anything is written (bad input: exit 2, nothing written). A fit that fails its convergence
gate is still reported, as NOT TRUSTWORTHY and without numbers (exit 3).

References
----------
Kruschke JK (2018). Rejecting or accepting parameter values in Bayesian estimation.
Adv Methods Pract Psychol Sci 1:270-280 (probability that an effect lies within a
region of practical equivalence, used for the paper's "comparable"/"similar" claims).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import shlex
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..audit import Finding, read_claims, read_pooled, run_audit
from ..certainty import (
    CertaintyReport,
    from_fit,
    load_weights,
    net_benefit,
    rate_outcome,
    write_certainty,
)
from ..certainty.evidence import bias_adjusted_fit, bias_adjusted_of_row, pooled_baseline
from ..certainty.risk_of_bias import BiasAdjusted
from ..certainty.sof import outcome_baselines, sof_row
from ..draws import central_interval
from ..errors import InputError
from ..families import FAMILIES, get_family, measure_info
from ..inference.fitting import (
    DEFAULT_CACHE,
    FitResult,
    FitSettings,
    ModelCache,
    fit_outcome,
    write_fit,
)
from ..inputs.data import (
    DEFAULT_CLAIMS,
    DEFAULT_POOLED,
    StudyTable,
    is_bundled_table,
    outcome_table,
)
from ..inputs.question import Question, asked
from ..inputs.specs import OutcomeSpec
from ..outputs import OutputUnit, check_output_path, package_versions, write_json, write_with
from ..provenance import provenance
from ..resources import BUNDLED_MODELS, default_out
from ..sensitivity import sweep
from . import render
from .model import OutcomeReport, Progress, Report, SweepInfo
from .vocabulary import MEASURES

SWEEP_DPI = 100
"""Resolution of the sweep figure embedded in the report (the sweep's own PNG is finer)."""


# ---------------------------------------------------------------------------------------
# Derived posterior quantities


def derived_draws(result: FitResult) -> dict[str, np.ndarray]:
    """Draws of the pooled effect and of the family's absolute effects, flattened.

    ``log_ratio`` is θ on the analysis scale (a log ratio, or a difference as it is);
    ``effect`` is θ on the scale it is shown (:meth:`srsbayes.families.FamilyInfo.shown`:
    the ratio exp θ, or the difference). Read from the fit's ``derived`` group
    (:mod:`srsbayes.inference.derived`), so the report's figures and claims use exactly the
    draws behind ``summary.json``.
    """
    derived = result.idata["derived"].to_dataset()
    theta = np.asarray(derived["log_effect"]).ravel()
    info = measure_info(result.spec.family, result.spec.measure)
    out = {"log_ratio": theta, "effect": np.asarray(info.shown(theta), dtype=float)}
    out.update({k: np.asarray(v).ravel() for k, v in derived.data_vars.items()
                if k not in ("log_effect", "log_effect_new")})
    return out


def absolute_benefit(spec: OutcomeSpec, summary: dict[str, Any],
                     draws: dict[str, np.ndarray], question: Question | None = None
                     ) -> tuple[np.ndarray | None, dict[str, Any] | None, str]:
    """Signed absolute benefit draws (positive = preop better), the summary's clinical
    threshold on that scale (if any), and an axis label.

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


def _stats(x: np.ndarray) -> dict[str, Any]:
    lo, med, hi = central_interval(x)
    return {"median": float(med), "ci95": [float(lo), float(hi)]}


def equivalence(spec: OutcomeSpec, draws: dict[str, np.ndarray]) -> dict[str, Any] | None:
    """P(the difference lies within ± the spec's first clinical threshold).

    The region of practical equivalence (Kruschke 2018) is the smallest difference the
    spec calls clinically meaningful, taken on both sides: ± the threshold on the
    family's absolute scale, or between 1/r and r for a ratio threshold r (on the log
    scale). :func:`srsbayes.report.sections.paper.claim_assessment` words the result.
    """
    fam = FAMILIES[spec.family]
    for t in spec.thresholds:
        m, thr = t.measure, t.threshold
        if m == fam.absolute_measure and m in draws:
            x, margin = np.abs(draws[m]), thr
        elif m in fam.thresholds and m != fam.absolute_measure:
            x, margin = np.abs(draws["log_ratio"]), abs(float(np.log(thr)))
        else:
            continue
        return {"probability": float((x < margin).mean()), "measure": m, "threshold": thr}
    return None


# ---------------------------------------------------------------------------------------
# Comparison with the source paper

_REDUCTION = re.compile(r"relative_reduction_(\d+(?:\.\d+)?)$")


def compare_pooled(spec: OutcomeSpec, summary: dict[str, Any], pooled: list[Any]
                   ) -> list[dict[str, Any]]:
    """The paper's pooled value per arm next to the model's pooled absolute value."""
    out = []
    keys = {"percent": ("risk_{arm}", "%"), "median_months": ("median_{arm}", " months")}
    for row in pooled:
        if row.outcome != spec.id:
            continue
        key, unit = keys.get(row.measure, ("", ""))
        ours = summary.get("absolute", {}).get(key.format(arm=row.arm))
        out.append({"arm": row.arm, "paper": float(row.value), "paper_text":
                    f"{float(row.value):g}{unit}", "ours": ours, "unit": unit,
                    "measure": row.measure, "n": row.n, "source": row.source})
    return out


def compare_claims(spec: OutcomeSpec, summary: dict[str, Any], draws: dict[str, np.ndarray],
                   claims: list[tuple[int, dict[str, str]]]) -> list[dict[str, Any]]:
    """Each of the paper's claims about this outcome, with what the posterior says.

    ``relative_reduction_NN``: the posterior relative risk reduction ``1 - RR`` and
    P(RRR >= NN%). ``*significant*``: P(benefit) and the credible interval (the posterior
    has no notion of significance). ``comparable`` / ``similar`` / ``no_difference``:
    P(difference within the clinical threshold). Other claims: P(benefit). The numbers
    only: :func:`srsbayes.report.sections.paper.claim_assessment` words them.
    """
    out = []
    for _line, c in claims:
        if c["outcome"].lower() != spec.id:
            continue
        claim = c["claim"]
        entry: dict[str, Any] = {"claim": claim, "quote": c.get("quote", "") or claim,
                                 "source": c.get("source", ""),
                                 "prob_benefit": summary["prob_benefit"]}
        m = _REDUCTION.match(claim)
        if m and "relative_risk" in draws:
            target = float(m.group(1)) / 100
            rrr = 1 - draws["relative_risk"]
            entry.update(kind="reduction", target=target, rrr=_stats(rrr),
                         prob_at_least=float((rrr >= target).mean()))
        elif any(w in claim for w in ("comparable", "similar", "no_difference")):
            entry.update(kind="equivalence", equivalence=equivalence(spec, draws))
        elif "significant" in claim:
            entry.update(kind="significance")
        else:
            entry.update(kind="direction")
        out.append(entry)
    return out


def count_table(table: StudyTable, spec: OutcomeSpec) -> list[dict[str, Any]]:
    """Per study × arm: what was reported and what the model used (for Methods)."""
    rows = table.frame[table.frame["outcome"] == spec.id]
    cols = ("study", "arm", "n", "events", "percent", "median_months", "follow_up_months",
            "deaths", "median_ci_low", "median_ci_high", "events_rule", "source", "row",
            # contrast rows (arm empty): the published estimate and the SE the model used
            "measure", "estimate", "ci_low", "ci_high", "ci_level", "se", "p_value",
            "contrast_se", "contrast_rule", "adjusted", "design", "time_months")
    return [{c: rec.get(c) for c in cols} for rec in rows.to_dict("records")]


def study_list(table: StudyTable) -> list[dict[str, Any]]:
    """One entry per study: outcomes, arm sizes, follow-up, sources and covariates."""
    out = []
    frame = table.frame
    for study, rows in frame.groupby("study", sort=False):
        entry: dict[str, Any] = {"study": study, "outcomes": list(dict.fromkeys(
            rows["outcome"]))}
        for arm in ("preop", "postop"):
            n = rows.loc[rows["arm"] == arm, "n"]
            entry[f"n_{arm}"] = sorted({int(v) for v in n})
        fu = rows["follow_up_months"].dropna()
        entry["follow_up"] = sorted({float(v) for v in fu})
        entry["sources"] = list(dict.fromkeys(str(s) for s in rows.get("source", [])
                                              if isinstance(s, str) and s))
        entry["covariates"] = {c: list(dict.fromkeys(str(v) for v in rows[c]
                                                     if str(v) not in ("", "nan")))
                               for c in table.covariates}
        for col in ("design", "rob"):  # risk of bias: "not assessed" when not recorded
            vals = rows[col] if col in rows.columns else []
            entry[col] = list(dict.fromkeys(str(v) for v in vals if isinstance(v, str) and v))
        out.append(entry)
    return out


# ---------------------------------------------------------------------------------------
# Sensitivity sweep (srsbayes.sweep; the report says so when it is unavailable)


def run_outcome_sweep(table: StudyTable, spec: OutcomeSpec, settings: FitSettings,
                      cache: ModelCache, grid: Any, out: Path | None,
                      options: dict[str, Any] | None = None,
                      progress: Callable[[str], None] | None = None,
                      question: Question | None = None) -> SweepInfo:
    """Run the outcome's sensitivity sweep (default grid unless ``grid``), write its
    ``sweep.csv``/``sweep.json``/``sweep.png`` into ``out`` and adapt it for the report.

    The report's "robust across priors" is the sweep's verdict over the prior settings
    only; the verdict over leave-one-study-out and rounding rows is shown beside it.
    """
    def tick(done: int, total: int, _row: dict[str, Any]) -> None:
        if progress is not None:
            progress(f"sweeping {spec.id}: setting {done}/{total}")

    with _quiet_libraries():
        result = sweep.run_sweep(table, spec, grid, settings, cache, progress=tick,
                                 **(options or {}))
    if out is not None:
        result.write(out, question)
    rows = result.rows
    prior_rows = rows[rows["kind"] == "prior"]
    data_rows = rows[rows["kind"] != "prior"]
    by_priors = sweep.verdict(prior_rows, spec.decision_probability,
                              reference=result.reference)
    info = SweepInfo(True, robust=bool(by_priors["robust"]) if by_priors["assessable"]
                     else None, text=str(by_priors["text"]),
                     rows=[dict(r) for r in rows.to_dict("records")],
                     figure=result.figure_png(dpi=SWEEP_DPI, question=question))
    info.reference = result.reference
    info.overall = dict(result.verdict)
    info.failed = int(by_priors.get("n_failed", 0))
    info.borderline = int(by_priors.get("n_borderline", 0))
    if len(data_rows):
        with_data = sweep.verdict(pd.concat([rows[rows["setting"] == result.reference],
                                             data_rows]),
                                  spec.decision_probability, reference=result.reference)
        info.data_robust = bool(with_data["robust"]) if with_data["assessable"] else None
        info.data_text = str(with_data["text"])
    ps = result.psense or {}
    info.extra = [f"Power-scaling sensitivity (Kallioinen et al. 2024): {f}."
                  for f in ps.get("flags", [])]
    if ps and not ps.get("flags") and "variables" in ps:
        info.extra.append("Power-scaling sensitivity (Kallioinen et al. 2024): no parameter "
                          "is sensitive to its prior.")
    return info


# ---------------------------------------------------------------------------------------
# Orchestration


@contextmanager
def _quiet_libraries() -> Iterator[None]:
    """Silence library chatter that the report states itself (PSIS Pareto-k warnings,
    power-scaling advice), so the progress bar stays readable."""
    log = logging.getLogger("arviz_stats")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*shape parameter of Pareto.*")
            yield
    finally:
        log.setLevel(level)


@dataclass(frozen=True)
class Inputs:
    """Validated inputs of a report."""

    table: StudyTable
    specs: dict[str, OutcomeSpec]
    outcomes: list[OutcomeSpec]
    findings: list[Finding]
    pooled: list[Any]
    claims: list[tuple[int, dict[str, str]]]
    compared: bool = True
    question: Question | None = None
    """The review question given; None: the bundled one."""


def validate_inputs(table: StudyTable, specs: dict[str, OutcomeSpec], out: Path, *,
                    pooled_path: Path | None = None, claims_path: Path | None = None,
                    paper_path: Path | None = None,
                    compare_paper: bool | None = None,
                    question: Question | None = None) -> Inputs:
    """Check everything that can be checked before any file is written.

    The source paper's pooled rows and claims describe the bundled data, so by default
    they are audited and compared with the posterior only for the bundled data or when
    ``pooled_path``/``claims_path`` are given (``compare_paper`` overrides).

    Raises
    ------
    InputError
        No analysable outcome, an outcome with too few studies, a bad pooled or claims
        file, or an output path that is not a folder.
    """
    outcomes = [specs[o] for o in table.outcomes() if o in specs]
    if not outcomes:
        raise InputError("no outcome in the data has a spec", file=table.path,
                         column="outcome")
    for spec in outcomes:
        outcome_table(table, spec)  # >= 2 studies, both arms
    check_output_path(out)
    findings = run_audit(table, specs, pooled_path, claims_path=claims_path,
                         paper_path=paper_path, compare_paper=compare_paper,
                         question=question)
    if compare_paper is None:
        compare_paper = (is_bundled_table(table) or pooled_path is not None
                         or claims_path is not None)
    if not compare_paper:
        return Inputs(table, specs, outcomes, findings, [], [], compared=False,
                      question=question)
    # the bundled paper's files stand in only for the bundled data (or when forced)
    stand_in = is_bundled_table(table) or compare_paper is True
    pooled_file = pooled_path or (DEFAULT_POOLED if stand_in else None)
    claims_file = claims_path or (DEFAULT_CLAIMS if stand_in else None)
    return Inputs(table, specs, outcomes, findings,
                  [] if pooled_file is None else read_pooled(pooled_file, specs),
                  [] if claims_file is None else read_claims(claims_file),
                  question=question)


def analyse_outcome(inputs: Inputs, spec: OutcomeSpec, settings: FitSettings,
                    cache: ModelCache, out: Path | None, *, sweep: bool, grid: Any,
                    progress: Progress, sweep_options: dict[str, Any] | None = None,
                    fitted: FitResult | None = None) -> OutcomeReport:
    """Fit one outcome (or take its ``fitted`` result, made on a Dask worker), write its
    posterior, run its sweep and draw its figures."""
    from ..plots import figures

    rep = OutcomeReport(spec, "unavailable", count_table=count_table(inputs.table, spec))
    with progress.step(f"fitting {spec.id}"):
        try:
            get_family(spec.family)
        except ImportError as exc:
            rep.message = (f"the {spec.family!r} model family is not available in this "
                           f"version ({exc})")
            rep.sweep = SweepInfo(False, "no model")
            progress.done += 1  # no sweep step
            return rep
        # The SoF baselines are chosen first, so the fit computes their absolute effects.
        bases = _baselines(inputs.table, spec)
        if fitted is not None:
            result = fitted
        else:
            with _quiet_libraries():
                result = fit_outcome(inputs.table, spec, settings=settings, cache=cache,
                                     baselines=[b.value for b in bases])
    s = rep.summary = result.summary
    rep.fit = result
    rep.status = "ok" if result.ok else "failed"
    if not result.ok:
        _rate(rep, result, inputs, bases, None, out)
        rep.message = "; ".join(s["diagnostics"]["failures"])
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
        row = next((r for r in rep.sweep.rows if r.get("kind") == "bias"), None)
        with _quiet_libraries():
            adjusted = (bias_adjusted_of_row(row) if row is not None
                        else bias_adjusted_fit(inputs.table, spec, settings, cache))
        _rate(rep, result, inputs, bases, adjusted, out)
        draws = derived_draws(result)
        benefit, thr, label = absolute_benefit(spec, s, draws, inputs.question)
        rep.derived = {"equivalence": equivalence(spec, draws)}
        if "relative_risk" in draws:
            rep.derived["rrr"] = _stats(1 - draws["relative_risk"])
        rep.figures["forest"] = figures.forest_plot(s, inputs.question)
        rep.figures["effect"] = figures.effect_plot(s, draws["effect"], benefit, thr, label,
                                                    inputs.question)
        ppc = figures.ppc_plot(s, result.idata, inputs.question)
        if ppc is not None:
            rep.figures["ppc"] = ppc
        if rep.sweep.figure is not None:
            rep.figures["sweep"] = rep.sweep.figure
        rep.pooled = compare_pooled(spec, s, inputs.pooled)
        rep.claims = compare_claims(spec, s, draws, inputs.claims)
    return rep


def _baselines(table: StudyTable, spec: OutcomeSpec) -> list[Any]:
    """The outcome's SoF baselines, chosen before the fit so that it computes their
    absolute effects."""
    return outcome_baselines(spec, pooled_baseline(outcome_table(table, spec), spec), {})


def _fit_task(table: StudyTable, spec: OutcomeSpec, settings: FitSettings) -> FitResult:
    """One outcome's main fit as a task on a Dask worker (its own compile cache)."""
    with _quiet_libraries():
        return fit_outcome(table, spec, settings=settings,
                           baselines=[b.value for b in _baselines(table, spec)])


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
    results = map_tasks(_fit_task, [(f"report-fit-{s.id}", (inputs.table, s, settings))
                                    for s in specs], backend=backend)
    return {s.id: r.value for s, r in zip(specs, results, strict=True) if r.ok}


def _rate(rep: OutcomeReport, result: FitResult, inputs: Inputs, bases: list[Any],
          adjusted: BiasAdjusted | None, out: Path | None) -> None:
    """Rate the outcome's certainty once (summary.json, certainty.json and the report all
    read this row) and write its posterior and summary."""
    rep.evidence = from_fit(result, adjusted)
    rep.certainty = sof_row(rep.evidence, rate_outcome(rep.evidence, inputs.findings,
                                                       inputs.question), bases, inputs.question)
    result.summary["certainty"] = rep.certainty.as_dict()
    if out is not None:
        write_fit(result, out / rep.spec.id)


def build_report(inputs: Inputs, *, settings: FitSettings | None = None,
                 cache: ModelCache | None = None, out: Path | None = None,
                 sweep: bool = True, grid: Any = None,
                 sweep_options: dict[str, Any] | None = None,
                 progress: Progress | None = None,
                 trials: dict[str, Any] | None = None) -> Report:
    """Analyse every outcome of validated ``inputs`` (writing per-outcome files to ``out``
    when given) and collect what the report shows; ``trials`` (keyword arguments of
    :func:`srsbayes.trials.run.run_designs`: ``designs``, ``sizes``, ...) adds the trials
    under way."""
    settings = settings or FitSettings()
    cache = cache or DEFAULT_CACHE
    progress = progress or Progress(0, enabled=False)
    # on a Dask backend the outcomes' main fits run as tasks first, as their sweeps do
    fitted = fit_on_backend(inputs, settings, (sweep_options or {}).get("backend"))
    outcomes = [analyse_outcome(inputs, spec, settings, cache, out, sweep=sweep, grid=grid,
                                progress=progress, sweep_options=sweep_options,
                                fitted=fitted.get(spec.id))
                for spec in inputs.outcomes]
    table = inputs.table
    bundled = is_bundled_table(table)
    weights = load_weights()
    benefits = {o.spec.id: o.evidence.benefit for o in outcomes
                if o.evidence is not None and o.evidence.ok}
    fitted = [o for o in outcomes if o.summary]
    prov = provenance(table=table, specs=[o.spec for o in outcomes],
                      priors={o.spec.id: o.summary.get("priors", {}) for o in fitted},
                      seed=settings.seed,
                      settings={k: getattr(settings, k)
                                for k in ("draws", "tune", "chains", "target_accept")})
    certainty = CertaintyReport(tuple(o.certainty for o in outcomes if o.certainty is not None),
                                net_benefit(benefits, weights, settings.seed), weights.path,
                                provenance=prov)
    trial_rows = None
    if trials is not None:
        from ..trials.run import run_designs

        with progress.step("simulating the trials under way"):
            trial_rows = run_designs({o.spec.id: o.fit for o in outcomes if o.fit is not None},
                                     table, inputs.specs, **trials)
    return Report(
        trials=trial_rows,
        table=table, outcomes=outcomes, findings=inputs.findings, settings=settings,
        specs=inputs.specs, studies=study_list(table), command=prov["command"],
        reproduce=reproduce_command(table, settings, bundled,
                                    models=models_folder(inputs.specs), out=out,
                                    question=inputs.question),
        provenance=prov,
        versions=_versions(outcomes), created=dt.datetime.now(dt.UTC).strftime(
            "%Y-%m-%d %H:%M UTC"), bundled=bundled, sweep_requested=sweep,
        paper_compared=inputs.compared, certainty=certainty, question=inputs.question)


def _versions(outcomes: list[OutcomeReport]) -> dict[str, str]:
    for o in outcomes:
        if o.summary and "versions" in o.summary:
            v = dict(o.summary["versions"])
            break
    else:
        v = package_versions()
    from importlib.metadata import PackageNotFoundError, version

    try:
        v["matplotlib (figures)"] = version("matplotlib")
    except PackageNotFoundError:
        v["matplotlib (figures)"] = "not installed"
    return v


def models_folder(specs: dict[str, OutcomeSpec]) -> Path | None:
    """The folder of the outcome specs when it is not the bundled one (``--models``), else
    None (the specs of one folder, as ``load_specs`` reads them)."""
    folders = {Path(s.path).resolve().parent for s in specs.values() if s.path}
    if not folders or folders == {BUNDLED_MODELS.resolve()}:
        return None
    return min(folders)


def reproduce_command(table: StudyTable, settings: FitSettings, bundled: bool, *,
                      models: Path | None = None, out: Path | None = None,
                      question: Question | None = None) -> str:
    """The command line that reproduces the report's numbers: every option of the run
    (``--data`` unless bundled, ``--models`` unless bundled, ``--question`` when given,
    ``--seed``, ``--out`` unless the default ``reports/``)."""
    parts = ["python", "-m", "srsbayes", "report"]
    if not bundled:
        parts += ["--data", str(table.path)]
    if models is not None:
        parts += ["--models", str(models)]
    if question is not None:
        parts += ["--question", question.path]
    parts += ["--seed", str(settings.seed)]
    if out is not None and Path(out).absolute() != default_out():
        parts += ["--out", str(out)]
    cmd = shlex.join(parts)
    default = FitSettings(seed=settings.seed)
    if settings != default:
        cmd += (f"  # sampler settings used: draws={settings.draws}, tune={settings.tune}, "
                f"chains={settings.chains} (the command uses draws={default.draws}, "
                f"tune={default.tune}, chains={default.chains})")
    return cmd


def write_report(table: StudyTable, specs: dict[str, OutcomeSpec], out: Path, *,
                 settings: FitSettings | None = None, cache: ModelCache | None = None,
                 sweep: bool = True, grid: Any = None,
                 sweep_options: dict[str, Any] | None = None,
                 progress: Progress | None = None,
                 pooled_path: Path | None = None, claims_path: Path | None = None,
                 paper_path: Path | None = None,
                 trials: dict[str, Any] | None = None,
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
