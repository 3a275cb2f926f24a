"""The family contract, written down: what a likelihood family provides, and the defaults of
what it may leave out.

A family is a module holding a subclass of :class:`Family` and one instance of it,
``FAMILY``; :func:`srsbayes.families.get_family` returns that instance. Code outside
``families/`` calls its methods and reads its attributes directly (no ``getattr`` or
``hasattr`` probing): the required ones are abstract here, every optional one has a default
that says "this family does not do that". ``binomial.py`` is the reference implementation,
``tests/integration/toy_family.py`` the smallest one.

What srsbayes knows of a family *without* importing its model code (its prior slots, its
measure, the sweep's default grid, ...) stays in :class:`srsbayes.families.FamilyInfo`, so
that specs and data are validated without PyMC; how a measure is worded is in
:data:`srsbayes.families.measures.MEASURES`, keyed by the measure's code.

References
----------
Higgins JPT, Thompson SG, Spiegelhalter DJ (2009). A re-evaluation of random-effects
meta-analysis. J R Stat Soc A 172:137-159 (the hierarchical model every family instantiates:
a pooled effect θ, a heterogeneity τ and study deviations δ_i).
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypedDict

import numpy as np

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

    from ..outputs import JSONObject
    from ..priors.distributions import Prior
    from . import FamilyInfo
    from .baseline import BaselineModel
    from .spec_view import SpecView as OutcomeSpec

ModelVariant = tuple[str, str, str, Mapping[str, float]]
"""A sweep row for a modelling choice: ``(label, kind, detail, model-data overrides)``."""
Truth = dict[str, "float | np.ndarray"]
"""True parameter values an SBC simulator drew: scalars (θ, τ, ...) and per-study arrays."""


@dataclass(frozen=True)
class TableColumn:
    """A column of the report's data table of a family's arm rows (after study, arm and n).

    ``keys``: one study-table column shown as a number (or as text when ``text``), or two
    (``lo``, ``hi``) shown as "lo to hi", "—" when ``lo`` is not given.
    """

    head: str
    keys: tuple[str, ...]
    text: bool = False


class SpecKeys(TypedDict, total=False):
    """Family-specific spec keys (:meth:`Family.spec_keys`)."""

    measure: str
    approximate_measures: tuple[str, ...]


class BaselineSdRow(TypedDict):
    """One prior of the baseline model's between-population SD and what it implies."""

    sd_prior: str
    default: bool
    risk_postop_new: dict[str, float | list[float]]


class BaselineSensitivity(TypedDict):
    """:meth:`Family.baseline_sensitivity`: ``summary["baseline_sd_sensitivity"]``."""

    what: str
    rows: list[BaselineSdRow]


@dataclass(frozen=True)
class PPCPanel:
    """How the posterior-predictive figure shows one observed variable.

    ``scale`` multiplies each study's value (after ``exp`` when ``exponentiate``), ``unit``
    labels the axis and ``title`` heads the panel, after the arm's wording (the review
    question's, :mod:`srsbayes.inputs.question`) when ``arm`` names one of :data:`ARMS`.
    """

    scale: np.ndarray
    unit: str
    title: str
    arm: str = ""
    exponentiate: bool = False


def arm_title(name: str, words: Mapping[str, str]) -> tuple[str, str]:
    """A PPC panel's title and arm code for observed variable ``name`` (``<what>_<arm>`` or
    ``<what>``): ``words[what]`` (else ``what`` with spaces) and the arm ("" for none)."""
    from . import ARMS

    arm = next((a for a in ARMS if name.endswith("_" + a)), "")
    base = name.removesuffix("_" + arm) if arm else name
    return words.get(base, base.replace("_", " ")), arm


class Family(abc.ABC):
    """A likelihood family: one model builder and what the pipeline asks of it.

    Required: :attr:`DIAGNOSTIC_VARS` and the abstract methods. Optional hooks have defaults
    meaning "not offered" (no absolute effects at a stated level, no exact posterior, no
    family-specific spec keys, ...). The data of a fit are the ``pm.Data`` values of
    :meth:`model_data`, a ``dict[str, numpy.ndarray]``.
    """

    name: ClassVar[str]
    """The registered name (:func:`srsbayes.families.register_family`)."""
    DIAGNOSTIC_VARS: ClassVar[tuple[str, ...]]
    """The posterior variables the convergence gate checks."""

    # -- optional facts ------------------------------------------------------------------
    MODEL_OPTIONS: ClassVar[Mapping[str, Mapping[str, float]]] = {}
    """Spec ``[model]`` options: option -> {choice name: model-data value}."""
    MODEL_VARIANTS: ClassVar[Mapping[str, ModelVariant]] = {}
    """Sweep rows for modelling choices, keyed by row key."""
    STATED_BASELINE_LABEL: ClassVar[str] = ""
    """Label of absolute effects at a stated control-arm level, formatted with the level
    times :attr:`STATED_BASELINE_SCALE`."""
    STATED_BASELINE_SCALE: ClassVar[float] = 1.0
    STATED_LEVEL_UNIT: ClassVar[str] = ""
    """Unit of ``level_preop``/``difference`` at a stated level ("per 100 patients")."""
    STATED_LEVEL_SCALE: ClassVar[float] = 1.0
    ARM_TABLE: ClassVar[tuple[TableColumn, ...]] = ()
    """What each arm row reported and what the model used, as the report's data table shows
    it (after ``Study``, ``Arm`` and ``n``; before ``Line``)."""
    PPC_WORDS: ClassVar[Mapping[str, str]] = {}
    """Titles of the posterior-predictive panels by observed name without its arm."""
    POOLED_COLUMNS: ClassVar[Mapping[str, tuple[str, str]]] = {}
    """A paper's pooled value by the study-table column it reports (``percent``) -> the key
    of ``summary["absolute"]`` it is compared with (``{arm}`` filled in) and its unit."""

    # -- module identity (the compile cache keys on the model's source) ----------------------
    @property
    def module_name(self) -> str:
        """The module that defines this family."""
        return type(self).__module__

    @property
    def source_file(self) -> str:
        """The source file of :attr:`module_name` (its text keys the compile cache)."""
        import sys

        return str(Path(sys.modules[self.module_name].__file__ or ""))

    # -- required ------------------------------------------------------------------------
    @abc.abstractmethod
    def build_model(self, k: int, priors: Mapping[str, Prior]) -> Any:
        """The PyMC model for ``k`` studies; every prior a ``prior_slot``; posterior variables
        ``effect`` (θ), ``tau`` and ``delta`` (dims ``study``)."""

    @abc.abstractmethod
    def model_data(self, wide: pd.DataFrame) -> dict[str, np.ndarray]:
        """The ``pm.Data`` values from :func:`srsbayes.inputs.data.outcome_table`."""

    @abc.abstractmethod
    def check_row(self, rec: dict[str, Any], f: str, decimals: int) -> None:
        """Check one study-table row's own columns, complete ``rec``; raise ``InputError``."""

    @abc.abstractmethod
    def observed(self, data: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Observed values keyed by observed name."""

    @abc.abstractmethod
    def loglik(self, post: xr.Dataset, data: Mapping[str, np.ndarray]
               ) -> dict[str, xr.DataArray]:
        """Pointwise log-likelihood keyed by observed name."""

    @abc.abstractmethod
    def simulate(self, post: xr.Dataset, data: Mapping[str, np.ndarray],
                 rng: np.random.Generator) -> dict[str, xr.DataArray]:
        """Replicated data keyed by observed name."""

    @abc.abstractmethod
    def observed_effects(self, wide: pd.DataFrame) -> pd.DataFrame:
        """Each study's empirical estimate with a 95% interval (``estimate``, ``lo``, ``hi``;
        log scale for a ratio), for forest plots."""

    @abc.abstractmethod
    def absolute_effects(self, post: xr.Dataset, data: Mapping[str, np.ndarray],
                         priors: Mapping[str, Prior], spec: OutcomeSpec,
                         rng: np.random.Generator, log_effect_new: xr.DataArray
                         ) -> dict[str, xr.DataArray]:
        """Absolute-scale draws for a new population; ``benefit``/``benefit_new`` signed so
        that positive favours preop."""

    @abc.abstractmethod
    def uisd(self, wide: pd.DataFrame) -> float:
        """The unit-information SD for data-scaled heterogeneity priors."""

    # -- optional hooks ------------------------------------------------------------------
    def structure(self, data: Mapping[str, np.ndarray]) -> dict[str, bool]:
        """Keyword arguments of :meth:`build_model` that the data decide (none)."""
        return {}

    def spec_keys(self, raw: Mapping[str, Any], f: str) -> SpecKeys | None:
        """Family-specific spec keys; None: the family takes none."""
        return None

    def contrast_measures(self, spec: OutcomeSpec) -> tuple[str, ...] | None:
        """Measure codes of the contrast rows the family accepts; None: arm rows only."""
        return None

    def study_estimates(self, data: Mapping[str, np.ndarray]
                        ) -> tuple[np.ndarray, np.ndarray] | None:
        """Each study's approximate estimate and sampling variance, when the model takes its
        deviation from :func:`srsbayes.families.bias_term.study_deviation`; None otherwise."""
        return None

    def bias_scale(self, spec: OutcomeSpec) -> str | None:
        """The scale a bias-adjustment prior applies on; None: no bias term."""
        return None

    def normal_normal(self, data: Mapping[str, np.ndarray]
                      ) -> tuple[np.ndarray, np.ndarray] | None:
        """Estimates and SEs whose exact normal-normal posterior a NUTS fit is checked
        against; None: no exact posterior (see :attr:`has_exact_posterior`)."""
        return None

    has_exact_posterior: ClassVar[bool] = False
    """Whether :meth:`normal_normal` can give data (validation adds the exact-posterior SBC)."""

    def baseline_model(self, data: Mapping[str, np.ndarray], priors: Mapping[str, Prior]
                       ) -> BaselineModel | None:
        """The control arms' own model, for simulated trials of counts; None: none."""
        return None

    def check_stated_baseline(self, value: float, spec: OutcomeSpec) -> str | None:
        """Why ``value`` cannot be a stated control-arm level of ``spec``, or None."""
        return f"outcome {spec.id!r} has no absolute effects at a stated baseline"

    def absolute_at(self, theta: xr.DataArray, baseline: xr.DataArray, spec: OutcomeSpec
                    ) -> dict[str, xr.DataArray]:
        """Absolute effects at stated control-arm levels ``baseline`` (dims ``baseline``);
        only called when :meth:`check_stated_baseline` accepted them."""
        raise NotImplementedError(f"family {self.name!r} has no absolute effects at a "
                                  "stated baseline")

    def stated_baseline_label(self, value: float, spec: OutcomeSpec) -> str:
        """The label of absolute effects at stated level ``value``."""
        return self.STATED_BASELINE_LABEL.format(value * self.STATED_BASELINE_SCALE)

    def takes_stated_risk(self, spec: OutcomeSpec) -> bool:
        """Whether a stated baseline risk gives absolute effects though the data are not
        counts (a published OR, RR or HR)."""
        return False

    def risk_assumption(self, spec: OutcomeSpec) -> str | None:
        """The assumption that carries the relative effect to a stated risk; None: none
        beyond the model's own."""
        return None

    def extra_summary(self, wide: pd.DataFrame, data: Mapping[str, np.ndarray],
                      absolute: Mapping[str, xr.DataArray]) -> JSONObject:
        """Entries merged into ``summary.json`` (none)."""
        return {}

    def baseline_sensitivity(self, data: Mapping[str, np.ndarray],
                             priors: Mapping[str, Prior], seed: int
                             ) -> BaselineSensitivity | None:
        """What the new-population baseline rests on; None: nothing to show."""
        return None

    def posterior_summary(self, post: xr.Dataset) -> JSONObject:
        """Family-specific posterior entries merged into ``summary.json`` (none)."""
        return {}

    def family_info(self, measure: str) -> FamilyInfo:
        """The registered :class:`~srsbayes.families.FamilyInfo` worded for ``measure`` (a
        family with a single measure: the registered entry)."""
        from . import FAMILIES

        return FAMILIES[self.name]

    # -- validation (SBC) ----------------------------------------------------------------
    def sbc_simulate(self, wide: pd.DataFrame, priors: Mapping[str, Prior],
                     rng: np.random.Generator) -> tuple[Truth, dict[str, np.ndarray]]:
        """Parameters drawn from the priors and data simulated from them, as the study
        table reports them, on the design of ``wide``: ``(truth, model data)``."""
        raise NotImplementedError(f"family {self.name!r} has no SBC simulator")

    def sbc_design(self, wide: pd.DataFrame, priors: Mapping[str, Prior]
                   ) -> tuple[pd.DataFrame, dict[str, Prior]]:
        """The SBC design and priors from the bundled ``sbc_outcome``'s table and priors
        (default: that outcome's own)."""
        return wide, dict(priors)

    SBC_DESIGN_RULE: ClassVar[str] = ""
    """The name of the rule :meth:`sbc_design` derives the design by (empty: none)."""

    def sbc_design_words(self, outcome: str) -> str:
        """``"lmd priors"``, or for a derived design its rule: ``"log_or_se design from
        lmd"``."""
        rule = self.SBC_DESIGN_RULE
        return f"{rule} design from {outcome}" if rule else f"{outcome} priors"

    def sbc_design_record(self, wide: pd.DataFrame) -> JSONObject:
        """The SBC design as ``validation.json`` records it: the studies, the rule (if any)
        and the design's columns (arm sizes, counts, follow-up, medians, contrasts)."""
        return {"studies": list(wide["study"]),
                **({"rule": self.SBC_DESIGN_RULE} if self.SBC_DESIGN_RULE else {}),
                **{c: wide[c].tolist() for c in wide.columns
                   if c.startswith(("n_", "events_", "follow_up_months_", "median_months_",
                                    "contrast_"))}}

    # -- presentation hooks --------------------------------------------------------------
    def ppc_panel(self, name: str, const: xr.Dataset | None, k: int, info: FamilyInfo
                  ) -> PPCPanel:
        """How the PPC figure shows observed variable ``name``: by default on the analysis
        scale (a published estimate: "log hazard ratio")."""
        unit = f"log {info.measure_name}" if info.log_scale else info.measure_name
        return PPCPanel(np.ones(k), unit, *arm_title(name, self.PPC_WORDS))

    def pooled_absolute(self, measure: str) -> tuple[str, str]:
        """The ``summary["absolute"]`` key (with ``{arm}``) a paper's pooled value of study
        column ``measure`` is compared with, and its unit; ``("", "")``: none."""
        return self.POOLED_COLUMNS.get(measure, ("", ""))


def draw(prior: Prior, rng: np.random.Generator, size: int | None = None) -> Any:
    """Draws of ``prior`` (SBC simulators draw their true parameters with it)."""
    return prior.scipy().rvs(size=size, random_state=rng)


def draw_above(prior: Prior, rng: np.random.Generator, bound: float) -> float:
    """One draw of ``prior`` truncated to ``(bound, inf)``, by rejection."""
    while True:
        x = float(draw(prior, rng))
        if x > bound:
            return x
