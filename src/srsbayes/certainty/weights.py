"""Net-benefit settings from a TOML file: the criteria, the weights and the sensitivity grid.

The bundled defaults (``bundled/data/net_benefit.toml``) document each value's rationale;
a team replaces them with ``--weights FILE``. Every problem is an
:class:`~srsbayes.errors.InputError` naming the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..inputs.specs import _is_number, _no_unknown, read_toml
from ..resources import BUNDLED_DATA

DEFAULT_WEIGHTS = BUNDLED_DATA / "net_benefit.toml"
_TOP = {"decision_probability", "criterion", "weights", "sensitivity", "unit"}
DEFAULT_UNIT = "weighted events avoided per 100 patients"


@dataclass(frozen=True)
class Criterion:
    """Preop must be at least ``min_benefit`` better on ``outcome`` (absolute scale: points
    or months; negative = not worse by more than that)."""

    outcome: str
    min_benefit: float
    rationale: str = ""


@dataclass(frozen=True)
class NetBenefitSettings:
    """Criteria, weights per unit of absolute benefit, the multipliers of the sensitivity
    grid, and the posterior probability a verdict needs."""

    criteria: tuple[Criterion, ...]
    weights: dict[str, float]
    rationales: dict[str, str]
    multipliers: tuple[float, ...]
    decision_probability: float
    path: str = ""
    contains: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Outcome -> outcomes whose events it includes (e.g. ``dbf = ["lmd"]`` when distant
    brain failure counts leptomeningeal disease): its weight then applies to the mutually
    exclusive state "it without them" (:func:`srsbayes.certainty.net_benefit.state_draws`),
    so no patient's event is counted twice."""
    unit: str = DEFAULT_UNIT


def _text(entry: dict, key: str, f: str, col: str) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str):
        raise InputError("must be a string", file=f, column=f"{col}.{key}")
    return value


def _criteria(raw: object, f: str) -> tuple[Criterion, ...]:
    if not isinstance(raw, list) or not raw:
        raise InputError("needs at least one [[criterion]] table", file=f, column="criterion")
    out = []
    for i, c in enumerate(raw):
        col = f"criterion[{i}]"
        if not isinstance(c, dict):
            raise InputError("must be a table", file=f, column=col)
        _no_unknown(c, {"outcome", "min_benefit", "rationale"}, f, col + ".")
        if not isinstance(c.get("outcome"), str) or not c["outcome"]:
            raise InputError("needs outcome = \"ID\"", file=f, column=col + ".outcome")
        if not _is_number(c.get("min_benefit")):
            raise InputError("must be a finite number", file=f, column=col + ".min_benefit")
        out.append(Criterion(c["outcome"], float(c["min_benefit"]),
                             _text(c, "rationale", f, col)))
    return tuple(out)


def _weights(raw: object, f: str
             ) -> tuple[dict[str, float], dict[str, str], dict[str, tuple[str, ...]]]:
    if not isinstance(raw, dict) or not raw:
        raise InputError("needs a [weights.ID] table per outcome", file=f, column="weights")
    weights, why, contains = {}, {}, {}
    for name, entry in raw.items():
        col = f"weights.{name}"
        if not isinstance(entry, dict):
            raise InputError("must be a table with weight and rationale", file=f, column=col)
        _no_unknown(entry, {"weight", "rationale", "contains"}, f, col + ".")
        inner = entry.get("contains", [])
        if (not isinstance(inner, list) or not all(isinstance(x, str) and x for x in inner)
                or name in inner):
            raise InputError("must be a list of other outcome ids", file=f,
                             column=col + ".contains")
        if inner:
            contains[name] = tuple(inner)
        w = entry.get("weight")
        if not _is_number(w) or w < 0:
            raise InputError("weight must be a finite number >= 0", file=f,
                             column=col + ".weight")
        weights[name], why[name] = float(w), _text(entry, "rationale", f, col)
    if not any(weights.values()):
        raise InputError("at least one weight must be > 0", file=f, column="weights")
    return weights, why, contains


def load_weights(path: str | Path | None = None) -> NetBenefitSettings:
    """Read and validate a net-benefit TOML file (default: the bundled one)."""
    p = Path(path) if path else DEFAULT_WEIGHTS
    f = str(p)
    _, raw = read_toml(p, "weights file")
    _no_unknown(raw, _TOP, f)
    weights, why, contains = _weights(raw.get("weights"), f)
    unit = raw.get("unit", DEFAULT_UNIT)
    if not isinstance(unit, str) or not unit:
        raise InputError("must be a non-empty string", file=f, column="unit")
    sens = raw.get("sensitivity", {"multipliers": [1.0]})
    if not isinstance(sens, dict):
        raise InputError("must be a table", file=f, column="sensitivity")
    _no_unknown(sens, {"multipliers"}, f, "sensitivity.")
    mult = sens.get("multipliers", [1.0])
    if (not isinstance(mult, list) or not mult
            or not all(_is_number(m) and m > 0 for m in mult)):
        raise InputError("must be a non-empty list of numbers > 0", file=f,
                         column="sensitivity.multipliers")
    dp = raw.get("decision_probability", 0.95)
    if not _is_number(dp) or not 0.5 <= dp < 1:
        raise InputError("must be a number in [0.5, 1)", file=f, column="decision_probability")
    return NetBenefitSettings(_criteria(raw.get("criterion"), f), weights, why,
                              tuple(float(m) for m in mult), float(dp), f, contains, unit)
