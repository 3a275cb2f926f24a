"""Assurance and power of a trial under its success rule.

A trial's result (estimate ``y`` with standard error ``s`` on the analysis scale) is
analysed on its own, as its investigators will:

* ``p<ALPHA``: a two-sided Wald test at level ``alpha``, ``|y / s| > z_{1 - alpha/2}``;
* ``P>Q``: the trial's posterior probability of benefit under a flat prior,
  ``Phi(sign * y / s) > Q`` (the Bayesian rule of Spiegelhalter, Abrams & Myles 2004, 6.5).

*Success* is the rule met in the direction of benefit of preop SRS. Assurance is the
probability of success averaged over today's posterior predictive distribution of the
trial's true effect (O'Hagan, Stevens & Campbell 2005); its Monte Carlo error is
``sqrt(a (1 - a) / n)`` over ``n`` simulated trials. Power is the same probability at a
fixed true effect: the posterior median, and the smallest important effect of the spec.

In the normal-normal case (predictive effect ``N(m, v)``, estimate ``N(theta', s^2)``) the
probability that a two-sided test is significant in either direction is
``Phi((|m| - z s) / sqrt(v + s^2)) + Phi((-|m| - z s) / sqrt(v + s^2))``
(:func:`normal_assurance`; O'Hagan et al. 2005, section 3.1); the tests check the
simulation against it.

References
----------
O'Hagan A, Stevens JW, Campbell MJ (2005). Assurance in clinical trial design. Pharm Stat
4:187-201.

Spiegelhalter DJ, Abrams KR, Myles JP (2004). Bayesian Approaches to Clinical Trials and
Health-Care Evaluation. Wiley.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..errors import InputError

_RULE = re.compile(r"^\s*([pP])\s*([<>])\s*([0-9]*\.?[0-9]+(?:[eE]-?[0-9]+)?)\s*$")


@dataclass(frozen=True)
class SuccessRule:
    """``kind`` ``"test"`` (two-sided test at ``level`` = alpha) or ``"posterior"``
    (posterior probability of benefit above ``level``)."""

    kind: str
    level: float
    text: str

    def describe(self, treatment: str = "preop") -> str:
        """The rule in words, the treatment arm named ``treatment`` (the review question's
        word for it; default: the bundled question's)."""
        if self.kind == "test":
            return (f"a two-sided test at alpha = {self.level:g} significant in favour of "
                    f"{treatment}")
        return (f"the trial's own posterior probability that {treatment} is better (flat "
                f"prior) above {self.level:g}")

    def outcomes(self, y: np.ndarray, s: np.ndarray, sign: int
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Per trial: success (in favour of preop), and the rule met in either direction."""
        z = np.asarray(y, float) / np.asarray(s, float)
        if self.kind == "test":
            crit = float(stats.norm.ppf(1 - self.level / 2))
            either = np.abs(z) > crit
            return either & (sign * z > 0), either
        p = stats.norm.cdf(sign * z)
        return p > self.level, (p > self.level) | (p < 1 - self.level)


def parse_rule(text: str) -> SuccessRule:
    """``"p<0.05"`` (two-sided test) or ``"P>0.95"`` (posterior probability of benefit).

    Raises
    ------
    InputError
        Any other text, an alpha outside (0, 1) or a probability outside [0.5, 1).
    """
    m = _RULE.match(text)
    if m is None or (m.group(1), m.group(2)) not in (("p", "<"), ("P", ">")):
        raise InputError(f"must be \"p<ALPHA\" (two-sided test) or \"P>PROB\" (posterior "
                         f"probability of benefit), got {text!r}", column="--success")
    level = float(m.group(3))
    if m.group(1) == "p" and not 0 < level < 1:
        raise InputError(f"alpha must lie in (0, 1), got {level:g}", column="--success")
    if m.group(1) == "P" and not 0.5 <= level < 1:
        raise InputError(f"the probability must lie in [0.5, 1), got {level:g}",
                         column="--success")
    return SuccessRule("test" if m.group(1) == "p" else "posterior", level, text.strip())


@dataclass(frozen=True)
class Proportion:
    """A probability estimated from ``n`` simulated trials, with its Monte Carlo error."""

    value: float
    mcse: float
    n: int

    @classmethod
    def of(cls, hits: np.ndarray) -> Proportion:
        h = np.asarray(hits, bool)
        p = float(h.mean())
        return cls(p, math.sqrt(p * (1 - p) / h.size), int(h.size))

    def as_dict(self) -> dict[str, float | int]:
        return {"value": self.value, "mcse": self.mcse, "n": self.n}


def normal_assurance(m: float, v: float, s: float, alpha: float) -> float:
    """Probability that a two-sided test at ``alpha`` is significant (either direction)
    when the true effect is ``N(m, v)`` and the estimate ``N(effect, s^2)``."""
    z = float(stats.norm.ppf(1 - alpha / 2))
    root = math.sqrt(v + s * s)
    return float(stats.norm.cdf((abs(m) - z * s) / root)
                 + stats.norm.cdf((-abs(m) - z * s) / root))
