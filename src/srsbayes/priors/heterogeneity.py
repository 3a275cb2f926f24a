"""Empirical and data-scaled priors for the between-study heterogeneity τ.

References
----------
Turner RM, Jackson D, Wei Y, Thompson SG, Higgins JPT (2015). Predictive distributions
for between-study heterogeneity and simple methods for their application in Bayesian
meta-analysis. Stat Med 34:984-998, Table IV (values as tabulated in the R package
bayesmeta, ``TurnerEtAlPrior``).

Röver C, Bender R, Dias S, et al. (2021). On weakly informative prior distributions for
the heterogeneity parameter in Bayesian random-effects meta-analysis. Res Synth Methods
12:448-474, eq. (6) for the unit-information standard deviation.
"""

from __future__ import annotations

import numpy as np

from .distributions import Prior

COMPARISONS = ("pharma_placebo", "pharma_pharma", "nonpharma_placebo",
               "nonpharma_pharma", "nonpharma_nonpharma")
"""Column order of Turner et al. (2015) Table IV."""

# (mu, sigma) of log(tau^2) on the log-odds-ratio scale, one tuple per comparison type.
TURNER_2015: dict[str, tuple[tuple[float, float], ...]] = {
    "mortality": ((-3.95, 1.34), (-4.18, 1.41), (-4.17, 1.55), (-2.92, 1.02), (-3.50, 1.26)),
    "obstetric": ((-3.52, 1.74), (-3.75, 1.79), (-3.74, 1.91), (-2.49, 1.50), (-3.08, 1.68)),
    "cause_specific": ((-3.71, 1.74), (-3.95, 1.79), (-3.93, 1.91), (-2.68, 1.51), (-3.27, 1.68)),
    "resource_use": ((-2.34, 1.74), (-2.58, 1.79), (-2.56, 1.91), (-1.31, 1.50), (-1.90, 1.68)),
    "surgical": ((-2.14, 1.74), (-2.37, 1.79), (-2.36, 1.91), (-1.11, 1.50), (-1.69, 1.68)),
    "withdrawals": ((-2.99, 1.74), (-3.23, 1.79), (-3.21, 1.91), (-1.96, 1.51), (-2.55, 1.68)),
    "internal": ((-2.71, 1.74), (-2.94, 1.79), (-2.93, 1.92), (-1.67, 1.51), (-2.26, 1.68)),
    "general_health": ((-2.29, 1.53), (-2.53, 1.58), (-2.51, 1.72), (-1.26, 1.25), (-1.85, 1.46)),
    "adverse_events": ((-1.87, 1.52), (-2.10, 1.58), (-2.10, 1.71), (-0.84, 1.24), (-1.43, 1.45)),
    "infection": ((-2.49, 1.52), (-2.73, 1.58), (-2.71, 1.71), (-1.46, 1.24), (-2.05, 1.45)),
    "signs_symptoms": ((-2.06, 1.51), (-2.29, 1.58), (-2.28, 1.71), (-1.03, 1.24), (-1.61, 1.45)),
    "pain": ((-1.83, 1.52), (-2.06, 1.58), (-2.05, 1.71), (-0.80, 1.25), (-1.38, 1.45)),
    "quality_of_life": ((-2.54, 1.54), (-2.78, 1.60), (-2.77, 1.73), (-1.51, 1.27), (-2.10, 1.47)),
    "mental_health": ((-2.12, 1.53), (-2.35, 1.60), (-2.34, 1.72), (-1.09, 1.27), (-1.67, 1.47)),
    "biomarkers": ((-1.77, 1.52), (-2.00, 1.58), (-1.99, 1.71), (-0.74, 1.24), (-1.33, 1.45)),
    "subjective": ((-2.70, 1.52), (-2.93, 1.58), (-2.92, 1.71), (-1.67, 1.25), (-2.26, 1.45)),
}
TURNER_GENERAL = (-2.56, 1.74)
"""Marginal predictive distribution over all settings (Turner et al. 2015, p. 993)."""


def turner_prior(outcome: str, comparison: str | None = None) -> Prior:
    """Turner et al. (2015) log-normal prior for τ², as a :class:`Prior` on τ.

    Parameters
    ----------
    outcome
        A key of :data:`TURNER_2015`, or ``"general"`` for the marginal prior.
    comparison
        One of :data:`COMPARISONS` (required unless ``outcome == "general"``).
    """
    if outcome == "general" and comparison is None:
        mu, sigma = TURNER_GENERAL
        label = "Turner 2015, general"
    else:
        if outcome not in TURNER_2015:
            raise KeyError(f"unknown Turner outcome type {outcome!r}; known: general, "
                           + ", ".join(TURNER_2015))
        if comparison not in COMPARISONS:
            raise KeyError(f"unknown Turner comparison {comparison!r}; known: "
                           + ", ".join(COMPARISONS))
        mu, sigma = TURNER_2015[outcome][COMPARISONS.index(comparison)]
        label = f"Turner 2015, {outcome.replace('_', ' ')}, {comparison.replace('_', ' ')}"
    return Prior("turner", (mu, sigma), label=f"{label}: log τ² ~ N({mu:g}, {sigma:g}²)")


def unit_information_sd(n: np.ndarray, se: np.ndarray) -> float:
    """Unit-information SD ``sqrt(sum(n) / sum(se**-2))`` (Röver et al. 2021, eq. 6).

    Parameters
    ----------
    n
        Total patients per study.
    se
        Standard error of each study's effect estimate.
    """
    n, se = np.asarray(n, float), np.asarray(se, float)
    return float(np.sqrt(n.sum() / np.sum(se**-2.0)))


def log_or_se(events_t, n_t, events_c, n_c) -> np.ndarray:
    """Standard error of the empirical log odds ratio (0.5 added to every cell of a zero row)."""
    a, b, c, d = (np.asarray(v, float) for v in (events_t, np.subtract(n_t, events_t),
                                                 events_c, np.subtract(n_c, events_c)))
    cc = np.where((a == 0) | (b == 0) | (c == 0) | (d == 0), 0.5, 0.0)
    return np.sqrt(1 / (a + cc) + 1 / (b + cc) + 1 / (c + cc) + 1 / (d + cc))


def resolve_uisd(prior: Prior, uisd: float) -> Prior:
    """Turn ``uisd(fraction)`` into ``halfnormal(fraction * uisd)`` for the data at hand."""
    if prior.dist != "uisd":
        return prior
    scale = prior.params[0] * uisd
    return Prior("halfnormal", (scale,),
                 label=prior.label or f"half-normal({prior.params[0]:g} × UISD = {scale:.2f})")
