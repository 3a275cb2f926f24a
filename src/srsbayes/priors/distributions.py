"""Prior distributions as values: parse, validate, merge, label and place in a model.

A prior is a small immutable value (``Prior("halfnormal", (0.5,))``) written in
specs and on the command line as ``halfnormal(0.5)``. Priors are merged by key
over an outcome's defaults and unknown keys are errors (the pymc-marketing
convention).

Inside a model every prior occupies a *slot*: one unconstrained free variable
whose density is selected at run time from ``pm.Data`` (a distribution code and
three hyperparameters). Swapping the prior therefore never recompiles the model,
which is what makes prior-sensitivity sweeps cheap. The density of each family
is written out by hand below and checked against :mod:`scipy.stats` in the
tests; draws come from :mod:`scipy.stats`, so simulation-based calibration
exercises both implementations against each other.

References
----------
Turner RM, Jackson D, Wei Y, Thompson SG, Higgins JPT (2015). Predictive
distributions for between-study heterogeneity and simple methods for their
application in Bayesian meta-analysis. Stat Med 34:984-998.

Röver C, Bender R, Dias S, et al. (2021). On weakly informative prior
distributions for the heterogeneity parameter in Bayesian random-effects
meta-analysis. Res Synth Methods 12:448-474.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from ..errors import InputError
from ..values import is_ascii_number

if TYPE_CHECKING:
    from scipy import stats

Support = Literal["real", "positive"]


@dataclass(frozen=True)
class DistDef:
    """One distribution family that a prior slot can hold."""

    code: int
    params: tuple[str, ...]
    support: Support | Literal["any"]
    doc: str


# Codes identify the density a name maps to (turner is a log-normal, uisd a half-normal).
DISTRIBUTIONS: dict[str, DistDef] = {
    "normal": DistDef(0, ("mu", "sigma"), "real", "Normal(mu, sigma)"),
    "studentt": DistDef(1, ("nu", "mu", "sigma"), "real", "Student-t(nu, mu, sigma)"),
    "uniform": DistDef(2, ("lower", "upper"), "any", "Uniform(lower, upper)"),
    "halfnormal": DistDef(3, ("sigma",), "positive", "Half-normal(sigma)"),
    "halfcauchy": DistDef(4, ("beta",), "positive", "Half-Cauchy(beta)"),
    "halfstudentt": DistDef(5, ("nu", "sigma"), "positive", "Half-Student-t(nu, sigma)"),
    "lognormal": DistDef(6, ("mu", "sigma"), "positive", "Log-normal(mu, sigma)"),
    "turner": DistDef(
        6, ("mu", "sigma"), "positive", "Turner et al. (2015): log(tau^2) ~ Normal(mu, sigma)"
    ),
    "uisd": DistDef(
        3, ("fraction",), "positive",
        "Half-normal(fraction * unit-information SD of the data), Röver et al. (2021)",
    ),
}
"""Distribution families by name (``turner`` and ``uisd`` are re-expressed ones)."""

N_HYPER = 3


@dataclass(frozen=True)
class Prior:
    """A prior distribution given by family name and hyperparameters.

    Parameters
    ----------
    dist
        Family name, a key of :data:`DISTRIBUTIONS`.
    params
        Hyperparameters in the order of ``DISTRIBUTIONS[dist].params``.
    label
        Optional human-readable label for tables and plots.
    """

    dist: str
    params: tuple[float, ...]
    label: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.dist}({', '.join(_fmt(p) for p in self.params)})"

    @property
    def display(self) -> str:
        """Label if one was given, else the canonical text."""
        return self.label or str(self)

    @property
    def support(self) -> Support | Literal["any"]:
        return DISTRIBUTIONS[self.dist].support

    def canonical(self) -> tuple[int, tuple[float, float, float]]:
        """Slot encoding: (distribution code, three hyperparameters)."""
        d, p = self.dist, self.params
        if d == "turner":  # log tau^2 ~ N(mu, s)  <=>  log tau ~ N(mu/2, s/2)
            p = (p[0] / 2.0, p[1] / 2.0)
        if d == "uisd":
            raise InputError(f"{self}: resolve against data first (see resolve_uisd)")
        padded = (*p, *(1.0,) * (N_HYPER - len(p)))
        return DISTRIBUTIONS[d].code, tuple(float(x) for x in padded)  # type: ignore[return-value]

    def scipy(self) -> stats.rv_continuous:
        """The equivalent frozen :mod:`scipy.stats` distribution (for draws and log densities)."""
        from scipy import stats  # 0.4-0.6 s to import; parsing and slots do not need it

        code, (a, b, c) = self.canonical()
        name = next(k for k, v in DISTRIBUTIONS.items() if v.code == code)
        match name:
            case "normal":
                return stats.norm(a, b)
            case "studentt":
                return stats.t(a, loc=b, scale=c)
            case "uniform":
                return stats.uniform(a, b - a)
            case "halfnormal":
                return stats.halfnorm(scale=a)
            case "halfcauchy":
                return stats.halfcauchy(scale=a)
            case "halfstudentt":
                return _HalfT(a, b)
            case "lognormal":
                return stats.lognorm(s=b, scale=math.exp(a))
        raise AssertionError(name)  # pragma: no cover


class _HalfT:
    """Half-Student-t with the two methods srsbayes needs (scipy has no such family)."""

    def __init__(self, nu: float, sigma: float) -> None:
        from scipy import stats

        self._t = stats.t(nu, scale=sigma)

    def rvs(self, size=None, random_state=None):
        return np.abs(self._t.rvs(size=size, random_state=random_state))

    def logpdf(self, x):
        x = np.asarray(x, dtype=float)
        return np.where(x >= 0, math.log(2.0) + self._t.logpdf(x), -np.inf)

    def ppf(self, q):
        return self._t.ppf(0.5 + np.asarray(q) / 2.0)


def _fmt(x: float) -> str:
    # Shortest text that parses back to the same float, so str(prior) round-trips.
    s = repr(float(x))
    return s[:-2] if s.endswith(".0") else s


_CALL = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\((.*)\)\s*$")


NAMED_PRIORS: dict[str, Callable[..., Prior]] = {}
"""Named priors: ``name(word, ...)`` in a spec or on the command line calls the factory
with the words (e.g. ``turner(subjective, pharma_placebo)``, registered by
:mod:`srsbayes.priors`). A name that is also a distribution takes numbers as that
distribution's parameters."""


def register_named_prior(name: str, factory: Callable[..., Prior]) -> Callable[..., Prior]:
    """Make ``name(...)`` resolve to ``factory(*words)`` wherever priors are parsed."""
    NAMED_PRIORS[name.lower()] = factory
    return factory


def parse_prior(text: str, *, where: str | None = None, file: str | None = None) -> Prior:
    """Parse ``name(p1, p2, ...)`` into a validated :class:`Prior`.

    Parameters
    ----------
    text
        E.g. ``"halfnormal(0.5)"``, ``"normal(0, 1.5)"``, ``"turner(-2.56, 1.74)"``,
        or a named Turner et al. (2015) setting such as ``"turner(subjective, pharma_placebo)"``.
    where
        Name of the prior slot (for error messages).
    file
        File the text came from (for error messages).
    """
    m = _CALL.match(text or "")
    if not m:
        raise InputError(f"cannot parse prior {text!r}; expected e.g. 'halfnormal(0.5)'",
                         file=file, column=where)
    name, argtext = m.group(1).lower(), m.group(2).strip()
    args = [a.strip() for a in argtext.split(",")] if argtext else []
    factory = NAMED_PRIORS.get(name)
    if factory is not None and (name not in DISTRIBUTIONS or (args and not _is_number(args[0]))):
        try:
            prior = factory(*args)
        except (TypeError, KeyError, ValueError) as exc:
            raise InputError(str(exc).strip("'\""), file=file, column=where) from None
        _check_params(prior.dist, prior.params, file=file, where=where)
        return prior
    if name not in DISTRIBUTIONS:
        known = ", ".join([*DISTRIBUTIONS, *(n for n in NAMED_PRIORS if n not in DISTRIBUTIONS)])
        raise InputError(f"unknown distribution {name!r}; known: {known}", file=file,
                         column=where)
    spec = DISTRIBUTIONS[name]
    if len(args) != len(spec.params) or not all(_is_number(a) for a in args):
        raise InputError(
            f"{name} takes {len(spec.params)} number(s) ({', '.join(spec.params)}), got {text!r}",
            file=file, column=where)
    params = tuple(float(a) for a in args)
    _check_params(name, params, file=file, where=where)
    return Prior(name, params)


def _is_number(s: str) -> bool:
    # ASCII decimals only, as in the study table (float() also reads '1_0', '١' and 'inf')
    return is_ascii_number(s) and math.isfinite(float(s))


LOCATION_MAX = 100.0
"""Largest ``|mu|`` of a location and ``|bound|`` of a uniform prior. Every slot is on a log
or log-odds scale (a location of 100 is an odds ratio of e^100 = 2.7e43), so nothing
plausible is refused; beyond it the sampler meets overflowing densities (``normal(1e308,
1)`` failed every initialisation, then crashed)."""
SCALE_RANGE = (1e-3, 1e3)
"""Admissible scales (``sigma``, ``beta``, ``fraction``) and widths of a uniform prior, on
the same scales: ``normal(0, 1e-300)`` or ``halfnormal(1e-320)`` made every density
overflow (a crash), and a scale of 1000 is already flat over any plausible effect."""
NU_RANGE = (0.5, 1e3)
"""Admissible degrees of freedom: below 0.5 the tails are too heavy to sample
(``studentt(1e-300, 0, 1)`` crashed the sampler), above 1000 a Student-t is a normal."""

_ROLE = {"mu": "location", "lower": "location", "upper": "location", "nu": "nu"}


def admissible_ranges() -> dict[str, str]:
    """The documented range of each kind of prior parameter (for messages and docs)."""
    lo, hi = SCALE_RANGE
    return {"location": f"between -{_fmt(LOCATION_MAX)} and {_fmt(LOCATION_MAX)}",
            "scale": f"between {_fmt(lo)} and {_fmt(hi)}",
            "nu": f"between {_fmt(NU_RANGE[0])} and {_fmt(NU_RANGE[1])}"}


def _check_params(name: str, p: tuple[float, ...], *, file: str | None, where: str | None) -> None:
    """Positive scales, ``lower < upper``, and every parameter in its admissible range
    (:data:`LOCATION_MAX`, :data:`SCALE_RANGE`, :data:`NU_RANGE`)."""
    scale_like = {"normal": [1], "studentt": [0, 2], "halfnormal": [0], "halfcauchy": [0],
                  "halfstudentt": [0, 1], "lognormal": [1], "turner": [1], "uisd": [0]}
    for i in scale_like.get(name, []):
        if p[i] <= 0:
            param = DISTRIBUTIONS[name].params[i]
            raise InputError(f"{name}: {param} must be > 0, got {_fmt(p[i])}",
                             file=file, column=where)
    if name == "uniform" and not p[0] < p[1]:
        raise InputError(f"uniform: lower must be < upper, got {p}", file=file, column=where)
    ranges = {"location": (-LOCATION_MAX, LOCATION_MAX), "scale": SCALE_RANGE, "nu": NU_RANGE}
    for param, x in zip(DISTRIBUTIONS[name].params, p, strict=True):
        role = _ROLE.get(param, "scale")
        lo, hi = ranges[role]
        if not lo <= x <= hi:
            raise InputError(f"{name}: {param} = {_fmt(x)} is outside its admissible range "
                             f"({role}s must be {admissible_ranges()[role]}; docs/priors.md)",
                             file=file, column=where)
    if name == "uniform" and p[1] - p[0] < SCALE_RANGE[0]:
        raise InputError(f"uniform: upper - lower = {_fmt(p[1] - p[0])} is below "
                         f"{_fmt(SCALE_RANGE[0])}, the narrowest admissible width "
                         "(docs/priors.md)", file=file, column=where)


def check_support(slot: str, prior: Prior, support: Support, *, file: str | None = None) -> None:
    """Reject priors whose support does not fit the parameter (e.g. a half-normal on θ)."""
    if prior.support == "any":
        if support == "positive" and prior.params[0] < 0:
            raise InputError(f"{prior}: '{slot}' is positive, so lower must be >= 0",
                             file=file, column=slot)
        return
    if prior.support != support:
        need = "the whole real line" if support == "real" else "positive values"
        raise InputError(f"{prior} does not fit '{slot}', which needs a prior on {need}",
                         file=file, column=slot)


def merge_priors(
    defaults: Mapping[str, Prior],
    overrides: Mapping[str, Prior],
    supports: Mapping[str, Support],
    *,
    source: str = "--prior",
) -> dict[str, Prior]:
    """Merge prior overrides into defaults by key; unknown keys are errors.

    Parameters
    ----------
    defaults
        The outcome spec's priors.
    overrides
        Priors given by the user (command line or sweep grid).
    supports
        The family's slot names and their supports; the only allowed keys.
    source
        Where the overrides came from, for messages.
    """
    unknown = sorted(set(overrides) - set(supports))
    if unknown:
        raise InputError(f"unknown prior name {unknown[0]!r}; known: {', '.join(supports)}",
                         file=None if source == "--prior" else source, column=source
                         if source == "--prior" else unknown[0])
    merged = {**defaults, **overrides}
    for slot, prior in merged.items():
        check_support(slot, prior, supports[slot])
    return merged


def parse_assignment(text: str) -> tuple[str, Prior]:
    """Parse a command-line ``NAME=DIST`` prior override."""
    name, sep, dist = text.partition("=")
    if not sep or not name.strip():
        raise InputError(f"expected NAME=DIST, got {text!r}", column="--prior")
    # named as the option the user typed, with the slot: "column '--prior effect'"
    return name.strip(), parse_prior(dist, where=f"--prior {name.strip()}")


# -- model side --------------------------------------------------------------------------------
#
# Every family reduces to one kernel on w = raw (real slots, log-normal) or w = exp(raw)
# (half-* families on positive slots):
#     lp = const - log(scale) + a * z**2 + b * log1p(z**2 / nu) + h * raw,   z = (w - loc) / scale
# normal: a = -1/2, b = 0;  Student-t: a = 0, b = -(nu + 1)/2;  const holds the normalising
# constant (and log 2 for half families), h = 1 is the Jacobian of the exp map. Uniform
# priors use value = lower + (upper - lower) * sigmoid(raw) instead. Passing these
# coefficients as data keeps the compiled graph tiny: a branch per family made numba
# compilation several times slower.

SLOT_FIELDS = ("uniform", "half", "loc", "scale", "nu", "a", "b", "const", "lower", "upper")


def slot_coefficients(prior: Prior) -> np.ndarray:
    """The slot's data vector (see :data:`SLOT_FIELDS`) that encodes ``prior``."""
    code, (p0, p1, p2) = prior.canonical()
    name = next(k for k, v in DISTRIBUTIONS.items() if v.code == code)
    log2 = math.log(2.0)
    norm_const = -0.5 * math.log(2 * math.pi)

    def t_const(nu: float) -> float:
        return math.lgamma((nu + 1) / 2) - math.lgamma(nu / 2) - 0.5 * math.log(nu * math.pi)

    half, loc, scale, nu, a, b, const = 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0
    lower, upper, uniform = 0.0, 1.0, 0.0
    match name:
        case "normal" | "lognormal":
            loc, scale, a, const = p0, p1, -0.5, norm_const
        case "studentt":
            nu, loc, scale, b, const = p0, p1, p2, -(p0 + 1) / 2, t_const(p0)
        case "halfnormal":
            half, scale, a, const = 1.0, p0, -0.5, norm_const + log2
        case "halfcauchy":
            half, scale, b, const = 1.0, p0, -1.0, t_const(1.0) + log2
        case "halfstudentt":
            half, nu, scale, b, const = 1.0, p0, p1, -(p0 + 1) / 2, t_const(p0) + log2
        case "uniform":
            uniform, lower, upper = 1.0, p0, p1
    return np.array([uniform, half, loc, scale, nu, a, b, const, lower, upper], dtype=float)


def slot_data(name: str, prior: Prior) -> dict[str, np.ndarray]:
    """``pm.Data`` values that put ``prior`` into the slot called ``name``."""
    return {f"{name}_prior_coef": slot_coefficients(prior)}


def prior_slot(name: str, prior: Prior, support: Support, *, dims: str | None = None,
               bound: float = 0.0):
    """Create a parameter whose prior density is chosen at run time (inside a ``pm.Model``).

    The free variable ``{name}_raw`` lives on the real line; the parameter is
    ``bound + exp(raw)`` (positive slots) or ``raw`` (real slots), except for uniform
    priors, which use ``lower + (upper - lower) * sigmoid(raw)`` (with ``lower`` raised to
    ``bound``) so that NUTS never meets a hard boundary. The log-Jacobian of either map is
    added to the prior density, which is registered as ``pm.Potential(f"{name}_prior")``.

    A positive slot with ``bound > 0`` holds the prior truncated to ``(bound, inf)``: the
    density is the stated one, renormalised (a constant, so it is left out).

    Returns
    -------
    pytensor.tensor.TensorVariable
        The parameter, registered as ``pm.Deterministic(name, ...)``.
    """
    import pymc as pm
    import pytensor.tensor as pt

    coef = pm.Data(f"{name}_prior_coef", slot_coefficients(prior))
    uniform, half, loc, scale, nu, a, b, const, lower, upper = (coef[i] for i in range(10))
    raw = pm.Flat(f"{name}_raw", dims=dims)
    is_uniform = pt.gt(uniform, 0.5)
    jacobian = half * raw
    if support == "positive" and bound > 0:
        # Half-families are stated on the parameter (d param / d raw = exp(raw)); log-scale
        # families on its log (d log(param) / d raw = exp(raw) / param).
        natural = bound + pt.exp(raw)
        w = pt.switch(pt.gt(half, 0.5), natural, pt.log(natural))
        jacobian = raw - (1 - half) * pt.log(natural)
        lower = pt.maximum(lower, bound)
    elif support == "positive":
        natural = pt.exp(raw)
        w = pt.switch(pt.gt(half, 0.5), natural, raw)
    else:
        natural = w = raw
    z2 = ((w - loc) / scale) ** 2
    kernel = const - pt.log(scale) + a * z2 + b * pt.log1p(z2 / nu) + jacobian
    logistic = -pt.softplus(-raw) - pt.softplus(raw)  # density of raw under a uniform prior
    pm.Potential(f"{name}_prior", pt.switch(is_uniform, logistic, kernel).sum())
    value = pt.switch(is_uniform, lower + (upper - lower) * pt.sigmoid(raw), natural)
    return pm.Deterministic(name, value, dims=dims)
