"""What the analysis of one outcome yields, as typed values the report and certainty read.

:class:`OutcomeAnalysis` holds one outcome's fit (or why there is none), its sensitivity
sweep (:class:`SweepInfo`), its certainty row and its comparison with the source paper
(:class:`PooledComparison`, :class:`ClaimAnswer`); the report words them and draws the
figures, nothing here is presentation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from ..status import Status

if TYPE_CHECKING:
    from ..certainty import OutcomeEvidence, SoFRow
    from ..inference.fitting import FitResult
    from ..inference.summaries import FitSummary
    from ..inputs.specs import OutcomeSpec
    from ..parallel import Backend
    from ..trials.design import TrialDesign
    from .data import CountRow


class SweepOptions(TypedDict, total=False):
    """Keyword arguments of :func:`srsbayes.sensitivity.sweep.run_sweep` an analysis
    passes on to every outcome's sweep (e.g. ``data_level=False, psense=False`` for a
    quick report; ``backend``: where the outcomes' fits and the sweeps' settings run)."""

    data_level: bool | None
    psense: bool | None
    workers: int | None
    backend: Backend | None
    refit_all: bool


class TrialOptions(TypedDict, total=False):
    """Keyword arguments of :func:`srsbayes.trials.run.run_designs`: the trials under way
    (``designs``) and, optionally, their sizes, simulations and refits."""

    designs: Sequence[TrialDesign]
    sizes: dict[str, tuple[int, int]] | None
    sims: int
    max_refits: int
    seed: int | None


@dataclass(frozen=True)
class Interval:
    """Median and central 95% interval of draws."""

    median: float
    ci95: tuple[float, float]


@dataclass(frozen=True)
class Equivalence:
    """P(the difference lies within ± the spec's first clinical threshold) (Kruschke 2018)."""

    probability: float
    measure: str
    threshold: float


@dataclass(frozen=True)
class Derived:
    """Posterior quantities the report states beside the summary: the equivalence
    probability and, for a risk ratio, the relative risk reduction 1 - RR."""

    equivalence: Equivalence | None = None
    rrr: Interval | None = None


@dataclass(frozen=True)
class PooledComparison:
    """One of the paper's pooled rows (one arm) beside the model's pooled absolute value."""

    arm: str
    paper: float
    paper_text: str
    ours: Any
    """The model's absolute value on the paper's scale (``median``/``ci95`` mapping of the
    fit's summary); None when the model has none."""
    unit: str
    measure: str
    n: int
    source: str


ClaimKind = Literal["reduction", "equivalence", "significance", "direction"]


@dataclass(frozen=True)
class ClaimAnswer:
    """One of the paper's claims about an outcome, with what the posterior says (numbers
    only; :func:`srsbayes.report.sections.paper.claim_assessment` words them)."""

    claim: str
    quote: str
    source: str
    prob_benefit: float
    kind: ClaimKind
    target: float | None = None
    """``reduction``: the claimed relative reduction (0-1)."""
    rrr: Interval | None = None
    """``reduction``: the posterior relative risk reduction."""
    prob_at_least: float | None = None
    """``reduction``: P(RRR >= target)."""
    equivalence: Equivalence | None = None
    """``equivalence``: P(difference within the clinical threshold)."""


@dataclass
class SweepInfo:
    """A sensitivity sweep as the report shows it.

    ``available`` is ``False`` (with ``note`` saying why) when no sweep was run.
    ``robust``/``text`` are the verdict over the prior settings, ``data_robust``/
    ``data_text`` over the data-level rows (leave-one-study-out, rounding), ``overall``
    the sweep's own verdict; ``rows`` are the sweep table's records.
    """

    available: bool
    note: str = ""
    robust: bool | None = None
    text: str = ""
    rows: list[dict[str, Any]] = field(default_factory=list)
    figure: bytes | None = None
    extra: list[str] = field(default_factory=list)
    reference: str = ""
    overall: dict[str, Any] = field(default_factory=dict)
    data_robust: bool | None = None
    data_text: str = ""
    failed: int = 0
    """Prior settings that failed the gate (then "every prior" must not be said)."""
    borderline: int = 0
    """Prior settings within 2 Monte Carlo SEs of the decision probability."""


@dataclass
class OutcomeAnalysis:
    """One outcome: its fit (or why there is none), sweep, certainty and paper comparison.

    ``status`` is :attr:`Status.OK` (a result), :attr:`Status.FAILED` (the convergence
    gate failed: no numbers are shown) or :attr:`Status.UNAVAILABLE` (the model family
    could not be loaded).
    """

    spec: OutcomeSpec
    status: Status
    summary: FitSummary | None = None
    message: str = ""
    sweep: SweepInfo = field(default_factory=lambda: SweepInfo(False, "not run"))
    derived: Derived = field(default_factory=Derived)
    pooled: list[PooledComparison] = field(default_factory=list)
    claims: list[ClaimAnswer] = field(default_factory=list)
    count_table: list[CountRow] = field(default_factory=list)
    evidence: OutcomeEvidence | None = None
    """What the certainty rating reads of the fit (also for a fit that failed its gate)."""
    certainty: SoFRow | None = None
    """The outcome's summary-of-findings row with its GRADE rating."""
    fit: FitResult | None = None
    """The outcome's fit (the trials under way are simulated from it)."""

    @property
    def ok(self) -> bool:
        return self.status == Status.OK
