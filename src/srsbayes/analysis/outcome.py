"""One outcome's analysis: its main fit, its bias-adjusted fit, its sensitivity sweep and
the posterior quantities the report states beside the summary.

The bias-adjusted fit exists once, here (:func:`bias_adjusted_fit`): the report reads it
from the sweep's ``bias`` row when the sweep ran (the same data, priors, bias terms and
seed), the certainty command fits it directly.

References
----------
Kruschke JK (2018). Rejecting or accepting parameter values in Bayesian estimation.
Adv Methods Pract Psychol Sci 1:270-280 (probability that an effect lies within a
region of practical equivalence, used for the paper's "comparable"/"similar" claims).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..certainty.evidence import bias_adjusted_of, bias_adjusted_of_row
from ..certainty.risk_of_bias import BiasAdjusted
from ..draws import central_interval
from ..families import FAMILIES, measure_info
from ..inference.fitting import FitResult, FitSettings, ModelCache, fit_outcome
from ..inputs.data import StudyTable
from ..sensitivity import sweep
from .data import OutcomeData
from .results import Derived, Equivalence, Interval, SweepInfo, SweepOptions

if TYPE_CHECKING:
    from ..inputs.question import Question
    from ..inputs.specs import OutcomeSpec

SWEEP_DPI = 100
"""Resolution of the sweep figure embedded in the report (the sweep's own PNG is finer)."""


@contextmanager
def quiet_libraries() -> Iterator[None]:
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


# ---------------------------------------------------------------------------------------
# Fits


def main_fit(table: StudyTable, data: OutcomeData, settings: FitSettings | None,
             cache: ModelCache | None, *, checks: bool = True,
             stated: dict[str | None, list[float]] | None = None) -> FitResult:
    """The outcome's main fit, with the absolute effects at its SoF baselines
    (:func:`srsbayes.certainty.sof.outcome_baselines`, chosen before the fit so that it
    computes them); ``checks`` adds the posterior checks, and the bias tipping points
    always."""
    from ..certainty.sof import outcome_baselines

    bases = outcome_baselines(data.spec, data.baseline, stated or {})
    with quiet_libraries():
        return fit_outcome(table, data.spec, settings=settings, cache=cache, checks=checks,
                           baselines=[b.value for b in bases], tipping=True, wide=data.wide)


def bias_adjusted_fit(table: StudyTable, data: OutcomeData,
                      settings: FitSettings | None = None, cache: ModelCache | None = None
                      ) -> BiasAdjusted | None:
    """Fit the outcome with the bundled bias priors (Turner et al. 2009) and read its
    verdict; None when no bias prior applies (a difference measure, or no study covered
    by a rule)."""
    from ..families.bias_term import bias_scale, bias_terms
    from ..priors.bias import load_bias_priors

    if bias_scale(data.spec) is None:
        return None
    priors = load_bias_priors()
    if not any(bias_terms(data.spec, data.wide, priors).rules):
        return None
    with quiet_libraries():
        return bias_adjusted_of(fit_outcome(table, data.spec, settings=settings, cache=cache,
                                            checks=False, bias=priors, wide=data.wide))


def bias_adjusted(table: StudyTable, data: OutcomeData, sweep_info: SweepInfo,
                  settings: FitSettings | None, cache: ModelCache | None
                  ) -> BiasAdjusted | None:
    """The sweep's bias-adjusted row when it has one (the same fit), else the fit."""
    row = next((r for r in sweep_info.rows if r.get("kind") == "bias"), None)
    if row is not None:
        return bias_adjusted_of_row(row)
    return bias_adjusted_fit(table, data, settings, cache)


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


def interval(x: np.ndarray) -> Interval:
    """Median and central 95% interval of ``x`` (order statistics, :mod:`srsbayes.draws`)."""
    lo, med, hi = central_interval(x)
    return Interval(float(med), (float(lo), float(hi)))


def equivalence(spec: OutcomeSpec, draws: dict[str, np.ndarray]) -> Equivalence | None:
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
        return Equivalence(float((x < margin).mean()), m, thr)
    return None


def derived_of(spec: OutcomeSpec, draws: dict[str, np.ndarray]) -> Derived:
    """The equivalence probability and, for a risk ratio, the relative risk reduction."""
    return Derived(equivalence(spec, draws),
                   interval(1 - draws["relative_risk"]) if "relative_risk" in draws else None)


# ---------------------------------------------------------------------------------------
# Sensitivity sweep (srsbayes.sweep; the report says so when it is unavailable)


def run_outcome_sweep(table: StudyTable, spec: OutcomeSpec, settings: FitSettings,
                      cache: ModelCache, grid: Any, out: Path | None,
                      options: SweepOptions | None = None,
                      progress: Callable[[str], None] | None = None,
                      question: Question | None = None) -> SweepInfo:
    """Run the outcome's sensitivity sweep (default grid unless ``grid``), write its
    ``sweep.csv``/``sweep.json``/``sweep.png`` into ``out`` and adapt it for the report.

    The report's "robust across priors" is the sweep's verdict over the prior settings
    only; the verdict over leave-one-study-out and rounding rows is shown beside it.
    """
    def tick(done: int, total: int, _row: object) -> None:
        if progress is not None:
            progress(f"sweeping {spec.id}: setting {done}/{total}")

    with quiet_libraries():
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
