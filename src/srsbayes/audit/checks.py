"""Evidence audit: is the reported evidence internally consistent and fit to pool?

``python -m srsbayes audit`` (or :func:`run_audit` from a notebook) checks the study table
and, by default, the paper's own reported numbers:

``grim``
    Every reported percentage against the whole counts its ``n`` allows (the GRIM test
    of Brown & Heathers 2017, applied to proportions).
``events``, ``arms``
    Counts within ``0..n`` and consistent with the percentage when both are given; both
    arms present for every study × outcome.
``identification``
    Studies named only by anonymous labels ("Study A") cannot be traced to a source.
``follow_up``
    Missing follow-up, follow-up borrowed from another table, and follow-up spreads
    (longest ≥ 1.5 × shortest) that make cumulative incidences incomparable.
``pooled_mean``, ``pooled_weighted``, ``pooled_n``, ``pooled_follow_up``
    The paper's "Pooled" rows against the unweighted mean of the study values, an
    n-weighted pooled estimate, the sum of the study sizes and the study follow-ups.
``claim``
    Numerical claims recomputed (e.g. "a relative reduction of approximately 72%") and
    "significant" claims checked for any reported interval or test.
``reporting``, ``references``
    Only when the paper's text is available: methods the paper says it used but never
    reports (I², Egger's test, subgroups, forest plots), and whether the reference list
    is about the paper's topic at all.

Findings are data, not errors: the audit exits 0 whenever it ran. Bad input (an
unreadable pooled or claims file) is an :class:`~srsbayes.errors.InputError`.

References
----------
Brown NJL, Heathers JAJ (2017). The GRIM test: a simple technique detects numerous
anomalies in the reporting of results in psychology. Soc Psychol Personal Sci 8:363-369.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
import statistics
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InputError
from ..inputs.data import ARMS, DEFAULT_CLAIMS, DEFAULT_POOLED, StudyTable
from ..inputs.specs import OutcomeSpec

DEFAULT_PAPER = Path(__file__).resolve().parents[4] / "shared" / "seed" / "000_ab0d3ca6619c68da.txt"
"""Text of the audited paper; paper-text checks are skipped when it does not exist."""

SEVERITIES = ("error", "warning", "info")
FOLLOW_UP_RATIO = 1.5
"""Flag an outcome whose longest follow-up is at least this multiple of the shortest."""

CHECKS: dict[str, str] = {
    "grim": "GRIM granularity of reported percentages (Brown & Heathers 2017)",
    "events": "event counts vs n and vs percent",
    "arms": "both arms present for every study × outcome",
    "identification": "can the studies be traced to a source?",
    "follow_up": "follow-up per outcome",
    "homogeneity": "do the studies agree more closely than sampling error allows?",
    "pooled_mean": "reported pooled value vs unweighted mean of the studies",
    "pooled_weighted": "reported pooled value vs n-weighted pooled estimate",
    "pooled_n": "reported pooled n vs sum of study n",
    "pooled_follow_up": "reported pooled follow-up vs study follow-ups",
    "claim": "claims in the text, recomputed",
    "reporting": "methods claimed but never reported",
    "references": "does the reference list match the topic?",
}
"""Check ids in display order, with their titles."""

MEASURES = {"binomial": "percent", "lognormal_median": "median_months"}
"""The pooled-file ``measure`` each likelihood family's pooled row must use."""


@dataclass
class Finding:
    """One audit result.

    Attributes
    ----------
    study, outcome, arm
        What it is about; ``None`` when not specific (e.g. a pooled row has no study).
    check
        Check id, one of :data:`CHECKS`.
    severity
        ``"error"`` (impossible data), ``"warning"`` (a problem for inference) or
        ``"info"`` (context, or a check that passed).
    detail
        One readable sentence with the numbers.
    row
        Line number (header = 1) in ``file``, when the finding is about one row.
    values
        The numbers behind ``detail`` (e.g. ``k``, ``k_percent``, ``error``).
    file
        The file ``row`` refers to: the study table, the pooled file or the claims file.
    """

    study: str | None
    outcome: str | None
    arm: str | None
    check: str
    severity: str
    detail: str
    row: int | None = None
    values: dict[str, Any] = field(default_factory=dict)
    file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Flat JSON-ready dict: the fields, then ``values`` (NaN becomes ``None``)."""
        out: dict[str, Any] = {"study": self.study, "outcome": self.outcome, "arm": self.arm,
                               "check": self.check, "severity": self.severity,
                               "detail": self.detail, "file": self.file, "row": self.row}
        for key, v in self.values.items():
            if isinstance(v, Fraction):
                v = float(v)
            if isinstance(v, float) and not math.isfinite(v):
                v = None
            out[key] = v
        return out


# ---------------------------------------------------------------------------------------
# GRIM


@dataclass(frozen=True)
class Grim:
    """GRIM result for one reported percentage.

    Attributes
    ----------
    percent
        The reported value, exactly as written.
    n
        Denominator.
    decimals
        Reporting precision (decimals as written).
    k
        Nearest whole count, halves up (the loader's ``events`` rule).
    k_percent
        ``100 k / n``.
    error
        ``k_percent - percent``: the rounding error the report implies.
    consistent
        Whether some whole count rounds to ``percent`` at ``decimals`` (exact halves are
        accepted in either rounding direction).
    testable
        ``False`` when ``100 / n`` is finer than the reporting unit, so every value passes.
    """

    percent: Fraction
    n: int
    decimals: int
    k: int
    k_percent: Fraction
    error: Fraction
    consistent: bool
    testable: bool


def grim(percent: str | float, n: int, decimals: int | None = None) -> Grim:
    """GRIM test of a percentage: can any whole ``k`` in ``0..n`` give it when rounded?

    Parameters
    ----------
    percent
        The value as written (``"89"``, ``"3.50"``); a float loses trailing zeros, so
        its precision is its shortest representation unless ``decimals`` is given.
    n
        Denominator (whole number > 0).
    decimals
        Reporting precision; default: counted from ``percent``.

    Returns
    -------
    Grim
        ``consistent`` is true when ``|100 k / n - percent| <= 0.5 * 10**-decimals`` for
        the nearest ``k``, computed in exact rational arithmetic. The boundary is
        inclusive because a value exactly halfway rounds either way depending on the
        author's convention (half-up, half-even, or truncation of a longer decimal).

    References
    ----------
    Brown NJL, Heathers JAJ (2017). The GRIM test: a simple technique detects numerous
    anomalies in the reporting of results in psychology. Soc Psychol Personal Sci
    8:363-369.

    Examples
    --------
    >>> grim("89", 48).consistent      # k=42 -> 87.50%, k=43 -> 89.58%
    False
    >>> grim("87", 40).consistent      # k=35 -> 87.50%: exactly halfway, accepted
    True
    """
    p, d = _exact(percent)
    if decimals is not None:
        d = decimals
    if n <= 0:
        raise ValueError(f"n must be > 0, got {n}")
    k = min(max(math.floor(p * n / 100 + Fraction(1, 2)), 0), n)
    kp = Fraction(100 * k, n)
    tol = Fraction(1, 2 * 10**d)
    return Grim(p, n, d, k, kp, kp - p, abs(kp - p) <= tol, n < 100 * 10**d)


def grim_pass_rate(n: int, decimals: int = 0) -> float:
    """Share of the values ``0, 10**-d, ..., 100`` that some whole ``k`` of ``n`` reproduces.

    The chance that an arbitrary percentage written at ``decimals`` passes GRIM: the
    benchmark for how many passes to expect if the percentages bear no relation to counts.
    """
    scale = 10**decimals
    hit: set[int] = set()
    for k in range(n + 1):
        x = Fraction(100 * k * scale, n)
        hit.update(range(math.ceil(x - Fraction(1, 2)), math.floor(x + Fraction(1, 2)) + 1))
    grid = 100 * scale + 1
    return len({j for j in hit if 0 <= j < grid}) / grid


def _exact(value: str | float) -> tuple[Fraction, int]:
    """Exact value and decimals as written; a float counts its shortest representation."""
    text = str(value).strip() if isinstance(value, str) else repr(float(value))
    try:
        dec = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None
    if not isinstance(value, str):
        dec = dec.normalize()  # 91.0 -> 91: a float carries no trailing zeros
    exp = dec.as_tuple().exponent
    return Fraction(dec), max(0, -exp) if isinstance(exp, int) else 0


def _decimals(d: int) -> str:
    return f"{d} decimal{'' if d == 1 else 's'}"


def _pct(x: Fraction | float, d: int = 2) -> str:
    return f"{float(x):.{d}f}"


def _num(x: Fraction | float) -> str:
    """Short form of an exact number: 3.5, 16.25, 16.18 (at most 2 decimals)."""
    return f"{round(float(x), 2):g}"


def _raw_cells(table: StudyTable, column: str) -> dict[int, str]:
    """Cells of ``column`` as written in the table's file, keyed by line number.

    Empty when the file is gone or changed since loading (then floats are used).
    """
    p = Path(table.path)
    try:
        raw = p.read_bytes()
    except OSError:
        return {}
    if hashlib.sha256(raw).hexdigest() != table.sha256:
        return {}
    reader = csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""),
                        skipinitialspace=True)
    header: list[str] | None = None
    out: dict[int, str] = {}
    end = 0
    for rec in reader:
        # keyed by the line a record starts on, as the loader's ``row``
        start, end = end + 1, reader.line_num
        if not any(c.strip() for c in rec):
            continue
        if header is None:
            header = [c.strip() for c in rec]
            if column not in header:
                return {}
            continue
        i = header.index(column)
        out[start] = rec[i].strip() if i < len(rec) else ""
    return out


def _check_grim(table: StudyTable, specs: dict[str, OutcomeSpec]) -> list[Finding]:
    raw = _raw_cells(table, "percent")
    found: list[Finding] = []
    failed: list[str] = []
    expected = 0.0
    for rec in _binary_rows(table, specs):
        if _nan(rec["percent"]):
            continue
        row, n = int(rec["row"]), int(rec["n"])
        text = raw.get(row) or rec["percent"]
        g = grim(text, n)
        expected += grim_pass_rate(n, g.decimals)
        shown = text if isinstance(text, str) else _num(g.percent)
        values = {"percent": g.percent, "n": n, "decimals": g.decimals, "k": g.k,
                  "k_percent": g.k_percent, "error": g.error, "consistent": g.consistent,
                  "testable": g.testable}
        if not g.testable:
            sev = "info"
            detail = (f"{shown}% of {n}: not testable at {_decimals(g.decimals)} "
                      f"(100/n = {_pct(Fraction(100, n), 3)} is finer than the reporting unit)")
        elif g.consistent:
            sev = "info"
            half = abs(g.error) == Fraction(1, 2 * 10**g.decimals)
            detail = (f"{shown}% of {n}: k={g.k} gives {_pct(g.k_percent)}%"
                      + (" — exactly halfway, reproduces it if rounded "
                         f"{'down' if g.error > 0 else 'up'} (accepted)" if half
                         else f", rounding error {float(g.error):+.2f}: consistent"))
        else:
            sev = "warning"
            lo = min(math.floor(g.percent * n / 100), n)
            hi = min(lo + 1, n)
            sides = ", ".join(f"k={k} gives {_pct(Fraction(100 * k, n))}%"
                              for k in dict.fromkeys((lo, hi)))
            values.update(k_below=lo, k_above=hi)
            detail = (f"{shown}% of {n}: no whole count reproduces it at {_decimals(g.decimals)} "
                      f"({sides}); the nearest, k={g.k}, implies a rounding error of "
                      f"{float(g.error):+.2f} points")
            failed.append(f"{rec['study']} {rec['outcome']} {rec['arm']} ({shown}% of {n})")
        found.append(Finding(rec["study"], rec["outcome"], rec["arm"], "grim", sev, detail,
                             row, values))
    if found:
        total = len(found)
        ok = total - len(failed)
        detail = (f"{ok} of {total} reported percentages can come from a whole count of the "
                  f"stated n; if they were arbitrary numbers at the same precision about "
                  f"{expected:.1f} would pass by chance")
        if failed:
            detail += ("; a failure means the value is not k/n of the stated n (an actuarial "
                       "estimate, another denominator such as lesions, or a transcription or "
                       "fabrication problem). Failing: " + "; ".join(failed))
        found.insert(0, Finding(None, None, None, "grim", "warning" if failed else "info",
                                detail, None, {"n_tested": total, "n_consistent": ok,
                                               "n_inconsistent": len(failed),
                                               "expected_by_chance": expected}))
    return found


# ---------------------------------------------------------------------------------------
# Table checks


def _nan(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _binary_rows(table: StudyTable, specs: dict[str, OutcomeSpec]) -> list[dict]:
    return [rec for rec in table.frame.to_dict("records")
            if rec["outcome"] in specs and specs[rec["outcome"]].family == "binomial"]


def _check_events(table: StudyTable, specs: dict[str, OutcomeSpec]) -> list[Finding]:
    raw = _raw_cells(table, "percent")
    found: list[Finding] = []
    rows = _binary_rows(table, specs)
    both = 0
    for rec in rows:
        row, n, ev = int(rec["row"]), rec["n"], rec["events"]
        where = (rec["study"], rec["outcome"], rec["arm"])
        if _nan(ev):
            found.append(Finding(*where, "events", "error", "no events and no percent", row))
            continue
        if ev < 0 or ev > n or ev != int(ev):
            found.append(Finding(*where, "events", "error",
                                 f"events = {ev:g} is not a whole number in 0..n = {n:g}", row,
                                 {"events": ev, "n": n}))
            continue
        if rec.get("events_rule") != "reported" or _nan(rec["percent"]):
            continue
        both += 1
        p, d = _exact(raw.get(row) or rec["percent"])
        implied = Fraction(100 * int(ev), int(n))
        if abs(implied - p) > Fraction(1, 2 * 10**d):
            found.append(Finding(*where, "events", "error",
                                 f"{int(ev)} events of {int(n)} is {_pct(implied)}%, which does "
                                 f"not round to the reported {_num(p)}%", row,
                                 {"events": int(ev), "n": int(n), "percent": p,
                                  "implied_percent": implied}))
    if not found and rows:
        pairs = (f"{both} report both events and percent, all consistent" if both
                 else "none reports both events and percent")
        found.append(Finding(None, None, None, "events", "info",
                             f"all {len(rows)} binary rows have events within 0..n; {pairs}",
                             values={"rows": len(rows), "both_given": both}))
    return found


def _check_arms(table: StudyTable) -> list[Finding]:
    frame = table.frame
    found: list[Finding] = []
    pairs = frame.groupby(["study", "outcome"], sort=False)["arm"]
    for (study, outcome), arms in pairs:
        seen = list(arms)
        missing = [a for a in ARMS if a not in seen]
        dup = sorted({a for a in seen if seen.count(a) > 1})
        if missing or dup:
            what = "; ".join(filter(None, [
                f"missing {', '.join(missing)}" if missing else "",
                f"duplicated {', '.join(dup)}" if dup else ""]))
            found.append(Finding(study, outcome, None, "arms", "error",
                                 f"{what}: a study contributes a comparison only with one row "
                                 "per arm"))
    if not found:
        found.append(Finding(None, None, None, "arms", "info",
                             f"all {pairs.ngroups} study × outcome pairs have exactly one "
                             "preop and one postop row", values={"pairs": pairs.ngroups}))
    return found


_ANONYMOUS = re.compile(r"^(study|cohort|trial)\s*[A-Za-z0-9]{1,2}$", re.IGNORECASE)


def _check_identification(table: StudyTable) -> list[Finding]:
    studies = list(dict.fromkeys(table.frame["study"]))
    anon = [s for s in studies if _ANONYMOUS.match(s)]
    if not anon:
        return []
    return [Finding(None, None, None, "identification", "warning",
                    f"{len(anon)} of {len(studies)} studies have only anonymous labels "
                    f"({', '.join(anon)}) and no citation: the data cannot be checked against "
                    "the primary publications, nor overlap between cohorts ruled out",
                    values={"anonymous": len(anon), "studies": len(studies)})]


def _check_follow_up(table: StudyTable, specs: dict[str, OutcomeSpec]) -> list[Finding]:
    found: list[Finding] = []
    frame = table.frame
    for outcome in table.outcomes():
        rows = frame[frame["outcome"] == outcome]
        for rec in rows[rows["follow_up_months"].isna()].to_dict("records"):
            found.append(Finding(rec["study"], outcome, rec["arm"], "follow_up", "warning",
                                 "no follow-up: the time horizon of this estimate is unknown",
                                 int(rec["row"])))
        if "source" in rows.columns:
            src_col = rows["source"].fillna("").astype(str)
            borrowed = rows[src_col.str.contains("follow-up from", case=False, regex=False)]
            if not borrowed.empty:
                src = "; ".join(dict.fromkeys(borrowed["source"]))
                found.append(Finding(None, outcome, None, "follow_up", "info",
                                     f"follow-up of {len(borrowed)} rows is borrowed from another "
                                     f"table (source: {src}); the paper gives none for this "
                                     "outcome", values={"borrowed_rows": len(borrowed)}))
        fu = rows.dropna(subset=["follow_up_months"])
        if fu.empty:
            continue
        lo, hi = float(fu["follow_up_months"].min()), float(fu["follow_up_months"].max())
        per = fu.groupby("study", sort=False)["follow_up_months"].agg(
            lambda s: "/".join(_num(v) for v in dict.fromkeys(s)))
        listing = ", ".join(f"{s} {v}" for s, v in per.items())
        values = {"min_months": lo, "max_months": hi, "ratio": hi / lo}
        if hi >= FOLLOW_UP_RATIO * lo:
            if specs[outcome].family == "binomial":
                why = (f"cumulative incidences at {_num(lo)} and {_num(hi)} months are not "
                       "comparable, and pooling them mixes time horizons")
            else:
                why = (f"medians from cohorts followed {_num(lo)} vs {_num(hi)} months differ "
                       "in maturity")
            found.append(Finding(None, outcome, None, "follow_up", "warning",
                                 f"follow-up {_num(lo)}-{_num(hi)} months ({listing}): the "
                                 f"longest is {hi / lo:.1f}× the shortest; {why}",
                                 values=values))
        else:
            found.append(Finding(None, outcome, None, "follow_up", "info",
                                 f"follow-up {_num(lo)}-{_num(hi)} months ({listing})",
                                 values=values))
    return found


HOMOGENEITY_P = 0.05
"""Flag an outcome whose studies are this improbably similar (lower tail of Cochran's Q)."""


def _check_homogeneity(table: StudyTable, specs: dict[str, OutcomeSpec]) -> list[Finding]:
    """Lower tail of Cochran's Q: studies that agree *too* well.

    Under no heterogeneity Q ~ chi-square(k - 1), so P(chi2 <= Q) small means the study
    estimates are closer to each other than their own standard errors allow. Real
    studies rarely do this; rounding, copied or invented numbers do (the logic of
    Carlisle's checks of too-similar trial data). The standard errors are the forest-plot
    ones of each family (Wald for log odds ratios; the OS standard-error rules, before
    inflation), so the check is approximate with four small studies.
    """
    from ..families import get_family
    from ..inputs.data import outcome_table

    found: list[Finding] = []
    for outcome in table.outcomes():
        spec = specs[outcome]
        try:
            wide = outcome_table(table, spec)
        except InputError:
            continue  # fewer than two studies: nothing to compare
        eff = get_family(spec.family).observed_effects(wide)
        y = eff["estimate"].to_numpy(float)
        se = (eff["hi"] - eff["lo"]).to_numpy(float) / (2 * 1.959964)
        w = 1 / se**2
        q = float(np.sum(w * (y - np.sum(w * y) / np.sum(w)) ** 2))
        df = len(y) - 1
        p_low = float(stats.chi2.cdf(q, df))
        values = {"Q": q, "df": df, "p_lower": p_low}
        head = (f"Cochran's Q = {q:.2f} on {df} df (expected about {df} if the studies differ "
                "only by chance)")
        if p_low < HOMOGENEITY_P:
            found.append(Finding(None, outcome, None, "homogeneity", "warning",
                                 f"{head}; P(Q this small) = {p_low:.3f}: the studies agree more "
                                 "closely than their sampling error allows, as rounded, copied or "
                                 "invented numbers do", values=values))
        else:
            found.append(Finding(None, outcome, None, "homogeneity", "info",
                                 f"{head}; P(Q this small) = {p_low:.2f}", values=values))
    return found


# ---------------------------------------------------------------------------------------
# The paper's pooled rows and claims


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
                for col in required:
                    if col not in header:
                        raise InputError("missing required column", file=f, column=col)
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


def _cell_number(rec: dict[str, str], col: str, f: str, line: int, *,
                 required: bool = True) -> tuple[Fraction, int] | None:
    text = rec.get(col, "")
    if text == "":
        if required:
            raise InputError("missing value", file=f, row=line, column=col)
        return None
    try:
        value, d = _exact(text)
    except ValueError:
        raise InputError(f"not a number: {text!r}", file=f, row=line, column=col) from None
    return value, d


def read_pooled(path: str | Path, specs: dict[str, OutcomeSpec]) -> list[PooledRow]:
    """Read and validate the paper's reported pooled values.

    Columns: ``outcome``, ``arm``, ``n``, ``value``, ``measure`` (``percent`` for binary
    outcomes, ``median_months`` for medians) required; ``follow_up_months``, ``source``
    optional. Values keep the precision they are written with.

    Raises
    ------
    InputError
        Naming file, line and column of the first bad value or missing column.
    """
    f = str(path)
    out: list[PooledRow] = []
    seen: set[tuple[str, str]] = set()
    for line, rec in _read_csv(path, ("outcome", "arm", "n", "value", "measure")):
        outcome, arm, measure = (rec["outcome"].lower(), rec["arm"].lower(),
                                 rec["measure"].lower())
        if outcome not in specs:
            raise InputError(f"unknown outcome {rec['outcome']!r}; specs exist for: "
                             + ", ".join(specs), file=f, row=line, column="outcome")
        if arm not in ARMS:
            raise InputError(f"unknown arm {rec['arm']!r}; use 'preop' or 'postop'", file=f,
                             row=line, column="arm")
        want = MEASURES[specs[outcome].family]
        if measure != want:
            raise InputError(f"measure {rec['measure']!r} does not fit outcome {outcome!r}; "
                             f"use {want!r}", file=f, row=line, column="measure")
        n, _ = _cell_number(rec, "n", f, line)
        if n.denominator != 1 or n <= 0:
            raise InputError(f"must be a whole number > 0, got {rec['n']!r}", file=f, row=line,
                             column="n")
        value, d = _cell_number(rec, "value", f, line)
        if measure == "percent" and not 0 <= value <= 100:
            raise InputError(f"must be within 0-100, got {rec['value']!r}", file=f, row=line,
                             column="value")
        if measure == "median_months" and value <= 0:
            raise InputError(f"must be > 0, got {rec['value']!r}", file=f, row=line,
                             column="value")
        fu = _cell_number(rec, "follow_up_months", f, line, required=False)
        if fu is not None and fu[0] <= 0:
            raise InputError(f"must be > 0, got {rec['follow_up_months']!r}", file=f, row=line,
                             column="follow_up_months")
        if (outcome, arm) in seen:
            raise InputError(f"duplicate pooled row for outcome {outcome!r}, arm {arm!r}",
                             file=f, row=line, column="arm")
        seen.add((outcome, arm))
        out.append(PooledRow(outcome, arm, int(n), value, d, measure,
                             None if fu is None else fu[0], 0 if fu is None else fu[1],
                             rec.get("source", ""), line))
    return out


def _study_value(rec: dict, family: str) -> Fraction:
    """A study row's value on the pooled row's scale, exactly."""
    if family != "binomial":
        return _exact(rec["median_months"])[0]
    if not _nan(rec["percent"]):
        return _exact(rec["percent"])[0]
    return Fraction(100 * int(rec["events"]), int(rec["n"]))


def _matches(x: Fraction, reported: Fraction, decimals: int) -> bool:
    """Does ``x`` round to ``reported`` at ``decimals`` (either direction at a half)?"""
    return abs(x - reported) <= Fraction(1, 2 * 10**decimals)


def _check_pooled(table: StudyTable, specs: dict[str, OutcomeSpec],
                  pooled: list[PooledRow]) -> list[Finding]:
    found: list[Finding] = []
    frame = table.frame
    for pr in pooled:
        family = specs[pr.outcome].family
        rows = frame[(frame["outcome"] == pr.outcome) & (frame["arm"] == pr.arm)]
        where = (None, pr.outcome, pr.arm)
        if rows.empty:
            found.append(Finding(*where, "pooled_mean", "info",
                                 f"the pooled file has a {pr.outcome} {pr.arm} row but the "
                                 "study table has no such rows; pooled checks skipped"))
            continue
        recs = rows.to_dict("records")
        k = len(recs)
        unit = "%" if family == "binomial" else " months"
        rep = f"{_num(pr.value)}{unit}"

        # (a) unweighted mean of the study values
        vals = [_study_value(r, family) for r in recs]
        mean = sum(vals, Fraction(0)) / k
        listing = ", ".join(_num(v) for v in vals)
        kind = "percentages" if family == "binomial" else "medians"
        if _matches(mean, pr.value, pr.decimals):
            found.append(Finding(*where, "pooled_mean", "warning",
                                 f"reported pooled {rep} is the unweighted mean of the {k} study "
                                 f"{kind} ({listing} → {_num(mean)}) at {_decimals(pr.decimals)}: "
                                 "it ignores study size and is not the random-effects estimate "
                                 "the Methods describe", pr.row, {
                                     "reported": pr.value, "unweighted_mean": mean,
                                     "decimals": pr.decimals, "matches": True}))
        else:
            found.append(Finding(*where, "pooled_mean", "info",
                                 f"reported pooled {rep} differs from the unweighted mean of the "
                                 f"{k} study {kind} ({listing} → {_num(mean)})", pr.row, {
                                     "reported": pr.value, "unweighted_mean": mean,
                                     "decimals": pr.decimals, "matches": False}))

        # (b) n-weighted pooled estimate
        n_sum = int(sum(int(r["n"]) for r in recs))
        if family == "binomial":
            ev = int(sum(int(r["events"]) for r in recs))
            est = Fraction(100 * ev, n_sum)
            rules = {r.get("events_rule", "") for r in recs}
            how = " (nearest counts to the percentages)" if "nearest count to percent" in rules \
                else ""
            text = (f"n-weighted pooled proportion {ev}/{n_sum}{how} = {_pct(est)}% vs "
                    f"reported {rep}")
            values: dict[str, Any] = {"events": ev, "n": n_sum, "weighted": est}
        else:
            est = sum((_exact(r["median_months"])[0] * int(r["n"]) for r in recs),
                      Fraction(0)) / n_sum
            text = (f"n-weighted mean of study medians (a benchmark only: a mean of medians "
                    f"is not a pooled median) {_pct(est)} months vs reported {rep}")
            values = {"n": n_sum, "weighted": est}
        same = _matches(est, pr.value, pr.decimals)
        text += (f" (difference {float(pr.value - est):+.2f}; "
                 f"{'same' if same else 'differs'} at the paper's {_decimals(pr.decimals)})")
        values.update(reported=pr.value, difference=pr.value - est, matches=same)
        found.append(Finding(*where, "pooled_weighted", "info", text, pr.row, values))

        # (c) pooled n and pooled follow-up
        if n_sum == pr.n:
            found.append(Finding(*where, "pooled_n", "info",
                                 f"reported pooled n = {pr.n} equals the sum of the {k} study n",
                                 pr.row, {"reported_n": pr.n, "sum_n": n_sum}))
        else:
            found.append(Finding(*where, "pooled_n", "warning",
                                 f"reported pooled n = {pr.n} but the {k} study n sum to "
                                 f"{n_sum}", pr.row, {"reported_n": pr.n, "sum_n": n_sum}))
        found.append(_pooled_follow_up(pr, recs, where))
    return found


def _pooled_follow_up(pr: PooledRow, recs: list[dict], where: tuple) -> Finding:
    fus = [(_exact(r["follow_up_months"])[0], int(r["n"])) for r in recs
           if not _nan(r["follow_up_months"])]
    if pr.follow_up is None:
        return Finding(*where, "pooled_follow_up", "info",
                       "the paper reports no pooled follow-up for this outcome", pr.row)
    if not fus:
        return Finding(*where, "pooled_follow_up", "info",
                       f"reported pooled follow-up {_num(pr.follow_up)} months; the study rows "
                       "have none to compare", pr.row)
    stats = {
        "mean": sum((f for f, _ in fus), Fraction(0)) / len(fus),
        "median": Fraction(statistics.median(f for f, _ in fus)),
        "n_weighted_mean": sum((f * n for f, n in fus), Fraction(0)) / sum(n for _, n in fus),
    }
    hits = [k for k, v in stats.items() if _matches(v, pr.follow_up, pr.follow_up_decimals)]
    listing = ", ".join(_num(f) for f, _ in fus)
    desc = ", ".join(f"{k.replace('_', ' ')} {_num(v)}" for k, v in stats.items())
    values = {"reported": pr.follow_up, **stats, "matches": hits}
    if hits:
        return Finding(*where, "pooled_follow_up", "info",
                       f"reported pooled follow-up {_num(pr.follow_up)} months matches the "
                       f"{' and '.join(hits)} of the study follow-ups ({listing}: {desc})",
                       pr.row, values)
    return Finding(*where, "pooled_follow_up", "warning",
                   f"reported pooled follow-up {_num(pr.follow_up)} months is none of the "
                   f"summaries of the study follow-ups ({listing}: {desc})", pr.row, values)


_REDUCTION = re.compile(r"relative_reduction_(\d+(?:\.\d+)?)$")


def read_claims(path: str | Path) -> list[tuple[int, dict[str, str]]]:
    """Rows of the claims file (columns ``outcome``, ``claim`` required; ``quote``, ``source``)."""
    return _read_csv(path, ("outcome", "claim"))


def _check_claims(table: StudyTable, pooled: list[PooledRow],
                  claims: list[tuple[int, dict[str, str]]], paper: str | None) -> list[Finding]:
    found: list[Finding] = []
    by_key = {(p.outcome, p.arm): p for p in pooled}
    frame = table.frame
    for line, c in claims:
        outcome, claim = c["outcome"].lower(), c["claim"]
        quote = c.get("quote", "") or claim
        where = (None, outcome, None)
        m = _REDUCTION.match(claim)
        if m:
            found.append(_reduction(Fraction(m.group(1)), outcome, quote, line, by_key, frame))
        elif "significant" in claim and paper is not None:
            stats = _reported_statistics(paper)
            if not any(stats.values()):
                found.append(Finding(*where, "claim", "warning",
                                     f"\"{quote}\" ({c.get('source', '')}): the paper reports "
                                     "no confidence interval, p-value or test statistic "
                                     "anywhere, so the claim of significance is unsupported",
                                     line, {k: len(v) for k, v in stats.items()}))
    return found


def _reduction(claimed: Fraction, outcome: str, quote: str, line: int,
               by_key: dict[tuple[str, str], PooledRow], frame: pd.DataFrame) -> Finding:
    where = (None, outcome, None)
    pre, post = by_key.get((outcome, "preop")), by_key.get((outcome, "postop"))
    if pre is None or post is None or post.value == 0:
        return Finding(*where, "claim", "info",
                       f"cannot recompute \"{quote}\": no usable pooled rows", line)
    from_rows = 100 * (1 - pre.value / post.value)
    values: dict[str, Any] = {"claimed": claimed, "from_pooled_rows": from_rows}
    text = (f"\"{quote}\": from the pooled rows 1 - {_num(pre.value)}/{_num(post.value)} = "
            f"{_pct(from_rows, 1)}%")
    rows = frame[frame["outcome"] == outcome]
    arms = {a: rows[rows["arm"] == a] for a in ARMS}
    if all(not r.empty for r in arms.values()):
        e1, n1 = int(arms["preop"]["events"].sum()), int(arms["preop"]["n"].sum())
        e0, n0 = int(arms["postop"]["events"].sum()), int(arms["postop"]["n"].sum())
        if e1 > 0 and e0 > 0:
            rr = (e1 / n1) / (e0 / n0)
            # Katz log risk ratio interval on the crude totals (ignores heterogeneity)
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
    text += f" — claim of {_num(claimed)}% {'reproduced' if close else 'NOT reproduced'}"
    return Finding(*where, "claim", "info" if close else "warning", text, line, values)


# ---------------------------------------------------------------------------------------
# The paper's text


_STATISTICS = {
    "confidence_intervals": r"\b(?:95\s*%\s*)?(?:CI|CrI|confidence interval)s?\b",
    "p_values": r"\bp\s*(?:=|<|>|≤|≥)\s*0?\.\d",
    "i2_values": r"I\s*(?:\^\s*2|²)\s*(?:=|was|of)\s*\d",
    "tau2_values": r"(?:τ|tau)\s*(?:\^\s*2|²)?\s*=\s*\d",
}

# (method, pattern: the paper says it used it, pattern: a result of it, what is missing)
_METHODS = (
    ("random-effects pooling", r"random-effects", r"\b(?:CI|confidence interval)s?\b",
     "no pooled estimate with a confidence interval, only a single 'Pooled' number per arm"),
    ("the I² statistic", r"I\s*(?:\^\s*2|²)", _STATISTICS["i2_values"], "no I² value"),
    ("Egger's test", r"Egger", r"Egger[^.\n]{0,120}?\bp\s*(?:=|<|>)", "no Egger p-value"),
    ("funnel plots", r"funnel plot", r"(?m)^\s*Figure\s*\d+\.[^\n]*funnel", "no funnel plot"),
    ("subgroup analyses (histology, timing, dose)", r"subgroup analys",
     r"(?m)^\s*(?:Table|Figure)\s*\d+\.[^\n]*subgroup", "no subgroup result"),
    ("RevMan / STATA analyses", r"RevMan|Review Manager|STATA",
     r"(?m)^\s*Figure\s*\d+\.[^\n]*forest", "no forest plot"),
)


def _reported_statistics(paper: str) -> dict[str, list[str]]:
    return {k: re.findall(p, paper, re.IGNORECASE) for k, p in _STATISTICS.items()}


def _check_reporting(paper: str) -> list[Finding]:
    found = []
    captions = [c.strip() for c in re.findall(r"(?m)^\s*Figure\s*\d+\.\s*([^\n]*)", paper)]
    figs = (f" (figure captions: {'; '.join(repr(c) for c in captions)})" if captions
            else " (no figures)")
    for what, claimed, reported, missing in _METHODS:
        if re.search(claimed, paper, re.IGNORECASE) and not re.search(reported, paper,
                                                                      re.IGNORECASE):
            detail = f"the Methods claim {what}, but the paper reports {missing}"
            if "plot" in missing:
                detail += figs
            found.append(Finding(None, None, None, "reporting", "warning", detail,
                                 values={"method": what}))
    return found


_ON_TOPIC = re.compile(r"brain|radiosurg|metastas", re.IGNORECASE)
_TOPICS = {
    "breast cancer surgery": r"breast|mastectomy",
    "dermal/facial fillers": r"filler",
    "Alzheimer's disease": r"alzheimer",
    "stem-cell therapy": r"stem cell",
    "neutrophil-lymphocyte ratio": r"neutrophil",
}


def parse_references(paper: str) -> dict[int, str]:
    """Numbered entries of the paper's reference list (``[n] ...``), text joined per entry."""
    heads = list(re.finditer(r"(?m)^\s*References\s*$", paper))
    if not heads:
        return {}
    body = paper[heads[-1].end():]
    parts = re.split(r"(?m)^\s*(?:-\s*)?\[(\d+)\]\s*", body)
    return {int(num): " ".join(text.split()) for num, text in zip(parts[1::2], parts[2::2],
                                                                   strict=True)}


def _check_references(paper: str) -> list[Finding]:
    refs = parse_references(paper)
    if not refs:
        return []
    on = [i for i, t in refs.items() if _ON_TOPIC.search(t)]
    title = next((ln.strip() for ln in paper.splitlines() if ln.strip()), "")
    words = re.findall(r"[a-z]+", title.lower())[:8]
    self_cite = [i for i in on
                 if len(words) == 8 and " ".join(words) in " ".join(re.findall(r"[a-z]+",
                                                                             refs[i].lower()))]
    topics = {name: sum(bool(re.search(p, t, re.IGNORECASE)) for t in refs.values())
              for name, p in _TOPICS.items()}
    listing = ", ".join(f"{name} {c}" for name, c in topics.items() if c)
    detail = (f"{len(on)} of {len(refs)} references mention brain, radiosurgery or metastases"
              f" ({', '.join(f'[{i}]' for i in on) or 'none'})")
    if self_cite:
        detail += (f", and {', '.join(f'[{i}]' for i in self_cite)} is this article itself "
                   "(same title)")
    ok = len(on) - len(self_cite) >= len(refs) / 2
    if not ok:
        detail += (f"; the others are about unrelated topics ({listing or 'various'}, ...): "
                   "the pooled studies cannot be identified from the references")
    return [Finding(None, None, None, "references", "info" if ok else "warning", detail,
                    values={"references": len(refs), "on_topic": len(on),
                            "self_citations": len(self_cite), **topics})]


# ---------------------------------------------------------------------------------------
# API and command line


def run_audit(table: StudyTable, specs: dict[str, OutcomeSpec],
              pooled_path: str | Path | None = None, *,
              claims_path: str | Path | None = None, paper_path: str | Path | None = None,
              compare_paper: bool = True) -> list[Finding]:
    """Audit a study table and, by default, the paper's reported pooled values and claims.

    Parameters
    ----------
    table
        From :func:`srsbayes.read_table`.
    specs
        From :func:`srsbayes.load_specs`; give each outcome its family.
    pooled_path
        The paper's pooled rows (default: the bundled ``data/reported_pooled.csv``).
    claims_path
        The paper's claims (default: the bundled ``data/reported_claims.csv``).
    paper_path
        The paper's text, for the ``reporting``, ``references`` and significance checks.
        Default :data:`DEFAULT_PAPER`, skipped silently when absent; an explicit path
        that does not exist is an error.
    compare_paper
        ``False`` runs only the checks of the table itself.

    Returns
    -------
    list of Finding
        In :data:`CHECKS` order. Findings never raise; bad pooled/claims/paper files do.

    Raises
    ------
    InputError
        A pooled, claims or paper file that is missing or malformed (file, row, column).

    Notes
    -----
    The GRIM check follows Brown & Heathers (2017): a percentage of ``n`` written with
    ``d`` decimals is possible only if some whole ``k`` gives ``100 k / n`` within
    ``0.5 * 10**-d`` of it. Precision is read from the CSV text as written.

    References
    ----------
    Brown NJL, Heathers JAJ (2017). The GRIM test: a simple technique detects numerous
    anomalies in the reporting of results in psychology. Soc Psychol Personal Sci
    8:363-369.
    """
    found = _located(table.path, [
        *_check_grim(table, specs), *_check_events(table, specs), *_check_arms(table),
        *_check_identification(table), *_check_follow_up(table, specs),
        *_check_homogeneity(table, specs)])
    if compare_paper:
        pooled_file, claims_file = pooled_path or DEFAULT_POOLED, claims_path or DEFAULT_CLAIMS
        pooled = read_pooled(pooled_file, specs)
        claims = read_claims(claims_file)
        paper = _read_paper(paper_path)
        found += _located(pooled_file, _check_pooled(table, specs, pooled))
        found += _located(claims_file, _check_claims(table, pooled, claims, paper))
        if paper is not None:
            found += _check_reporting(paper) + _check_references(paper)
    order = {c: i for i, c in enumerate(CHECKS)}
    return sorted(found, key=lambda x: order.get(x.check, len(order)))


def _located(path: str | Path, findings: list[Finding]) -> list[Finding]:
    """Record which file the findings' line numbers refer to."""
    for f in findings:
        if f.row is not None and f.file is None:
            f.file = str(path)
    return findings


def _read_paper(path: str | Path | None) -> str | None:
    if path is None:
        if not DEFAULT_PAPER.is_file():
            return None
        path = DEFAULT_PAPER
    p = Path(path)
    if not p.is_file():
        raise InputError("file not found", file=p, column="paper")
    try:
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", file=p, column="paper") from None


def format_text(findings: list[Finding], table: StudyTable | None = None) -> str:
    """Aligned plain-text report: a one-line summary, then one block per check."""
    counts = {s: sum(f.severity == s for f in findings) for s in SEVERITIES}
    head = (f"srsbayes audit: {len(findings)} findings — "
            + ", ".join(_count(counts[s], s) for s in SEVERITIES))
    if table is not None:
        head += f" (data: {table.path}, sha256 {table.sha256[:12]})"
    lines = [head]
    cols = ("severity", "study", "outcome", "arm", "line")
    cells = [[f.severity, f.study or "-", f.outcome or "-", f.arm or "-", _line(f, table)]
             for f in findings]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(cols)]
    for check in dict.fromkeys(f.check for f in findings):
        group = [(f, c) for f, c in zip(findings, cells, strict=True) if f.check == check]
        n = {s: sum(f.severity == s for f, _ in group) for s in SEVERITIES}
        tally = ", ".join(_count(v, k) for k, v in n.items() if v)
        lines += ["", f"== {check}: {CHECKS.get(check, check)} ({tally}) =="]
        lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))
                     + "  detail")
        for f, c in group:
            lines.append("  " + "  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True))
                         + "  " + f.detail)
    return "\n".join(lines) + "\n"


def _count(n: int, severity: str) -> str:
    return f"{n} {severity}" + ("s" if n != 1 and severity != "info" else "")


def _line(f: Finding, table: StudyTable | None) -> str:
    if f.row is None:
        return "-"
    if f.file is None or (table is not None and f.file == table.path):
        return str(f.row)
    return f"{Path(f.file).name}:{f.row}"


def format_json(findings: list[Finding]) -> str:
    """JSON list of findings (see :meth:`Finding.to_dict`)."""
    return json.dumps([f.to_dict() for f in findings], indent=2, ensure_ascii=False) + "\n"
