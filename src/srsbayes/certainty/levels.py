"""GRADE's vocabulary: certainty levels, domain ratings and how they combine.

Certainty starts at *high* for randomised trials and at *low* for observational studies,
is rated down one or two levels per serious or very serious concern, and may be rated up
for a large effect when nothing was rated down (Guyatt et al. 2011, J Clin Epidemiol
64:383-394; GRADE 9, Guyatt et al. 2011, J Clin Epidemiol 64:1311-1316).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..outputs import JSONObject, JSONValue


class Level(StrEnum):
    """A GRADE certainty level; its value is the word written in text and JSON."""

    VERY_LOW = "very low"
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"


LEVELS = tuple(Level)
"""Certainty levels, lowest first (an index is a number of levels above very low)."""


class Rating(StrEnum):
    """A domain's judgement; its value is the word written in text and ``certainty.json``."""

    NOT_SERIOUS = "not serious"
    SERIOUS = "serious"
    VERY_SERIOUS = "very serious"
    EXTREMELY_SERIOUS = "extremely serious"
    """Risk of bias only (ROBINS-I's critical for most of the information; GRADE 18)."""
    NOT_ASSESSED = "not assessed"
    """A domain the evidence could have been judged on but was not (whether it takes a
    level is the domain's rule: risk of bias of observational evidence takes none, GRADE 18)."""
    NOT_ASSESSABLE = "not assessable"
    """A domain the evidence cannot inform (e.g. publication bias with few studies)."""
    NONE = "none"
    """Large effect: not large."""
    LARGE = "large"
    VERY_LARGE = "very large"


NOT_SERIOUS, SERIOUS, VERY_SERIOUS = Rating.NOT_SERIOUS, Rating.SERIOUS, Rating.VERY_SERIOUS
NOT_ASSESSED = Rating.NOT_ASSESSED
NOT_ASSESSABLE = Rating.NOT_ASSESSABLE
DOWNGRADES = {NOT_SERIOUS: 0, SERIOUS: 1, VERY_SERIOUS: 2}
"""Levels rated down for each judgement."""


@dataclass(frozen=True)
class Domain:
    """One GRADE domain (or named consideration) of one outcome.

    Attributes
    ----------
    name
        ``"risk of bias"``, ``"inconsistency"``, ``"indirectness"``, ``"imprecision"``,
        ``"publication bias"``, ``"source audit"`` or ``"large effect"``.
    rating
        ``not serious``, ``serious``, ``very serious``, ``not assessed`` or
        ``not assessable`` (for ``large effect``: ``none``, ``large``, ``very large``).
    change
        Levels this domain moves certainty: negative = rated down, positive = rated up.
    reason
        One sentence with the numbers behind the rating.
    values
        The numbers themselves (JSON-ready).
    """

    name: str
    rating: Rating
    change: int
    reason: str
    values: dict[str, JSONValue] = field(default_factory=dict)

    def as_dict(self) -> JSONObject:
        return {"domain": self.name, "rating": self.rating, "change": self.change,
                "reason": self.reason, "values": self.values}


def domain(name: str, rating: Rating | str, reason: str, change: int | None = None,
           **values: JSONValue) -> Domain:
    """A :class:`Domain` whose change follows from ``rating`` unless given (a rating given
    as its word, e.g. a spec's ``"serious"``, becomes its :class:`Rating`)."""
    rating = Rating(rating)
    if change is None:
        change = -DOWNGRADES.get(rating, 0)
    return Domain(name, rating, change, reason, dict(values))


def start_level(designs: list[str], robs: list[str] | None = None) -> tuple[Level, str]:
    """The starting level and why: high when every study is recorded as an RCT, or when
    every study has a risk-of-bias judgement (``robs``: ROBINS-I for non-randomised
    studies; Schünemann et al. 2019, GRADE 18), which then rates it down.

    A study without a recorded design counts as observational: without ROBINS-I, GRADE
    starts high only for evidence shown to be randomised.
    """
    if designs and all(d == "rct" for d in designs):
        return Level.HIGH, "every study is a randomised controlled trial"
    if designs and robs is not None and len(robs) == len(designs) and all(robs):
        return Level.HIGH, ("non-randomised evidence judged with ROBINS-I for every study: it "
                            "starts high and risk of bias rates it down (GRADE 18)")
    recorded = [d for d in designs if d]
    if not recorded:
        return Level.LOW, ("observational evidence: no study design is recorded in the data, "
                           "so the studies are not shown to be randomised")
    counts = {d: recorded.count(d) for d in dict.fromkeys(recorded)}
    shown = ", ".join(f"{n} {d}" for d, n in counts.items())
    missing = len(designs) - len(recorded)
    extra = f", {missing} not recorded" if missing else ""
    return Level.LOW, f"observational evidence ({shown}{extra})"


def final_level(start: Level | str, changes: list[int]) -> Level:
    """``start`` moved by the sum of ``changes``, within very low..high."""
    i = LEVELS.index(start) + sum(changes)
    return LEVELS[max(0, min(len(LEVELS) - 1, i))]
