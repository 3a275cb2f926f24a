"""Posterior summaries: effects, heterogeneity, prediction and probabilities of benefit.

Every interval is a central (equal-tailed) 95% credible interval whose ends and median are
order statistics of the draws (:mod:`srsbayes.draws`), so a monotone transform commutes
with the summary: the median of exp θ *is* exp of the median of θ, on any machine.
Probabilities of benefit are posterior means of indicator draws.

The numbers come in typed results (:class:`FitSummary`, holding :class:`Estimates`,
:class:`DrawStats`, :class:`ThresholdProbability`, :class:`StudyEffect`) computed from a
fit's posterior and its ``derived`` group (:mod:`srsbayes.inference.derived`);
``summary.json`` is their serialisation (:meth:`FitSummary.as_dict`). A fit that failed its
convergence gate gets no :class:`Estimates` at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from typing import Any, Protocol

import numpy as np
import pandas as pd
import xarray as xr

from ..draws import central_interval
from ..families import get_family, measure_info, threshold_probability
from ..inputs.data import StudyTable
from ..inputs.specs import OutcomeSpec
from ..outputs import JSONObject
from ..priors.distributions import Prior
from ..provenance import package_versions, provenance
from .derived import AT_BASELINE
from .diagnostics import Diagnostics


class Fitted(Protocol):
    """What :func:`summarise` reads of a fit (:class:`srsbayes.inference.fitting.FitResult`)."""

    spec: OutcomeSpec
    priors: dict[str, Prior]
    wide: pd.DataFrame
    idata: xr.DataTree
    diagnostics: Diagnostics
    estimates: Estimates | None

    @property
    def ok(self) -> bool: ...

    @property
    def settings(self) -> Any: ...

@dataclass(frozen=True)
class DrawStats:
    """Mean, SD, median and central 95% interval of draws."""

    mean: float
    sd: float
    median: float
    ci95: tuple[float, float]

    @classmethod
    def of(cls, x: xr.DataArray | np.ndarray) -> DrawStats:
        v = np.asarray(x, dtype=float).ravel()
        lo, med, hi = central_interval(v)
        return cls(float(v.mean()), float(v.std(ddof=1)), med, (lo, hi))

    @classmethod
    def of_signed(cls, x: xr.DataArray | np.ndarray, sign: int) -> DrawStats:
        """Stats of ``x = sign * d`` derived from the stats of ``d`` (the draws preop −
        postop): negating the summary, not re-taking quantiles, so that the benefit's
        interval is exactly the difference's, mirrored. Order-statistic quantiles of
        ``-d`` are not the negated quantiles of ``d`` (the 2.5% point of ``-d`` is a
        different draw from the 97.5% point of ``d``)."""
        if sign >= 0:
            return cls.of(x)
        return cls.of(-np.asarray(x, dtype=float)).negated()

    def negated(self) -> DrawStats:
        """The summary of ``-x``: mean and median negated, the interval mirrored."""
        lo, hi = self.ci95
        return DrawStats(-self.mean, self.sd, -self.median, (-hi, -lo))

    def as_dict(self) -> JSONObject:
        return {"mean": self.mean, "sd": self.sd, "median": self.median,
                "ci95": list(self.ci95)}

    @classmethod
    def from_dict(cls, d: JSONObject) -> DrawStats:
        """The inverse of :meth:`as_dict` (e.g. read back from ``summary.json``)."""
        lo, hi = d["ci95"]
        return cls(float(d["mean"]), float(d["sd"]), float(d["median"]), (float(lo), float(hi)))


def draw_stats(x: xr.DataArray | np.ndarray) -> JSONObject:
    """:class:`DrawStats` of draws as a JSON-ready dict."""
    return DrawStats.of(x).as_dict()


@dataclass(frozen=True)
class ThresholdProbability:
    """P(benefit reaches a clinical threshold), pooled and in a new study."""

    measure: str
    threshold: float
    probability: float
    probability_new_study: float
    rationale: str = ""


@dataclass(frozen=True)
class AtBaseline:
    """Absolute effects at one stated control-arm level (not a model estimate of it)."""

    baseline: float
    label: str
    """What the numbers are conditional on, e.g. "at a stated postop risk of 12%"."""
    effects: dict[str, DrawStats]

    def as_dict(self) -> JSONObject:
        return {"baseline": self.baseline, "label": self.label,
                **{k: v.as_dict() for k, v in self.effects.items()}}


@dataclass(frozen=True)
class Estimates:
    """The headline numbers of a converged fit, shared by ``fit``, sweep rows and the report.

    Attributes
    ----------
    log_effect, effect
        Pooled effect θ on the log scale and as a ratio (exp θ).
    tau
        Between-study standard deviation τ (log scale).
    prediction
        The ratio in a new study, exp(θ + τz).
    prob_benefit, prob_benefit_new_study
        P(preop better): pooled, and in a new study.
    thresholds
        One :class:`ThresholdProbability` per threshold of the spec.
    absolute
        The family's absolute effects (risk difference, months, ...) for a new population
        whose control-arm level is drawn from the family's baseline model.
    at_baseline
        The absolute effects at each stated control-arm level.
    """

    log_effect: DrawStats
    effect: DrawStats
    tau: DrawStats
    prediction: DrawStats
    prob_benefit: float
    prob_benefit_new_study: float
    thresholds: tuple[ThresholdProbability, ...]
    absolute: dict[str, DrawStats]
    at_baseline: tuple[AtBaseline, ...] = ()

    def as_dict(self) -> JSONObject:
        return {
            "log_effect": self.log_effect.as_dict(), "effect": self.effect.as_dict(),
            "tau": self.tau.as_dict(), "prediction": self.prediction.as_dict(),
            "prob_benefit": self.prob_benefit,
            "prob_benefit_new_study": self.prob_benefit_new_study,
            "thresholds": [asdict(t) for t in self.thresholds],
            "absolute": {k: v.as_dict() for k, v in self.absolute.items()},
            "absolute_conditional_on": ABSOLUTE_CONDITIONAL_ON,
            "absolute_role": ABSOLUTE_ROLE,
            "absolute_at_baseline": [a.as_dict() for a in self.at_baseline],
            "absolute_primary": (self.at_baseline[0].as_dict() | {"role": PRIMARY_ROLE}
                                 if self.at_baseline else None),
        }


def estimates(spec: OutcomeSpec, post: xr.Dataset, derived: xr.Dataset) -> Estimates:
    """The headline numbers from the posterior and the fit's ``derived`` group."""
    theta, tau, log_new = post["effect"], post["tau"], derived["log_effect_new"]
    absolute = {k: derived[k] for k in derived.data_vars
                if k not in ("log_effect", "log_effect_new") and not k.startswith(AT_BASELINE)}
    thresholds = tuple(
        ThresholdProbability(t.measure, t.threshold,
                             *threshold_probability(spec.family, t.measure, t.threshold,
                                                    spec.sign, theta, log_new, absolute),
                             t.rationale)
        for t in spec.thresholds)
    shown = measure_info(spec.family, spec.measure).shown  # exp θ, or a difference as is
    return Estimates(
        log_effect=DrawStats.of(theta), effect=DrawStats.of(shown(theta)),
        tau=DrawStats.of(tau), prediction=DrawStats.of(shown(log_new)),
        prob_benefit=float((spec.sign * theta > 0).mean()),
        prob_benefit_new_study=float((spec.sign * log_new > 0).mean()),
        thresholds=thresholds,
        absolute={k: _stats_of(k, v, spec.sign) for k, v in absolute.items()},
        at_baseline=_at_baseline(spec, derived),
    )


def _stats_of(name: str, x: xr.DataArray, sign: int) -> DrawStats:
    """A derived quantity's summary; the signed benefits (``benefit``, ``benefit_new``:
    ``sign`` × preop − postop) by negating the difference's summary
    (:meth:`DrawStats.of_signed`), so they flip exactly with the sign."""
    return DrawStats.of_signed(x, sign) if name.startswith("benefit") else DrawStats.of(x)


ABSOLUTE_CONDITIONAL_ON = ("a new population whose postop level is drawn from the baseline "
                           "model of the studies' postop arms (predictive distribution)")


ABSOLUTE_ROLE = ("secondary: the effect in a new population; the primary absolute effect is "
                 "absolute_primary, at a stated baseline")
PRIMARY_ROLE = ("primary: the summary-of-findings absolute effect at the first stated "
                "baseline (GRADE; Dias et al. 2013, NICE DSU TSD 5), conditional on that "
                "baseline; point estimate = median")


def _at_baseline(spec: OutcomeSpec, derived: xr.Dataset) -> tuple[AtBaseline, ...]:
    if "baseline" not in derived.dims:
        return ()
    fam = get_family(spec.family)
    names = [k for k in derived.data_vars if k.startswith(AT_BASELINE)]
    out = []
    for b in derived["baseline"].values:
        effects = {k[len(AT_BASELINE):]: _stats_of(k[len(AT_BASELINE):],
                                                   derived[k].sel(baseline=b), spec.sign)
                   for k in names}
        label = fam.stated_baseline_label(float(b), spec)  # with its assumption, if any
        out.append(AtBaseline(float(b), label, effects))
    return tuple(out)


def _design(wide: pd.DataFrame, i: int) -> dict[str, str]:
    """The study's design and risk-of-bias judgement, where the table records them."""
    out = {}
    for col in ("design", "rob"):
        if col in wide.columns and isinstance(wide[col].iloc[i], str) and wide[col].iloc[i]:
            out[col] = wide[col].iloc[i]
    return out


@dataclass(frozen=True)
class PosteriorChecks:
    """The posterior-predictive mid-p-values and PSIS-LOO of a converged fit, each None
    when it could not be computed (``errors`` says why, by check)."""

    pvalues: dict[str, list[float]] | None
    loo: JSONObject | None
    errors: dict[str, str]

    def as_dict(self) -> dict[str, object]:
        """``summary.json`` → ``ppc``: the checks that have a value."""
        return {k: v for k, v in (("pvalues", self.pvalues), ("loo", self.loo),
                                  ("errors", self.errors)) if v}


@dataclass(frozen=True)
class StudyEffect:
    """One study's observed effect (on the shown scale: its estimate and 95% interval as
    reported or computed from its data) and its shrunken (posterior) effect."""

    study: str
    estimate: float
    ci95: tuple[float, float]
    shrunken: DrawStats
    design: dict[str, str] = field(default_factory=dict)
    """The study's ``design`` and ``rob`` where the table records them."""

    def as_dict(self) -> dict[str, object]:
        return {"study": self.study, "observed": {"estimate": self.estimate,
                                                  "ci95": list(self.ci95)},
                "shrunken": self.shrunken.as_dict(), **self.design}


@dataclass(frozen=True)
class FitSummary(Mapping[str, Any]):
    """The summary of one fit: what ``summary.json`` holds, typed.

    The fields are the fit's identity, settings and provenance, its gate's diagnostics,
    and, for a converged fit only, its :class:`Estimates`, study effects, family-specific
    numbers, posterior checks and bias analyses. :meth:`as_dict` is ``summary.json``
    (its keys in the order the file has always had). As a read-only mapping it *is* that
    JSON, key by key (``summary["prob_benefit"]``), for readers at the JSON boundary.
    """

    outcome: str
    label: str
    event: str
    family: str
    measure: str
    benefit: str
    studies: tuple[str, ...]
    ok: bool
    decision_probability: float
    diagnostics: Diagnostics
    """The convergence gate's verdict."""
    priors: dict[str, str]
    prior_labels: dict[str, str]
    prior_rationales: dict[str, str]
    seed: int
    draws: int
    tune: int
    chains: int
    target_accept: float
    data: dict[str, str]
    """The study table's ``path`` and ``sha256``."""
    spec_path: str
    versions: dict[str, str]
    provenance: JSONObject
    estimates: Estimates | None = None
    """The headline numbers; None when the fit failed its gate."""
    study_effects: tuple[StudyEffect, ...] = ()
    family_numbers: tuple[tuple[str, Any], ...] = ()
    """The family's own numbers (count rules, NNT, baseline-SD sensitivity,
    ``se_inflation``...), in the order the family gives them."""
    ppc: PosteriorChecks | None = None
    """Posterior-predictive p-values, PSIS-LOO and check errors (fits with checks)."""
    bias_adjustment: JSONObject | None = None
    """A bias-adjusted fit's bias priors, rules and per-study terms."""
    tipping: JSONObject | None = None
    """An unadjusted fit's bias tipping points and reverse-Bayes prior."""
    certainty: JSONObject | None = None
    """The outcome's summary-of-findings row (:meth:`srsbayes.certainty.SoFRow.as_dict`)."""

    @property
    def n_studies(self) -> int:
        return len(self.studies)

    @property
    def prob_benefit(self) -> float:
        """P(preop better), pooled; NaN when the fit failed its gate."""
        return self.estimates.prob_benefit if self.estimates is not None else float("nan")

    @property
    def failures(self) -> tuple[str, ...]:
        """Why the gate failed (empty when it passed)."""
        return self.diagnostics.failures

    def family_number(self, name: str) -> Any:
        """One of the family's own numbers (:attr:`family_numbers`); None when absent."""
        return dict(self.family_numbers).get(name)

    def with_certainty(self, row: JSONObject) -> FitSummary:
        """This summary with the outcome's SoF row."""
        return replace(self, certainty=row)

    def as_dict(self) -> JSONObject:
        """``summary.json`` (see the docs for every key)."""
        return self._json

    @cached_property
    def _json(self) -> JSONObject:
        out: JSONObject = {
            "outcome": self.outcome, "label": self.label, "event": self.event,
            "family": self.family, "measure": self.measure, "benefit": self.benefit,
            "n_studies": self.n_studies, "studies": list(self.studies), "ok": self.ok,
            "decision_probability": self.decision_probability,
            "diagnostics": self.diagnostics.as_dict(), "priors": self.priors,
            "prior_labels": self.prior_labels, "prior_rationales": self.prior_rationales,
            "seed": self.seed, "draws": self.draws, "tune": self.tune, "chains": self.chains,
            "target_accept": self.target_accept, "data": self.data,
            "spec_path": self.spec_path, "versions": self.versions,
            "provenance": self.provenance,
        }
        if self.estimates is not None:
            out.update(self.estimates.as_dict())
            out["study_effects"] = [e.as_dict() for e in self.study_effects]
            out.update(self.family_numbers)
            if self.ppc is not None:
                out["ppc"] = self.ppc.as_dict()
        if self.bias_adjustment is not None:
            out["bias_adjustment"] = self.bias_adjustment
        elif self.tipping is not None:
            out.update(self.tipping)
        if self.certainty is not None:
            out["certainty"] = self.certainty
        return out

    def __getitem__(self, key: str) -> Any:
        return self._json[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._json)

    def __len__(self) -> int:
        return len(self._json)


def summarise(result: Fitted, data: dict[str, np.ndarray], checks: PosteriorChecks | None,
              table: StudyTable) -> FitSummary:
    """The :class:`FitSummary` of a fit (``summary.json``: :meth:`FitSummary.as_dict`).

    A fit that failed its convergence gate carries its diagnostics and provenance but no
    estimate: nothing downstream can print a number from it.
    """
    spec = result.spec
    head = FitSummary(
        outcome=spec.id, label=spec.label, event=spec.event, family=spec.family,
        measure=measure_info(spec.family, spec.measure).measure, benefit=spec.benefit,
        studies=tuple(result.wide["study"]), ok=result.ok,
        decision_probability=spec.decision_probability,
        diagnostics=result.diagnostics,
        priors={k: str(v) for k, v in result.priors.items()},
        prior_labels={k: v.display for k, v in result.priors.items()},
        prior_rationales=spec.rationales,
        seed=result.settings.seed, draws=result.settings.draws, tune=result.settings.tune,
        chains=result.settings.chains, target_accept=result.settings.target_accept,
        data={"path": table.path, "sha256": table.sha256}, spec_path=spec.path,
        versions=package_versions(),
        provenance=provenance(
            table=table, specs=[spec], priors={spec.id: result.priors},
            seed=result.settings.seed,
            settings={k: getattr(result.settings, k)
                      for k in ("draws", "tune", "chains", "target_accept")}))
    if not result.ok:
        return head
    fam = get_family(spec.family)
    post = result.idata["posterior"].to_dataset()
    derived = result.idata["derived"].to_dataset()
    est = result.estimates
    assert est is not None  # a converged fit always has them
    observed = fam.observed_effects(result.wide)
    shrunk = measure_info(spec.family, spec.measure).shown(post["effect"] + post["delta"])
    effects = tuple(
        StudyEffect(s, float(o.estimate), (float(o.lo), float(o.hi)),
                    DrawStats.of(shrunk.isel(study=i)), _design(result.wide, i))
        for i, (s, o) in enumerate(zip(result.wide["study"], observed.itertuples(),
                                       strict=True)))
    numbers: dict[str, Any] = {}
    absolute = {k: derived[k] for k in derived.data_vars}
    numbers.update(fam.extra_summary(result.wide, data, absolute))
    sensitivity = fam.baseline_sensitivity(data, result.priors, result.settings.seed)
    if sensitivity is not None:  # what the new-population baseline rests on
        numbers["baseline_sd_sensitivity"] = sensitivity
    numbers.update(fam.posterior_summary(post))  # family-specific, e.g. se_inflation
    return replace(head, estimates=est, study_effects=effects,
                   family_numbers=tuple(numbers.items()), ppc=checks)
