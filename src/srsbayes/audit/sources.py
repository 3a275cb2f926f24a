"""The audited sources as values: the paper's pooled rows and the facts read from its text.

Kept apart from the modules that read them (:mod:`.pooled`, :mod:`.paper`) so that the
check registry can name these types without importing the checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Claim:
    """One row of the claims file: a claim of the paper about one outcome."""

    line: int
    """The line of the claims file (for findings and error messages)."""
    outcome: str
    """The outcome's id, lower case."""
    claim: str
    """The claim's id, e.g. ``relative_reduction_72`` or ``significant_difference``."""
    quote: str = ""
    """The paper's words (the claim's id when the file gives none)."""
    source: str = ""
    """Where in the paper the claim is made."""


@dataclass(frozen=True)
class PooledRow:
    """One validated row of the reported-pooled file."""

    outcome: str
    arm: str
    n: int
    value: Fraction
    decimals: int
    measure: str
    follow_up: Fraction | None
    follow_up_decimals: int
    source: str
    row: int


@dataclass(frozen=True)
class Reference:
    """One entry of the reference list.

    Attributes
    ----------
    number, line
        Its number ``[n]`` and the line it starts on.
    title
        The entry's title (after the year), or its whole text if none is recognised.
    on_topic
        Whether the entry mentions one of the review question's topic terms (the bundled
        question: brain, radiosurgery or metastases).
    self_citation
        On topic, and it contains the first eight words of the paper's own title.
    topics
        The :data:`TOPICS` its text mentions.
    """

    number: int
    line: int
    title: str
    on_topic: bool
    self_citation: bool
    topics: tuple[str, ...]


@dataclass(frozen=True)
class Method:
    """A method the audit looks for: where the paper claims it and where it reports it.

    ``missing`` is how the audit words the absent result ("no I² value").
    """

    method: str
    claimed_lines: tuple[int, ...]
    reported_lines: tuple[int, ...]
    missing: str


@dataclass(frozen=True)
class Statistic:
    """How often, and on which lines, the paper reports a kind of statistic."""

    kind: str
    count: int
    lines: tuple[int, ...]


@dataclass(frozen=True)
class Figure:
    """A figure caption (``Figure 1. ...``) and its line."""

    line: int
    caption: str


@dataclass(frozen=True)
class PaperFacts:
    """What the audit knows about the paper, with where each fact is in its text.

    Attributes
    ----------
    file, sha256
        The text file's name and the sha256 of its bytes.
    title, title_line
        The paper's title (its first non-empty line).
    references, methods, statistics, figures
        See :class:`Reference`, :class:`Method`, :class:`Statistic`, :class:`Figure`.
    """

    file: str
    sha256: str
    title: str
    title_line: int
    references: tuple[Reference, ...]
    methods: tuple[Method, ...]
    statistics: tuple[Statistic, ...]
    figures: tuple[Figure, ...]

    def statistic_counts(self) -> dict[str, int]:
        """Number of reported statistics of each kind."""
        return {s.kind: s.count for s in self.statistics}
