"""Priors as values: parsing, validation, run-time slots and the named heterogeneity priors.

Named priors are a registry (:func:`register_named_prior`); the Turner et al. (2015)
predictive priors for heterogeneity are registered here as ``turner(OUTCOME, COMPARISON)``.
"""

from .distributions import NAMED_PRIORS, Prior, parse_prior, register_named_prior
from .heterogeneity import turner_prior

register_named_prior("turner", turner_prior)

__all__ = ["NAMED_PRIORS", "Prior", "parse_prior", "register_named_prior", "turner_prior"]
