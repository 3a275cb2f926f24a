"""Posterior summaries: effects, heterogeneity, prediction and probabilities of benefit.

Every interval is a central (equal-tailed) 95% credible interval. Probabilities of
benefit are posterior means of indicator draws. The predictive effect of a new study
draws ``theta + tau * z`` with ``z ~ Normal(0, 1)`` once per posterior draw (Higgins,
Thompson & Spiegelhalter 2009, J R Stat Soc A 172:137-159).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from ..families import FAMILIES, get_family, threshold_probability
from ..inputs.data import StudyTable
from ..outputs import package_versions

if TYPE_CHECKING:
    from .fitting import FitResult


def draw_stats(x: xr.DataArray | np.ndarray) -> dict[str, Any]:
    """Mean, SD, median and central 95% interval of draws."""
    v = np.asarray(x, dtype=float).ravel()
    lo, med, hi = np.quantile(v, [0.025, 0.5, 0.975])
    return {"mean": float(v.mean()), "sd": float(v.std(ddof=1)), "median": float(med),
            "ci95": [float(lo), float(hi)]}


def _per_study(x: xr.DataArray) -> list[dict[str, Any]]:
    return [draw_stats(x.isel(study=i)) for i in range(x.sizes["study"])]


def summarise(result: FitResult, post: xr.Dataset, data: dict[str, np.ndarray],
              rng: np.random.Generator, checks: dict[str, Any], table: StudyTable
              ) -> dict[str, Any]:
    """Build the ``summary.json`` dict of a fit (see the README for every key)."""
    spec, fam = result.spec, get_family(result.spec.family)
    theta, tau = post["effect"], post["tau"]
    log_new = theta + tau * xr.DataArray(rng.standard_normal(theta.shape), dims=theta.dims)
    absolute = fam.absolute_effects(post, spec, rng, log_new)
    shrunk = _per_study(np.exp(theta + post["delta"]))
    observed = fam.observed_effects(result.wide)
    thresholds = []
    for t in spec.thresholds:
        p, p_new = threshold_probability(spec.family, t.measure, t.threshold, spec.sign,
                                         theta, log_new, absolute)
        thresholds.append({"measure": t.measure, "threshold": t.threshold, "probability": p,
                           "probability_new_study": p_new, "rationale": t.rationale})
    summary: dict[str, Any] = {
        "outcome": spec.id,
        "label": spec.label,
        "event": spec.event,
        "family": spec.family,
        "measure": FAMILIES[spec.family].measure,
        "benefit": spec.benefit,
        "n_studies": int(result.wide.shape[0]),
        "studies": list(result.wide["study"]),
        "ok": result.ok,
        "log_effect": draw_stats(theta),
        "effect": draw_stats(np.exp(theta)),
        "tau": draw_stats(tau),
        "prediction": draw_stats(np.exp(log_new)),
        "prob_benefit": float((spec.sign * theta > 0).mean()),
        "prob_benefit_new_study": float((spec.sign * log_new > 0).mean()),
        "decision_probability": spec.decision_probability,
        "thresholds": thresholds,
        "absolute": {k: draw_stats(v) for k, v in absolute.items()},
        "study_effects": [
            {"study": s, "observed": {"estimate": float(o.estimate), "ci95": [float(o.lo),
                                                                           float(o.hi)]},
             "shrunken": sh}
            for s, o, sh in zip(result.wide["study"], observed.itertuples(), shrunk,
                                strict=True)],
        "diagnostics": result.diagnostics.as_dict(),
        "priors": {k: str(v) for k, v in result.priors.items()},
        "prior_labels": {k: v.display for k, v in result.priors.items()},
        "prior_rationales": spec.rationales,
        "seed": result.settings.seed,
        "draws": result.settings.draws,
        "tune": result.settings.tune,
        "chains": result.settings.chains,
        "target_accept": result.settings.target_accept,
        "data": {"path": table.path, "sha256": table.sha256},
        "spec_path": spec.path,
        "versions": package_versions(),
    }
    if hasattr(fam, "extra_summary"):
        summary.update(fam.extra_summary(result.wide, data, absolute))
    if hasattr(fam, "posterior_summary"):  # family-specific parameters, e.g. se_inflation
        summary.update(fam.posterior_summary(post))
    if checks:
        summary["ppc"] = {"pvalues": checks["ppc_pvalues"], "loo": checks["loo"]}
    return summary
