"""Data-level sensitivity (leave one study out, reported precision) and power-scaling.

Three questions a sweep asks of the data and of the default fit:

* **Leave one study out.** Does any single study carry the conclusion? Each variant
  refits the model without one study (same priors, resolved once on the full data so
  that only the data change).
* **Reported precision.** The bundled percentages are whole numbers. By default the
  binomial likelihood treats each count given only as a percentage as unknown within the
  counts whose percentage rounds to the reported one (two neighbours for a GRIM failure;
  :func:`srsbayes.families.binomial.count_set`). The "nearest count" variant instead
  takes the nearest whole count as if reported (the analysis before the rounding-aware
  likelihood), so the sweep shows what the latent counts change. Medians need no such
  variant: the ``lognormal_median`` likelihood already integrates over each median's
  rounding interval.
* **Rate type.** Reported rates may be Kaplan-Meier estimates rather than crude
  proportions. The "all rates Kaplan-Meier" variant widens the count set of every arm
  given as a percentage as for a row marked ``rate_type = km``, so the sweep shows how
  much the conclusion depends on reading the rates as crude.
* **Power scaling.** The default fit's posterior is reweighted as if the prior (or the
  likelihood) were raised to a power near 1 (Pareto-smoothed importance sampling, no
  refit). A sensitivity above 0.05 to the prior flags an informative prior; above 0.05
  to both flags potential prior-data conflict. Each prior is scaled on the scale it is
  stated on (τ² for Turner priors); a uniform prior has constant density and so shows
  no sensitivity whatever its bounds, which the report says where it happens.

References
----------
Kallioinen N, Paananen T, Bürkner P-C, Vehtari A (2024). Detecting and diagnosing prior
and likelihood sensitivity with power-scaling. Stat Comput 34:57.

Brown NJL, Heathers JAJ (2017). The GRIM test: a simple technique detects numerous
anomalies in the reporting of results in psychology. Soc Psychol Personal Sci 8:363-369.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import xarray as xr
from scipy import stats

from ..families import ARMS, FAMILIES, get_family
from ..priors.distributions import Prior

PSENSE_THRESHOLD = 0.05
"""Sensitivity above which a parameter is flagged (Kallioinen et al. 2024)."""


@dataclass(frozen=True)
class DataVariant:
    """A modified copy of an outcome's per-study table, and what was changed."""

    key: str
    label: str
    kind: str  # "leave-one-out", "rounding", "rate type" or "coding"
    wide: pd.DataFrame
    detail: str = ""
    left_out: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    """Model data replaced after ``model_data(wide)``, e.g. ``{"arm_coding": 0.0}``."""


# -- leave one study out -----------------------------------------------------------------------


def leave_one_out(wide: pd.DataFrame) -> list[DataVariant]:
    """One variant per study with that study removed (none when fewer than 3 studies)."""
    if len(wide) < 3:
        return []
    out = []
    for study in wide["study"]:
        sub = wide[wide["study"] != study].reset_index(drop=True)
        out.append(DataVariant(f"loo:{study}", f"without {study}", "leave-one-out", sub,
                               f"{study} left out", left_out=str(study)))
    return out


# -- reported precision and rate type -------------------------------------------------------


def _from_percent(models: list[str]) -> list[bool]:
    return [m != "exact" for m in models]


def _recode(fam: Any, wide: pd.DataFrame, to: str, label: str
            ) -> tuple[pd.DataFrame, list[str]]:
    """A copy of ``wide`` whose arms given as a percentage all use count model ``to``, and
    the arms that changed ("Study A postop")."""
    new, changed = wide.copy(), []
    for arm in ARMS:
        models = fam.count_models(wide, arm)
        recoded = [to if pc else m for m, pc in zip(models, _from_percent(models), strict=True)]
        changed += [f"{s} {arm}" for s, m, r in zip(wide["study"], models, recoded, strict=True)
                    if m != r]
        new[f"count_model_{arm}"] = recoded
        new[f"events_rule_{arm}"] = [
            f"{r} ({label}, sensitivity)" if pc else r
            for r, pc in zip(wide[f"events_rule_{arm}"], _from_percent(models), strict=True)]
    return new, changed


def nearest_count_variant(fam: Any, wide: pd.DataFrame) -> list[DataVariant]:
    """The counts given as percentages taken as the nearest whole count, as if reported.

    The default likelihood sums over every count that reproduces the reported percentage
    (:func:`srsbayes.families.binomial.count_set`); this row fixes each at the nearest one
    (``events_rule`` "nearest count ..."), which is what the analysis did before. None when
    no arm's count set has more than that one count (the row would equal the default).
    ``fam`` is the family module (``count_models``, ``model_data``).
    """
    if not all(f"events_rule_{a}" in wide for a in ARMS):
        return []
    new, _ = _recode(fam, wide, "exact", "taken as exact")
    data = fam.model_data(wide)
    wider = [f"{s} {arm}" for arm in ARMS
             for s, w in zip(wide["study"], data[f"k_width_{arm}"], strict=True) if w > 1]
    if not wider:
        return []
    return [DataVariant("counts:nearest", "nearest counts as reported", "rounding", new,
                        "nearest count taken as exact where the percentage allows "
                        "several counts: " + ", ".join(wider))]


def rate_type_variant(fam: Any, wide: pd.DataFrame) -> list[DataVariant]:
    """Every rate given as a percentage read as a Kaplan-Meier rate (``rate_type = km``).

    Widens each such arm's count set by the design effect of censoring
    (:func:`srsbayes.families.binomial.count_set`). None when no arm is given as a
    percentage or all already are Kaplan-Meier.
    """
    if not all(f"events_rule_{a}" in wide for a in ARMS):
        return []
    new, changed = _recode(fam, wide, "km", "Kaplan-Meier")
    if not changed:
        return []
    return [DataVariant("rates:km", "all rates Kaplan-Meier", "rate type", new,
                        "count set widened as for a Kaplan-Meier rate for " + ", ".join(changed))]


def rounding_variants(wide: pd.DataFrame, family: str, sign: int) -> list[DataVariant]:
    """The reported-precision and rate-type variants that apply to ``family``'s data.

    Only families of event counts (:attr:`srsbayes.families.FamilyInfo.count_data`) have
    any, and their module provides ``count_models(wide, arm)`` and count sets in
    ``model_data`` (``k_width_<arm>``; see :mod:`srsbayes.families.binomial`): the
    ``lognormal_median`` likelihood already treats each median as unknown within its
    reported precision (an interval likelihood). ``sign`` is unused: the count sets have
    no direction (kept for the sweep's call).
    """
    del sign
    if not FAMILIES[family].count_data:
        return []
    fam = get_family(family)
    return nearest_count_variant(fam, wide) + rate_type_variant(fam, wide)


# -- power scaling ---------------------------------------------------------------------------


def stated_log_density(prior: Prior, value: xr.DataArray) -> xr.DataArray:
    """Log density of ``prior`` on the scale it is stated on, at a parameter's draws.

    Turner et al. (2015) priors are stated on τ² (log τ² ~ N(μ, σ²)), so their density is
    that of τ² = ``value ** 2`` (log-normal(μ, σ)); every other prior is stated on the
    parameter itself (:meth:`srsbayes.priors.distributions.Prior.scipy`).
    """
    if prior.dist == "turner":
        mu, sigma = prior.params
        return xr.apply_ufunc(stats.lognorm(s=sigma, scale=math.exp(mu)).logpdf, value**2)
    return xr.apply_ufunc(prior.scipy().logpdf, value)


def log_prior_dataset(post: xr.Dataset, priors: dict[str, Prior]) -> xr.Dataset:
    """Log prior density of every power-scalable prior slot at each posterior draw.

    Power-scaling raises the prior density to a power α (Kallioinen et al. 2024), and a
    density raised to a power is not invariant to a change of variable: for a prior stated
    on τ² and sampled as τ, ``p_τ(τ)^α = p_τ²(τ²)^α (2τ)^α`` while the posterior that
    scales the stated density is ``p_τ²(τ²)^α · 2τ`` in τ; the two differ by the factor
    ``(2τ)^(α - 1)``, which depends on α. So each prior is scaled on the scale it is
    stated on (:func:`stated_log_density`: τ² for Turner priors, the parameter itself
    otherwise), never on the sampler's unconstrained variables, whose Jacobian is part of
    the change of variable, not of the prior. The standard-normal study deviations ``z``
    belong to the random-effects structure, not to a prior choice, and are not scaled.

    Uniform priors are left out: their log density is constant on their support, so
    power-scaling them changes nothing whatever their bounds (see :func:`psense_report`).
    """
    return xr.Dataset({slot: stated_log_density(prior, post[slot])
                       for slot, prior in priors.items() if prior.dist != "uniform"})


def uniform_note(slot: str, prior: Prior) -> str:
    """Why a uniform prior shows no power-scaling sensitivity, and what to do instead."""
    lo, hi = prior.params
    return (f"the {slot} prior is uniform({lo:g}, {hi:g}): its density is constant, so "
            "power-scaling cannot show sensitivity to it whatever its bounds; the bounds "
            "themselves can matter (compare a sweep row with other bounds)")


def _variable_note(variable: str, slot: str, prior: Prior) -> str:
    lo, hi = prior.params
    return (f"{variable}: sensitivity to the uniform({lo:g}, {hi:g}) {slot} prior is 0 by "
            "construction (constant density), whatever its bounds")


def diagnose(prior: float, likelihood: float, threshold: float = PSENSE_THRESHOLD) -> str:
    """Kallioinen et al. (2024) diagnosis, with the rule of arviz_stats ``psense_summary``."""
    if prior >= threshold and likelihood >= threshold:
        return "potential prior-data conflict"
    if prior > threshold > likelihood:
        return "potential strong prior / weak likelihood"
    return "ok"


def psense_report(post: xr.Dataset, priors: dict[str, Prior],
                  log_lik: dict[str, xr.DataArray], *,
                  var_names: tuple[str, ...] = ("effect", "tau")) -> dict[str, Any]:
    """Power-scaling sensitivity of ``var_names`` to the priors and to the likelihood.

    Returns a JSON-ready dict: per variable the sensitivity to all priors jointly and to
    the likelihood (arviz_stats ``psense``: cumulative Jensen-Shannon distance per unit
    log α, α in 0.99-1.01), the sensitivity to each prior alone (``by_prior``), ``flags``
    naming each variable whose prior sensitivity exceeds :data:`PSENSE_THRESHOLD`, and
    ``notes``. A uniform prior's sensitivity is 0 by construction (its density is
    constant), so it is reported as 0 with a note on every variable, not computed.
    """
    from arviz_stats import psense

    tree = xr.DataTree.from_dict({
        "posterior": post[list(var_names)],
        "log_prior": log_prior_dataset(post, priors),
        "log_likelihood": xr.Dataset(log_lik),
    })
    scaled = [s for s, p in priors.items() if p.dist != "uniform"]
    uniform = {s: p for s, p in priors.items() if p.dist == "uniform"}
    notes = [uniform_note(s, p) for s, p in uniform.items()]

    def sensitivity(group: str, slots: list[str] | None = None) -> dict[str, float]:
        if group == "prior" and not slots:  # only uniform priors: nothing to scale
            return dict.fromkeys(var_names, 0.0)
        res = psense(tree, var_names=list(var_names), group=group, group_var_names=slots)
        return {v: round(float(res[v]), 6) for v in var_names}

    joint, lik = sensitivity("prior", scaled), sensitivity("likelihood")
    by_prior = {slot: sensitivity("prior", [slot] if slot in scaled else []) for slot in priors}
    variables: dict[str, dict[str, Any]] = {}
    flags = []
    for v in var_names:
        diagnosis = diagnose(joint[v], lik[v])
        variables[v] = {"prior": joint[v], "likelihood": lik[v], "diagnosis": diagnosis,
                        "notes": [_variable_note(v, s, p) for s, p in uniform.items()]}
        if joint[v] > PSENSE_THRESHOLD:
            main = max(by_prior, key=lambda s, v=v: by_prior[s][v])
            flags.append(f"{v}: {diagnosis} (prior sensitivity {joint[v]:.3f}, mostly from "
                         f"the {main} prior; likelihood sensitivity {lik[v]:.3f})")
    stated = ", ".join(f"{s} (on τ²)" if priors[s].dist == "turner" else s for s in scaled)
    return {
        "method": (f"power-scaling of the prior densities of {stated} on the scale each is "
                   "stated on" if scaled else "no prior power-scaled (all uniform)")
                  + ", and of the whole likelihood; alpha 0.99-1.01, PSIS weights, no refit "
                    "(Kallioinen et al. 2024)",
        "threshold": PSENSE_THRESHOLD,
        "variables": variables,
        "by_prior": by_prior,
        "flags": flags,
        "notes": notes,
        "conflict": [v for v, r in variables.items()
                     if r["prior"] >= PSENSE_THRESHOLD and r["likelihood"] >= PSENSE_THRESHOLD],
    }
