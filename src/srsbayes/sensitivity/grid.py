"""Sweep grids: the settings a sweep refits, the family default grid and TOML grid files.

A :class:`Grid` is a tuple of :class:`Setting` rows (prior overrides) plus two options
(data-level rows, power-scaling). The default grid crosses three effect priors (sceptical,
the spec's own, vague) with five or more heterogeneity priors from small to large, a
heavy-tailed one and an empirical or data-scaled one; each family states its choices in
:attr:`srsbayes.families.FamilyInfo.default_grid`, so nothing here depends on a family's
name.

References
----------
Spiegelhalter DJ, Abrams KR, Myles JP (2004). Bayesian Approaches to Clinical Trials and
Health-Care Evaluation. Wiley, Section 5.5 (sceptical and enthusiastic priors).

Turner RM, Jackson D, Wei Y, Thompson SG, Higgins JPT (2015). Predictive distributions for
between-study heterogeneity and simple methods for their application in Bayesian
meta-analysis. Stat Med 34:984-998.

Röver C, Bender R, Dias S, et al. (2021). On weakly informative prior distributions for
the heterogeneity parameter in Bayesian random-effects meta-analysis. Res Synth Methods
12:448-474.
"""

from __future__ import annotations

import itertools
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..families import FAMILIES, measure_info
from ..inputs.specs import OutcomeSpec, read_toml
from ..priors.distributions import Prior, Support, check_support, parse_prior

# -- settings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """One row of a sweep: prior overrides and, for data-level rows, a data variant.

    Attributes
    ----------
    label
        Short unique name for tables and plots.
    priors
        Overrides merged over the spec's priors (empty = the spec's defaults).
    kind
        ``"prior"``, ``"leave-one-out"`` or ``"rounding"`` (the verdict names the kinds
        of the rows whose conclusion flips).
    variant
        Key of the :class:`srsbayes.sensitivity.variants.DataVariant` (data-level rows
        only).
    """

    label: str
    priors: Mapping[str, Prior] = field(default_factory=dict)
    kind: str = "prior"
    variant: str | None = None


@dataclass(frozen=True)
class Grid:
    """Prior settings plus options (from a TOML file or the family default)."""

    settings: tuple[Setting, ...]
    data_level: bool = True
    psense: bool = True
    source: str = "default"


# -- labels ------------------------------------------------------------------------------------


def short_label(prior: Prior) -> str:
    """Compact text for plots, e.g. ``HN(0.5)``, ``N(0, 1.5)``, ``Turner (infection)``."""
    p = ", ".join(f"{x:g}" for x in prior.params)
    match prior.dist:
        case "normal":
            return f"N({p})"
        case "halfnormal":
            if prior.label and "UISD" in prior.label:
                return f"HN({prior.label.split('(', 1)[1].split(' = ')[0]} = {prior.params[0]:.2g})"
            return f"HN({p})"
        case "halfcauchy":
            return f"HC({p})"
        case "halfstudentt":
            return f"half-t({p})"
        case "studentt":
            return f"t({p})"
        case "lognormal":
            return f"LN({p})"
        case "uniform":
            return f"U({p})"
        case "uisd":
            return f"HN({prior.params[0]:g} × UISD)"
        case "turner":
            if prior.label and prior.label.startswith("Turner 2015, "):
                what = prior.label.split(":")[0].removeprefix("Turner 2015, ")
                return f"Turner ({what.split(',')[0]})"
            return f"Turner({p})"
    return str(prior)  # pragma: no cover


def _ratio_range(sigma: float, spec: OutcomeSpec) -> str:
    """Where 95% of a N(0, sigma) effect prior puts the effect, in the measure's words
    (a ratio range, or ± a difference)."""
    info = measure_info(spec.family, spec.measure)
    if not info.log_scale:
        return f"95% of {info.measure_plural} within ±{1.959964 * sigma:.2g}"
    lo, hi = math.exp(-1.959964 * sigma), math.exp(1.959964 * sigma)
    return f"95% of {info.measure_plural} within {lo:.2g}-{hi:.2g}"


_TAU_WORDS = {0: "small", 2: "large"}
_TAU_KINDS = {"halfcauchy": "heavy-tailed", "uisd": "unit-information scaled"}


def _tau_label(prior: Prior, position: int) -> Prior:
    """Label an unlabelled τ prior by its place in the grid (small ... large) or its kind."""
    if prior.label is not None or prior.dist == "uisd":  # uisd is labelled once resolved
        return prior
    word = _TAU_WORDS.get(position)
    desc = _TAU_KINDS.get(prior.dist, f"{word} heterogeneity" if word else "")
    return replace(prior, label=short_label(prior) + (f": {desc}" if desc else ""))


# -- the default grid ----------------------------------------------------------------------------


def _spec_turner(spec: OutcomeSpec) -> Prior | None:
    """The optional ``[sweep] turner = "turner(<outcome type>, <comparison>)"`` of a spec."""
    if not spec.text:
        return None
    raw = tomllib.loads(spec.text).get("sweep", {})
    text = raw.get("turner") if isinstance(raw, dict) else None
    if text is None:
        return None
    if not isinstance(text, str):
        raise InputError("must be a prior such as \"turner(infection, nonpharma_nonpharma)\"",
                         file=spec.path, column="sweep.turner")
    prior = parse_prior(text, where="sweep.turner", file=spec.path)
    check_support("tau", prior, "positive", file=spec.path)
    return prior


def _effect_priors(spec: OutcomeSpec, cfg: Mapping[str, Any]) -> list[tuple[str, Prior]]:
    """(role, prior): sceptical, the spec's own (weakly informative) and vague."""
    sceptical = parse_prior(cfg["sceptical"])
    vague = parse_prior(cfg["vague"])
    default = spec.priors["effect"]
    span = _ratio_range(sceptical.params[1], spec)
    return [
        ("sceptical", replace(sceptical, label=f"sceptical {short_label(sceptical)}: {span}")),
        ("weakly informative", replace(default, label=(
            f"weakly informative {short_label(default)} (spec default)"))),
        ("vague", replace(vague, label=f"vague {short_label(vague)}")),
    ]


def _tau_priors(spec: OutcomeSpec, cfg: Mapping[str, Any]) -> list[Prior]:
    """The family's τ priors (the spec's Turner setting substituted), plus the spec's own."""
    turner = _spec_turner(spec)
    taus = []
    for i, text in enumerate(cfg["tau"]):
        prior = parse_prior(text)
        if prior.dist == "turner" and turner is not None:
            prior = turner
        taus.append(_tau_label(prior, i))
    spec_tau = spec.priors["tau"]
    if spec_tau not in taus:
        taus.insert(1, spec_tau)
    return [replace(t, label=(t.label or short_label(t)) + " (spec default)")
            if t == spec_tau else t for t in taus]


def default_grid(spec: OutcomeSpec) -> Grid:
    """The default prior grid of ``spec``'s family: 3 effect priors × 5 or more τ priors.

    The family's choices are :attr:`srsbayes.families.FamilyInfo.default_grid`. The spec's
    own effect and τ priors are always in the grid, so its default fit is one of the
    settings. A spec may name its Turner et al. (2015) setting in a ``[sweep]`` table
    (``turner = "turner(infection, nonpharma_nonpharma)"``); without it the family's
    Turner prior (the marginal ``turner(general)`` for log odds ratios) is used.
    """
    info = measure_info(spec.family, spec.measure)
    cfg = info.default_grid if info.log_scale else difference_grid(spec)
    settings = [Setting(f"{role} effect, τ {short_label(tau)}", {"effect": effect, "tau": tau})
                for (role, effect), tau in itertools.product(_effect_priors(spec, cfg),
                                                             _tau_priors(spec, cfg))]
    return Grid(tuple(settings))


DIFFERENCE_GRID = {"sceptical": 1 / 1.959964, "vague": 50.0,
                   "tau": (("halfnormal", 0.5), ("halfnormal", 1.0), ("halfnormal", 2.0),
                           ("halfcauchy", 1.0))}
"""Multiples of the smallest important difference ``d`` for a difference measure: the
sceptical effect prior puts 95% of its mass within ``± d`` (as the log-ratio grids put it
within 0.5-2.0 for odds ratios; Spiegelhalter et al. 2004, 5.5), the vague one has SD
``50 d``; τ priors half-normal ``d / 2``, ``d``, ``2 d`` and half-Cauchy ``d``."""


def difference_grid(spec: OutcomeSpec) -> dict[str, Any]:
    """The default grid of an outcome measured as a difference, in its own units.

    A risk or mean difference has no unit-free scale such as a log ratio's, so its grid is
    scaled by the spec's smallest important difference: its ``difference`` threshold
    (:data:`DIFFERENCE_GRID`).

    Raises
    ------
    InputError
        The spec has no ``difference`` threshold (then give a grid file with ``--grid``).
    """
    d = next((t.threshold for t in spec.thresholds if t.measure == "difference"), None)
    if d is None or not d > 0:
        raise InputError("a difference outcome's default sweep grid is scaled by its smallest "
                         "important difference: add [[thresholds]] measure = \"difference\" "
                         "to the spec, or give a grid file with --grid", file=spec.path,
                         column="thresholds")
    g = DIFFERENCE_GRID
    return {"sceptical": f"normal(0, {g['sceptical'] * d:.6g})",
            "vague": f"normal(0, {g['vague'] * d:.6g})",
            "tau": tuple(f"{dist}({m * d:.6g})" for dist, m in g["tau"])}


# -- grid files ----------------------------------------------------------------------------------

_GRID_KEYS = ("setting", "cross", "options")
_OPTIONS = ("data_level", "psense")
MAX_SETTINGS = 1000
"""Most settings a grid file may define (a ``[cross]`` table multiplies quickly)."""


def _shown(key: str) -> str:
    """A TOML key as an error message shows it: escaped if it holds line breaks or other
    control characters (quoted keys may), so the message stays one readable line."""
    return key if key.isprintable() else repr(key)[1:-1]


def _grid_prior(value: Any, *, slot: str, support: Support, file: str, column: str) -> Prior:
    """A prior from ``"dist(...)"`` or ``{dist = "...", label = "..."}``."""
    label = None
    if isinstance(value, dict):
        unknown = sorted(set(value) - {"dist", "label"})
        if unknown:
            raise InputError(f"unknown key {unknown[0]!r}; a prior table has dist and label",
                             file=file, column=column)
        label, value = value.get("label"), value.get("dist")
        if label is not None and not isinstance(label, str):
            raise InputError("label must be a string", file=file, column=column)
    if not isinstance(value, str):
        raise InputError("expected a prior such as \"halfnormal(0.5)\"", file=file,
                         column=column)
    prior = parse_prior(value, where=column, file=file)
    try:
        check_support(slot, prior, support, file=file)
    except InputError as exc:  # name the grid key, not the bare slot
        raise InputError(exc.message, file=file, column=column) from None
    return replace(prior, label=label) if label else prior


def _auto_label(priors: Mapping[str, Prior]) -> str:
    names = {"effect": "effect", "tau": "τ"}
    return ", ".join(f"{names.get(s, s)} {short_label(p)}" for s, p in priors.items()) or \
        "spec defaults"


def _slot_support(slot: str, slots: Mapping[str, Support], family: str, file: str,
                  column: str) -> Support:
    if slot not in slots:
        raise InputError(f"unknown prior name {slot!r}; {family} has: " + ", ".join(slots),
                         file=file, column=column)
    return slots[slot]


def _cross_settings(cross: Any, family: str, file: str) -> list[Setting]:
    """Every combination of a ``[cross]`` table's ``SLOT = [priors]`` lists."""
    if not isinstance(cross, dict):
        raise InputError("must be a table of SLOT = [priors]", file=file, column="cross")
    slots = FAMILIES[family].slots
    axes = []
    for slot, values in cross.items():
        col = f"cross.{_shown(slot)}"
        support = _slot_support(slot, slots, family, file, col)
        if not isinstance(values, list) or not values:
            raise InputError("must be a non-empty list of priors", file=file, column=col)
        axes.append([(slot, _grid_prior(v, slot=slot, support=support, file=file,
                                        column=f"{col}[{i}]"))
                     for i, v in enumerate(values)])
    if not axes:
        return []
    size = math.prod(len(a) for a in axes)
    if size > MAX_SETTINGS:  # checked before expanding, so a huge product cannot hang
        raise InputError(f"{size} combinations; a grid has at most {MAX_SETTINGS} settings",
                         file=file, column="cross")
    return [Setting(_auto_label(dict(combo)), dict(combo)) for combo in itertools.product(*axes)]


def _listed_settings(entries: Any, family: str, file: str) -> list[Setting]:
    """The ``[[setting]]`` tables, each with an optional label and prior overrides."""
    if not isinstance(entries, list):
        raise InputError("must be an array of [[setting]] tables", file=file, column="setting")
    slots = FAMILIES[family].slots
    out = []
    for i, entry in enumerate(entries):
        col = f"setting[{i}]"
        if not isinstance(entry, dict):
            raise InputError("must be a table", file=file, column=col)
        priors = {}
        for slot, value in entry.items():
            if slot == "label":
                continue
            where = f"{col}.{_shown(slot)}"
            support = _slot_support(slot, slots, family, file, where)
            priors[slot] = _grid_prior(value, slot=slot, support=support, file=file,
                                       column=where)
        label = entry.get("label", _auto_label(priors))
        if not isinstance(label, str) or not label.strip():
            raise InputError("label must be a non-empty string", file=file,
                             column=f"{col}.label")
        out.append(Setting(label.strip(), priors))
    return out


def _grid_options(options: Any, file: str) -> dict[str, bool]:
    if not isinstance(options, dict):
        raise InputError("must be a table", file=file, column="options")
    for key, value in options.items():
        if key not in _OPTIONS:
            raise InputError(f"unknown option; known: {', '.join(_OPTIONS)}", file=file,
                             column=f"options.{_shown(key)}")
        if not isinstance(value, bool):
            raise InputError("must be true or false", file=file, column=f"options.{key}")
    return dict(options)


def load_grid(path: str | Path, spec: OutcomeSpec) -> Grid:
    """Read a TOML grid file for ``spec``'s family.

    Format (both forms may be combined; ``[cross]`` settings come first)::

        [[setting]]
        label = "sceptical effect, HN(0.5)"   # optional
        effect = "normal(0, 0.35)"            # any prior slot of the family
        tau = { dist = "halfnormal(0.5)", label = "moderate" }

        [cross]                               # every combination
        effect = ["normal(0, 0.35)", "normal(0, 1.5)"]
        tau = ["halfnormal(0.25)", "turner(infection, nonpharma_nonpharma)"]

        [options]
        data_level = true                     # leave-one-out and rounding rows
        psense = true                         # power-scaling of the default fit

    Raises
    ------
    InputError
        One line naming the file and key: a missing, non-UTF-8 or malformed file, unknown
        keys or prior names, priors whose support does not fit, duplicate labels, more
        than :data:`MAX_SETTINGS` settings, or none at all. Any text or bytes yield a
        :class:`Grid` or this error (``tests/properties/test_sweep_grid_files.py`` checks it).
    """
    f = str(path)
    _, raw = read_toml(path, "grid file")  # any unreadable file is an InputError
    for key in raw:
        if key not in _GRID_KEYS:
            raise InputError(f"unknown key; a grid has {', '.join(_GRID_KEYS)}", file=f,
                             column=_shown(key))
    settings = (_cross_settings(raw.get("cross", {}), spec.family, f)
                + _listed_settings(raw.get("setting", []), spec.family, f))
    if not settings:
        raise InputError("no settings: give [[setting]] tables or a [cross] table", file=f)
    if len(settings) > MAX_SETTINGS:
        raise InputError(f"{len(settings)} settings; a grid has at most {MAX_SETTINGS}",
                         file=f)
    seen: set[str] = set()
    for s in settings:
        if s.label in seen:
            raise InputError(f"duplicate setting label {s.label!r}", file=f, column="label")
        seen.add(s.label)
    return Grid(tuple(settings), source=f, **_grid_options(raw.get("options", {}), f))
