"""Net clinical benefit across outcomes, from joint posterior draws.

Each outcome is fitted separately, so there is no joint posterior: the draws of the
absolute benefit (positive favours preop; percentage points, or months) are paired by
index after an independent seeded shuffle of each outcome's draws. That treats the
outcomes' posteriors as independent, although they come from the same cohorts; the output
says so. From the paired draws:

* the probability that every criterion holds at once, e.g. P(LMD reduced by >= 5 points
  and RN reduced and LC not worse by more than 3 points);
* a weighted net benefit sum_o w_o * benefit_o (weights per point or month, set by a team)
  with its probability of being positive and a verdict at the decision probability;
* the verdict's sensitivity to the weights: every combination of the grid's multipliers
  applied to each weighted outcome.

A weighted sum of absolute benefits is the additive multi-criteria value model of
decision analysis (e.g. Mussen, Salek & Walker 2007, Pharmacoepidemiol Drug Saf 16:S2-S15);
the weights are value judgements, not data.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..inference.summaries import DrawStats
from .weights import NetBenefitSettings

NET_STREAM = 7
"""Random stream ``default_rng([seed, NET_STREAM])`` of the pairing shuffle."""
ASSUMPTION = ("The outcomes were fitted separately, so their posterior draws are paired by "
              "index after an independent random shuffle: this assumes the outcomes' "
              "posteriors are independent, although the same cohorts report them; "
              "correlated outcomes would change the joint probabilities.")


def paired_draws(benefits: dict[str, np.ndarray], seed: int) -> dict[str, np.ndarray]:
    """Each outcome's draws shuffled (seeded, independently, in key order) and cut to the
    shortest, so that index i is one joint draw."""
    rng = np.random.default_rng([seed, NET_STREAM])
    n = min(len(v) for v in benefits.values())
    return {k: rng.permutation(np.asarray(benefits[k], dtype=float))[:n]
            for k in sorted(benefits)}


def verdict(p_positive: float, decision_probability: float) -> str:
    """``net benefit`` / ``net harm`` when P(net > 0) reaches the decision probability on
    either side, else ``inconclusive``."""
    if p_positive >= decision_probability:
        return "net benefit"
    if p_positive <= 1 - decision_probability:
        return "net harm"
    return "inconclusive"


@dataclass(frozen=True)
class WeightSetting:
    """One setting of the sensitivity grid: multipliers of the weights and its result."""

    multipliers: dict[str, float]
    p_net_positive: float
    verdict: str


@dataclass(frozen=True)
class NetBenefit:
    """Net clinical benefit of preop over postop SRS across outcomes."""

    available: bool
    note: str
    assumption: str
    outcomes: tuple[str, ...] = ()
    n_draws: int = 0
    criteria: tuple[dict[str, Any], ...] = ()
    p_all_criteria: float | None = None
    weights: dict[str, float] | None = None
    net: DrawStats | None = None
    p_net_positive: float | None = None
    verdict: str = ""
    sensitivity: tuple[WeightSetting, ...] = ()

    @property
    def holds_in(self) -> int:
        """Weight settings whose verdict is the default's."""
        return sum(s.verdict == self.verdict for s in self.sensitivity)

    def as_dict(self) -> dict[str, Any]:
        return {"available": self.available, "note": self.note,
                "assumption": self.assumption, "outcomes": list(self.outcomes),
                "n_draws": self.n_draws, "criteria": list(self.criteria),
                "p_all_criteria": self.p_all_criteria, "weights": self.weights,
                "net": None if self.net is None else self.net.as_dict(),
                "p_net_positive": self.p_net_positive, "verdict": self.verdict,
                "sensitivity": {"settings": [s.__dict__ for s in self.sensitivity],
                                "holds_in": self.holds_in,
                                "n_settings": len(self.sensitivity)}}


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
    needed = {c.outcome for c in settings.criteria} | {k for k, w in settings.weights.items()
                                                       if w}
    missing = sorted(needed - set(benefits))
    if missing:
        return NetBenefit(False, "not assessable: no converged fit for "
                          + ", ".join(missing), ASSUMPTION)
    draws = paired_draws({k: benefits[k] for k in needed}, seed)
    n = len(next(iter(draws.values())))
    ok = np.ones(n, dtype=bool)
    criteria = []
    for c in settings.criteria:
        hit = draws[c.outcome] >= c.min_benefit
        ok &= hit
        criteria.append({"outcome": c.outcome, "min_benefit": c.min_benefit,
                         "probability": float(hit.mean()), "rationale": c.rationale})
    weights = {k: w for k, w in settings.weights.items() if w}
    net = _net(draws, weights)
    p = float((net > 0).mean())
    grid = []
    names = sorted(weights)
    for combo in itertools.product(settings.multipliers, repeat=len(names)):
        m = dict(zip(names, combo, strict=True))
        pm = float((_net(draws, {k: weights[k] * m[k] for k in names}) > 0).mean())
        grid.append(WeightSetting(m, pm, verdict(pm, settings.decision_probability)))
    return NetBenefit(True, "", ASSUMPTION, tuple(sorted(draws)), n, tuple(criteria),
                      float(ok.mean()), weights, DrawStats.of(net), p,
                      verdict(p, settings.decision_probability), tuple(grid))
