"""Likelihood families: one model builder per family, never one per outcome.

This module only declares what each family needs (its prior slots and threshold
measures) so that specs and data can be validated without importing PyMC. The
model code lives in the family modules and is loaded on demand by :func:`get_family`.

A family module provides (see ``binomial.py`` for the reference implementation):

``build_model(k, priors) -> pm.Model``
    The model for ``k`` studies. Data are ``pm.Data`` named as ``model_data`` returns
    them; every prior is a :func:`srsbayes.priors.prior_slot`. Must define the posterior
    variables ``effect`` (θ), ``tau``, ``delta`` (study deviations, dims ``study``).
``model_data(wide) -> dict``
    ``pm.Data`` values from :func:`srsbayes.data.outcome_table`.
``observed(data)``, ``loglik(post, data)``, ``simulate(post, data, rng)``
    Observed values, pointwise log-likelihood and replicated data, keyed by observed name.
``observed_effects(wide) -> DataFrame``
    Per-study empirical estimate with 95% interval (log scale), for forest plots.
``absolute_effects(post, spec, rng, log_effect_new) -> dict``
    Absolute-scale draws; ``benefit`` / ``benefit_new`` are signed so positive = benefit.
``uisd(wide) -> float``
    Unit-information SD for data-scaled heterogeneity priors.
``DIAGNOSTIC_VARS``
    Posterior variables the convergence gate checks.
``extra_summary(wide, data, absolute) -> dict``, ``posterior_summary(post) -> dict``
    Optional: family-specific entries merged into ``summary.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any

from ..priors.distributions import Support


@dataclass(frozen=True)
class FamilyInfo:
    """Static facts about a likelihood family."""

    name: str
    module: str
    measure: str
    slots: dict[str, Support]
    thresholds: tuple[str, ...]
    absolute_measure: str
    """The threshold measure read from the absolute ``benefit`` draws (the other is a ratio)."""


FAMILIES: dict[str, FamilyInfo] = {
    "binomial": FamilyInfo(
        "binomial", "binomial", "odds_ratio",
        {"effect": "real", "tau": "positive", "baseline": "real"},
        ("risk_difference", "odds_ratio"), "risk_difference",
    ),
    "lognormal_median": FamilyInfo(
        "lognormal_median", "lognormal_median", "ratio_of_medians",
        {"effect": "real", "tau": "positive", "baseline": "real", "se_inflation": "positive"},
        ("ratio", "months"), "months",
    ),
}


def threshold_probability(family: str, measure: str, threshold: float, sign: int,
                          log_effect: Any, log_effect_new: Any, absolute: dict[str, Any]
                          ) -> tuple[float, float]:
    """P(benefit reaches a clinical threshold), for the pooled effect and for a new study.

    The family's absolute measure (``risk_difference`` in percentage points, ``months``)
    compares the signed ``benefit`` draws with ``threshold``; its ratio measure
    (``odds_ratio``, ``ratio``) compares the effect with ``threshold`` on the benefit side
    of 1, e.g. P(OR <= 0.8) when fewer events is benefit, P(ratio >= 1.10) for survival.
    """
    import numpy as np

    if measure == FAMILIES[family].absolute_measure:
        return (float((absolute["benefit"] >= threshold).mean()),
                float((absolute["benefit_new"] >= threshold).mean()))
    lt = np.log(threshold)
    return (float((sign * (log_effect - lt) >= 0).mean()),
            float((sign * (log_effect_new - lt) >= 0).mean()))


def get_family(name: str) -> Any:
    """Import and return the family module (it provides ``build_model``, ``model_data``, ...)."""
    return import_module(f"{__name__}.{FAMILIES[name].module}")
