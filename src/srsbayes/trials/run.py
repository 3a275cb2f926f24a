"""Run a trial analysis: fit the outcome once, simulate trials in chunks of independent
tasks, reweight (or refit), and collect assurance, power, preposterior and value.

The simulations are processed in chunks (:data:`CHUNK`); every per-trial number depends
only on the trial's index and the seed (:func:`srsbayes.trials.simulate.rng_for`; PSIS is
computed row by row), so the chunk size, their order or a distributed run change nothing.
The one shared budget is the number of refits (``max_refits``), spent in index order: on a
Dask backend (:mod:`srsbayes.parallel`) the chunks are tasks that simulate and reweight, and
the refits are made here, in index order, once every chunk has returned.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from ..certainty.weights import NetBenefitSettings, load_weights
from ..errors import InputError, TaskError
from ..families import FAMILIES, measure_info
from ..inputs.data import StudyTable
from ..inputs.specs import OutcomeSpec
from ..parallel import Backend, TaskResult, map_tasks
from ..provenance import provenance
from .assurance import Proportion, SuccessRule, parse_rule
from .design import TrialDesign, arm_sizes
from .likelihood import TrialLikelihood
from .preposterior import Updated, apply_refits, concat, update
from .refit import can_refit, refitter
from .result import Power, ThresholdToday, TrialProvenance, TrialResult
from .simulate import (
    POWER_STREAM,
    Posterior,
    Simulated,
    TrialSetup,
    rng_for,
    setup_for,
    simulate,
    simulate_fixed,
)
from .value import expected_value, value_scale

if TYPE_CHECKING:
    from ..inference.fitting import FitResult
    from ..outputs import JSONObject

CHUNK = 250
"""Simulated trials per chunk (memory: a chunk's weights are CHUNK x draws floats)."""
CONTROL_STREAM = 14
"""Entropy word of the draws that fix the control risk for the power calculations."""
MAX_REFITS = 50
"""Default cap on refits of trials whose Pareto k̂ exceeds 0.7 (each is a NUTS fit)."""


class Bar:
    """A one-line progress bar on stderr, drawn only on a terminal."""

    def __init__(self, total: int, label: str, stream: TextIO | None = None,
                 enabled: bool = True) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled and bool(getattr(self.stream, "isatty", lambda: False)())
        self.total, self.label, self.start = total, label, time.monotonic()

    def show(self, done: int) -> None:
        if not self.enabled:
            return
        filled = int(24 * done / max(self.total, 1))
        secs = time.monotonic() - self.start
        self.stream.write(f"\r[{'#' * filled}{'.' * (24 - filled)}] {done}/{self.total} "
                          f"{secs:5.0f}s  {self.label}")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def _sims(s: Simulated, parts: list[Simulated]) -> Simulated:
    return Simulated(*(np.concatenate([getattr(p, f) for p in parts])
                       for f in s.__dataclass_fields__))


def _chunk_task(spec: OutcomeSpec, post: Posterior, setup: TrialSetup, seed: int,
                start: int, stop: int) -> tuple[Simulated, Updated]:
    """Simulate and reweight trials ``start`` to ``stop - 1`` (no refit): one task of a
    distributed run, the same numbers as the in-process loop's chunk."""
    s = simulate(post, setup, seed, np.arange(start, stop))
    u, _ = update(spec, post, TrialLikelihood(post, setup)(s), s)
    return s, u


def control_risk(setup: TrialSetup, seed: int) -> float | None:
    """Median postop risk of a new population (baseline model's predictive), for power."""
    if not setup.counts:
        return None
    assert setup.baseline is not None
    a = setup.baseline.predictive(rng_for(seed, CONTROL_STREAM, 0), 20_000)
    return float(np.median(1 / (1 + np.exp(-a))))


def effect_at_threshold(spec: OutcomeSpec, measure: str, threshold: float,
                        setup: TrialSetup, risk: float | None) -> tuple[float | None, str]:
    """The effect on the analysis scale at which the benefit equals a spec threshold."""
    info = FAMILIES[spec.family]
    if measure != info.absolute_measure:  # a ratio threshold, e.g. OR 0.8
        return float(np.log(threshold)), ""
    if setup.counts and risk is not None:  # risk difference at the median control risk
        p_t = risk + spec.sign * threshold / 100
        if not 0 < p_t < 1:
            return None, f"a difference of {threshold:g} points is impossible at that risk"
        return float(np.log(p_t / (1 - p_t)) - np.log(risk / (1 - risk))), ""
    if "baseline" not in info.slots:  # a contrast's benefit is sign * theta
        return float(spec.sign * threshold), ""
    return None, "no control-arm level to convert this threshold at"


def powers(spec: OutcomeSpec, post: Posterior, setup: TrialSetup, rule: SuccessRule,
           sims: int, seed: int) -> tuple[Power, ...]:
    """Power at the posterior median effect and at each threshold of the spec."""
    risk = control_risk(setup, seed)
    shown = measure_info(spec.family, spec.measure).shown
    idx = np.arange(sims)
    targets: list[tuple[str, float | None, str]] = [
        ("posterior median", float(np.median(post.theta)), "")]
    for t in spec.thresholds:
        effect, note = effect_at_threshold(spec, t.measure, t.threshold, setup, risk)
        targets.append((f"smallest important effect ({t.measure} {t.threshold:g})", effect,
                        note))
    out = []
    for at, effect, note in targets:
        if effect is None:
            out.append(Power(at, None, None, risk, None, note))
            continue
        y, s = simulate_fixed(setup, effect, risk or 0.5, seed, idx, POWER_STREAM)
        hits, _ = rule.outcomes(y, s, spec.sign)
        out.append(Power(at, effect, float(shown(effect)), risk, Proportion.of(hits), note))
    return tuple(out)


def population_size(patients_per_year: float | None, horizon_months: float | None
                    ) -> float | None:
    """Patients treated over the horizon, or None when neither is given.

    Raises
    ------
    InputError
        One given without the other, or a value not > 0.
    """
    if patients_per_year is None and horizon_months is None:
        return None
    if patients_per_year is None or horizon_months is None:
        raise InputError("a population needs both --patients-per-year and --horizon-months",
                         column="--patients-per-year" if patients_per_year is None
                         else "--horizon-months")
    for v, col in ((patients_per_year, "--patients-per-year"),
                   (horizon_months, "--horizon-months")):
        if not (np.isfinite(v) and v > 0):
            raise InputError(f"must be > 0, got {v:g}", column=col)
    return float(patients_per_year * horizon_months / 12.0)


def run_trial(fit: FitResult, table: StudyTable, specs: dict[str, OutcomeSpec], *,
              n_preop: int, n_postop: int, size_source: str = "",
              design: TrialDesign | None = None, se: float | None = None,
              success: str | SuccessRule = "p<0.05", sims: int = 2000,
              seed: int | None = None, weights: NetBenefitSettings | None = None,
              population: float | None = None, bias: Any = None,
              max_refits: int = MAX_REFITS, refit_draws: int | None = None,
              progress: bool = False,
              chunk: int = CHUNK, backend: Backend | None = None) -> TrialResult:
    """Assurance, power, preposterior and value of information of one trial.

    Parameters
    ----------
    fit
        The outcome's converged :class:`srsbayes.inference.fitting.FitResult` (today's
        meta-analytic posterior; bias-adjusted if ``bias`` is given).
    table, specs
        The study table and all outcome specs the fit came from (for refits).
    n_preop, n_postop, size_source
        Patients per arm and where the numbers come from.
    design
        The trial's design, when one of a trials file.
    se
        Standard error of the trial's estimate on the analysis scale (outcomes without
        event counts; with counts, it replaces the simulated counts).
    success
        ``"p<ALPHA"`` or ``"P>PROB"`` (:func:`srsbayes.trials.assurance.parse_rule`).
    sims
        Simulated trials (at least 100).
    seed
        Seed of every random stream (default: the fit's).
    weights
        Net-benefit weights (default: the bundled file).
    population
        Patients the decision concerns (:func:`population_size`), or None.
    bias
        The bias priors the fit used (refits use them too).
    max_refits
        Most refits of trials whose Pareto k̂ exceeds 0.7.
    refit_draws
        Draws per chain of a refit (default: the fit's).
    progress
        Draw a progress bar on stderr (terminals only).
    chunk
        Trials per chunk (changes no number).
    backend
        Where the chunks run (:func:`srsbayes.parallel.backend_from`): None or threads, in
        this process; otherwise each chunk is a task of :func:`srsbayes.parallel.map_tasks`
        and the refits follow in index order here (the same numbers).

    Returns
    -------
    TrialResult
    """
    spec = fit.spec
    if not fit.ok:
        raise ValueError("an unconverged fit has no posterior: no trial analysis")
    if sims < 100:
        raise InputError(f"must be >= 100, got {sims}", column="--sims")
    if max_refits < 0:
        raise InputError(f"must be >= 0, got {max_refits}", column="--max-refits")
    rule = success if isinstance(success, SuccessRule) else parse_rule(success)
    seed = fit.settings.seed if seed is None else int(seed)
    weights = weights or load_weights()
    setup = setup_for(fit, n_preop, n_postop, se)
    post = Posterior.from_fit(fit)
    name = f"{design.id if design else 'new trial'} (simulated)"
    refit = (refitter(table, specs, fit, setup=setup, name=name, seed=seed, bias=bias,
                      draws=refit_draws)
             if can_refit(spec, setup) and max_refits > 0 else None)
    loglik = TrialLikelihood(post, setup)
    bar = Bar(sims, f"simulating trials of {spec.id}", enabled=progress)
    sim_parts, upd_parts, left = [], [], max_refits
    if backend is None or backend.kind == "threads":
        for start in range(0, sims, chunk):
            idx = np.arange(start, min(start + chunk, sims))
            s = simulate(post, setup, seed, idx)
            u, left = update(spec, post, loglik(s), s, refit, left)
            sim_parts.append(s)
            upd_parts.append(u)
            bar.show(int(idx[-1]) + 1)
    else:
        tasks = [(f"trial-sims-{a}", (spec, post, setup, seed, a, min(a + chunk, sims)))
                 for a in range(0, sims, chunk)]
        done = [0]

        def shown(_d: int, _n: int, r: TaskResult) -> None:
            done[0] += len(r.value[0].index) if r.ok else 0
            bar.show(done[0])

        for r in map_tasks(_chunk_task, tasks, backend=backend, progress=shown):
            if not r.ok:  # no partial result: a trial analysis needs every simulation
                raise TaskError(f"simulation task {r.key} failed on a worker ({r.error}); no "
                                "trial analysis is reported from part of the simulations")
            sim_parts.append(r.value[0])
            upd_parts.append(r.value[1])
    bar.close()
    simulated, updated = _sims(sim_parts[0], sim_parts), concat(upd_parts)
    if backend is not None and backend.kind != "threads":
        updated, left = apply_refits(spec, updated, simulated, refit, left)
    hits, either = rule.outcomes(simulated.estimate, simulated.se, spec.sign)
    est = fit.estimates
    thresholds = tuple(ThresholdToday(measure=t.measure, threshold=t.threshold,
                                      today=t.probability) for t in est.thresholds)
    value = expected_value(value_scale(spec, weights), post.benefit, updated.benefit,
                           population)
    return TrialResult(
        outcome=spec.id, label=spec.label, design=design, n_preop=n_preop,
        n_postop=n_postop, size_source=size_source, setup=setup.describe(), rule=rule,
        sims=sims, seed=seed, bias_adjusted=bias is not None,
        decision_probability=spec.decision_probability, assurance=Proportion.of(hits),
        either_direction=Proportion.of(either),
        power=powers(spec, post, setup, rule, sims, seed),
        p_benefit_today=est.prob_benefit, thresholds_today=thresholds, value=value,
        simulated=simulated, updated=updated,
        provenance=_provenance(fit, table, weights, seed, max_refits, backend),
        refits_possible=can_refit(spec, setup))


def _provenance(fit: FitResult, table: StudyTable, weights: NetBenefitSettings, seed: int,
                max_refits: int, backend: Backend | None = None) -> TrialProvenance:
    """The shared provenance block (:func:`srsbayes.provenance.provenance`) of the fit the
    trial is simulated from, with what only a trial analysis adds."""
    s = fit.summary
    st = fit.settings
    return TrialProvenance(
        **provenance(table=table, specs=[fit.spec], priors={fit.spec.id: s.get("priors", {})},
                     seed=st.seed, settings={"draws": st.draws, "tune": st.tune,
                                             "chains": st.chains,
                                             "target_accept": st.target_accept}),
        trial_seed=seed, weights_file=weights.path, max_refits=max_refits,
        bias_adjustment=s.get("bias_adjustment"),
        backend="in process" if backend is None or backend.kind == "threads"
        else backend.label)


def trial_outcome(table: StudyTable, specs: dict[str, OutcomeSpec], spec: OutcomeSpec, *,
                  settings: Any = None, bias: Any = None, cache: Any = None,
                  **kwargs: Any) -> tuple[FitResult, TrialResult | None]:
    """Fit ``spec`` once (bias-adjusted when ``bias`` is given) and run :func:`run_trial`
    on it; the result is None when the fit failed its convergence gate (no number is
    reported from an unconverged fit)."""
    from ..inference.fitting import fit_outcome

    fit = fit_outcome(table, spec, settings=settings, cache=cache, checks=False, bias=bias)
    if not fit.ok:
        return fit, None
    return fit, run_trial(fit, table, specs, bias=bias, **kwargs)


REPORT_SIMS = 1000
"""Simulated trials per trial and outcome in the report (``trial`` itself: 2000)."""
REPORT_REFITS = 10
"""Most refits per trial and outcome in the report."""


def run_designs(fits: Mapping[str, FitResult], table: StudyTable, specs: dict[str, OutcomeSpec],
                designs: Sequence[TrialDesign], sizes: dict[str, tuple[int, int]] | None = None,
                *, sims: int = REPORT_SIMS, max_refits: int = REPORT_REFITS,
                seed: int | None = None) -> list[JSONObject]:
    """Every design against every converged fit of an outcome its endpoint covers, for the
    report's section "The trials under way".

    A design whose size is not public and not in ``sizes`` gets an entry without numbers
    (``missing``) instead of a default size. Returns one JSON object per design and
    outcome (what the report renders, as ``trial.json`` is): the
    :meth:`TrialResult.as_dict`, or ``{"design", "outcome", "label", "missing"}``.
    """
    sizes = {k.casefold(): v for k, v in (sizes or {}).items()}
    out: list[JSONObject] = []
    for d in designs:
        given = next((sizes[n.casefold()] for n in d.names() if n.casefold() in sizes), None)
        for outcome in d.outcomes:
            fit = fits.get(outcome)
            if fit is None or not fit.ok:
                continue
            if given is None and d.enrollment is None:
                out.append({"design": d.as_dict(), "outcome": outcome,
                            "label": fit.spec.label,
                            "missing": f"the size of {d.id} is not public: give it with "
                                       f"--trial-size {d.id}=N_PREOP,N_POSTOP"})
                continue
            n1, n2, how = arm_sizes(d, given)
            res = run_trial(fit, table, specs, n_preop=n1, n_postop=n2, size_source=how,
                            design=d, sims=sims, max_refits=max_refits, seed=seed)
            out.append(res.as_dict())
    return out
