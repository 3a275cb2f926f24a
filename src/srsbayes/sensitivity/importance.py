"""Sweep rows from the reference posterior by Pareto-smoothed importance sampling.

For each row whose route (:mod:`.plan`) is ``prior``, ``loo`` or ``data``, the log
importance ratios of the reference draws (:mod:`.reweight`) are smoothed and the row is
computed from the resampled draws with the same functions as a fit's row
(:func:`.rows.posterior_row`), its P(benefit) carrying the importance-sampling Monte Carlo
error. A row is handed back for a refit, with the reason, when k̂ or the weights' ESS say the
reweighting is unreliable, or when its P(benefit) lies within
:data:`~.verdict.BORDERLINE_MCSE` of those errors of the decision probability (a refit's
smaller error may decide it).

References
----------
Vehtari A, Simpson D, Gelman A, Yao Y, Gabry J (2024). Pareto smoothed importance sampling.
JMLR 25(72):1-58.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import xarray as xr

from ..families import get_family
from ..inference.diagnostics import Diagnostics
from ..inference.fitting import FitSettings
from ..inputs.specs import OutcomeSpec
from .plan import Job
from .reweight import (
    Reweighted,
    data_log_ratios,
    loo_log_ratios,
    psis,
    refit_reason,
    reweight,
)
from .rows import Method, SweepRow, posterior_row
from .verdict import BORDERLINE_MCSE, is_borderline


@dataclass(frozen=True)
class Attempt:
    """A PSIS row, or why the row must be refitted (with the k̂ and ESS that were seen).

    Between :func:`psis_decisions` and :func:`psis_row` an attempt that needs no refit holds
    its reweighting (``reweighted``, with P(benefit)'s importance-sampling ``mcse`` and the
    resampled draws' P(benefit), ``prob_benefit``, which the row will report) and no row
    yet."""

    row: SweepRow | None
    khat: float = math.nan
    ess: float = math.nan
    reason: str = ""
    reweighted: Reweighted | None = None
    mcse: float = math.nan
    prob_benefit: float = math.nan

    @property
    def refit(self) -> bool:
        """Whether the row must be refitted (``reason`` says why)."""
        return self.row is None and self.reweighted is None


def psis_rows(jobs: list[Job], ref: Job, spec: OutcomeSpec, post: xr.Dataset,
              diag: Diagnostics, used: FitSettings,
              loglik_ref: Callable[[], dict[str, xr.DataArray]] | None = None
              ) -> dict[int, Attempt]:
    """An :class:`Attempt` for every job whose route is ``prior``, ``loo`` or ``data``: its
    row, or why it must be refitted (:func:`psis_decisions`, then :func:`psis_row`)."""
    by_index = {j.index: j for j in jobs}
    return {i: a if a.refit else psis_row(by_index[i], spec, a, diag, used)
            for i, a in psis_decisions(jobs, ref, spec, post, diag, used, loglik_ref).items()}


def psis_decisions(jobs: list[Job], ref: Job, spec: OutcomeSpec, post: xr.Dataset,
                   diag: Diagnostics, used: FitSettings,
                   loglik_ref: Callable[[], dict[str, xr.DataArray]] | None = None
                   ) -> dict[int, Attempt]:
    """For every job whose route is ``prior``, ``loo`` or ``data``: whether it is computed
    from the reference posterior or refitted (an :class:`Attempt` whose row is still to be
    made by :func:`psis_row`, or one saying why it is refitted).

    Every rule is applied here, before any row is made, so that the refits can start at
    once: k̂ and the weights' ESS, the support of a changed prior, and the borderline rule
    on the weighted P(benefit) and on the resampled draws' (the row's own P(benefit),
    which :func:`psis_row` reports).

    ``post``, ``diag`` and ``used`` are the reference fit's draws, gate and settings.
    ``loglik_ref`` returns the family's pointwise log-likelihood of ``post`` on the
    reference data (computed here when not given).
    """
    todo = [j for j in jobs if j.route in ("prior", "loo", "data")]
    if not diag.ok:
        return {j.index: Attempt(None, reason="the reference fit failed the convergence gate")
                for j in todo}
    fam = get_family(spec.family)
    if not any(j.route != "prior" for j in todo):
        ll_ref = {}
    else:
        ll_ref = loglik_ref() if loglik_ref else fam.loglik(post, ref.data)
    benefit = (spec.sign * post["effect"] > 0).transpose("chain", "draw").values
    out = {}
    memo: dict = {}  # log prior densities at the reference draws, shared by the prior rows
    for j in todo:
        if j.route == "prior":
            rw = reweight(post, ref.priors, j.priors, used.seed, memo)
        elif j.route == "loo":
            assert j.left_out is not None
            rw = psis(post, loo_log_ratios(post, ll_ref, j.left_out), used.seed)
        else:
            rw = psis(post, data_log_ratios(post, ll_ref, fam.loglik(post, j.data)),
                      used.seed)
        out[j.index] = _decide(spec, rw, benefit)
    return out


def _decide(spec: OutcomeSpec, rw: Reweighted, benefit: np.ndarray) -> Attempt:
    if not rw.usable:
        return Attempt(None, rw.khat, rw.ess, refit_reason(rw))
    assert rw.posterior is not None and rw.weights is not None
    mcse = rw.indicator_mcse(benefit)
    p_weighted = float(np.sum(rw.weights * benefit.ravel()))
    if is_borderline(p_weighted, mcse, spec.decision_probability):
        return _borderline(rw, p_weighted, mcse, spec)
    # the row's P(benefit), as estimates() computes it, from the resampled draws
    p = float((spec.sign * rw.posterior["effect"] > 0).mean())
    if is_borderline(p, mcse, spec.decision_probability):
        return _borderline(rw, p, mcse, spec)
    return Attempt(None, rw.khat, rw.ess, reweighted=rw, mcse=mcse, prob_benefit=p)


def psis_row(job: Job, spec: OutcomeSpec, attempt: Attempt, diag: Diagnostics,
             used: FitSettings) -> Attempt:
    """The row of a job :func:`psis_decisions` computes from the reference posterior: the
    same functions as a fit's row (:func:`.rows.posterior_row`) on the resampled draws,
    P(benefit) carrying the importance-sampling Monte Carlo error. A reweighted row reports
    the reference fit's convergence statistics (its draws are the reference's) and
    ``attempts`` 0 (no sampler run of its own)."""
    rw = attempt.reweighted
    assert rw is not None and rw.posterior is not None
    post = rw.posterior
    if job.route == "loo":  # the left-out study's own parameters follow their prior: drop
        keep = [i for i in range(post.sizes["study"]) if i != job.left_out]
        post = post.isel(study=keep)
    row = posterior_row(job.who, spec, job.priors, job.data, post, replace(diag, attempts=0),
                        used, mcse=attempt.mcse, method=Method.PSIS)
    return Attempt(replace(row, pareto_khat=rw.khat, weights_ess=rw.ess, seconds=0.0),
                   rw.khat, rw.ess)


def _borderline(rw: Reweighted, p: float, mcse: float, spec: OutcomeSpec) -> Attempt:
    return Attempt(None, rw.khat, rw.ess,
                   f"P(benefit) {p:.3f} within {BORDERLINE_MCSE:g} importance-sampling SEs "
                   f"({mcse:.3f}) of {spec.decision_probability:g}")
