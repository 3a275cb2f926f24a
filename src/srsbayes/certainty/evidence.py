"""What certainty is rated from: one outcome's fit, reduced to plain arrays and numbers.

:func:`from_fit` takes what the rules need from a :class:`~srsbayes.inference.fitting.
FitResult` (its ``summary``, the posterior draws of θ and the absolute benefit, the
studies); everything downstream is a pure function of an :class:`OutcomeEvidence`, so
tests can build one from constructed numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..families import FAMILIES, get_family
from ..inputs.specs import OutcomeSpec
from .risk_of_bias import BiasAdjusted

if TYPE_CHECKING:
    from ..inference.fitting import FitResult
    from ..outputs import JSONObject, JSONValue


@dataclass(frozen=True)
class StudyInfo:
    """One study of an outcome: its patients (both arms), design and risk-of-bias
    judgement (``""`` = not recorded), its observed log effect with standard error, and
    its events (both arms; NaN when the study gives no counts)."""

    study: str
    n: int
    design: str = ""
    rob: str = ""
    estimate: float = float("nan")
    se: float = float("nan")
    events: float = float("nan")


@dataclass(frozen=True)
class Baseline:
    """The control-arm (postop) level of the studies: a risk (0-1) or a median (months),
    with the sentence that says how it was computed."""

    value: float
    label: str


@dataclass(frozen=True)
class OutcomeEvidence:
    """One outcome, as the certainty rules see it.

    Attributes
    ----------
    spec
        The outcome's spec.
    ok
        Whether its fit passed the convergence gate (no number is used otherwise).
    summary
        The fit's ``summary.json`` dict (``effect``, ``tau``, ``absolute`` ...): the JSON
        form :mod:`srsbayes.inference.summaries` writes, read here until a typed fit
        summary replaces it (issue 21).
    studies
        The outcome's studies.
    baseline
        The pooled control-arm level from the data (default baseline of the SoF table);
        ``None`` when the data have no arm-level values (e.g. published contrasts).
    log_effect, benefit
        Flattened posterior draws of θ and of the primary absolute benefit (positive
        favours preop; at the first stated baseline, :func:`primary_benefit`), in the same
        (chain, draw) order; empty when the fit failed.
    bias_adjusted
        The bias-adjusted analysis, read by the risk-of-bias rule.
    """

    spec: OutcomeSpec
    ok: bool
    summary: JSONObject
    studies: tuple[StudyInfo, ...]
    baseline: Baseline | None
    log_effect: np.ndarray = field(default_factory=lambda: np.empty(0))
    benefit: np.ndarray = field(default_factory=lambda: np.empty(0))
    bias_adjusted: BiasAdjusted | None = None
    """The bias-adjusted fit's verdict (:mod:`srsbayes.priors.bias`); None when not run
    (no study is covered by a bias rule, or the measure is a difference)."""

    @property
    def n_patients(self) -> int:
        return sum(s.n for s in self.studies)


def primary_absolute(summary: JSONObject) -> JSONObject:
    """The absolute effects an outcome's certainty and statement read: the fit's primary
    ones (``absolute_primary``, at the first stated baseline, as the SoF table shows them)
    where the fit has them, else its new-population ones (``absolute``)."""
    return summary.get("absolute_primary") or summary["absolute"]


def _text(wide: pd.DataFrame, col: str) -> list[str]:
    if col not in wide.columns:
        return [""] * len(wide)
    return ["" if not isinstance(v, str) else v for v in wide[col]]


def studies_of(wide: pd.DataFrame, spec: OutcomeSpec) -> tuple[StudyInfo, ...]:
    """The studies of an outcome table (:func:`srsbayes.inputs.data.outcome_table`)."""
    obs = get_family(spec.family).observed_effects(wide)
    se = (obs["hi"] - obs["lo"]) / (2 * 1.959963984540054)
    n = np.nan_to_num(patients(wide))
    return tuple(StudyInfo(str(s), int(k), d, r, float(e), float(v), float(ev))
                 for s, k, d, r, e, v, ev
                 in zip(wide["study"], n, _text(wide, "design"), _text(wide, "rob"),
                        obs["estimate"], se, events(wide, spec), strict=True))


def events(wide: pd.DataFrame, spec: OutcomeSpec) -> np.ndarray:
    """Events per study, both arms, for count data (NaN where a study gives none)."""
    if not FAMILIES[spec.family].count_data or "events_preop" not in wide.columns:
        return np.full(len(wide), np.nan)
    return (np.asarray(wide["events_preop"], dtype=float)
            + np.asarray(wide["events_postop"], dtype=float))


def patients(wide: pd.DataFrame) -> np.ndarray:
    """Patients per study, both arms (NaN where not reported)."""
    if "n_preop" in wide.columns:
        return np.asarray(wide["n_preop"], dtype=float) + np.asarray(wide["n_postop"],
                                                                     dtype=float)
    if "n" in wide.columns:
        return np.asarray(wide["n"], dtype=float)
    return np.full(len(wide), np.nan)


def pooled_baseline(wide: pd.DataFrame, spec: OutcomeSpec) -> Baseline | None:
    """The control-arm level of the studies (:func:`srsbayes.families.baseline.pooled_level`:
    the pooled postop risk over the relative-effect model's count sets, or the
    patient-weighted mean postop median), with the sentence that says how it was computed;
    ``None`` when no study reports one."""
    from ..families.baseline import pooled_level

    level = pooled_level(wide, spec.family)
    return None if level is None else Baseline(*level)


def from_fit(result: FitResult, bias_adjusted: BiasAdjusted | None = None
             ) -> OutcomeEvidence:
    """The evidence of one fitted outcome (draws only when the fit passed its gate)."""
    spec, wide = result.spec, result.wide
    studies, base = studies_of(wide, spec), pooled_baseline(wide, spec)
    if not result.ok:
        return OutcomeEvidence(spec, False, result.summary, studies, base)
    post, derived = result.idata["posterior"], result.idata["derived"]
    return OutcomeEvidence(spec, True, result.summary, studies, base,
                           np.asarray(post["effect"], dtype=float).ravel(),
                           primary_benefit(derived), bias_adjusted)


def primary_benefit(derived: Any) -> np.ndarray:
    """Flattened draws of the primary absolute benefit (at the first stated baseline, the
    SoF's), or of the new-population benefit when the fit had no baseline."""
    at = derived.get("at_baseline_benefit") if hasattr(derived, "get") else None
    if at is not None and "baseline" in at.dims and at.sizes["baseline"] > 0:
        return np.asarray(at.isel(baseline=0), dtype=float).ravel()
    return np.asarray(derived["benefit"], dtype=float).ravel()


def bias_adjusted_of(result: FitResult) -> BiasAdjusted:
    """A bias-adjusted fit (``fit_outcome(..., bias=...)``) as the risk-of-bias rule reads it."""
    adj = result.summary.get("bias_adjustment", {})
    rules = "; ".join(f"{r['rule']} ({r['source']})" for r in adj.get("rules", []))
    return BiasAdjusted(result.ok, float(result.summary["prob_benefit"]) if result.ok
                        else float("nan"), rules)


def bias_adjusted_of_row(row: Mapping[str, JSONValue]) -> BiasAdjusted:
    """The bias-adjusted row of a sweep (kind ``bias``) as the risk-of-bias rule reads it:
    the same fit as :func:`bias_adjusted_of` of ``fit_outcome(..., bias=...)`` (same data,
    priors, bias terms and seed)."""
    ok = bool(row["ok"])
    return BiasAdjusted(ok, float(row["prob_benefit"]) if ok else float("nan"),
                        str(row.get("data_detail", "")))
