"""Net clinical benefit across outcomes, from joint posterior draws.

Each outcome is fitted separately, so there is no joint posterior: the draws of the
primary absolute benefit (positive favours preop; events per 100 patients, or months) are
paired by index after an independent seeded shuffle of each outcome's draws. That treats
the outcomes' posteriors as independent, although they come from the same cohorts. The
dependence they cannot identify is therefore a sensitivity parameter: the draws are also
paired through a Gaussian copula with an exchangeable correlation ρ between the outcomes'
benefits (:func:`copula_draws`; ρ > 0: a draw that favours preop on one outcome tends to
favour it on the others, as confounding shared by the same cohorts would make it), at
:data:`COPULA_RHOS`, and the smallest ρ at which the verdict changes (the tipping ρ) is
reported. Each outcome's draws are only re-ordered, so every marginal posterior is kept
exactly (the rank re-ordering of Iman & Conover 1982, Commun Stat Simul Comput 11:311).
A joint multivariate random-effects model of the outcomes (Riley et al. 2007, Stat Med
26:78; Wei & Higgins 2013, Stat Med 32:1191) would estimate that dependence, but four
cohorts say little about it. From the paired draws:

* the probability that every criterion holds at once, e.g. P(LMD reduced by >= 5 points
  and RN reduced and LC not worse by more than 3 points);
* a weighted net benefit sum_o w_o * benefit_o (weights per point or month, set by a team)
  with its probability of being positive and a verdict at the decision probability;
* the verdict's sensitivity to the weights: every combination of the grid's multipliers
  applied to each weighted outcome;
* the verdict's sensitivity to the correlation ρ, and the tipping ρ.

Weights apply to mutually exclusive patient states: an outcome whose events include
another's (``contains``, e.g. distant brain failure counted with leptomeningeal disease)
is weighted as the state "that outcome without the contained ones", whose benefit is the
difference of the two benefits (:mod:`srsbayes.certainty.weights`). The net benefit is in
weighted events avoided per 100 patients (one unit = one event of weight 1).

A weighted sum of absolute benefits is the additive multi-criteria value model of
decision analysis (e.g. Mussen, Salek & Walker 2007, Pharmacoepidemiol Drug Saf 16:S2-S15);
the weights are value judgements, not data.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Literal, TypedDict

import numpy as np

from ..inference.summaries import DrawStats
from .weights import NetBenefitSettings

if TYPE_CHECKING:
    from ..outputs import JSONObject

NET_STREAM = 7
"""Random stream ``default_rng([seed, NET_STREAM])`` of the pairing shuffle."""
COPULA_STREAM = 8
"""Random stream ``default_rng([seed, COPULA_STREAM])`` of the copula's normal draws (the
same draws at every ρ: common random numbers, so the verdict changes smoothly with ρ)."""
COPULA_RHOS = (0.0, 0.3, 0.6, 0.9)
"""Correlations between the outcomes' benefits at which the verdict is reported."""
TIPPING_GRID = tuple(round(0.01 * i, 2) for i in range(100))
"""The ρ searched for the tipping point (0 to 0.99 by 0.01)."""
UNIT = "weighted events avoided per 100 patients"
"""Unit of the net benefit: one event of weight 1 in 100 patients (positive favours preop)."""
ASSUMPTION = ("The outcomes were fitted separately, so their posterior draws are paired by "
              "index after an independent random shuffle: the headline assumes the "
              "outcomes' posteriors are independent (ρ = 0), although the same cohorts "
              "report them; the verdict at correlations ρ between the outcomes' benefits "
              "(Gaussian copula) and the tipping ρ show how much that assumption matters.")


def paired_draws(benefits: dict[str, np.ndarray], seed: int) -> dict[str, np.ndarray]:
    """Each outcome's draws shuffled (seeded, independently, in key order) and cut to the
    shortest, so that index i is one joint draw."""
    rng = np.random.default_rng([seed, NET_STREAM])
    n = min(len(v) for v in benefits.values())
    return {k: rng.permutation(np.asarray(benefits[k], dtype=float))[:n]
            for k in sorted(benefits)}


def copula_draws(paired: dict[str, np.ndarray], rho: float, seed: int
                 ) -> dict[str, np.ndarray]:
    """The draws of :func:`paired_draws` re-ordered so that their ranks follow a Gaussian
    copula with exchangeable correlation ``rho`` (``Z_k = sqrt(rho) W_0 + sqrt(1 - rho)
    W_k``): each outcome keeps exactly its own draws (its marginal posterior), only the
    pairing changes. ``rho = 0`` is an independent pairing."""
    if not 0 <= rho < 1:
        raise ValueError(f"rho must lie in [0, 1), got {rho}")
    keys = sorted(paired)
    n = len(paired[keys[0]])
    w = np.random.default_rng([seed, COPULA_STREAM]).standard_normal((len(keys) + 1, n))
    z = np.sqrt(rho) * w[0] + np.sqrt(1 - rho) * w[1:]
    return {k: np.sort(paired[k])[np.argsort(np.argsort(z[i]))] for i, k in enumerate(keys)}


def state_draws(draws: dict[str, np.ndarray], contains: dict[str, tuple[str, ...]]
                ) -> dict[str, np.ndarray]:
    """The benefit of each weighted, mutually exclusive patient state: an outcome that
    ``contains`` others is the state "it without them", benefit ``b_k - sum_j b_j``."""
    return {k: v - sum((draws[j] for j in contains.get(k, ())), np.zeros(len(v)))
            for k, v in draws.items()}


class NetVerdict(StrEnum):
    """The reading of P(net benefit > 0); its value is the text in JSON and the report."""

    BENEFIT = "net benefit"
    HARM = "net harm"
    INCONCLUSIVE = "inconclusive"


def verdict(p_positive: float, decision_probability: float) -> NetVerdict:
    """``net benefit`` / ``net harm`` when P(net > 0) reaches the decision probability on
    either side, else ``inconclusive``."""
    if p_positive >= decision_probability:
        return NetVerdict.BENEFIT
    if p_positive <= 1 - decision_probability:
        return NetVerdict.HARM
    return NetVerdict.INCONCLUSIVE


class CriterionResult(TypedDict):
    """One criterion of the net benefit and its probability (as ``certainty.json`` has it)."""

    outcome: str
    min_benefit: float
    probability: float
    rationale: str


@dataclass(frozen=True)
class WeightSetting:
    """One setting of the sensitivity grid: multipliers of the weights and its result."""

    multipliers: dict[str, float]
    p_net_positive: float
    verdict: NetVerdict


@dataclass(frozen=True)
class CopulaSetting:
    """The net benefit with the outcomes' benefits correlated ``rho`` (Gaussian copula)."""

    rho: float
    p_all_criteria: float
    p_net_positive: float
    verdict: NetVerdict


@dataclass(frozen=True)
class NetBenefit:
    """Net clinical benefit of preop over postop SRS across outcomes."""

    available: bool
    note: str
    assumption: str
    outcomes: tuple[str, ...] = ()
    n_draws: int = 0
    criteria: tuple[CriterionResult, ...] = ()
    p_all_criteria: float | None = None
    weights: dict[str, float] | None = None
    net: DrawStats | None = None
    p_net_positive: float | None = None
    verdict: NetVerdict | Literal[""] = ""
    sensitivity: tuple[WeightSetting, ...] = ()
    correlation: tuple[CopulaSetting, ...] = ()
    tipping_rho: float | None = None
    """Smallest ρ (0 to 0.99 by 0.01) whose verdict differs from the independent one; None
    when none does."""
    unit: str = UNIT
    contains: dict[str, tuple[str, ...]] | None = None

    @property
    def holds_in(self) -> int:
        """Weight settings whose verdict is the default's."""
        return sum(s.verdict == self.verdict for s in self.sensitivity)

    def as_dict(self) -> JSONObject:
        return {"available": self.available, "note": self.note,
                "assumption": self.assumption, "outcomes": list(self.outcomes),
                "n_draws": self.n_draws, "criteria": list(self.criteria),
                "p_all_criteria": self.p_all_criteria, "weights": self.weights,
                "net": None if self.net is None else self.net.as_dict(),
                "p_net_positive": self.p_net_positive, "verdict": self.verdict,
                "unit": self.unit,
                "states": {k: {"weight": w, "excludes": list((self.contains or {}).get(k, ()))}
                           for k, w in (self.weights or {}).items()},
                "sensitivity": {"settings": [s.__dict__ for s in self.sensitivity],
                                "holds_in": self.holds_in,
                                "n_settings": len(self.sensitivity)},
                "correlation": {"method": "Gaussian copula, exchangeable rho between the "
                                          "outcomes' benefits (rank re-ordering)",
                                "settings": [c.__dict__ for c in self.correlation],
                                "tipping_rho": self.tipping_rho}}


def _net(draws: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    return sum((w * draws[k] for k, w in weights.items() if w), np.zeros(
        len(next(iter(draws.values())))))


def net_benefit(benefits: dict[str, np.ndarray], settings: NetBenefitSettings,
                seed: int) -> NetBenefit:
    """Net clinical benefit from each outcome's absolute-benefit draws.

    Parameters
    ----------
    benefits
        Outcome id -> flattened draws of the absolute benefit (positive favours preop)
        of every outcome whose fit passed its gate.
    settings
        Criteria, weights and grid (:func:`srsbayes.certainty.weights.load_weights`).
    seed
        Seed of the pairing shuffle.

    Returns
    -------
    NetBenefit
        ``available`` is False (with the reason in ``note``) when an outcome the criteria
        or a non-zero weight need has no converged fit.
    """
    weighted = {k for k, w in settings.weights.items() if w}
    needed = ({c.outcome for c in settings.criteria} | weighted
              | {j for k in weighted for j in settings.contains.get(k, ())})
    missing = sorted(needed - set(benefits))
    if missing:
        return NetBenefit(False, "not assessable: no converged fit for "
                          + ", ".join(missing), ASSUMPTION)
    paired = paired_draws({k: benefits[k] for k in needed}, seed)
    draws = copula_draws(paired, 0.0, seed)
    n = len(next(iter(draws.values())))
    weights = {k: w for k, w in settings.weights.items() if w}
    contains = {k: v for k, v in settings.contains.items() if k in weights}
    p_all, criteria = _criteria(draws, settings)
    net = _net(state_draws(draws, contains), weights)
    p = float((net > 0).mean())
    grid = []
    names = sorted(weights)
    states = state_draws(draws, contains)
    for combo in itertools.product(settings.multipliers, repeat=len(names)):
        m = dict(zip(names, combo, strict=True))
        pm = float((_net(states, {k: weights[k] * m[k] for k in names}) > 0).mean())
        grid.append(WeightSetting(m, pm, verdict(pm, settings.decision_probability)))
    dp = settings.decision_probability
    main = verdict(p, dp)

    def at(rho: float) -> CopulaSetting:
        d = draws if rho == 0 else copula_draws(paired, rho, seed)
        pr = float((_net(state_draws(d, contains), weights) > 0).mean())
        return CopulaSetting(rho, _criteria(d, settings)[0], pr, verdict(pr, dp))

    tipping = next((r for r in TIPPING_GRID if at(r).verdict != main), None)
    return NetBenefit(True, "", ASSUMPTION, tuple(sorted(draws)), n, tuple(criteria),
                      p_all, weights, DrawStats.of(net), p, main, tuple(grid),
                      tuple(at(r) for r in COPULA_RHOS), tipping, settings.unit,
                      {k: tuple(v) for k, v in contains.items()})


def _criteria(draws: dict[str, np.ndarray], settings: NetBenefitSettings
              ) -> tuple[float, list[CriterionResult]]:
    """P(every criterion at once) and each criterion's own probability."""
    n = len(next(iter(draws.values())))
    ok = np.ones(n, dtype=bool)
    out = []
    for c in settings.criteria:
        hit = draws[c.outcome] >= c.min_benefit
        ok &= hit
        out.append(CriterionResult(outcome=c.outcome, min_benefit=c.min_benefit,
                                   probability=float(hit.mean()), rationale=c.rationale))
    return float(ok.mean()), out
