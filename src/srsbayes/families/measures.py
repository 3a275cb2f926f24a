"""The measures table: how each effect measure is named and on which scale it is analysed,
keyed by its code, in one place.

Families, input checks and the report read measure names from here (a family's
:class:`~srsbayes.families.FamilyInfo` names its measure by spec name, a contrast row by
its CSV code); a new measure is one :class:`Measure` row. How a clinical *threshold* on a
measure is worded is :mod:`srsbayes.report.vocabulary`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Measure:
    """One effect measure.

    ``code`` is its CSV code (``hr``), ``spec_name`` its name in specs (``hazard_ratio``);
    ``name``, ``abbrev`` and ``plural`` word it in running text and tables; ``ratio``: it is
    analysed on the log scale and shown as exp θ (no effect at 1), else as it is (no effect
    at 0).
    """

    code: str
    spec_name: str
    name: str
    abbrev: str
    plural: str
    ratio: bool

    @property
    def axis_label(self) -> str:
        """Axis label of figures on the measure's scale ("Hazard ratio")."""
        return self.name[0].upper() + self.name[1:]


_ROWS = (
    Measure("hr", "hazard_ratio", "hazard ratio", "HR", "hazard ratios", True),
    Measure("shr", "subdistribution_hazard_ratio", "subdistribution hazard ratio", "sHR",
            "subdistribution hazard ratios", True),
    Measure("or", "odds_ratio", "odds ratio", "OR", "odds ratios", True),
    Measure("rr", "risk_ratio", "risk ratio", "RR", "risk ratios", True),
    Measure("rd", "risk_difference", "risk difference", "RD", "risk differences", False),
    Measure("ratio_of_medians", "ratio_of_medians", "ratio of medians", "Ratio",
            "ratios of medians", True),
    Measure("mean_difference", "mean_difference", "mean difference", "MD", "mean differences",
            False),
    # the contrast family's registered measure before an outcome's spec names one
    Measure("effect", "effect", "effect estimate", "Estimate", "effect estimates", True),
)

MEASURES: dict[str, Measure] = {m.code: m for m in _ROWS}
"""Every measure by its code."""
_BY_SPEC_NAME = {m.spec_name: m for m in _ROWS}
SPEC_NAMES: dict[str, str] = {m.code: m.spec_name for m in _ROWS if m.code != "effect"}
"""CSV code of each measure a contrast row may report -> its name in specs (every measure
but the contrast family's generic ``effect``)."""
RATIO_MEASURES = frozenset(code for code in SPEC_NAMES if MEASURES[code].ratio)
"""Measures analysed on the log scale; the others (differences) on their natural scale."""


def measure(name: str) -> Measure:
    """The measure given by code or by spec name (``"or"`` or ``"odds_ratio"``).

    Raises
    ------
    KeyError
        An unknown measure.
    """
    return MEASURES.get(name) or _BY_SPEC_NAME[name]


def measure_word(code: str, plural: bool = False) -> str:
    """A measure in running text ("hazard ratio"), its code itself when unknown."""
    m = MEASURES.get(code)
    return code if m is None else m.plural if plural else m.name


def measure_code(name: str) -> str | None:
    """The CSV code of a measure given by code or by spec name (``"odds_ratio"`` -> ``"or"``),
    case-insensitive; None when unknown."""
    key = name.strip().lower()
    if key in SPEC_NAMES:
        return key
    return next((c for c, long in SPEC_NAMES.items() if long == key), None)


def is_ratio(code: str) -> bool:
    """Whether the measure is analysed on the log scale."""
    return code in RATIO_MEASURES


def pooled_note(summary: dict[str, Any]) -> str:
    """What was pooled, when it is not simply the outcome's measure: rows of another measure
    pooled as it (``approximations``, e.g. hazard ratios as odds ratios) and standard errors
    that rest on an approximation (``se_approximations``); ``""`` when neither.

    Read from a fit's ``summary.json`` entries, so the bottom line, the summary-of-findings
    row and the CLI say the same.
    """
    parts = []
    approx = summary.get("approximations") or []
    k = summary.get("n_studies")
    if k == 1:
        parts.append("one study, not a meta-analysis")
    of = f" of {k}" if k and k > 1 else ""
    if approx:
        by: dict[str, int] = {}
        for a in approx:
            by[a["measure"]] = by.get(a["measure"], 0) + 1
        pooled_as = measure_word(approx[0]["pooled_as"], plural=True)
        what = " and ".join(f"{n}{of} studies' {measure_word(m, plural=True)}" if n > 1
                            else f"{n}{of} studies' {measure_word(m)}" if of
                            else f"the study's {measure_word(m)}"
                            for m, n in by.items())
        parts.append(f"{what} pooled as {pooled_as} (an approximation the spec allows)")
    se = summary.get("se_approximations") or []
    if se:
        rules = sorted({r["rule"] for r in se})
        whose = "its" if k == 1 else f"{len(se)}{of} studies'"
        parts.append(f"{whose} standard error approximated ({', '.join(rules)})")
    return "; ".join(parts)
