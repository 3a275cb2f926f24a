"""Likelihood families: one model builder per family, never one per outcome.

This module only declares what each family needs (its prior slots and threshold
measures) so that specs and data can be validated without importing PyMC. The
model code lives in the family modules and is loaded on demand by :func:`get_family`.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any

from ..priors import Support


@dataclass(frozen=True)
class FamilyInfo:
    """Static facts about a likelihood family."""

    name: str
    module: str
    measure: str
    slots: dict[str, Support]
    thresholds: tuple[str, ...]


FAMILIES: dict[str, FamilyInfo] = {
    "binomial": FamilyInfo(
        "binomial", "binomial", "odds_ratio",
        {"effect": "real", "tau": "positive", "baseline": "real"},
        ("risk_difference", "odds_ratio"),
    ),
    "lognormal_median": FamilyInfo(
        "lognormal_median", "lognormal_median", "ratio_of_medians",
        {"effect": "real", "tau": "positive", "baseline": "real", "se_inflation": "positive"},
        ("ratio", "months"),
    ),
}


def get_family(name: str) -> Any:
    """Import and return the family module (it provides ``build_model``, ``model_data``, ...)."""
    return import_module(f"{__name__}.{FAMILIES[name].module}")
