"""Bias-adjustment priors from meta-epidemiology: a bias shared by the studies, and one per study.

Observational studies, and randomised trials with flaws, estimate the effect with a bias.
Following Welton et al. (2009), study *i*'s effect is ``theta + delta_i + b_i`` with

    b_i = beta + eps_i,   beta ~ Normal(mu, phi^2 + se^2),   eps_i ~ Normal(0, kappa^2),

``beta`` one *shared* bias of every study the rule covers (its mean ``mu`` and the
variation in average bias ``phi`` between bodies of evidence, plus ``se``, the standard
error of the mean: the "BRANDO rule"), and ``eps_i`` each study's own extra bias
(``kappa``, BRANDO's "increase in between-trial heterogeneity"), independent of
``delta_i ~ Normal(0, tau^2)``. The families implement it as data ``bias_mean``,
``bias_shared`` and ``bias_sd`` (zeros = no adjustment, the model without bias): see
:mod:`srsbayes.families.bias_term`. ``theta`` is then the effect an unbiased study would
estimate. A shared bias does not average out over studies, as independent ones would
(their SD shrinks as ``1/sqrt(k)``): this is why the source's between-topic spread is
applied as a shared term.

The numbers come from a TOML file of rules (:data:`DEFAULT_BIAS_PRIORS`; a second, wider
family :data:`WIDE_BIAS_PRIORS`), each quoting its meta-epidemiological source: a study
takes the rule that lists its ``design`` (and, where a rule lists them, its ``rob``
judgement); a study no rule matches gets no bias term. A rule may give outcome-specific
numbers (``[rule.by_outcome.mortality]``, ``objective``, ``subjective``) that replace its
all-outcomes numbers for a spec of that ``outcome_type``.

The sources report ratios of ratios (RORs) on the log scale, so the adjustment applies to
ratio measures (log OR, log HR, log ratio of medians) and not to risk or mean differences.
``mu`` is signed so that positive favours preop (``mu_i = sign * mu`` on the family's
effect scale, ``sign`` the outcome's benefit direction, ``OutcomeSpec.sign``): a rule of
``sense = "size"`` gives the size ``|log ratio|`` of a difference whose direction the
source does not give, taken to favour preop (the direction that weakens the studies'
conclusions); ``sense = "exaggeration"`` reads a ratio below 1 as flawed studies
exaggerating the intervention's benefit (BRANDO), so a ratio above 1 (e.g. mortality, 1.03)
gives a bias against preop; ``either_direction = true`` gives ``mu = 0`` with ``phi`` from
a prediction interval whose farther end is taken as a 95% bound in both directions.

References
----------
Turner RM, Spiegelhalter DJ, Smith GCS, Thompson SG (2009). Bias modelling in evidence
synthesis. J R Stat Soc A 172:21-47.

Welton NJ, Ades AE, Carlin JB, Altman DG, Sterne JAC (2009). Models for potentially biased
evidence in meta-analysis using empirically based priors. J R Stat Soc A 172:119-136.

Savović J, Jones HE, Altman DG, et al. (2012). Influence of reported study design
characteristics on intervention effect estimates from randomized, controlled trials
(BRANDO). Ann Intern Med 157:429-438.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError
from ..resources import BUNDLED_DATA

if TYPE_CHECKING:
    from ..outputs import JSONObject

DEFAULT_BIAS_PRIORS = BUNDLED_DATA / "bias_priors.toml"
WIDE_BIAS_PRIORS = BUNDLED_DATA / "bias_priors_wide.toml"
"""The second, wider family: a shared bias of either direction spanning the source's
prediction interval (:func:`load_bias_priors` of ``"wide"``)."""
NAMED = {"bundled": DEFAULT_BIAS_PRIORS, "wide": WIDE_BIAS_PRIORS}
"""Names ``--bias-adjusted`` accepts for the bundled files."""
Z95 = 1.959963984540054
SENSES = ("size", "exaggeration")
OUTCOME_TYPES = ("mortality", "objective", "subjective")
DESIGNS = ("rct", "prospective", "retrospective", "")
ROB = ("low", "moderate", "serious", "critical", "")


@dataclass(frozen=True)
class BiasNumbers:
    """A bias prior's numbers on the log ratio scale, computed from the quoted values.

    ``mean`` is signed, positive favouring preop; ``shared`` is the SD of the shared bias
    (``sqrt(phi^2 + se^2)``); ``sd`` the SD of each study's own bias (``kappa``).
    """

    ratio: float
    mean: float
    shared: float
    sd: float
    quote: str = ""


@dataclass(frozen=True)
class BiasRule:
    """One rule of a bias-priors file: which studies it covers and its bias prior.

    ``mean`` (signed, positive favours preop), ``shared`` (SD of the bias shared by the
    studies) and ``sd`` (SD of each study's own bias) are on the log ratio scale, computed
    from the quoted values; ``by_outcome`` holds outcome-specific numbers by
    ``outcome_type``.
    """

    name: str
    source: str
    quote: str
    direction: str
    ratio: float
    mean: float
    shared: float
    sd: float
    designs: tuple[str, ...]
    rob: tuple[str, ...] = ()
    """Judgements the rule covers; empty = any judgement."""
    caveat: str = ""
    """What the source is indirect evidence about (said wherever the prior is used)."""
    by_outcome: dict[str, BiasNumbers] = field(default_factory=dict)

    def covers(self, design: str, rob: str) -> bool:
        return design in self.designs and (not self.rob or rob in self.rob)

    def numbers(self, outcome_type: str = "") -> BiasNumbers:
        """The numbers for an outcome of ``outcome_type`` (all-outcomes ones by default)."""
        return self.by_outcome.get(outcome_type, BiasNumbers(self.ratio, self.mean,
                                                             self.shared, self.sd))

    def as_dict(self) -> JSONObject:
        return {"rule": self.name, "source": self.source, "quote": self.quote,
                "direction": self.direction, "caveat": self.caveat, "ratio": self.ratio,
                "mean": self.mean, "shared_sd": self.shared, "study_sd": self.sd,
                "designs": list(self.designs), "rob": list(self.rob),
                "by_outcome": {k: {"ratio": v.ratio, "mean": v.mean, "shared_sd": v.shared,
                                   "study_sd": v.sd, "quote": v.quote}
                               for k, v in self.by_outcome.items()}}


@dataclass(frozen=True)
class BiasPriors:
    """The rules of one bias-priors file (first matching rule wins)."""

    path: str
    rules: tuple[BiasRule, ...]

    @property
    def name(self) -> str:
        """``bundled``, ``wide`` or the file's stem."""
        return next((k for k, v in NAMED.items() if str(v) == self.path), Path(self.path).stem)

    def rule_for(self, design: str, rob: str) -> BiasRule | None:
        return next((r for r in self.rules if r.covers(design, rob)), None)


def _number(table: dict, key: str, f: str, name: str, *, positive: bool = True) -> float:
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(
            value) or (positive and value <= 0) or value < 0:
        raise InputError(f"must be a {'positive' if positive else 'non-negative'} number, got "
                         f"{value!r}", file=f, column=f"{name}.{key}")
    return float(value)


def _pair(table: dict, key: str, f: str, name: str) -> tuple[float, float] | None:
    """An optional ``[low, high]`` interval of ratios (positive, low < high)."""
    if key not in table:
        return None
    v = table[key]
    if (not isinstance(v, list) or len(v) != 2
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool)
                       and math.isfinite(x) and x > 0 for x in v) or not v[0] < v[1]):
        raise InputError("must be [low, high], two positive ratios with low < high",
                         file=f, column=f"{name}.{key}")
    return float(v[0]), float(v[1])


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


def _numbers(table: dict, f: str, name: str, sense: str) -> BiasNumbers:
    """The bias numbers of a rule (or of one outcome type of it).

    ``phi`` / ``phi2``: the variation in average bias (shared); ``ci``: the 95% interval of
    the mean ratio, whose SE is added to the shared variance (the BRANDO rule); ``kappa``:
    each study's own extra SD (0 when the source reports none).
    """
    if table.get("either_direction") is True:
        pi = _pair(table, "prediction_interval", f, name)
        if pi is None:
            raise InputError("a rule of either direction needs the source's "
                             "prediction_interval", file=f, column=f"{name}.prediction_interval")
        shared = max(abs(math.log(pi[0])), abs(math.log(pi[1]))) / Z95
        kappa = _number(table, "kappa", f, name, positive=False) if "kappa" in table else 0.0
        return BiasNumbers(1.0, 0.0, shared, kappa, " ".join(str(table.get("quote", "")).split()))
    ratio = _number(table, "ratio", f, name)
    if ("phi" in table) == ("phi2" in table):
        raise InputError("give the variation in average bias as phi or as phi2 (one of them)",
                         file=f, column=f"{name}.phi")
    phi = (_number(table, "phi", f, name, positive=False) if "phi" in table
           else math.sqrt(_number(table, "phi2", f, name, positive=False)))
    ci = _pair(table, "ci", f, name)
    se = 0.0 if ci is None else (math.log(ci[1]) - math.log(ci[0])) / (2 * Z95)
    kappa = _number(table, "kappa", f, name, positive=False) if "kappa" in table else 0.0
    mean = abs(math.log(ratio)) if sense == "size" else -math.log(ratio)
    return BiasNumbers(ratio, mean, math.sqrt(phi**2 + se**2), kappa,
                       " ".join(str(table.get("quote", "")).split()))


def _rule(name: str, table: Any, f: str) -> BiasRule:
    if not isinstance(table, dict):
        raise InputError("must be a table of a rule", file=f, column=name)
    for key in ("source", "quote", "direction"):
        if not isinstance(table.get(key), str) or not table[key].strip():
            raise InputError("missing text: every rule names its source, quotes it and says "
                             "the direction of the bias", file=f, column=f"{name}.{key}")
    if "tau" in table or "tau2" in table:
        raise InputError("tau/tau2 is ambiguous for a shared bias: give phi (variation in "
                         "average bias, shared) and kappa (each study's own)", file=f,
                         column=f"{name}.{'tau' if 'tau' in table else 'tau2'}")
    sense = table.get("sense", "size")
    if sense not in SENSES:
        raise InputError(f"unknown value {sense!r}; use one of "
                         + ", ".join(repr(a) for a in SENSES), file=f, column=f"{name}.sense")
    main = _numbers(table, f, name, sense)
    by = table.get("by_outcome", {})
    if not isinstance(by, dict) or not all(isinstance(v, dict) for v in by.values()):
        raise InputError("must be a table of outcome types", file=f, column=f"{name}.by_outcome")
    by_outcome = {}
    for kind, sub in by.items():
        if kind not in OUTCOME_TYPES:
            raise InputError(f"unknown outcome type {kind!r}; use one of "
                             + ", ".join(OUTCOME_TYPES), file=f, column=f"{name}.by_outcome")
        if not isinstance(sub.get("quote"), str) or not sub["quote"].strip():
            raise InputError("missing text: quote the outcome-specific numbers", file=f,
                             column=f"{name}.by_outcome.{kind}.quote")
        by_outcome[kind] = _numbers(sub, f, f"{name}.by_outcome.{kind}", sense)
    designs = _choices(table, "applies_to", DESIGNS, f, name)
    if not designs:
        raise InputError("must list at least one design", file=f, column=f"{name}.applies_to")
    caveat = table.get("caveat", "")
    if not isinstance(caveat, str):
        raise InputError("must be a string", file=f, column=f"{name}.caveat")
    return BiasRule(name, table["source"].strip(), " ".join(table["quote"].split()),
                    " ".join(table["direction"].split()), main.ratio, main.mean, main.shared,
                    main.sd, designs, _choices(table, "rob", ROB, f, name),
                    " ".join(caveat.split()), by_outcome)


def load_bias_priors(path: str | Path | None = None) -> BiasPriors:
    """Read a bias-priors TOML file (the bundled one by default; ``"wide"`` for the second,
    wider bundled family).

    Raises
    ------
    InputError
        An unreadable file, or a rule without source, quote or direction, with a ratio that
        is not positive, without (or with both) ``phi`` and ``phi2``, with the ambiguous
        ``tau``, or with an unknown design, judgement or outcome type.
    """
    p = (DEFAULT_BIAS_PRIORS if path is None
         else NAMED[path] if isinstance(path, str) and path in NAMED else Path(path))
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
    """Each study's bias prior on the family's effect scale, and the rule it came from:
    ``mean`` and ``shared`` (SD of the shared bias, one draw for every study) and ``sd``
    (SD of the study's own bias)."""

    studies: tuple[str, ...]
    mean: np.ndarray
    shared: np.ndarray
    sd: np.ndarray
    rules: tuple[str, ...]
    """The rule of each study (``""`` = none matched: no bias term)."""

    def overrides(self) -> dict[str, np.ndarray]:
        """The model data that switch the adjustment on."""
        return {"bias_mean": self.mean, "bias_shared": self.shared, "bias_sd": self.sd}

    def as_dict(self) -> list[JSONObject]:
        return [{"study": s, "rule": r, "mean": float(m), "shared_sd": float(h),
                 "study_sd": float(d)}
                for s, r, m, h, d in zip(self.studies, self.rules, self.mean, self.shared,
                                         self.sd, strict=True)]


def _column(wide: Any, col: str) -> list[str]:
    if col not in wide.columns:
        return [""] * len(wide)
    return ["" if not isinstance(v, str) else v.lower() for v in wide[col]]


def study_bias(wide: Any, sign: int, priors: BiasPriors, outcome_type: str = "") -> BiasTerms:
    """Each study's bias prior for an outcome table (one row per study).

    Parameters
    ----------
    wide
        The outcome's table (:func:`srsbayes.inputs.data.outcome_table`), with optional
        ``design`` and ``rob`` columns.
    sign
        +1 when a larger effect is benefit, -1 when a smaller one is (``OutcomeSpec.sign``):
        a bias favouring preop has mean ``sign * mean``.
    priors
        The rules (:func:`load_bias_priors`).
    outcome_type
        The spec's ``outcome_type``: a rule's outcome-specific numbers where it has them.
    """
    rules = [priors.rule_for(d, r) for d, r in zip(_column(wide, "design"),
                                                  _column(wide, "rob"), strict=True)]
    nums = [r.numbers(outcome_type) if r else None for r in rules]
    mean = np.array([sign * x.mean if x else 0.0 for x in nums])
    shared = np.array([x.shared if x else 0.0 for x in nums])
    sd = np.array([x.sd if x else 0.0 for x in nums])
    return BiasTerms(tuple(str(s) for s in wide["study"]), mean, shared, sd,
                     tuple(r.name if r else "" for r in rules))
