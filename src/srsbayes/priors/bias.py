"""Bias-adjustment priors from meta-epidemiology: an additive bias per study.

Observational studies, and randomised trials with flaws, estimate the effect with a bias.
Following Turner et al. (2009) and Welton et al. (2009), study *i*'s effect is
``theta + delta_i + b_i`` with ``b_i ~ Normal(mu_i, sigma_i^2)`` independent of
``delta_i ~ Normal(0, tau^2)``; marginally the study's deviation is
``Normal(mu_i, tau^2 + sigma_i^2)``, which is how the families implement it (data
``bias_mean``, ``bias_sd``; zeros = no adjustment, the model without bias). ``theta`` is
then the effect an unbiased study would estimate. ``mu_i`` and ``sigma_i`` come from a
TOML file of rules (:data:`DEFAULT_BIAS_PRIORS`), each quoting its meta-epidemiological
source: a study takes the rule that lists its ``design`` (and, where a rule lists them,
its ``rob`` judgement); a study no rule matches gets no bias term.

The sources report ratios of ratios (RORs) on the log scale, so the adjustment applies to
ratio measures (log OR, log HR, log ratio of medians) and not to risk or mean differences.
The bias favours preop SRS: ``mu_i = sign * |log ROR|`` on the family's effect scale,
where ``sign`` is the outcome's benefit direction (``OutcomeSpec.sign``).

References
----------
Turner RM, Spiegelhalter DJ, Smith GCS, Thompson SG (2009). Bias modelling in evidence
synthesis. J R Stat Soc A 172:21-47.

Welton NJ, Ades AE, Carlin JB, Altman DG, Sterne JAC (2009). Models for potentially biased
evidence in meta-analysis using empirically based priors. J R Stat Soc A 172:119-136.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..resources import BUNDLED_DATA

DEFAULT_BIAS_PRIORS = BUNDLED_DATA / "bias_priors.toml"
DESIGNS = ("rct", "prospective", "retrospective", "")
ROB = ("low", "moderate", "serious", "critical", "")


@dataclass(frozen=True)
class BiasRule:
    """One rule of a bias-priors file: which studies it covers and its bias prior.

    ``mean`` is the size of the bias on the log ratio scale (``|log ratio|``), ``sd`` its
    SD across studies (``sqrt(tau2)``, or ``tau``); both computed from the quoted values.
    """

    name: str
    source: str
    quote: str
    direction: str
    ratio: float
    mean: float
    sd: float
    designs: tuple[str, ...]
    rob: tuple[str, ...] = ()
    """Judgements the rule covers; empty = any judgement."""

    def covers(self, design: str, rob: str) -> bool:
        return design in self.designs and (not self.rob or rob in self.rob)

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.name, "source": self.source, "quote": self.quote,
                "direction": self.direction, "ratio": self.ratio, "mean": self.mean,
                "sd": self.sd, "designs": list(self.designs), "rob": list(self.rob)}


@dataclass(frozen=True)
class BiasPriors:
    """The rules of one bias-priors file (first matching rule wins)."""

    path: str
    rules: tuple[BiasRule, ...]

    def rule_for(self, design: str, rob: str) -> BiasRule | None:
        return next((r for r in self.rules if r.covers(design, rob)), None)


def _number(table: dict, key: str, f: str, name: str, *, positive: bool = True) -> float:
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(
            value) or (positive and value <= 0):
        raise InputError(f"must be a {'positive ' if positive else ''}number, got {value!r}",
                         file=f, column=f"{name}.{key}")
    return float(value)


def _choices(table: dict, key: str, allowed: Sequence[str], f: str, name: str
             ) -> tuple[str, ...]:
    values = table.get(key, [])
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise InputError("must be an array of strings", file=f, column=f"{name}.{key}")
    for v in values:
        if v.lower() not in allowed:
            raise InputError(f"unknown value {v!r}; use one of "
                             + ", ".join(repr(a) for a in allowed), file=f,
                             column=f"{name}.{key}")
    return tuple(v.lower() for v in values)


def _rule(name: str, table: Any, f: str) -> BiasRule:
    if not isinstance(table, dict):
        raise InputError("must be a table of a rule", file=f, column=name)
    for key in ("source", "quote", "direction"):
        if not isinstance(table.get(key), str) or not table[key].strip():
            raise InputError("missing text: every rule names its source, quotes it and says "
                             "the direction of the bias", file=f, column=f"{name}.{key}")
    ratio = _number(table, "ratio", f, name)
    if ("tau" in table) == ("tau2" in table):
        raise InputError("give the spread of the bias as tau or as tau2 (one of them)",
                         file=f, column=f"{name}.tau")
    sd = (_number(table, "tau", f, name) if "tau" in table
          else math.sqrt(_number(table, "tau2", f, name)))
    designs = _choices(table, "applies_to", DESIGNS, f, name)
    if not designs:
        raise InputError("must list at least one design", file=f, column=f"{name}.applies_to")
    return BiasRule(name, table["source"].strip(), " ".join(table["quote"].split()),
                    " ".join(table["direction"].split()), ratio, abs(math.log(ratio)), sd,
                    designs, _choices(table, "rob", ROB, f, name))


def load_bias_priors(path: str | Path | None = None) -> BiasPriors:
    """Read a bias-priors TOML file (the bundled one by default).

    Raises
    ------
    InputError
        An unreadable file, or a rule without source, quote or direction, with a ratio that
        is not positive, without (or with both) ``tau`` and ``tau2``, or with an unknown
        design or judgement.
    """
    p = Path(path) if path is not None else DEFAULT_BIAS_PRIORS
    f = str(p)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8").removeprefix("\ufeff"))  # BOM: as specs
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read bias priors: {e.__class__.__name__}", file=f) from None
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"not valid TOML: {e}", file=f) from None
    if not raw:
        raise InputError("no rule in the file", file=f)
    return BiasPriors(f, tuple(_rule(name, table, f) for name, table in raw.items()))


@dataclass(frozen=True)
class BiasTerms:
    """Each study's bias term on the family's effect scale, and the rule it came from."""

    studies: tuple[str, ...]
    mean: np.ndarray
    sd: np.ndarray
    rules: tuple[str, ...]
    """The rule of each study (``""`` = none matched: no bias term)."""

    def overrides(self) -> dict[str, np.ndarray]:
        """The model data that switch the adjustment on (``bias_mean``, ``bias_sd``)."""
        return {"bias_mean": self.mean, "bias_sd": self.sd}

    def as_dict(self) -> list[dict[str, Any]]:
        return [{"study": s, "rule": r, "mean": float(m), "sd": float(d)}
                for s, r, m, d in zip(self.studies, self.rules, self.mean, self.sd,
                                      strict=True)]


def _column(wide: Any, col: str) -> list[str]:
    if col not in wide.columns:
        return [""] * len(wide)
    return ["" if not isinstance(v, str) else v.lower() for v in wide[col]]


def study_bias(wide: Any, sign: int, priors: BiasPriors) -> BiasTerms:
    """Each study's bias prior for an outcome table (one row per study).

    Parameters
    ----------
    wide
        The outcome's table (:func:`srsbayes.inputs.data.outcome_table`), with optional
        ``design`` and ``rob`` columns.
    sign
        +1 when a larger effect is benefit, -1 when a smaller one is (``OutcomeSpec.sign``):
        the bias favours preop, so its mean is ``sign * |log ratio|``.
    priors
        The rules (:func:`load_bias_priors`).
    """
    rules = [priors.rule_for(d, r) for d, r in zip(_column(wide, "design"),
                                                  _column(wide, "rob"), strict=True)]
    mean = np.array([sign * r.mean if r else 0.0 for r in rules])
    sd = np.array([r.sd if r else 0.0 for r in rules])
    return BiasTerms(tuple(str(s) for s in wide["study"]), mean, sd,
                     tuple(r.name if r else "" for r in rules))
