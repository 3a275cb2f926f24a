"""The typed result of a trial analysis and its JSON form (``trial.json``)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, TypedDict

import numpy as np

from ..draws import quantiles
from ..provenance import Provenance
from .assurance import Proportion, SuccessRule
from .design import TrialDesign
from .preposterior import KHAT_MAX, Updated
from .simulate import Simulated
from .value import Value

if TYPE_CHECKING:
    from ..outputs import JSONObject

class Verdict(StrEnum):
    """The tumour board's reading of P(preop better); its value is the text in JSON."""

    PREOP_BETTER = "preop better"
    INCONCLUSIVE = "inconclusive"
    POSTOP_BETTER = "postop better"


VERDICTS = tuple(Verdict)


class ThresholdToday(TypedDict):
    """P(benefit reaches a threshold of the spec) today, before the trial."""

    measure: str
    threshold: float
    today: float


class TrialProvenance(Provenance):
    """The fit's provenance block (:func:`srsbayes.provenance.provenance`) with what only a
    trial analysis adds."""

    trial_seed: int
    weights_file: str
    max_refits: int
    bias_adjustment: JSONObject | None
    backend: str


class ParetoK(TypedDict):
    """How the preposterior's importance weights fared (Pareto k̂ of each simulated trial)."""

    threshold: float
    max: float | None
    median: float | None
    n_undefined: int
    n_above: int
    n_refitted: int
    n_refit_failed: int
    n_above_not_refitted: int
    refits_possible: bool


def verdict(p_benefit: float, decision_probability: float) -> Verdict:
    """The tumour board's reading of P(preop better) at the spec's decision probability."""
    if p_benefit >= decision_probability:
        return VERDICTS[0]
    if p_benefit <= 1 - decision_probability:
        return VERDICTS[2]
    return VERDICTS[1]


@dataclass(frozen=True)
class Power:
    """Power at one fixed true effect (``effect`` on the analysis scale; ``shown`` on the
    scale the report shows, e.g. the odds ratio), or why it cannot be computed."""

    at: str
    effect: float | None
    shown: float | None
    control_risk: float | None
    power: Proportion | None
    note: str = ""

    def as_dict(self) -> JSONObject:
        return {"at": self.at, "effect": self.effect, "shown": self.shown,
                "control_risk": self.control_risk,
                "power": None if self.power is None else self.power.as_dict(),
                "note": self.note}


@dataclass(frozen=True)
class TrialResult:
    """Assurance, power, preposterior and value of information of one trial of one outcome.

    ``simulated`` and ``updated`` keep every simulated trial (for tests and figures);
    :meth:`as_dict` summarises them.
    """

    outcome: str
    label: str
    design: TrialDesign | None
    n_preop: int
    n_postop: int
    size_source: str
    setup: str
    rule: SuccessRule
    sims: int
    seed: int
    bias_adjusted: bool
    decision_probability: float
    assurance: Proportion
    either_direction: Proportion
    power: tuple[Power, ...]
    p_benefit_today: float
    thresholds_today: tuple[ThresholdToday, ...]
    value: Value
    simulated: Simulated
    updated: Updated
    provenance: TrialProvenance | None = None
    refits_possible: bool = True
    """Whether the outcome can take the trial as a study (refits where k̂ > 0.7)."""

    # -- the preposterior, summarised -----------------------------------------------------

    @property
    def verdict_today(self) -> Verdict:
        return verdict(self.p_benefit_today, self.decision_probability)

    def post_p(self) -> np.ndarray:
        """Post-trial P(benefit) of the trials that have one (failed refits left out)."""
        p = self.updated.p_benefit
        return p[np.isfinite(p)]

    def verdicts_after(self) -> dict[Verdict, float]:
        p = self.post_p()
        v = [verdict(float(x), self.decision_probability) for x in p]
        return {k: float(np.mean([x == k for x in v])) for k in VERDICTS}

    def p_verdict_changes(self) -> float:
        return 1.0 - self.verdicts_after()[self.verdict_today]

    def martingale(self) -> dict[str, float]:
        """Mean post-trial P(benefit) against today's, with its Monte Carlo error."""
        p = self.post_p()
        mean, mcse = float(p.mean()), float(p.std(ddof=1) / np.sqrt(p.size))
        return {"mean_post_trial": mean, "today": self.p_benefit_today, "mcse": mcse,
                "difference": mean - self.p_benefit_today,
                "z": (mean - self.p_benefit_today) / mcse if mcse > 0 else 0.0}

    def khat(self) -> ParetoK:
        u = self.updated
        above = u.khat > KHAT_MAX
        finite = u.khat[np.isfinite(u.khat)]
        return ParetoK(threshold=KHAT_MAX,
                       max=float(finite.max()) if finite.size else None,
                       median=float(np.median(finite)) if finite.size else None,
                       n_undefined=int((~np.isfinite(u.khat)).sum()),
                       n_above=int(above.sum()),
                       n_refitted=int(u.refitted.sum()), n_refit_failed=int(u.failed.sum()),
                       n_above_not_refitted=int((above & ~u.refitted).sum()),
                       refits_possible=self.refits_possible)

    def as_dict(self) -> JSONObject:
        p = self.post_p()
        q = [0.05, 0.25, 0.5, 0.75, 0.95]
        thr_after = []
        for t, row in zip(self.thresholds_today, self.updated.p_thresholds, strict=True):
            r = row[np.isfinite(row)]
            thr_after.append({**t, "post_trial_mean": float(r.mean()),
                              "post_trial_quantiles": dict(zip(map(str, q),
                                                               map(float, quantiles(r, q)),
                                                               strict=True))})
        b = self.updated.benefit[np.isfinite(self.updated.benefit)]
        return {
            "outcome": self.outcome, "label": self.label,
            "design": None if self.design is None else self.design.as_dict(),
            "n_preop": self.n_preop, "n_postop": self.n_postop,
            "size_source": self.size_source, "trial_result": self.setup,
            "success_rule": {"text": self.rule.text, "kind": self.rule.kind,
                             "level": self.rule.level, "meaning": self.rule.describe()},
            "sims": self.sims, "seed": self.seed, "bias_adjusted": self.bias_adjusted,
            "assurance": self.assurance.as_dict(),
            "rule_met_either_direction": self.either_direction.as_dict(),
            "power": [p_.as_dict() for p_ in self.power],
            "today": {"p_benefit": self.p_benefit_today, "verdict": self.verdict_today,
                      "decision_probability": self.decision_probability},
            "post_trial": {
                "p_benefit_quantiles": dict(zip(map(str, q), map(float, quantiles(p, q)),
                                                strict=True)),
                "verdicts": self.verdicts_after(),
                "p_verdict_changes": self.p_verdict_changes(),
                "martingale": self.martingale(),
                "thresholds": thr_after,
                "mean_benefit_quantiles": dict(zip(map(str, q), map(float, quantiles(b, q)),
                                                   strict=True)),
                "pareto_k": self.khat()},
            "value_of_information": self.value.as_dict(),
            "provenance": self.provenance or {},
        }
