"""The paper's reported "Pooled" rows and claims: their files, and the checks of them.

``pooled_mean``, ``pooled_weighted``, ``pooled_n``, ``pooled_follow_up``
    Each pooled row against the unweighted mean of the study values, an n-weighted
    pooled estimate, the sum of the study sizes and the study follow-ups.
``claim``
    Numerical claims recomputed (e.g. "a relative reduction of approximately 72%") and
    "significant" claims checked for any reported interval or test in the paper.
"""

from __future__ import annotations

import csv
import io
import math
import re
import statistics
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..families import ARMS, FAMILIES, FamilyInfo
from ..inputs.specs import OutcomeSpec
from .cells import StudyRecord, study_records
from .findings import Finding, FindingValue
from .numbers import decimals_word, exact, fixed, is_missing, matches, short
from .registry import AuditInputs
from .sources import Claim, PooledRow

POOLED_NEEDS = ("table", "specs", "pooled")


# ---------------------------------------------------------------------------------------
# Reading the files


def _read_csv(path: str | Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """Rows of a small CSV as ``(line, {column: stripped text})``; InputError on any problem."""
    p, f = Path(path), str(path)
    if not p.is_file():
        raise InputError("file not found", file=f)
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", file=f) from None
    reader = csv.reader(io.StringIO(text), skipinitialspace=True)
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for rec in reader:
            if not any(c.strip() for c in rec):
                continue
            if header is None:
                header = [c.strip() for c in rec]
                _require(header, required, f)
                continue
            if len(rec) > len(header):
                raise InputError(f"{len(rec)} fields but the header has {len(header)}",
                                 file=f, row=reader.line_num)
            rows.append((reader.line_num,
                         {h: (rec[i].strip() if i < len(rec) else "")
                          for i, h in enumerate(header)}))
    except csv.Error as exc:
        raise InputError(f"not a readable CSV: {exc}", file=f, row=reader.line_num) from None
    if header is None:
        raise InputError("file is empty", file=f)
    if not rows:
        raise InputError("no data rows", file=f)
    return rows


def _require(header: list[str], required: tuple[str, ...], f: str) -> None:
    """Every required column in the header; a semicolon-separated file is named as such."""
    for col in required:
        if col not in header:
            hint = ""
            if col in ";".join(header).split(";"):
                # Excel writes ";" where the decimal separator is a comma
                hint = "; the file looks semicolon-separated: save it with commas"
            raise InputError("missing required column" + hint, file=f, column=col)


def _cell_number(rec: dict[str, str], col: str, f: str, line: int, *,
                 required: bool = True) -> tuple[Fraction, int] | None:
    text = rec.get(col, "")
    if text == "":
        if required:
            raise InputError("missing value", file=f, row=line, column=col)
        return None
    try:
        return exact(text)
    except ValueError:
        raise InputError(f"not a number: {text!r}", file=f, row=line, column=col) from None


def read_claims(path: str | Path) -> list[Claim]:
    """Rows of the claims file (columns ``outcome``, ``claim`` required; ``quote``, ``source``).

    Raises
    ------
    InputError
        Naming file and line of a missing column or an unreadable file.
    """
    return [Claim(line, rec["outcome"].lower(), rec["claim"],
                  rec.get("quote", "") or rec["claim"], rec.get("source", ""))
            for line, rec in _read_csv(path, ("outcome", "claim"))]


def read_pooled(path: str | Path, specs: dict[str, OutcomeSpec]) -> list[PooledRow]:
    """Read and validate the paper's reported pooled values.

    Columns: ``outcome``, ``arm``, ``n``, ``value``, ``measure`` (the family's
    ``audit_column``: ``percent`` for binary outcomes, ``median_months`` for medians)
    required; ``follow_up_months``, ``source`` optional. Values keep the precision they
    are written with.

    Raises
    ------
    InputError
        Naming file, line and column of the first bad value or missing column.
    """
    f = str(path)
    out: list[PooledRow] = []
    seen: set[tuple[str, str]] = set()
    for line, rec in _read_csv(path, ("outcome", "arm", "n", "value", "measure")):
        row = _pooled_row(rec, line, specs, f)
        if (row.outcome, row.arm) in seen:
            raise InputError(f"duplicate pooled row for outcome {row.outcome!r}, arm "
                             f"{row.arm!r}", file=f, row=line, column="arm")
        seen.add((row.outcome, row.arm))
        out.append(row)
    return out


def _pooled_row(rec: dict[str, str], line: int, specs: dict[str, OutcomeSpec],
                f: str) -> PooledRow:
    """One validated pooled row (``f``: the file, for error messages)."""
    outcome, arm, measure = rec["outcome"].lower(), rec["arm"].lower(), rec["measure"].lower()
    if outcome not in specs:
        raise InputError(f"unknown outcome {rec['outcome']!r}; specs exist for: "
                         + ", ".join(specs), file=f, row=line, column="outcome")
    if arm not in ARMS:
        raise InputError(f"unknown arm {rec['arm']!r}; use 'preop' or 'postop'", file=f,
                         row=line, column="arm")
    info = FAMILIES[specs[outcome].family]
    if measure != info.audit_column:
        raise InputError(f"measure {rec['measure']!r} does not fit outcome {outcome!r}; "
                         f"use {info.audit_column!r}", file=f, row=line, column="measure")
    n, _ = _cell_number(rec, "n", f, line)
    if n.denominator != 1 or n <= 0:
        raise InputError(f"must be a whole number > 0, got {rec['n']!r}", file=f, row=line,
                         column="n")
    value, d = _cell_number(rec, "value", f, line)
    if info.count_data and not 0 <= value <= 100:
        raise InputError(f"must be within 0-100, got {rec['value']!r}", file=f, row=line,
                         column="value")
    if not info.count_data and value <= 0:
        raise InputError(f"must be > 0, got {rec['value']!r}", file=f, row=line,
                         column="value")
    fu = _cell_number(rec, "follow_up_months", f, line, required=False)
    if fu is not None and fu[0] <= 0:
        raise InputError(f"must be > 0, got {rec['follow_up_months']!r}", file=f, row=line,
                         column="follow_up_months")
    return PooledRow(outcome, arm, int(n), value, d, measure,
                     None if fu is None else fu[0], 0 if fu is None else fu[1],
                     rec.get("source", ""), line)


# ---------------------------------------------------------------------------------------
# The pooled rows against the study rows


def _study_rows(inputs: AuditInputs, pr: PooledRow) -> list[StudyRecord]:
    frame = inputs.table.frame
    return study_records(frame[(frame["outcome"] == pr.outcome) & (frame["arm"] == pr.arm)])


def _study_value(rec: StudyRecord, info: FamilyInfo) -> Fraction:
    """A study row's value on the pooled row's scale, exactly."""
    value = rec[info.audit_column]
    if not is_missing(value) or not info.count_data:
        return exact(value)[0]
    return Fraction(100 * int(rec["events"]), int(rec["n"]))


def _pooled_pairs(inputs: AuditInputs
                  ) -> Iterator[tuple[PooledRow, list[StudyRecord], FamilyInfo, tuple]]:
    """``(pooled row, its study rows, family, where)`` for the rows the table has."""
    assert inputs.pooled is not None
    for pr in inputs.pooled:
        recs = _study_rows(inputs, pr)
        if recs:
            yield pr, recs, FAMILIES[inputs.specs[pr.outcome].family], (None, pr.outcome, pr.arm)


def check_pooled_mean(inputs: AuditInputs) -> list[Finding]:
    """Is the reported pooled value the plain mean of the study values?"""
    assert inputs.pooled is not None
    found: list[Finding] = []
    for pr in inputs.pooled:
        recs = _study_rows(inputs, pr)
        if not recs:
            found.append(Finding(None, pr.outcome, pr.arm, "pooled_mean", "info",
                                 f"the pooled file has a {pr.outcome} {pr.arm} row but the "
                                 "study table has no such rows; pooled checks skipped"))
            continue
        found.append(_pooled_mean(pr, recs, FAMILIES[inputs.specs[pr.outcome].family]))
    return found


def _pooled_mean(pr: PooledRow, recs: list[StudyRecord], info: FamilyInfo) -> Finding:
    where, k = (None, pr.outcome, pr.arm), len(recs)
    rep = f"{short(pr.value)}{info.audit_unit}"
    vals = [_study_value(r, info) for r in recs]
    mean = sum(vals, Fraction(0)) / k
    listing = ", ".join(short(v) for v in vals)
    same = matches(mean, pr.value, pr.decimals)
    values: dict[str, FindingValue] = {"reported": pr.value, "unweighted_mean": mean,
                                       "decimals": pr.decimals, "matches": same}
    if same:
        return Finding(*where, "pooled_mean", "warning",
                       f"reported pooled {rep} is the unweighted mean of the {k} study "
                       f"{info.audit_kind} ({listing} → {short(mean)}) at "
                       f"{decimals_word(pr.decimals)}: it ignores study size and is not the "
                       "random-effects estimate the Methods describe", pr.row, values)
    return Finding(*where, "pooled_mean", "info",
                   f"reported pooled {rep} differs from the unweighted mean of the {k} study "
                   f"{info.audit_kind} ({listing} → {short(mean)})", pr.row, values)


def check_pooled_weighted(inputs: AuditInputs) -> list[Finding]:
    """The reported pooled value against the n-weighted pooled proportion (counts) or the
    n-weighted mean of the study values (a benchmark only, for medians)."""
    found: list[Finding] = []
    for pr, recs, info, where in _pooled_pairs(inputs):
        rep = f"{short(pr.value)}{info.audit_unit}"
        n_sum = int(sum(int(r["n"]) for r in recs))
        if info.count_data:
            ev = int(sum(int(r["events"]) for r in recs))
            est = Fraction(100 * ev, n_sum)
            rules = {r.get("events_rule", "") for r in recs}
            how = " (nearest counts to the percentages)" if "nearest count to percent" in rules \
                else ""
            text = (f"n-weighted pooled proportion {ev}/{n_sum}{how} = {fixed(est)}% vs "
                    f"reported {rep}")
            values: dict[str, FindingValue] = {"events": ev, "n": n_sum, "weighted": est}
        else:
            est = sum((_study_value(r, info) * int(r["n"]) for r in recs), Fraction(0)) / n_sum
            kind = info.audit_kind
            text = (f"n-weighted mean of study {kind} (a benchmark only: a mean of {kind} is "
                    f"not a pooled {kind.removesuffix('s')}) {fixed(est)}{info.audit_unit} vs "
                    f"reported {rep}")
            values = {"n": n_sum, "weighted": est}
        same = matches(est, pr.value, pr.decimals)
        text += (f" (difference {float(pr.value - est):+.2f}; "
                 f"{'same' if same else 'differs'} at the paper's {decimals_word(pr.decimals)})")
        values.update(reported=pr.value, difference=pr.value - est, matches=same)
        found.append(Finding(*where, "pooled_weighted", "info", text, pr.row, values))
    return found


def check_pooled_n(inputs: AuditInputs) -> list[Finding]:
    """Is the reported pooled n the sum of the study n?"""
    found: list[Finding] = []
    for pr, recs, _, where in _pooled_pairs(inputs):
        k, n_sum = len(recs), int(sum(int(r["n"]) for r in recs))
        values: dict[str, FindingValue] = {"reported_n": pr.n, "sum_n": n_sum}
        if n_sum == pr.n:
            found.append(Finding(*where, "pooled_n", "info",
                                 f"reported pooled n = {pr.n} equals the sum of the {k} study n",
                                 pr.row, values))
        else:
            found.append(Finding(*where, "pooled_n", "warning",
                                 f"reported pooled n = {pr.n} but the {k} study n sum to "
                                 f"{n_sum}", pr.row, values))
    return found


def check_pooled_follow_up(inputs: AuditInputs) -> list[Finding]:
    """Which summary of the study follow-ups, if any, the reported pooled follow-up is."""
    return [_pooled_follow_up(pr, recs, where) for pr, recs, _, where in _pooled_pairs(inputs)]


def _pooled_follow_up(pr: PooledRow, recs: list[StudyRecord], where: tuple) -> Finding:
    fus = [(exact(r["follow_up_months"])[0], int(r["n"])) for r in recs
           if not is_missing(r["follow_up_months"])]
    if pr.follow_up is None:
        return Finding(*where, "pooled_follow_up", "info",
                       "the paper reports no pooled follow-up for this outcome", pr.row)
    if not fus:
        return Finding(*where, "pooled_follow_up", "info",
                       f"reported pooled follow-up {short(pr.follow_up)} months; the study rows "
                       "have none to compare", pr.row)
    summaries = {
        "mean": sum((f for f, _ in fus), Fraction(0)) / len(fus),
        "median": Fraction(statistics.median(f for f, _ in fus)),
        "n_weighted_mean": sum((f * n for f, n in fus), Fraction(0)) / sum(n for _, n in fus),
    }
    lo, hi = min(f for f, _ in fus), max(f for f, _ in fus)
    hits = [k for k, v in summaries.items() if matches(v, pr.follow_up, pr.follow_up_decimals)]
    listing = ", ".join(short(f) for f, _ in fus)
    desc = ", ".join(f"{k.replace('_', ' ')} {short(v)}" for k, v in summaries.items())
    values: dict[str, FindingValue] = {"reported": pr.follow_up, **summaries,
                                       "midrange": (lo + hi) / 2, "matches": hits}
    rep = f"reported pooled follow-up {short(pr.follow_up)} months"
    if hits:
        return Finding(*where, "pooled_follow_up", "info",
                       f"{rep} matches the {' and '.join(hits)} of the study follow-ups "
                       f"({listing}: {desc})", pr.row, values)
    if matches((lo + hi) / 2, pr.follow_up, pr.follow_up_decimals):
        # (shortest + longest) / 2 ignores every study in between and every study's size
        values["matches"] = ["midrange"]
        return Finding(*where, "pooled_follow_up", "warning",
                       f"{rep} is the midrange of {short(lo)} and {short(hi)} months, halfway "
                       "between the shortest and the longest study follow-up, not a summary "
                       f"of the patients' follow-up ({listing}: {desc})", pr.row, values)
    return Finding(*where, "pooled_follow_up", "warning",
                   f"{rep} is none of the summaries of the study follow-ups ({listing}: "
                   f"{desc})", pr.row, values)


# ---------------------------------------------------------------------------------------
# Claims


_REDUCTION = re.compile(r"relative_reduction_(\d+(?:\.\d+)?)$")


def check_claims(inputs: AuditInputs) -> list[Finding]:
    """Claims with id ``relative_reduction_NN`` recomputed; claims whose id contains
    ``significant`` checked against the statistics the paper reports (when its facts are
    available)."""
    assert inputs.pooled is not None and inputs.claims is not None
    found: list[Finding] = []
    by_key = {(p.outcome, p.arm): p for p in inputs.pooled}
    for c in inputs.claims:
        outcome, claim, quote, line = c.outcome, c.claim, c.quote, c.line
        m = _REDUCTION.match(claim)
        if m:
            found.append(_reduction(Fraction(m.group(1)), outcome, quote, line, by_key,
                                    inputs.table.frame))
        elif "significant" in claim and inputs.paper is not None:
            counts = inputs.paper.statistic_counts()
            if not any(counts.values()):
                found.append(Finding(None, outcome, None, "claim", "warning",
                                     f"\"{quote}\" ({c.source}): the paper reports "
                                     "no confidence interval, p-value or test statistic "
                                     "anywhere, so the claim of significance is unsupported",
                                     line, counts))
    return found


def _reduction(claimed: Fraction, outcome: str, quote: str, line: int,
               by_key: dict[tuple[str, str], PooledRow], frame: pd.DataFrame) -> Finding:
    """A claimed relative reduction against the pooled rows and the pooled counts.

    The interval is Katz's log risk-ratio interval on the crude totals (Katz D et al.
    1978, Biometrics 34:469-474), which ignores between-study heterogeneity.
    """
    where = (None, outcome, None)
    pre, post = by_key.get((outcome, "preop")), by_key.get((outcome, "postop"))
    if pre is None or post is None or post.value == 0:
        return Finding(*where, "claim", "info",
                       f"cannot recompute \"{quote}\": no usable pooled rows", line)
    from_rows = 100 * (1 - pre.value / post.value)
    values: dict[str, FindingValue] = {"claimed": claimed, "from_pooled_rows": from_rows}
    text = (f"\"{quote}\": from the pooled rows 1 - {short(pre.value)}/{short(post.value)} = "
            f"{fixed(from_rows, 1)}%")
    rows = frame[frame["outcome"] == outcome]
    arms = {a: rows[rows["arm"] == a] for a in ARMS}
    if all(not r.empty for r in arms.values()):
        e1, n1 = int(arms["preop"]["events"].sum()), int(arms["preop"]["n"].sum())
        e0, n0 = int(arms["postop"]["events"].sum()), int(arms["postop"]["n"].sum())
        if e1 > 0 and e0 > 0:
            rr = (e1 / n1) / (e0 / n0)
            se = math.sqrt(1 / e1 - 1 / n1 + 1 / e0 - 1 / n0)
            lo, hi = rr * math.exp(-1.959964 * se), rr * math.exp(1.959964 * se)
            values.update(from_counts=100 * (1 - rr), rrr_ci_low=100 * (1 - hi),
                          rrr_ci_high=100 * (1 - lo))
            text += (f"; from pooled counts {e1}/{n1} vs {e0}/{n0} = {100 * (1 - rr):.1f}% "
                     f"(crude 95% CI {100 * (1 - hi):.0f}% to {100 * (1 - lo):.0f}%, Katz log "
                     "RR, ignoring between-study heterogeneity); the paper gives no interval")
    close = all(abs(float(v) - float(claimed)) <= 1 for k, v in values.items()
                if k in ("from_pooled_rows", "from_counts"))
    values["reproduced"] = close
    text += f" — claim of {short(claimed)}% {'reproduced' if close else 'NOT reproduced'}"
    return Finding(*where, "claim", "info" if close else "warning", text, line, values)
