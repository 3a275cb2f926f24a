"""The validated inputs of an analysis, built once and passed down.

:func:`validate_inputs` checks everything that can be checked before anything is fitted
or written (bad input: one line, exit status 2, nothing written) and returns
:class:`Inputs`: the study table, the outcome specs, one :class:`OutcomeData` per
analysable outcome (its slice of the table, :func:`srsbayes.inputs.data.outcome_table`,
computed here once), the source audit's findings and the paper's pooled rows and claims.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TypedDict, cast

import pandas as pd

from ..audit import Claim, Finding, PooledRow, read_claims, read_pooled, run_audit
from ..certainty.evidence import Baseline, pooled_baseline
from ..errors import InputError
from ..inputs.data import (
    DEFAULT_CLAIMS,
    DEFAULT_POOLED,
    StudyTable,
    is_bundled_table,
    outcome_table,
)
from ..inputs.question import Question
from ..inputs.specs import OutcomeSpec
from ..outputs import check_output_path


@dataclass(frozen=True)
class OutcomeData:
    """One outcome's validated data: its spec and its slice of the study table (one row
    per study, arms side by side), from which the fits, the bias terms and the SoF
    baseline are read (the fit reads its model data and priors from the slice)."""

    spec: OutcomeSpec
    wide: pd.DataFrame
    """:func:`srsbayes.inputs.data.outcome_table` of the outcome (computed once)."""

    @cached_property
    def baseline(self) -> Baseline | None:
        """The pooled control-arm level of the studies (the SoF table's default baseline)."""
        return pooled_baseline(self.wide, self.spec)


@dataclass(frozen=True)
class Inputs:
    """Validated inputs of an analysis."""

    table: StudyTable
    specs: dict[str, OutcomeSpec]
    outcomes: list[OutcomeSpec]
    findings: list[Finding]
    pooled: list[PooledRow]
    claims: list[Claim]
    compared: bool = True
    question: Question | None = None
    """The review question given; None: the bundled one."""
    data: dict[str, OutcomeData] = field(default_factory=dict)
    """Each analysable outcome's data, by outcome id."""

    def outcome(self, spec: OutcomeSpec) -> OutcomeData:
        """``spec``'s data (built here when ``spec`` was not validated with the inputs)."""
        got = self.data.get(spec.id)
        if got is None or got.spec is not spec:
            return OutcomeData(spec, outcome_table(self.table, spec))
        return got


def validate_inputs(table: StudyTable, specs: dict[str, OutcomeSpec], out: Path | None, *,
                    pooled_path: Path | None = None, claims_path: Path | None = None,
                    paper_path: Path | None = None,
                    compare_paper: bool | None = None,
                    question: Question | None = None) -> Inputs:
    """Check everything that can be checked before any file is written.

    The source paper's pooled rows and claims describe the bundled data, so by default
    they are audited and compared with the posterior only for the bundled data or when
    ``pooled_path``/``claims_path`` are given (``compare_paper`` overrides).

    Raises
    ------
    InputError
        No analysable outcome, an outcome with too few studies, a bad pooled or claims
        file, or an output path that is not a folder.
    """
    outcomes = [specs[o] for o in table.outcomes() if o in specs]
    if not outcomes:
        raise InputError("no outcome in the data has a spec", file=table.path,
                         column="outcome")
    data = {spec.id: OutcomeData(spec, outcome_table(table, spec))  # >= 2 studies, both arms
            for spec in outcomes}
    if out is not None:
        check_output_path(out)
    findings = run_audit(table, specs, pooled_path, claims_path=claims_path,
                         paper_path=paper_path, compare_paper=compare_paper,
                         question=question)
    if compare_paper is None:
        compare_paper = (is_bundled_table(table) or pooled_path is not None
                         or claims_path is not None)
    if not compare_paper:
        return Inputs(table, specs, outcomes, findings, [], [], compared=False,
                      question=question, data=data)
    # the bundled paper's files stand in only for the bundled data (or when forced)
    stand_in = is_bundled_table(table) or compare_paper is True
    pooled_file = pooled_path or (DEFAULT_POOLED if stand_in else None)
    claims_file = claims_path or (DEFAULT_CLAIMS if stand_in else None)
    return Inputs(table, specs, outcomes, findings,
                  [] if pooled_file is None else read_pooled(pooled_file, specs),
                  [] if claims_file is None else read_claims(claims_file),
                  question=question, data=data)


class CountRow(TypedDict, total=False):
    """One study-table row of an outcome as the report's data tables show it: what the
    study reported and what the model used (:data:`COUNT_COLUMNS`; a missing value is
    None or NaN, as the table holds it)."""

    study: str
    arm: str
    n: float
    events: float
    percent: float
    median_months: float
    follow_up_months: float
    deaths: float
    median_ci_low: float
    median_ci_high: float
    events_rule: str
    source: str
    row: int
    measure: str
    estimate: float
    ci_low: float
    ci_high: float
    ci_level: float
    se: float
    p_value: float
    contrast_se: float
    contrast_rule: str
    adjusted: str
    design: str
    time_months: float


class StudyEntry(TypedDict):
    """One study of the table: its outcomes, arm sizes (every value given), follow-up,
    sources, covariate values, design and risk-of-bias judgements."""

    study: str
    outcomes: list[str]
    n_preop: list[int]
    n_postop: list[int]
    follow_up: list[float]
    sources: list[str]
    covariates: dict[str, list[str]]
    design: list[str]
    rob: list[str]


COUNT_COLUMNS = ("study", "arm", "n", "events", "percent", "median_months",
                 "follow_up_months", "deaths", "median_ci_low", "median_ci_high",
                 "events_rule", "source", "row",
                 # contrast rows (arm empty): the published estimate and the SE the model used
                 "measure", "estimate", "ci_low", "ci_high", "ci_level", "se", "p_value",
                 "contrast_se", "contrast_rule", "adjusted", "design", "time_months")
"""The study-table columns the report's data tables show."""


def count_table(table: StudyTable, spec: OutcomeSpec) -> list[CountRow]:
    """Per study × arm: what was reported and what the model used (for Methods)."""
    rows = table.frame[table.frame["outcome"] == spec.id]
    return [cast(CountRow, {c: rec.get(c) for c in COUNT_COLUMNS})
            for rec in rows.to_dict("records")]


def _texts(values: Iterable[object]) -> list[str]:
    """The distinct non-empty texts of ``values``, in order."""
    return list(dict.fromkeys(str(v) for v in values if isinstance(v, str) and v))


def study_list(table: StudyTable) -> list[StudyEntry]:
    """One entry per study: outcomes, arm sizes, follow-up, sources and covariates."""
    out = []
    frame = table.frame
    for study, rows in frame.groupby("study", sort=False):
        n = {arm: sorted({int(v) for v in rows.loc[rows["arm"] == arm, "n"]})
             for arm in ("preop", "postop")}
        out.append(StudyEntry(
            study=str(study), outcomes=list(dict.fromkeys(rows["outcome"])),
            n_preop=n["preop"], n_postop=n["postop"],
            follow_up=sorted({float(v) for v in rows["follow_up_months"].dropna()}),
            sources=_texts(rows.get("source", [])),
            covariates={c: list(dict.fromkeys(str(v) for v in rows[c]
                                              if str(v) not in ("", "nan")))
                        for c in table.covariates},
            # risk of bias: "not assessed" when not recorded
            design=_texts(rows["design"] if "design" in rows.columns else []),
            rob=_texts(rows["rob"] if "rob" in rows.columns else [])))
    return out
