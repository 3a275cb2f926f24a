"""Prior- and data-sensitivity sweeps: does the clinical conclusion survive other choices?

A sweep refits one outcome under a grid of prior settings (by default heterogeneity
priors from small to large half-normal scales, a half-Cauchy and an empirical prior,
crossed with sceptical, weakly informative and vague effect priors), without each study
in turn, and with the percentage-derived event counts rounded the other ways. Each
setting is one row of a tidy table; the verdict says whether the conclusion
``P(benefit) >= decision_probability`` is the same in every setting that passed the
convergence gate, and names the settings where it flips. Power-scaling sensitivity of
the default fit is added.

Every model structure (family × number of studies) is compiled once: priors and data
are ``pm.Data`` swapped into the compiled model (see :mod:`srsbayes.fitting`). The
k − 1 structure for leave-one-out is compiled in a background thread while the k-study
settings sample (nutpie samples without holding the GIL), and settings run in parallel
threads, one chain-thread each.

References
----------
Spiegelhalter DJ, Abrams KR, Myles JP (2004). Bayesian Approaches to Clinical Trials and
Health-Care Evaluation. Wiley, Section 5.5 (sceptical and enthusiastic priors) and 3.10
(sensitivity analysis).

Turner RM, Jackson D, Wei Y, Thompson SG, Higgins JPT (2015). Predictive distributions for
between-study heterogeneity and simple methods for their application in Bayesian
meta-analysis. Stat Med 34:984-998.

Röver C, Bender R, Dias S, et al. (2021). On weakly informative prior distributions for
the heterogeneity parameter in Bayesian random-effects meta-analysis. Res Synth Methods
12:448-474.

Kallioinen N, Paananen T, Bürkner P-C, Vehtari A (2024). Detecting and diagnosing prior
and likelihood sensitivity with power-scaling. Stat Comput 34:57.
"""

from __future__ import annotations

import itertools
import math
import os
import threading
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import InputError
from ..families import FAMILIES, get_family, threshold_probability
from ..inference.fitting import DEFAULT_CACHE, FitSettings, ModelCache, resolve_priors, sample_gated
from ..inputs.data import StudyTable, outcome_table
from ..inputs.specs import OutcomeSpec, read_toml
from ..outputs import command_line, package_versions, write_json, write_text, write_with
from ..priors.distributions import Prior, check_support, parse_prior
from .variants import DataVariant, leave_one_out, psense_report, rounding_variants

# -- settings and default grids ----------------------------------------------------------------


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
        ``"prior"``, ``"leave-one-out"`` or ``"rounding"``.
    variant
        Key of the :class:`srsbayes.sensitivity.DataVariant` (data-level rows only).
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


# Effect priors are on the family's own scale (log OR; log ratio of medians). The middle
# one is always the spec's own prior; the sceptical one keeps 95% of its mass on effects a
# sceptic finds plausible (Spiegelhalter et al. 2004, 5.5), the vague one on none in
# particular. Heterogeneity priors go from small to large, plus a heavy tail and an
# empirical or data-scaled one; the spec's own prior is added if it is not among them.
DEFAULT_GRIDS: dict[str, dict[str, Any]] = {
    "binomial": {
        "sceptical": "normal(0, 0.35)",
        "vague": "normal(0, 10)",
        "tau": ("halfnormal(0.25)", "halfnormal(0.5)", "halfnormal(1)", "halfcauchy(0.5)",
                "turner(general)"),
    },
    "lognormal_median": {
        "sceptical": "normal(0, 0.1)",
        "vague": "normal(0, 10)",
        # Turner et al. (2015) tabulate log-OR heterogeneity only, so the empirical slot is
        # a data-scaled half-normal (Röver et al. 2021): log-OR unit-information SDs are
        # about 4 or more, so the common HN(0.5) for log ORs is about HN(UISD / 8); the same
        # fraction of this outcome's UISD carries that choice over to the log median ratio.
        "tau": ("halfnormal(0.1)", "halfnormal(0.3)", "halfnormal(0.6)", "halfcauchy(0.25)",
                "uisd(0.125)"),
    },
}
"""Per-family default grid: effect priors (sceptical, spec default, vague) × τ priors."""

_MEASURE_WORD = {"odds_ratio": "odds ratios", "ratio_of_medians": "ratios of medians"}
_TAU_WORDS = {0: "small", 2: "large"}


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


def _ratio_range(sigma: float, measure: str) -> str:
    lo, hi = math.exp(-1.959964 * sigma), math.exp(1.959964 * sigma)
    return f"95% of {_MEASURE_WORD.get(measure, measure)} within {lo:.2g}-{hi:.2g}"


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


def default_grid(spec: OutcomeSpec) -> Grid:
    """The default prior grid of ``spec``'s family: 3 effect priors × 5 or more τ priors.

    The spec's own effect and τ priors are always in the grid, so its default fit is one
    of the settings. For binary outcomes a spec may name its Turner et al. (2015) setting
    in a ``[sweep]`` table (``turner = "turner(infection, nonpharma_nonpharma)"``);
    without it the marginal ``turner(general)`` is used.
    """
    cfg = DEFAULT_GRIDS[spec.family]
    measure = FAMILIES[spec.family].measure
    sceptical = parse_prior(cfg["sceptical"])
    vague = parse_prior(cfg["vague"])
    default_effect = spec.priors["effect"]
    effects = [
        ("sceptical", replace(sceptical, label=f"sceptical {short_label(sceptical)}: "
                                                 f"{_ratio_range(sceptical.params[1], measure)}")),
        ("weakly informative", replace(default_effect, label=(
            f"weakly informative {short_label(default_effect)} (spec default)"))),
        ("vague", replace(vague, label=f"vague {short_label(vague)}")),
    ]
    taus: list[Prior] = []
    turner = _spec_turner(spec)
    for i, text in enumerate(cfg["tau"]):
        prior = parse_prior(text)
        if prior.dist == "turner" and turner is not None:
            prior = turner
        if prior.label is None and prior.dist != "uisd":  # uisd is labelled once resolved
            word = _TAU_WORDS.get(i)
            desc = {"halfcauchy": "heavy-tailed", "uisd": "unit-information scaled"}.get(
                prior.dist, f"{word} heterogeneity" if word else "")
            prior = replace(prior, label=f"{short_label(prior)}" + (f": {desc}" if desc else ""))
        taus.append(prior)
    spec_tau = spec.priors["tau"]
    if spec_tau not in taus:
        taus.insert(1, spec_tau)
    taus = [replace(t, label=(t.label or short_label(t)) + " (spec default)")
            if t == spec_tau else t for t in taus]
    settings = []
    for (role, effect), tau in itertools.product(effects, taus):
        label = f"{role} effect, τ {short_label(tau)}"
        settings.append(Setting(label, {"effect": effect, "tau": tau}))
    return Grid(tuple(settings))


# -- grid files ------------------------------------------------------------------------------

_GRID_KEYS = ("setting", "cross", "options")
_OPTIONS = {"data_level": bool, "psense": bool}


def _grid_prior(value: Any, *, slot: str, support: str, file: str, column: str) -> Prior:
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
    if prior.support == "any":
        if support == "positive" and prior.params[0] < 0:
            raise InputError(f"{prior}: '{slot}' is positive, so lower must be >= 0",
                             file=file, column=column)
    elif prior.support != support:
        need = "the whole real line" if support == "real" else "positive values"
        raise InputError(f"{prior} does not fit '{slot}', which needs a prior on {need}",
                         file=file, column=column)
    return replace(prior, label=label) if label else prior


def _auto_label(priors: Mapping[str, Prior]) -> str:
    names = {"effect": "effect", "tau": "τ"}
    return ", ".join(f"{names.get(s, s)} {short_label(p)}" for s, p in priors.items()) or \
        "spec defaults"


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
        Naming the file and key: malformed TOML, unknown keys or prior names, priors whose
        support does not fit, duplicate labels, or no settings at all.
    """
    f = str(path)
    _, raw = read_toml(path, "grid file")
    for key in raw:
        if key not in _GRID_KEYS:
            raise InputError(f"unknown key; a grid has {', '.join(_GRID_KEYS)}", file=f,
                             column=key)
    slots = FAMILIES[spec.family].slots
    settings: list[Setting] = []
    cross = raw.get("cross", {})
    if not isinstance(cross, dict):
        raise InputError("must be a table of SLOT = [priors]", file=f, column="cross")
    if cross:
        axes = []
        for slot, values in cross.items():
            col = f"cross.{slot}"
            if slot not in slots:
                raise InputError(f"unknown prior name {slot!r}; {spec.family} has: "
                                 + ", ".join(slots), file=f, column=col)
            if not isinstance(values, list) or not values:
                raise InputError("must be a non-empty list of priors", file=f, column=col)
            axes.append([(slot, _grid_prior(v, slot=slot, support=slots[slot], file=f,
                                            column=f"{col}[{i}]"))
                         for i, v in enumerate(values)])
        for combo in itertools.product(*axes):
            priors = dict(combo)
            settings.append(Setting(_auto_label(priors), priors))
    entries = raw.get("setting", [])
    if not isinstance(entries, list):
        raise InputError("must be an array of [[setting]] tables", file=f, column="setting")
    for i, entry in enumerate(entries):
        col = f"setting[{i}]"
        if not isinstance(entry, dict):
            raise InputError("must be a table", file=f, column=col)
        priors = {}
        for slot, value in entry.items():
            if slot == "label":
                continue
            if slot not in slots:
                raise InputError(f"unknown prior name {slot!r}; {spec.family} has: "
                                 + ", ".join(slots), file=f, column=f"{col}.{slot}")
            priors[slot] = _grid_prior(value, slot=slot, support=slots[slot], file=f,
                                       column=f"{col}.{slot}")
        label = entry.get("label", _auto_label(priors))
        if not isinstance(label, str) or not label.strip():
            raise InputError("label must be a non-empty string", file=f, column=f"{col}.label")
        settings.append(Setting(label.strip(), priors))
    if not settings:
        raise InputError("no settings: give [[setting]] tables or a [cross] table", file=f)
    seen: set[str] = set()
    for s in settings:
        if s.label in seen:
            raise InputError(f"duplicate setting label {s.label!r}", file=f, column="label")
        seen.add(s.label)
    options = raw.get("options", {})
    if not isinstance(options, dict):
        raise InputError("must be a table", file=f, column="options")
    opts = {}
    for key, value in options.items():
        if key not in _OPTIONS:
            raise InputError(f"unknown option; known: {', '.join(_OPTIONS)}", file=f,
                             column=f"options.{key}")
        if not isinstance(value, bool):
            raise InputError("must be true or false", file=f, column=f"options.{key}")
        opts[key] = value
    return Grid(tuple(settings), source=f, **opts)


# -- verdict ---------------------------------------------------------------------------------


def conclusion_text(p: float | None, decision_probability: float) -> str:
    """``P(benefit) >= 0.95``, ``P(benefit) < 0.95`` or ``not assessable``."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "not assessable"
    op = ">=" if p >= decision_probability else "<"
    return f"P(benefit) {op} {decision_probability:g}"


def verdict(rows: pd.DataFrame, decision_probability: float, *,
            reference: str | None = None) -> dict[str, Any]:
    """Does ``P(benefit) >= decision_probability`` give the same answer in every setting?

    A pure function of the sweep table.

    Parameters
    ----------
    rows
        Needs columns ``setting``, ``ok`` and ``prob_benefit``; every column starting with
        ``p_`` is treated as a threshold probability and its range reported.
    decision_probability
        The spec's decision threshold.
    reference
        Label of the spec-default setting, whose conclusion the others are compared with.
        If it did not converge (or is not given), the conclusion of most converged
        settings is the reference.

    Returns
    -------
    dict
        ``robust`` (same conclusion in every converged setting, and at least one
        converged), ``holds_everywhere`` (the benefit threshold is met in every converged
        setting), ``conclusion`` (the reference conclusion), ``flips`` (settings whose
        conclusion differs, with their P(benefit)), ``not_assessable`` (settings that
        failed the convergence gate), ranges of P(benefit) and of each threshold
        probability over converged settings, and ``text``, a plain-language summary.
    """
    ok = rows["ok"].astype(bool)
    conv = rows[ok]
    not_assessable = [str(s) for s in rows.loc[~ok, "setting"]]
    rule = f"P(benefit) >= {decision_probability:g}"
    if conv.empty:
        return {"robust": False, "holds_everywhere": False, "assessable": False,
                "rule": rule, "conclusion": None, "reference": reference,
                "n_settings": len(rows), "n_converged": 0, "flips": [],
                "not_assessable": not_assessable, "prob_benefit_range": None,
                "threshold_ranges": {},
                "text": f"NOT ASSESSABLE: none of the {len(rows)} settings passed the "
                        "convergence gate, so no conclusion is reported."}
    meets = conv["prob_benefit"] >= decision_probability
    ref_label = reference
    ref_rows = conv[conv["setting"] == reference] if reference is not None else conv.iloc[:0]
    if len(ref_rows):
        ref_meets = bool(ref_rows["prob_benefit"].iloc[0] >= decision_probability)
        ref_note = "under the default priors"
    else:
        ref_meets = bool(meets.sum() * 2 >= len(meets))
        ref_note = "in most converged settings (the default setting did not converge)" \
            if reference is not None and reference in set(rows["setting"]) else \
            "in most converged settings"
        ref_label = None
    flipped = conv[meets != ref_meets]
    flips = [{"setting": str(r.setting), "prob_benefit": float(r.prob_benefit),
              "conclusion": conclusion_text(float(r.prob_benefit), decision_probability)}
             for r in flipped.itertuples()]
    p = conv["prob_benefit"]
    thresholds = {c: [float(conv[c].min()), float(conv[c].max())]
                  for c in rows.columns if c.startswith("p_") and conv[c].notna().any()}
    robust = not flips
    ref_text = conclusion_text(1.0 if ref_meets else 0.0, decision_probability)
    n = len(conv)
    rng_text = f"P(benefit) {p.min():.3f} to {p.max():.3f}"
    if robust:
        where = f"all {n}" if ref_meets else f"none of the {n}"
        text = (f"ROBUST: the decision threshold {rule} is met in {where} converged "
                f"settings ({rng_text}).")
    else:
        shown = ", ".join(f"'{f['setting']}' ({f['prob_benefit']:.3f})" for f in flips[:8])
        more = f" and {len(flips) - 8} more" if len(flips) > 8 else ""
        text = (f"NOT ROBUST: {ref_text} {ref_note}, but the conclusion flips in "
                f"{len(flips)} of {n} converged settings: {shown}{more} ({rng_text}).")
    if not_assessable:
        text += (f" Not assessable (failed the convergence gate, excluded): "
                 f"{', '.join(repr(s) for s in not_assessable)}.")
    return {
        "robust": robust, "holds_everywhere": bool(meets.all()), "assessable": True,
        "rule": rule, "conclusion": ref_text, "reference": ref_label,
        "n_settings": len(rows), "n_converged": n, "flips": flips,
        "not_assessable": not_assessable,
        "prob_benefit_range": [float(p.min()), float(p.max())],
        "threshold_ranges": thresholds, "text": text,
    }


# -- running ---------------------------------------------------------------------------------


def threshold_column(measure: str, threshold: float) -> str:
    """Column name of a threshold probability, e.g. ``p_risk_difference_5``."""
    return f"p_{measure}_{threshold:g}"


def _row(setting: Setting, variant: DataVariant | None, spec: OutcomeSpec,
         priors: dict[str, Prior], idata: xr.DataTree, diag, used: FitSettings,
         n_studies: int) -> dict[str, Any]:
    """One table row; effect numbers are left empty when the gate failed."""
    fam = get_family(spec.family)
    row: dict[str, Any] = {
        "setting": setting.label,
        "kind": setting.kind,
        "data": variant.label if variant else "all studies",
        "data_detail": variant.detail if variant else "",
        "n_studies": n_studies,
        "effect_prior": str(priors["effect"]),
        "effect_prior_label": priors["effect"].display,
        "tau_prior": str(priors["tau"]),
        "tau_prior_label": priors["tau"].display,
        "other_priors": "; ".join(f"{k}={v}" for k, v in priors.items()
                                  if k not in ("effect", "tau")),
    }
    post = idata["posterior"].to_dataset()
    stats: dict[str, Any] = {
        "effect_median": math.nan, "effect_lo": math.nan, "effect_hi": math.nan,
        "tau_median": math.nan, "tau_lo": math.nan, "tau_hi": math.nan,
        "prob_benefit": math.nan, "prob_benefit_new_study": math.nan,
    }
    for t in spec.thresholds:
        stats[threshold_column(t.measure, t.threshold)] = math.nan
    if diag.ok:
        theta, tau = post["effect"], post["tau"]
        # Same random stream as fit_outcome, so the default row equals `fit`'s summary.
        rng = np.random.default_rng([used.seed, 1])
        log_new = theta + tau * xr.DataArray(rng.standard_normal(theta.shape), dims=theta.dims)
        absolute = fam.absolute_effects(post, spec, rng, log_new)
        lo, med, hi = np.quantile(np.exp(np.asarray(theta).ravel()), [0.025, 0.5, 0.975])
        tlo, tmed, thi = np.quantile(np.asarray(tau).ravel(), [0.025, 0.5, 0.975])
        stats.update({
            "effect_median": float(med), "effect_lo": float(lo), "effect_hi": float(hi),
            "tau_median": float(tmed), "tau_lo": float(tlo), "tau_hi": float(thi),
            "prob_benefit": float((spec.sign * theta > 0).mean()),
            "prob_benefit_new_study": float((spec.sign * log_new > 0).mean()),
        })
        for t in spec.thresholds:
            pt, _ = threshold_probability(spec.family, t.measure, t.threshold, spec.sign,
                                          theta, log_new, absolute)
            stats[threshold_column(t.measure, t.threshold)] = pt
    row.update(stats)
    p = stats["prob_benefit"]
    row.update({
        "meets_decision": (None if not diag.ok else bool(p >= spec.decision_probability)),
        "conclusion": conclusion_text(None if not diag.ok else p, spec.decision_probability),
        "ok": diag.ok,
        "failures": "; ".join(diag.failures),
        "attempts": diag.attempts,
        "rhat_max": diag.rhat_max,
        "ess_bulk_min": diag.ess_bulk_min,
        "ess_tail_min": diag.ess_tail_min,
        "divergences": diag.divergences,
        "bfmi_min": diag.bfmi_min,
    })
    return row


@dataclass
class SweepResult:
    """A finished sweep: the table, the verdict, power-scaling and provenance."""

    spec: OutcomeSpec
    rows: pd.DataFrame
    verdict: dict[str, Any]
    psense: dict[str, Any] | None
    provenance: dict[str, Any]
    reference: str

    def as_dict(self) -> dict[str, Any]:
        """The content of ``sweep.json``."""
        return {
            "outcome": self.spec.id, "label": self.spec.label, "family": self.spec.family,
            "measure": FAMILIES[self.spec.family].measure, "benefit": self.spec.benefit,
            "decision_probability": self.spec.decision_probability,
            "reference_setting": self.reference,
            "verdict": self.verdict,
            "psense": self.psense,
            "rows": [{k: _jsonable(v) for k, v in r.items()}
                     for r in self.rows.to_dict("records")],
            "provenance": self.provenance,
        }

    def figure(self):
        """The two-panel matplotlib figure (P(benefit) and the effect per setting)."""
        from ..plots.sweep import sweep_figure

        return sweep_figure(self.rows, self.spec, self.verdict, reference=self.reference)

    def figure_png(self, dpi: int = 150) -> bytes:
        """The figure as PNG bytes."""
        from ..plots.sweep import figure_png

        return figure_png(self.figure(), dpi=dpi)

    def write(self, out: str | Path) -> dict[str, Path]:
        """Write ``sweep.csv``, ``sweep.json`` and ``sweep.png`` into ``out`` (atomically)."""
        out = Path(out)
        paths = {"csv": out / "sweep.csv", "json": out / "sweep.json", "png": out / "sweep.png"}
        write_text(paths["csv"], self.rows.to_csv(index=False, lineterminator="\n"))
        write_json(paths["json"], self.as_dict())
        png = self.figure_png()
        write_with(paths["png"], lambda tmp: tmp.write_bytes(png))
        return paths


def _jsonable(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return None
    if v is pd.NA or v is None:
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


@dataclass
class _Job:
    index: int
    setting: Setting
    variant: DataVariant | None
    priors: dict[str, Prior]
    data: dict[str, np.ndarray]
    k: int


SWEEP_TARGET_ACCEPT = 0.95
"""Lowest NUTS target acceptance rate a sweep samples with."""


def _default_workers(settings: FitSettings) -> int:
    cpus = os.cpu_count() or 1
    return max(1, min(cpus, 2)) if settings.cores is None else max(1, cpus // settings.cores)


def run_sweep(table: StudyTable, spec: OutcomeSpec, grid: Grid | Sequence[Setting] | None = None,
              settings: FitSettings | None = None, cache: ModelCache | None = None, *,
              data_level: bool | None = None, psense: bool | None = None,
              workers: int | None = None,
              progress: Callable[[int, int, dict[str, Any]], None] | None = None
              ) -> SweepResult:
    """Refit ``spec``'s outcome under every setting of ``grid`` and judge the conclusion.

    Parameters
    ----------
    table
        Validated study data (any CSV of the schema).
    spec
        The outcome's spec.
    grid
        Prior settings (a :class:`Grid` or a sequence of :class:`Setting`); the family's
        :func:`default_grid` when None. If no setting has the spec's default priors, one
        is added, as the reference for the verdict and the data-level rows.
    settings
        Sampler settings, shared by every setting (same seed: common random numbers make
        differences between rows reflect the settings, not Monte Carlo noise). The target
        acceptance rate is raised to at least :data:`SWEEP_TARGET_ACCEPT`.
    cache
        Compiled-model cache (the process-wide one by default). A sweep compiles the
        ``k``-study structure and, for leave-one-out, the ``k - 1`` one.
    data_level, psense
        Add leave-one-study-out and rounding rows; add power-scaling of the default fit.
        Default: the grid's options (True unless a grid file turns them off).
    workers
        Settings sampled concurrently (threads). Default: one per core, each sampling its
        chains on one core (when ``settings.cores`` is None).
    progress
        Called as ``progress(done, total, row)`` after each setting.

    Returns
    -------
    SweepResult
    """
    t_start = time.perf_counter()
    settings = settings or FitSettings()
    cache = cache if cache is not None else DEFAULT_CACHE
    if grid is None:
        grid = default_grid(spec)
    elif not isinstance(grid, Grid):
        grid = Grid(tuple(grid), source="api")
    data_level = grid.data_level if data_level is None else data_level
    do_psense = grid.psense if psense is None else psense
    # With a handful of studies most settings diverge a few times at target_accept 0.8 and
    # the gate reruns them at 0.95; starting at 0.95 saves that rerun (the gate and its
    # one retry still apply to every setting).
    settings = replace(settings, target_accept=max(settings.target_accept, SWEEP_TARGET_ACCEPT))
    workers = workers or _default_workers(settings)
    if settings.cores is None:
        settings = replace(settings, cores=max(1, (os.cpu_count() or 1) // workers))
    fam = get_family(spec.family)
    wide = outcome_table(table, spec)
    k = len(wide)
    base_priors = resolve_priors(spec, wide)

    prior_settings = list(grid.settings)
    resolved = [resolve_priors(spec, wide, dict(s.priors)) for s in prior_settings]
    ref_idx = next((i for i, p in enumerate(resolved) if p == base_priors), None)
    if ref_idx is None:
        prior_settings.insert(0, Setting("spec default priors", {}))
        resolved.insert(0, base_priors)
        ref_idx = 0
    reference = prior_settings[ref_idx].label

    variants: list[DataVariant] = []
    if data_level:
        variants = rounding_variants(wide, spec.family, spec.sign) + leave_one_out(wide)
    ref_label_priors = resolved[ref_idx]
    jobs: list[_Job] = []
    for s, pri in zip(prior_settings, resolved, strict=True):
        jobs.append(_Job(len(jobs), s, None, pri, fam.model_data(wide), k))
    for v in variants:
        s = Setting(v.label, {}, kind=v.kind, variant=v.key)
        jobs.append(_Job(len(jobs), s, v, ref_label_priors, fam.model_data(v.wide), len(v.wide)))
    labels = [j.setting.label for j in jobs]
    dup = next((x for x in labels if labels.count(x) > 1), None)
    if dup is not None:
        raise InputError(f"duplicate setting label {dup!r} (data-level rows use 'without "
                         "STUDY' and 'counts ...'; rename the grid setting)", column="label")

    # Compile k now and every other structure in the background while k samples.
    t0 = time.perf_counter()
    cache.get(spec.family, k)
    compile_s = {str(k): time.perf_counter() - t0}
    pending: dict[int, Future] = {}
    others = sorted({j.k for j in jobs} - {k})
    lock = threading.Lock()

    def compile_rest() -> None:
        for kk in others:
            t1 = time.perf_counter()
            cache.get(spec.family, kk)
            with lock:
                compile_s[str(kk)] = time.perf_counter() - t1

    bg = None
    if others:
        bg = ThreadPoolExecutor(1, thread_name_prefix="srsbayes-compile")
        fut = bg.submit(compile_rest)
        pending = dict.fromkeys(others, fut)

    results: list[dict[str, Any] | None] = [None] * len(jobs)
    fits: dict[int, tuple[xr.DataTree, Any]] = {}
    done = [0]

    def run(job: _Job) -> None:
        if job.k in pending:
            pending[job.k].result()  # wait for (and re-raise errors of) the compile
        t1 = time.perf_counter()
        idata, diag, used = sample_gated(spec.family, job.data, job.priors, settings, cache)
        row = _row(job.setting, job.variant, spec, job.priors, idata, diag, used, job.k)
        row["seconds"] = time.perf_counter() - t1
        results[job.index] = row
        if job.index == ref_idx:
            fits[job.index] = (idata, diag)
        with lock:
            done[0] += 1
            if progress:
                progress(done[0], len(jobs), row)

    order = sorted(jobs, key=lambda j: (j.k != k, j.index))
    try:
        if workers == 1:
            for job in order:
                run(job)
        else:
            with ThreadPoolExecutor(workers, thread_name_prefix="srsbayes-sweep") as ex:
                for f in [ex.submit(run, j) for j in order]:
                    f.result()
    finally:
        if bg is not None:
            bg.shutdown(wait=True)

    rows = pd.DataFrame([r for r in results if r is not None])
    seconds = rows.pop("seconds")
    ver = verdict(rows, spec.decision_probability, reference=reference)

    ps = None
    if do_psense:
        idata, diag = fits[ref_idx]
        if diag.ok:
            post = idata["posterior"].to_dataset()
            data = fam.model_data(wide)
            ps = psense_report(post, ref_label_priors, fam.loglik(post, data))
            ps["setting"] = reference
        else:
            ps = {"setting": reference, "flags": [], "skipped":
                  "the default setting failed the convergence gate"}

    prov = {
        "data": {"path": table.path, "sha256": table.sha256},
        "spec_path": spec.path,
        "seed": settings.seed,
        "settings": {"draws": settings.draws, "tune": settings.tune, "chains": settings.chains,
                     "target_accept": settings.target_accept, "cores": settings.cores,
                     "workers": workers},
        "grid_source": grid.source,
        "grid": [{"setting": j.setting.label, "kind": j.setting.kind,
                  "priors": {s: str(p) for s, p in j.priors.items()},
                  "prior_labels": {s: p.display for s, p in j.priors.items()},
                  "overrides": {s: str(p) for s, p in j.setting.priors.items()},
                  "data": j.variant.key if j.variant else None} for j in jobs],
        "compiled_structures": [{"family": spec.family, "n_studies": int(kk),
                                 "compile_seconds": s} for kk, s in sorted(compile_s.items())],
        "seconds": {"total": time.perf_counter() - t_start,
                    "per_setting": [float(x) for x in seconds]},
        "versions": package_versions(),
        "command": command_line(),
    }
    return SweepResult(spec, rows, ver, ps, prov, reference)


# -- command line ------------------------------------------------------------------------------


def format_table(rows: pd.DataFrame) -> str:
    """A plain-text table of the sweep for the terminal."""
    width = min(max(len(s) for s in rows["setting"]), 46)
    lines = [f"{'setting':<{width}}  P(benefit)  effect (95% CrI)      tau     ok"]
    for r in rows.itertuples():
        name = r.setting if len(r.setting) <= width else r.setting[: width - 1] + "…"
        if r.ok:
            lines.append(f"{name:<{width}}  {r.prob_benefit:>10.3f}  {r.effect_median:5.2f} "
                         f"({r.effect_lo:.2f}-{r.effect_hi:.2f})  {r.tau_median:6.2f}   yes")
        else:
            lines.append(f"{name:<{width}}  {'-':>10}  {'not assessable':<21} {'-':>6}   NO")
    return "\n".join(lines)
