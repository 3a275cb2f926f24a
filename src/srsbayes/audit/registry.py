"""The registry of audit checks: one function per check, each declaring its inputs.

A check is a function ``(AuditInputs) -> list[Finding]`` registered with
:func:`register_check`; :func:`srsbayes.audit.run_audit` runs every registered check
whose inputs are available, in display order (each check's ``order``, then the order of
registration). A new check needs no edit of the package::

    from srsbayes.audit import Finding, register_check

    @register_check("tiny_arms", "arms with fewer than 10 patients", needs=("table",))
    def tiny_arms(inputs):
        small = inputs.table.frame.query("n < 10")
        return [Finding(r.study, r.outcome, r.arm, "tiny_arms", "warning",
                        f"only {r.n:g} patients", int(r.row)) for r in small.itertuples()]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .findings import Finding, located

if TYPE_CHECKING:
    from ..inputs.data import StudyTable
    from ..inputs.question import Question
    from ..inputs.specs import OutcomeSpec
    from .sources import Claim, PaperFacts, PooledRow

INPUTS = ("table", "specs", "pooled", "claims", "paper")
"""What a check may need: the study table and specs (always there), the paper's pooled
rows and claims, and the facts read from the paper's text (only when the audit compares
with the paper)."""


@dataclass(frozen=True)
class AuditInputs:
    """Everything a check may read.

    Attributes
    ----------
    table, specs
        The study table and the outcome specs.
    pooled, claims
        The paper's pooled rows (:func:`srsbayes.audit.read_pooled`) and claims
        (:func:`srsbayes.audit.read_claims`); ``None`` when not compared with the paper.
    paper
        Facts read from the paper's text (:class:`srsbayes.audit.sources.PaperFacts`).
    files
        The file behind each input (``"table"``, ``"pooled"``, ``"claims"``), to which
        the findings' line numbers refer.
    question
        The review question (:mod:`srsbayes.inputs.question`); ``None``: the bundled one.
    """

    table: StudyTable
    specs: dict[str, OutcomeSpec]
    pooled: list[PooledRow] | None = None
    claims: list[Claim] | None = None
    paper: PaperFacts | None = None
    files: dict[str, str] = field(default_factory=dict)
    question: Question | None = None

    def available(self) -> set[str]:
        """Names of the inputs that are present."""
        return {name for name in INPUTS if getattr(self, name) is not None}


CheckFunction = Callable[["AuditInputs"], list[Finding]]
"""A check: the inputs in, its findings out."""


@dataclass(frozen=True)
class Check:
    """One registered check.

    Attributes
    ----------
    id
        The ``check`` of its findings.
    title
        What it tests, as printed in the audit's headings and the report.
    run
        ``(AuditInputs) -> list[Finding]``.
    needs
        Inputs it needs (see :data:`INPUTS`); it is skipped when one is absent.
    rows_in
        The input whose file the findings' ``row`` numbers refer to.
    order
        Position in the display order (the built-in checks use 10, 20, ...; a check
        registered without one comes after them, in registration order).
    """

    id: str
    title: str
    run: CheckFunction
    needs: tuple[str, ...] = ("table", "specs")
    rows_in: str = "table"
    order: float = math.inf


REGISTRY: dict[str, Check] = {}
"""Registered checks by id, in display order."""


class _Titles(Mapping[str, str]):
    """Live read-only view of the registry: check id -> title, in display order."""

    def __getitem__(self, key: str) -> str:
        return REGISTRY[key].title

    def __iter__(self) -> Iterator[str]:
        return iter(REGISTRY)

    def __len__(self) -> int:
        return len(REGISTRY)

    def __repr__(self) -> str:
        return f"CHECKS({dict(self)!r})"


CHECKS: Mapping[str, str] = _Titles()
"""Check ids in display order, with their titles (a live view of :data:`REGISTRY`)."""


def register_check(check_id: str, title: str, *, needs: tuple[str, ...] = ("table", "specs"),
                   rows_in: str = "table", order: float = math.inf
                   ) -> Callable[[CheckFunction], CheckFunction]:
    """Decorator: register a check function under ``check_id``.

    Parameters
    ----------
    check_id, title
        The ``check`` of its findings and what it tests.
    needs
        Inputs it needs (:data:`INPUTS`); the check is skipped when one is absent.
    rows_in
        The input whose file its findings' line numbers refer to.
    order
        Display position; default: after every check registered so far.

    Raises
    ------
    ValueError
        A check of that id exists already, or ``needs``/``rows_in`` name an unknown input.
    """
    unknown = [n for n in (*needs, rows_in) if n not in INPUTS]
    if unknown:
        raise ValueError(f"unknown audit input(s) {unknown}; use {INPUTS}")
    if check_id in REGISTRY:
        raise ValueError(f"an audit check {check_id!r} is already registered")

    def decorate(fn: CheckFunction) -> CheckFunction:
        checks = sorted([*REGISTRY.values(), Check(check_id, title, fn, tuple(needs), rows_in,
                                                   order)], key=lambda c: c.order)  # stable
        REGISTRY.clear()
        REGISTRY.update((c.id, c) for c in checks)
        return fn

    return decorate


def unregister_check(check_id: str) -> Check:
    """Remove a check (e.g. a test's toy check); returns it."""
    return REGISTRY.pop(check_id)


def run_checks(inputs: AuditInputs) -> list[Finding]:
    """Run every registered check whose inputs are available; findings in display order."""
    have = inputs.available()
    found: list[Finding] = []
    for check in list(REGISTRY.values()):
        if not set(check.needs) <= have:
            continue
        result = check.run(inputs)
        file = inputs.files.get(check.rows_in)
        found += located(file, result) if file is not None else result
    order = {c: i for i, c in enumerate(REGISTRY)}
    return sorted(found, key=lambda x: order.get(x.check, len(order)))
