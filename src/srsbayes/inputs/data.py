"""Load and validate study data: the one gate every command's input passes through.

The tidy schema has one row per study × outcome × arm. Required columns: ``study``,
``outcome``, ``arm`` (``preop``/``postop``), ``n``. Binary outcomes need ``events``
and/or ``percent``; ``lognormal_median`` outcomes need ``median_months``. Optional:
``follow_up_months``, ``deaths``, ``median_ci_low``, ``median_ci_high``, ``source``.
Any other column is kept as a study-level covariate.

When only a percentage is reported, the event count is the whole number of events whose
percentage is nearest to the reported one (``round(percent * n / 100)``, halves up); the
audit reports which percentages no whole count reproduces.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..families import ARMS
from ..resources import BUNDLED_DATA
from .specs import OutcomeSpec

DEFAULT_DATA = BUNDLED_DATA / "studies.csv"
DEFAULT_POOLED = BUNDLED_DATA / "reported_pooled.csv"
DEFAULT_CLAIMS = BUNDLED_DATA / "reported_claims.csv"

REQUIRED = ("study", "outcome", "arm", "n")
NUMERIC = ("n", "events", "percent", "median_months", "follow_up_months", "deaths",
           "median_ci_low", "median_ci_high")
KNOWN = (*REQUIRED, *NUMERIC[1:], "source")


@dataclass(frozen=True)
class StudyTable:
    """A validated study table.

    Attributes
    ----------
    frame
        One row per study × outcome × arm; numeric columns are floats (NaN = not
        reported), ``events`` is filled from ``percent`` where needed, ``events_rule``
        says how, and ``row`` is the line number in the file (header = line 1).
    path
        The file it came from.
    sha256
        Hash of the file's bytes, recorded in every output.
    """

    frame: pd.DataFrame
    path: str
    sha256: str

    @property
    def covariates(self) -> list[str]:
        return [c for c in self.frame.columns if c not in (*KNOWN, "row", "events_rule")]

    def outcomes(self) -> list[str]:
        return list(dict.fromkeys(self.frame["outcome"]))


def nearest_count(percent: float, n: int) -> int:
    """Whole number of events whose percentage of ``n`` is nearest to ``percent`` (halves up)."""
    return math.floor(percent * n / 100.0 + 0.5 + 1e-9)


def read_table(path: str | Path, specs: dict[str, OutcomeSpec]) -> StudyTable:
    """Read and validate a study CSV.

    Parameters
    ----------
    path
        CSV file (UTF-8, comma-separated, header row).
    specs
        Known outcome specs; an outcome id without a spec is an error.

    Raises
    ------
    InputError
        For the first problem found, naming file, line and column.
    """
    p = Path(path)
    f = str(path)
    if not p.is_file():
        raise InputError("file not found", file=f)
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x})", file=f,
                         row=line, column=_column_at(raw, exc.start)) from None
    if not text.strip():
        raise InputError("file is empty", file=f)
    try:
        # header=None: a row with more fields than the header is an error instead of
        # silently turning the first column into the index.
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, header=None,
                         skip_blank_lines=True, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise InputError(f"not a readable CSV: {str(exc).strip()}", file=f,
                         row=int(m.group(1)) if m else None) from None
    lines = _record_lines(text)
    # Unnamed columns (e.g. trailing commas from a spreadsheet) keep pandas' usual names.
    header = [str(c).strip() or f"Unnamed: {i}" for i, c in enumerate(df.iloc[0])]
    df = df.iloc[1:].reset_index(drop=True)
    df.columns = header
    for col in header:
        if header.count(col) > 1:
            raise InputError("duplicate column name", file=f, row=lines[0], column=col)
        if col in ("row", "events_rule"):
            raise InputError("reserved column name; rename it", file=f, row=lines[0],
                             column=col)
    for col in REQUIRED:
        if col not in df.columns:
            raise InputError("missing required column", file=f, row=lines[0], column=col)
    if df.empty:
        raise InputError("no data rows", file=f)
    df = df.apply(lambda s: s.str.strip())
    df.insert(0, "row", lines[1 : len(df) + 1])
    frame = _validate_rows(df, specs, f)
    _validate_groups(frame, f)
    return StudyTable(frame, f, hashlib.sha256(raw).hexdigest())


def _record_lines(text: str) -> list[int]:
    """File line on which each CSV record (header first) starts, skipping blank lines as
    the CSV reader does; a quoted field may span lines."""
    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    starts, end = [], 0
    for rec in reader:
        start, end = end + 1, reader.line_num
        if rec and not (len(rec) == 1 and not rec[0].strip()):
            starts.append(start)
    return starts


def _column_at(raw: bytes, pos: int) -> str | None:
    """Header name of the field holding byte ``pos`` (best effort, for encoding errors)."""
    start = raw.rfind(b"\n", 0, pos) + 1
    if start == 0:
        return None  # the header itself
    prefix = raw[start:pos].decode("utf-8", errors="replace")
    index = max(len(next(csv.reader([prefix], skipinitialspace=True), [])), 1) - 1
    first = raw[: raw.find(b"\n")].decode("utf-8-sig", errors="replace")
    names = [c.strip() for c in next(csv.reader([first], skipinitialspace=True), [])]
    return names[index] if index < len(names) else None


def _number(value: str, *, f: str, row: int, col: str, integer: bool = False) -> float:
    if value == "":
        return math.nan
    try:
        x = float(value)
    except ValueError:
        raise InputError(f"not a number: {value!r}", file=f, row=row, column=col) from None
    if not math.isfinite(x):
        raise InputError(f"not a finite number: {value!r}", file=f, row=row, column=col)
    if integer and x != int(x):
        raise InputError(f"must be a whole number, got {value!r}", file=f, row=row, column=col)
    return x


def _validate_rows(df: pd.DataFrame, specs: dict[str, OutcomeSpec], f: str) -> pd.DataFrame:
    records = []
    for rec in df.to_dict("records"):
        r = rec["row"]
        for col in ("study", "outcome", "arm"):
            if rec[col] == "":
                raise InputError("empty value", file=f, row=r, column=col)
        rec["outcome"] = rec["outcome"].lower()
        rec["arm"] = rec["arm"].lower()
        if rec["outcome"] not in specs:
            raise InputError(f"unknown outcome {rec['outcome']!r}; specs exist for: "
                             + ", ".join(specs), file=f, row=r, column="outcome")
        if rec["arm"] not in ARMS:
            raise InputError(f"unknown arm {rec['arm']!r}; use 'preop' or 'postop'",
                             file=f, row=r, column="arm")
        decimals = _decimals(rec.get("percent", ""))
        for col in NUMERIC:
            integer = col in ("n", "events", "deaths")
            rec[col] = _number(rec.get(col, ""), f=f, row=r, col=col, integer=integer)
        n = rec["n"]
        if math.isnan(n):
            raise InputError("missing value", file=f, row=r, column="n")
        if n <= 0:
            raise InputError(f"must be > 0, got {n:g}", file=f, row=r, column="n")
        fu = rec["follow_up_months"]
        if not math.isnan(fu) and fu <= 0:
            raise InputError(f"must be > 0, got {fu:g}", file=f, row=r,
                             column="follow_up_months")
        family = specs[rec["outcome"]].family
        if family == "binomial":
            _check_binary(rec, f, decimals)
        else:
            _check_median(rec, f)
        records.append(rec)
    return pd.DataFrame.from_records(records)


def _check_binary(rec: dict, f: str, decimals: int) -> None:
    r, n, ev, pc = rec["row"], rec["n"], rec["events"], rec["percent"]
    if not math.isnan(ev):
        if ev < 0:
            raise InputError(f"must be >= 0, got {ev:g}", file=f, row=r, column="events")
        if ev > n:
            raise InputError(f"{ev:g} events > n = {n:g}", file=f, row=r, column="events")
    if not math.isnan(pc) and not 0 <= pc <= 100:
        raise InputError(f"must be within 0-100, got {pc:g}", file=f, row=r, column="percent")
    if math.isnan(ev) and math.isnan(pc):
        raise InputError("binary outcome needs 'events' or 'percent'", file=f, row=r,
                         column="events")
    if math.isnan(ev):
        k = nearest_count(pc, int(n))
        rec["events"] = float(k)
        # GRIM: a whole count reproduces p if |100k/n - p| <= half a unit of the last decimal.
        half_unit = 0.5 * 10.0**-decimals
        exact = abs(100.0 * k / n - pc) <= half_unit + 1e-9
        rec["events_rule"] = ("nearest count to percent" if exact else
                              "nearest count; no whole count reproduces the percent")
    else:
        rec["events_rule"] = "reported"


def _decimals(text: str) -> int:
    """Decimals as written (``'12.5'`` -> 1), the precision a percentage was reported at."""
    text = text.strip()
    return len(text.split(".", 1)[1]) if "." in text else 0


def _check_median(rec: dict, f: str) -> None:
    r, med = rec["row"], rec["median_months"]
    if math.isnan(med):
        raise InputError("missing value", file=f, row=r, column="median_months")
    if med <= 0:
        raise InputError(f"must be > 0, got {med:g}", file=f, row=r, column="median_months")
    lo, hi = rec["median_ci_low"], rec["median_ci_high"]
    if not math.isnan(lo) and not 0 < lo <= med:
        raise InputError(f"must be in (0, median], got {lo:g}", file=f, row=r,
                         column="median_ci_low")
    if not math.isnan(hi) and hi < med:
        raise InputError(f"must be >= median, got {hi:g}", file=f, row=r,
                         column="median_ci_high")
    d = rec["deaths"]
    if not math.isnan(d) and not 0 < d <= rec["n"]:
        raise InputError(f"must be in 1..n, got {d:g}", file=f, row=r, column="deaths")
    rec["events_rule"] = ""


def _validate_groups(frame: pd.DataFrame, f: str) -> None:
    keys = ["study", "outcome", "arm"]
    dup = frame.duplicated(keys, keep="first")
    if dup.any():
        rec = frame[dup].iloc[0]
        raise InputError(f"duplicate row for study {rec['study']!r}, outcome "
                         f"{rec['outcome']!r}, arm {rec['arm']!r}", file=f, row=int(rec["row"]),
                         column="arm")
    counts = frame.groupby(["study", "outcome"], sort=False)["arm"].transform("count")
    lone = frame[counts < 2]
    if not lone.empty:
        rec = lone.iloc[0]
        raise InputError(f"study {rec['study']!r} has only the {rec['arm']} arm for outcome "
                         f"{rec['outcome']!r}; both arms are needed", file=f,
                         row=int(rec["row"]), column="arm")


def outcome_table(table: StudyTable, spec: OutcomeSpec) -> pd.DataFrame:
    """One row per study for ``spec.id``, arms side by side (``n_preop``, ``n_postop``, ...).

    Raises
    ------
    InputError
        When fewer than two studies report the outcome.
    """
    rows = table.frame[table.frame["outcome"] == spec.id]
    studies = list(dict.fromkeys(rows["study"]))
    if len(studies) < 2:
        raise InputError(f"outcome {spec.id!r} has {len(studies)} stud"
                         f"{'y' if len(studies) == 1 else 'ies'}; a meta-analysis needs >= 2",
                         file=table.path, column="study")
    wide = pd.DataFrame({"study": studies})
    value_cols = ["row", *NUMERIC, "events_rule", "source"]
    for arm in ARMS:
        part = rows[rows["arm"] == arm].set_index("study").reindex(studies)
        for col in value_cols:
            if col in part.columns:
                wide[f"{col}_{arm}"] = part[col].to_numpy()
    for cov in table.covariates:
        wide[cov] = rows.groupby("study", sort=False)[cov].first().reindex(studies).to_numpy()
    return wide


def default_table(specs: dict[str, OutcomeSpec], path: str | Path | None = None) -> StudyTable:
    """Load ``path`` or the bundled data."""
    return read_table(path or DEFAULT_DATA, specs)


def as_int(x: pd.Series | np.ndarray) -> np.ndarray:
    """Counts as int64 (after validation they are whole numbers)."""
    return np.asarray(x, dtype=float).round().astype(np.int64)
