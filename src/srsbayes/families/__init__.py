"""Likelihood families: one model builder per family, never one per outcome.

This module declares what srsbayes knows of each family without importing its model code
(:class:`FamilyInfo`, registered with :func:`register_family`), so that specs and data are
validated without PyMC; the model code is loaded on demand by :func:`get_family`.

A family is a module with a subclass of :class:`srsbayes.families.base.Family` (the written
contract: required methods, and optional hooks whose defaults say "not offered") and its
instance ``FAMILY``, plus one :func:`register_family` call below. ``binomial.py`` is the
reference implementation; ``tests/integration/toy_family.py`` registers the smallest one
from outside the package.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

from ..priors.distributions import Support
from .measures import Measure, measure

if TYPE_CHECKING:
    from .base import Family

ARMS = ("preop", "postop")
"""The two arms every family compares: preop SRS (treatment) against postop SRS (control)."""


class DefaultGrid(TypedDict):
    """A family's default sweep grid (:attr:`FamilyInfo.default_grid`)."""

    sceptical: str
    vague: str
    tau: tuple[str, ...]


@dataclass(frozen=True)
class FamilyInfo:
    """What srsbayes knows about a likelihood family without importing its model code.

    Everything outside ``families/`` that depends on the family (the audit, the sweep's
    default grid, SBC, which slots the priors fill) reads it from here instead of branching
    on the family's name, so a new family is one module plus one :func:`register_family`
    call. How its measure is worded is the measures table
    (:data:`srsbayes.families.measures.MEASURES`, read through :attr:`measure_name` and
    friends); what its model does is its :class:`srsbayes.families.base.Family`.
    """

    name: str
    module: str
    """Importable module with the model code; its ``FAMILY`` is the
    :class:`~srsbayes.families.base.Family` that :func:`get_family` returns."""
    measure: str
    """Relative measure of the pooled effect by spec name, e.g. ``odds_ratio`` (a row of the
    measures table)."""
    slots: dict[str, Support]
    thresholds: tuple[str, ...]
    absolute_measure: str
    """The threshold measure read from the absolute ``benefit`` draws (the other is a ratio)."""
    title: str
    """Heading of the family's section in the report's methods."""
    audit_column: str
    """Study-table column the audit compares pooled rows with (``percent``,
    ``median_months``)."""
    audit_unit: str
    audit_kind: str
    """What the audit calls the reported values, e.g. "percentages"."""
    count_data: bool
    """Whether the data are event counts (GRIM checks, reported-precision variants)."""
    sbc_outcome: str
    """Bundled outcome whose priors and design ``validate`` uses for this family (the
    family's :meth:`~srsbayes.families.base.Family.sbc_design` may derive its own from it)."""
    default_grid: DefaultGrid
    """Default sweep grid: ``sceptical`` and ``vague`` effect priors (on the family's log
    scale) and a tuple of ``tau`` priors from small to large."""
    extra_quantities: tuple[str, ...] = ()
    """Parameters beyond θ, τ and a baseline whose SBC ranks are checked."""
    tune: int = 1000
    """Tuning steps per chain when the sampler settings leave ``tune`` unset: the shortest
    whose first-attempt gate failure rate did not rise, measured on the bundled data, SBC
    and prior simulations (``benchmarks/bench_scaling.py``)."""
    axis: str = ""
    """Axis label of figures on the effect's scale when it is not the measure's own
    (:attr:`axis_label`)."""

    @property
    def measure_words(self) -> Measure:
        """The measures-table row of :attr:`measure`."""
        return measure(self.measure)

    @property
    def measure_name(self) -> str:
        """The measure in running text, e.g. "odds ratio"."""
        return self.measure_words.name

    @property
    def measure_abbrev(self) -> str:
        """Short form for tables, e.g. "OR"."""
        return self.measure_words.abbrev

    @property
    def measure_plural(self) -> str:
        return self.measure_words.plural

    @property
    def axis_label(self) -> str:
        """Axis label of figures on the ratio scale, e.g. "Odds ratio"."""
        return self.axis or self.measure_words.axis_label

    @property
    def log_scale(self) -> bool:
        """Whether θ is a log ratio, shown as exp θ on a log axis with no effect at 1, or a
        difference, shown as it is with no effect at 0 (risk and mean differences of the
        contrast family). Presentation reads it through :meth:`shown` and :attr:`null`."""
        return self.measure_words.ratio

    @property
    def null(self) -> float:
        """The effect of no difference on the shown scale: 1 for a ratio, 0 for a difference."""
        return 1.0 if self.log_scale else 0.0

    def shown(self, theta: Any) -> Any:
        """θ (draws or a number) on the scale the effect is shown: exp θ for a ratio."""
        return np.exp(theta) if self.log_scale else theta


FAMILIES: dict[str, FamilyInfo] = {}


def register_family(info: FamilyInfo) -> FamilyInfo:
    """Make a family known to specs, fitting and presentation (returns ``info``)."""
    FAMILIES[info.name] = info
    return info


# Effect priors in the default grids are on the family's own scale (log OR; log ratio of
# medians). The sceptical one keeps 95% of its mass on effects a sceptic finds plausible
# (Spiegelhalter et al. 2004, 5.5), the vague one on none in particular. Heterogeneity
# priors go from small to large, plus a heavy tail and an empirical or data-scaled one.
register_family(FamilyInfo(
    "binomial", f"{__name__}.binomial", "odds_ratio",
    {"effect": "real", "tau": "positive", "baseline": "real"},
    ("risk_difference", "odds_ratio"), "risk_difference",
    title="Binary outcomes: binomial-normal random-effects model",
    audit_column="percent", audit_unit="%", audit_kind="percentages", count_data=True,
    sbc_outcome="lmd", tune=300,
    default_grid={
        "sceptical": "normal(0, 0.35)",
        "vague": "normal(0, 10)",
        "tau": ("halfnormal(0.25)", "halfnormal(0.5)", "halfnormal(1)", "halfcauchy(0.5)",
                "turner(general)"),
    },
))
register_family(FamilyInfo(
    "lognormal_median", f"{__name__}.lognormal_median", "ratio_of_medians",
    {"effect": "real", "tau": "positive", "baseline": "real", "se_inflation": "positive"},
    ("ratio", "months"), "months", axis="Ratio of median OS",
    title="Median overall survival: log-normal median model",
    audit_column="median_months", audit_unit=" months", audit_kind="medians", count_data=False,
    sbc_outcome="os", tune=300,
    default_grid={
        "sceptical": "normal(0, 0.1)",
        "vague": "normal(0, 10)",
        # Turner et al. (2015) tabulate log-OR heterogeneity only, so the empirical slot is
        # a data-scaled half-normal (Röver et al. 2021): log-OR unit-information SDs are
        # about 4 or more, so the common HN(0.5) for log ORs is about HN(UISD / 8); the same
        # fraction of this outcome's UISD carries that choice over to the log median ratio.
        "tau": ("halfnormal(0.1)", "halfnormal(0.3)", "halfnormal(0.6)", "halfcauchy(0.25)",
                "uisd(0.125)"),
    },
    extra_quantities=("se_inflation",),
))
register_family(FamilyInfo(  # wording is generic; contrast.family_info(measure) is specific
    "contrast", f"{__name__}.contrast", "effect", {"effect": "real", "tau": "positive"},
    ("ratio", "difference"), "difference",
    title="Published contrasts: normal-normal random-effects model",
    audit_column="estimate", audit_unit="", audit_kind="estimates", count_data=False,
    sbc_outcome="lmd", tune=300,  # SBC: SEs of the LMD log ORs (contrast.sbc_design)
    default_grid={  # on the analysis scale: log ratio (HR, OR, RR), or the difference itself
        "sceptical": "normal(0, 0.35)",
        "vague": "normal(0, 10)",
        "tau": ("halfnormal(0.1)", "halfnormal(0.25)", "halfnormal(0.5)", "halfnormal(1)",
                "halfcauchy(0.5)"),
    },
))


def threshold_probability(family: str, measure: str, threshold: float, sign: int,
                          log_effect: Any, log_effect_new: Any, absolute: Mapping[str, Any]
                          ) -> tuple[float, float]:
    """P(benefit reaches a clinical threshold), for the pooled effect and for a new study.

    The family's absolute measure (``risk_difference`` in percentage points, ``months``)
    compares the signed ``benefit`` draws with ``threshold``; its ratio measure
    (``odds_ratio``, ``ratio``) compares the effect with ``threshold`` on the benefit side
    of 1, e.g. P(OR <= 0.8) when fewer events is benefit, P(ratio >= 1.10) for survival.
    """
    import numpy as np

    if measure == FAMILIES[family].absolute_measure:
        return (float((absolute["benefit"] >= threshold).mean()),
                float((absolute["benefit_new"] >= threshold).mean()))
    lt = np.log(threshold)
    return (float((sign * (log_effect - lt) >= 0).mean()),
            float((sign * (log_effect_new - lt) >= 0).mean()))


def as_int(x: Any) -> np.ndarray:
    """Counts as int64 (after validation they are whole numbers)."""
    return np.asarray(x, dtype=float).round().astype(np.int64)


def get_family(name: str) -> Family:
    """The family's :class:`~srsbayes.families.base.Family` (its module's ``FAMILY``),
    importing its model code."""
    return import_module(FAMILIES[name].module).FAMILY


def measure_info(family: str, measure: str | None = None) -> FamilyInfo:
    """The family's :class:`FamilyInfo` worded for one of its measures.

    A family whose outcomes differ in measure (the contrast family: hazard ratios, mean
    differences, ...) overrides :meth:`~srsbayes.families.base.Family.family_info`;
    ``measure`` is a fit's ``summary["measure_code"]`` or a spec's ``measure``. Without
    one, or for a family that has a single measure, this is the registered entry.
    """
    info = FAMILIES[family]
    if not measure:
        return info
    return get_family(family).family_info(measure)


def summary_info(summary: Mapping[str, Any]) -> FamilyInfo:
    """:func:`measure_info` of a fit's ``summary.json`` dict (its family and measure)."""
    return measure_info(summary["family"], summary.get("measure_code"))
