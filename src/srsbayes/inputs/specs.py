"""Outcome specs: one small TOML file per outcome declares everything outcome-specific.

An outcome is data, not code (the posteriordb idea of a posterior declared by a small
file): its label, likelihood family, direction of benefit, clinical thresholds and
default priors with their rationale. Adding an outcome needs a spec and data rows only.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..errors import InputError
from ..families import FAMILIES, get_family
from ..priors.distributions import Prior, check_support, parse_prior
from ..resources import default_models_dir
from ..values import is_slug


@dataclass(frozen=True)
class Threshold:
    """A clinically meaningful benefit, e.g. an absolute risk reduction of 5 points."""

    measure: str
    threshold: float
    rationale: str = ""


INDIRECTNESS_RATINGS = ("not serious", "serious", "very serious")
"""GRADE's ratings of indirectness (Guyatt et al. 2011, J Clin Epidemiol 64:1303)."""


@dataclass(frozen=True)
class Indirectness:
    """The spec's judgement of indirectness: do the studies answer the question asked?"""

    rating: str
    reason: str


@dataclass(frozen=True)
class OutcomeSpec:
    """Everything srsbayes knows about one outcome."""

    id: str
    label: str
    family: str
    event: str
    benefit: Literal["lower", "higher"]
    decision_probability: float
    thresholds: tuple[Threshold, ...]
    priors: dict[str, Prior]
    rationales: dict[str, str] = field(default_factory=dict)
    path: str = ""
    text: str = ""
    indirectness: Indirectness | None = None
    """``[indirectness]`` table of the spec; ``None`` = not declared."""
    measure: str = ""
    """Contrast family: the measure of its rows (``odds_ratio``, ...); a binomial spec may
    state ``odds_ratio``; ``""`` otherwise."""
    approximate_measures: tuple[str, ...] = ()
    """Contrast and binomial families: codes of other measures whose contrast rows are
    accepted as approximations on the same scale (e.g. hazard ratios for odds ratios of a
    rare event); the summary lists the rows pooled so."""
    model_options: dict[str, float] = field(default_factory=dict)
    """``[model]`` table: modelling choices the family offers (its ``MODEL_OPTIONS``), as
    the model-data values they set, e.g. ``{"arm_coding": 0.0}``."""
    outcome_type: str = ""
    """``mortality``, ``objective`` or ``subjective`` (how the outcome is assessed, the
    strata of meta-epidemiological studies such as BRANDO, Savović et al. 2012); ``""`` =
    not stated: bias priors use their all-outcomes numbers."""

    @property
    def sign(self) -> int:
        """+1 when a larger effect (log OR / log ratio) favours preop, else -1."""
        return 1 if self.benefit == "higher" else -1


_REQUIRED = ("id", "label", "family", "benefit", "priors")
_KNOWN = {*_REQUIRED, "event", "decision_probability", "thresholds", "sweep", "indirectness",
          "model", "outcome_type"}
OUTCOME_TYPES = ("mortality", "objective", "subjective")
"""Values of a spec's ``outcome_type`` (the outcome strata of BRANDO)."""
_FAMILY_KEYS = ("measure", "approximate_measures")
"""Keys a family module takes with its ``spec_keys(raw, file)`` (the contrast family; the
binomial family for contrast rows in a binary outcome)."""
_KNOWN |= set(_FAMILY_KEYS)
_INDIRECTNESS_KEYS = {"rating", "reason"}
_PRIOR_KEYS = {"dist", "rationale"}
_THRESHOLD_KEYS = {"measure", "threshold", "rationale"}


def _no_unknown(keys, known: set[str], f: str, where: str = "") -> None:
    """Unknown keys are errors: a typo must not silently fall back to a default."""
    extra = sorted(set(keys) - known)
    if extra:
        raise InputError(f"unknown key; known: {', '.join(sorted(known))}", file=f,
                         column=where + _shown(extra[0]))


def _shown(key: str) -> str:
    """A key from the file as it can be shown in a one-line message (escapes if needed)."""
    return key if key.isprintable() else repr(key)[1:-1]


def _is_number(x: object) -> bool:
    """A finite TOML number (not a boolean, which Python counts as an int)."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return False
    try:
        return math.isfinite(float(x))
    except OverflowError:  # an integer beyond any float
        return False


def read_toml(path: str | Path, what: str) -> tuple[str, dict]:
    """Text and parsed content of a TOML file; a missing, non-UTF-8 or malformed file is an
    :class:`InputError` calling it ``what`` (e.g. ``"spec file"``)."""
    f, p = str(path), Path(path)
    try:
        # a byte-order mark (as some Windows editors save UTF-8) is no TOML; the CSV reader
        # accepts one too, and the text kept (spec.text, re-parsed by the sweep) has none
        text = p.read_text(encoding="utf-8").removeprefix("\ufeff")
        return text, tomllib.loads(text)
    except FileNotFoundError:
        raise InputError(f"{what} not found", file=f) from None
    except IsADirectoryError:
        raise InputError(f"{what} is a directory", file=f) from None
    except UnicodeDecodeError:
        raise InputError(f"{what} is not UTF-8 text", file=f) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"malformed TOML: {exc}", file=f) from None
    except RecursionError:  # tomllib parses nested arrays and tables recursively
        raise InputError("malformed TOML: nested too deeply", file=f) from None
    except OSError as exc:
        raise InputError(f"cannot read {what}: {exc.strerror or exc}", file=f) from None


def load_spec_file(path: str | Path) -> OutcomeSpec:
    """Read and validate one spec file; any problem is an :class:`InputError` naming the key
    (and nothing else is raised, whatever the file holds)."""
    path, f = Path(path), str(path)
    text, raw = read_toml(path, "spec file")
    _no_unknown(raw, _KNOWN, f)
    for key in _REQUIRED:
        if key not in raw:
            raise InputError("missing required key", file=f, column=key)
    for key in ("id", "label", "event"):
        if key in raw and not isinstance(raw[key], str):
            raise InputError("must be a string", file=f, column=key)
    family = raw["family"]
    if not isinstance(family, str) or family not in FAMILIES:
        raise InputError(f"unknown family {family!r}; known: {', '.join(FAMILIES)}",
                         file=f, column="family")
    info = FAMILIES[family]
    family_keys = _family_keys(family, raw, f)
    if raw["benefit"] not in ("lower", "higher"):
        raise InputError("must be 'lower' or 'higher'", file=f, column="benefit")
    if not isinstance(raw["priors"], dict):
        raise InputError("must be a table of [priors.NAME] entries", file=f, column="priors")
    priors: dict[str, Prior] = {}
    rationales: dict[str, str] = {}
    for name, entry in raw["priors"].items():
        col = f"priors.{_shown(name)}"
        if name not in info.slots:
            raise InputError(f"unknown prior name {name!r}; {family} has: "
                             + ", ".join(info.slots), file=f, column=col)
        if not isinstance(entry, dict) or not isinstance(entry.get("dist"), str):
            raise InputError("needs dist = \"name(params)\"", file=f, column=col)
        _no_unknown(entry, _PRIOR_KEYS, f, col + ".")
        if not isinstance(entry.get("rationale", ""), str):
            raise InputError("rationale must be a string", file=f, column=col)
        priors[name] = parse_prior(entry["dist"], where=col, file=f)
        check_support(name, priors[name], info.slots[name], file=f)
        rationales[name] = entry.get("rationale", "")
    missing = [s for s in info.slots if s not in priors]
    if missing:
        raise InputError("no default prior", file=f, column=f"priors.{missing[0]}")
    thresholds = []
    if not isinstance(raw.get("thresholds", []), list):
        raise InputError("must be an array of [[thresholds]] tables", file=f,
                         column="thresholds")
    for i, t in enumerate(raw.get("thresholds", [])):
        col = f"thresholds[{i}]"
        if not isinstance(t, dict) or t.get("measure") not in info.thresholds:
            raise InputError(f"measure must be one of {', '.join(info.thresholds)}",
                             file=f, column=col)
        _no_unknown(t, _THRESHOLD_KEYS, f, col + ".")
        if not _is_number(t.get("threshold")):
            raise InputError("threshold must be a finite number", file=f, column=col)
        # a ratio threshold is compared on the log scale
        if t["measure"] != info.absolute_measure and not t["threshold"] > 0:
            raise InputError(f"a {t['measure']} threshold must be > 0, got {t['threshold']}",
                             file=f, column=col)
        if not isinstance(t.get("rationale", ""), str):
            raise InputError("rationale must be a string", file=f, column=col)
        thresholds.append(Threshold(t["measure"], float(t["threshold"]),
                                    t.get("rationale", "")))
    dp = raw.get("decision_probability", 0.95)
    if not _is_number(dp) or not 0.5 <= dp < 1:
        raise InputError("must be a number in [0.5, 1)", file=f, column="decision_probability")
    if not is_slug(raw["id"]):
        hint = " (ids are lower case)" if is_slug(raw["id"].lower()) else ""
        raise InputError(f"id {_shown(raw['id'])!r} is not an outcome id: lower-case letters, "
                         f"digits, '_' and '-', starting with a letter or digit{hint}", file=f,
                         column="id")
    if path.stem != raw["id"]:
        raise InputError(f"id {raw['id']!r} must match the file name", file=f, column="id")
    otype = raw.get("outcome_type", "")
    if otype != "" and otype not in OUTCOME_TYPES:
        raise InputError(f"must be one of {', '.join(OUTCOME_TYPES)}, got {otype!r}", file=f,
                         column="outcome_type")
    return OutcomeSpec(
        id=str(raw["id"]), label=str(raw["label"]), family=family,
        event=str(raw.get("event", raw["label"])).lower(), benefit=raw["benefit"],
        decision_probability=float(dp), thresholds=tuple(thresholds), priors=priors,
        rationales=rationales, path=f, text=text,
        indirectness=_indirectness(raw.get("indirectness"), f),
        model_options=_model_options(family, raw.get("model"), f), outcome_type=otype,
        **family_keys,
    )


def _model_options(family: str, entry: object, f: str) -> dict[str, float]:
    """The optional ``[model]`` table, checked against the family's ``MODEL_OPTIONS``
    (option -> {choice name: model-data value}), e.g. ``arm_coding = "postop_reference"``."""
    if entry is None:
        return {}
    if not isinstance(entry, dict):
        raise InputError("must be a table of model options", file=f, column="model")
    offered = get_family(family).MODEL_OPTIONS
    out = {}
    for key, value in entry.items():
        if key not in offered:
            raise InputError(f"unknown model option; family {family!r} offers: "
                             + (", ".join(offered) or "none"), file=f, column=f"model.{key}")
        if not isinstance(value, str) or value not in offered[key]:
            raise InputError(f"must be one of {', '.join(offered[key])}", file=f,
                             column=f"model.{key}")
        out[key] = float(offered[key][value])
    return out


def _family_keys(family: str, raw: dict, f: str) -> dict:
    """Fields from :data:`_FAMILY_KEYS`, checked by the family module's ``spec_keys``; a
    family without that hook takes none of them."""
    keys = get_family(family).spec_keys(raw, f)
    if keys is not None:
        return keys
    for key in (k for k in _FAMILY_KEYS if k in raw):
        raise InputError(f"not a key of family {family!r}", file=f, column=key)
    return {}


def _indirectness(entry: object, f: str) -> Indirectness | None:
    """The optional ``[indirectness]`` table: ``rating`` (one of
    :data:`INDIRECTNESS_RATINGS`) and a non-empty ``reason``."""
    if entry is None:
        return None
    if not isinstance(entry, dict):
        raise InputError("must be a table with rating and reason", file=f,
                         column="indirectness")
    _no_unknown(entry, _INDIRECTNESS_KEYS, f, "indirectness.")
    if entry.get("rating") not in INDIRECTNESS_RATINGS:
        raise InputError(f"must be one of {', '.join(map(repr, INDIRECTNESS_RATINGS))}",
                         file=f, column="indirectness.rating")
    reason = entry.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise InputError("needs a reason (a non-empty string)", file=f,
                         column="indirectness.reason")
    return Indirectness(str(entry["rating"]), reason.strip())


def load_specs(models_dir: Path | None = None) -> dict[str, OutcomeSpec]:
    """All specs in ``models_dir`` keyed by outcome id, in file-name order."""
    d = Path(models_dir) if models_dir else default_models_dir()
    if not d.is_dir():
        raise InputError("models directory not found", file=d)
    return {p.stem: load_spec_file(p) for p in sorted(d.glob("*.toml"))}


def get_spec(outcome: str, models_dir: Path | None = None) -> OutcomeSpec:
    """The spec for ``outcome``; an unknown id is an :class:`InputError`."""
    if not is_slug(outcome):
        raise InputError(f"not an outcome id: {_shown(outcome)!r} (lower-case letters, digits, "
                         "'_' and '-', starting with a letter or digit)", column="OUTCOME")
    specs = load_specs(models_dir)
    if outcome not in specs:
        raise InputError(f"unknown outcome {outcome!r}; specs exist for: {', '.join(specs)}",
                         column="OUTCOME")
    return specs[outcome]
