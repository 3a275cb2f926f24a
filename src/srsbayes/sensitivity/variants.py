"""Data-level sensitivity (leave one study out, reported precision) and power-scaling.

Three questions a sweep asks of the data and of the default fit:

* **Leave one study out.** Does any single study carry the conclusion? Each variant
  refits the model without one study (same priors, resolved once on the full data so
  that only the data change).
* **Reported precision.** The bundled percentages are whole numbers and the event
  counts are reconstructed from them (:func:`srsbayes.data.nearest_count`). Every
  count between ``floor(p n / 100)`` and ``ceil(p n / 100)`` is a candidate, and for
  GRIM-inconsistent percentages neither reproduces the reported value. The variants
  replace the nearest count by the floor, by the ceiling, and by the extreme
  combinations that push the comparison against and in favour of preoperative SRS
  (bounding any rounding-aware likelihood that treats the count as unknown within the
  reported precision). Medians need no such variants: the ``lognormal_median``
  likelihood already integrates over each median's rounding interval.
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
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from ..families import ARMS, FAMILIES
from ..priors.distributions import Prior

PSENSE_THRESHOLD = 0.05
"""Sensitivity above which a parameter is flagged (Kallioinen et al. 2024)."""

PERCENT_RULE = "nearest count"
"""Prefix of ``events_rule`` for counts that :mod:`srsbayes.data` rebuilt from a percentage."""


@dataclass(frozen=True)
class DataVariant:
    """A modified copy of an outcome's per-study table, and what was changed."""

    key: str
    label: str
    kind: str  # "leave-one-out" or "rounding"
    wide: pd.DataFrame
    detail: str = ""
    left_out: str | None = None


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


# -- reported precision ------------------------------------------------------------------------


def count_bounds(percent: float, n: int) -> tuple[int, int]:
    """The whole counts just below and above ``percent`` % of ``n`` (equal when exact).

    >>> count_bounds(11, 48)   # 5.28 events
    (5, 6)
    >>> count_bounds(12.5, 40)  # exactly 5
    (5, 5)
    """
    x = percent * n / 100.0
    # A tolerance so that e.g. 7 % of 100 (7.000000000000001) counts as exact.
    lo = math.floor(x + 1e-9)
    hi = math.ceil(x - 1e-9)
    return int(lo), int(hi)


def _direction(arm: str, sign: int, against: bool) -> int:
    # +1 pushes the arm's value up. Against preop: preop moves opposite to benefit
    # (-sign), postop with it (+sign); in favour of preop the other way round.
    d = -sign if arm == "preop" else sign
    return d if against else -d


ROUNDING = {
    "against": "counts against preop",
    "for": "counts for preop",
    "floor": "counts rounded down",
    "ceil": "counts rounded up",
}
"""Count variants: key -> label (a variant equal to an earlier one or to the data is dropped)."""


def _from_percent(wide: pd.DataFrame, arm: str, i: int) -> bool:
    rule = wide[f"events_rule_{arm}"].iloc[i]
    return isinstance(rule, str) and rule.startswith(PERCENT_RULE)


def count_variants(wide: pd.DataFrame, sign: int) -> list[DataVariant]:
    """Event counts rebuilt from percentages by floor, ceiling, and the two extremes.

    Only arms whose count came from a percentage (``events_rule`` "nearest count ...")
    change; reported counts stay. Variants identical to the nearest-count data or to an
    earlier variant are dropped, so a table with exact counts yields none.

    Parameters
    ----------
    wide
        :func:`srsbayes.data.outcome_table` of a binary outcome.
    sign
        ``spec.sign``: +1 when more events favour preop, -1 when fewer do.
    """
    if not all(f"percent_{a}" in wide and f"events_rule_{a}" in wide for a in ARMS):
        return []
    base = {a: np.asarray(wide[f"events_{a}"], dtype=float) for a in ARMS}
    out: list[DataVariant] = []
    seen: list[list[tuple]] = []
    for key, label in ROUNDING.items():
        new = wide.copy()
        changed = []
        for arm in ARMS:
            events = base[arm].copy()
            for i in range(len(wide)):
                if not _from_percent(wide, arm, i):
                    continue
                lo, hi = count_bounds(float(wide[f"percent_{arm}"].iloc[i]),
                                      int(wide[f"n_{arm}"].iloc[i]))
                if key in ("floor", "ceil"):
                    pick = lo if key == "floor" else hi
                else:
                    pick = hi if _direction(arm, sign, key == "against") > 0 else lo
                if pick != events[i]:
                    changed.append(f"{wide['study'].iloc[i]} {arm} {int(events[i])}->{pick}")
                events[i] = pick
            new[f"events_{arm}"] = events
            new[f"events_rule_{arm}"] = [
                f"{label} (sensitivity)" if _from_percent(wide, arm, i) else r
                for i, r in enumerate(wide[f"events_rule_{arm}"])]
        counts = [tuple(new[f"events_{a}"]) for a in ARMS]
        if changed and counts not in seen:
            seen.append(counts)
            out.append(DataVariant(f"counts:{key}", label, "rounding", new, "; ".join(changed)))
    return out


def rounding_variants(wide: pd.DataFrame, family: str, sign: int) -> list[DataVariant]:
    """The reported-precision variants that apply to ``family``'s data.

    Only families of event counts (:attr:`srsbayes.families.FamilyInfo.count_data`) have
    any: the ``lognormal_median`` likelihood already treats each median as unknown within
    its reported precision (an interval likelihood), so moving the medians would count the
    rounding twice.
    """
    if FAMILIES[family].count_data:
        return count_variants(wide, sign)
    return []


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
