"""One sweep row as a typed value, and how a row is computed from posterior draws.

A row is a :class:`SweepRow` (frozen) from the moment it is made to the moment
``sweep.json``/``sweep.csv`` are written: only :meth:`SweepRow.record` turns it into the
column dict those files (and the table the verdict reads) are made of. Every row says how
it was computed (``method``: the reference fit itself, a refit, or Pareto-smoothed
importance sampling of the reference posterior, with its k̂ and the weights' ESS; and, for
a refit, why).

References
----------
Vehtari A, Simpson D, Gelman A, Yao Y, Gabry J (2024). Pareto smoothed importance sampling.
JMLR 25(72):1-58.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from enum import StrEnum
from typing import Literal

import numpy as np
import pandas as pd
import xarray as xr

from ..families import measure_info
from ..inference.derived import derive
from ..inference.diagnostics import Diagnostics
from ..inference.fitting import FitSettings
from ..inference.summaries import estimates
from ..inputs.specs import OutcomeSpec
from ..priors.distributions import Prior
from .verdict import conclusion_text, indicator_mcse

Kind = Literal["prior", "leave-one-out", "rounding", "rate type", "coding", "bias"]
"""What a row varies (a family may declare further model-variant kinds)."""


class Method(StrEnum):
    """How a row's numbers were computed (a ``str``: ``sweep.json`` reads the same)."""

    REFERENCE = "reference"
    """The reference (spec-default) fit itself: the same draws as ``fit``."""
    REFIT = "refit"
    """A NUTS fit of the row's own model, data and priors."""
    PSIS = "psis"
    """Pareto-smoothed importance sampling of the reference posterior (no refit)."""


@dataclass(frozen=True)
class Identity:
    """What a row is: its setting, data and priors (known before anything is sampled)."""

    setting: str
    kind: Kind
    data: str
    data_detail: str
    n_studies: int
    effect_prior: str
    effect_prior_label: str
    tau_prior: str
    tau_prior_label: str
    other_priors: str

    @classmethod
    def of(cls, setting: str, kind: str, data: str, detail: str, n_studies: int,
           priors: Mapping[str, Prior]) -> Identity:
        return cls(setting, kind, data, detail, n_studies,  # type: ignore[arg-type]
                   str(priors["effect"]), priors["effect"].display, str(priors["tau"]),
                   priors["tau"].display,
                   "; ".join(f"{k}={v}" for k, v in priors.items() if k not in ("effect", "tau")))


NAN = math.nan


@dataclass(frozen=True)
class SweepRow:
    """One row of a sweep table.

    Effect numbers are NaN when the row's draws failed the convergence gate. The threshold
    probabilities are ``(column, probability)`` pairs (``p_<measure>_<threshold>``), written
    as columns of their own.
    """

    who: Identity
    ok: bool
    conclusion: str
    meets_decision: bool | None = None
    effect_median: float = NAN
    effect_lo: float = NAN
    effect_hi: float = NAN
    tau_median: float = NAN
    tau_lo: float = NAN
    tau_hi: float = NAN
    prob_benefit: float = NAN
    prob_benefit_mcse: float = NAN
    prob_benefit_new_study: float = NAN
    thresholds: tuple[tuple[str, float], ...] = ()
    failures: str = ""
    attempts: int = 0
    rhat_max: float = NAN
    ess_bulk_min: float = NAN
    ess_tail_min: float = NAN
    divergences: int = 0
    bfmi_min: float = NAN
    method: Method = Method.REFIT
    pareto_khat: float = NAN
    weights_ess: float = NAN
    refit_reason: str = ""
    """Why a row that is not the reference was refitted ("" for the reference and PSIS)."""
    seconds: float = NAN
    """Wall time of the row (provenance, not a column)."""

    @property
    def setting(self) -> str:
        return self.who.setting

    @property
    def kind(self) -> str:
        return self.who.kind

    def record(self) -> dict[str, object]:
        """The row's columns in table order (``seconds`` goes to provenance instead)."""
        out: dict[str, object] = {f.name: getattr(self.who, f.name) for f in fields(Identity)}
        for f in fields(self):
            if f.name in ("who", "thresholds", "seconds", "ok", "conclusion", "meets_decision"):
                continue
            if f.name == "failures":  # the verdict columns come after the effect columns
                out.update({"meets_decision": self.meets_decision,
                            "conclusion": self.conclusion, "ok": self.ok})
            out[f.name] = getattr(self, f.name)
            if f.name == "prob_benefit_new_study":
                out.update(dict(self.thresholds))
        out["method"] = str(self.method)
        return out


def threshold_column(measure: str, threshold: float) -> str:
    """Column name of a threshold probability, e.g. ``p_risk_difference_5``."""
    return f"p_{measure}_{threshold:g}"


def frame(rows: Iterable[SweepRow]) -> pd.DataFrame:
    """The sweep table (one column per :meth:`SweepRow.record` key)."""
    return pd.DataFrame([r.record() for r in rows])


def failed_row(who: Identity, spec: OutcomeSpec, error: str, method: Method = Method.REFIT,
               refit_reason: str = "") -> SweepRow:
    """The row of a setting whose task failed (an exception, a worker that died): no
    estimate, ``ok`` False, the error in ``failures``."""
    nan_thresholds = tuple((threshold_column(t.measure, t.threshold), NAN)
                           for t in spec.thresholds)
    return SweepRow(who, False, conclusion_text(None, spec.decision_probability, NAN),
                    thresholds=nan_thresholds, failures=error, method=method,
                    refit_reason=refit_reason)


def posterior_row(who: Identity, spec: OutcomeSpec, priors: dict[str, Prior],
                  data: dict[str, np.ndarray], post: xr.Dataset, diag: Diagnostics,
                  used: FitSettings, *, mcse: float | None = None,
                  method: Method = Method.REFIT) -> SweepRow:
    """A row from posterior draws ``post`` (a fit's, or reweighted ones).

    The same functions as ``fit_outcome`` on the same draws, so the reference row equals
    ``fit``'s summary exactly. ``mcse`` replaces the ESS-based Monte Carlo error of
    P(benefit) (a reweighted row passes its importance-sampling error); the verdict calls a
    row borderline within 2 MCSE of the decision probability.
    """
    gate = {"failures": "; ".join(diag.failures), "attempts": diag.attempts,
            "rhat_max": diag.rhat_max, "ess_bulk_min": diag.ess_bulk_min,
            "ess_tail_min": diag.ess_tail_min, "divergences": diag.divergences,
            "bfmi_min": diag.bfmi_min}
    if not diag.ok:
        return replace(failed_row(who, spec, gate.pop("failures"), method), **gate)
    # The same arithmetic on the draws without their chain/draw/study labels: xarray then
    # has no indexes to align at each operation (most of the cost on a few thousand draws);
    # a row reads numbers only, never a label.
    bare = xr.Dataset({k: v.variable for k, v in post.data_vars.items()})
    derived = derive(bare, data, priors, spec, used.seed)
    est = estimates(spec, bare, derived)
    # The effect on the scale it is shown (a ratio, or a difference as it is): the quantiles
    # are order statistics, so exp of θ's equals the ratio's exactly.
    shown = measure_info(spec.family, spec.measure).shown
    (lo, hi), med = est.log_effect.ci95, est.log_effect.median
    lo, med, hi = (float(shown(v)) for v in (lo, med, hi))
    p = est.prob_benefit
    if mcse is None:
        mcse = indicator_mcse(spec.sign * bare["effect"] > 0)
    return SweepRow(
        who, True, conclusion_text(p, spec.decision_probability, mcse),
        bool(p >= spec.decision_probability), med, lo, hi, est.tau.median, est.tau.ci95[0],
        est.tau.ci95[1], p, mcse, est.prob_benefit_new_study,
        tuple((threshold_column(t.measure, t.threshold), t.probability)
              for t in est.thresholds), method=method, **gate)
