"""Load and validate study data: the one gate every command's input passes through.

The tidy schema has one row per study × outcome × arm. Required columns: ``study``,
``outcome``, ``arm`` (``preop``/``postop``), ``n``. Optional: ``events``, ``percent``,
``median_months``, ``follow_up_months``, ``deaths``, ``median_ci_low``,
``median_ci_high``, ``source``; which of them a row needs is its family's business:
``check_row`` of the outcome's family module checks them (binary outcomes need ``events``
and/or ``percent``, ``lognormal_median`` outcomes ``median_months``), and fills
``events_rule``. Any other column is kept as a study-level covariate, so it must have
one value for both arms of a study.

The file is read by one CSV parser (:mod:`csv`), so the line numbers in messages and the
fields can never disagree, and whatever the bytes, the result is a :class:`StudyTable` or
an :class:`~srsbayes.errors.InputError` naming file, line and column.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..families import ARMS, as_int, get_family  # noqa: F401  (as_int: public here too)
from ..resources import BUNDLED_DATA, BUNDLED_STUDIES, is_bundled_data
from ..values import clean_name
from ..written import decimals
from . import contrasts
from .cells import parse_number
from .specs import OutcomeSpec

DEFAULT_DATA = BUNDLED_STUDIES
DEFAULT_POOLED = BUNDLED_DATA / "reported_pooled.csv"
DEFAULT_CLAIMS = BUNDLED_DATA / "reported_claims.csv"

REQUIRED = ("study", "outcome", "arm", "n")
NUMERIC = ("n", "events", "percent", "median_months", "follow_up_months", "deaths",
           "median_ci_low", "median_ci_high")
KNOWN = (*REQUIRED, *NUMERIC[1:], "source", "rate_type", *contrasts.COLUMNS)
JUDGEMENTS = {
    "design": ("rct", "prospective", "retrospective"),
    "rob": ("low", "moderate", "serious", "critical"),
}
"""Optional study-level columns with a fixed vocabulary: the study's design and its overall
risk-of-bias judgement (ROBINS-I, Sterne et al. 2016, BMJ 355:i4919; RoB 2, Sterne et al.
2019, BMJ 366:l4898). Empty = not recorded (for ``rob``: not assessed). They stay covariates
(one value per study × outcome); ``design`` must also agree across a study's outcomes."""


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
        return _covariates(self.frame.columns)

    def outcomes(self) -> list[str]:
        return list(dict.fromkeys(self.frame["outcome"]))


def _covariates(columns) -> list[str]:
    """Columns that are neither known nor added by the loader: study-level covariates."""
    return [c for c in columns if c not in (*KNOWN, "row", "events_rule")]


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
        For the first problem found, naming file, line and column. Nothing else is
        raised, whatever the file holds.
    """
    f = str(path)
    raw = _read_bytes(Path(path), f)
    text = _decode(raw, f)
    records = _records(text, f)
    if not records:
        raise InputError("file is empty", file=f)
    (head_line, head), body = records[0], records[1:]
    header = _header(head, head_line, text, f)
    if not body:
        raise InputError("no data rows", file=f)
    df = _frame(header, body, f)
    frame = _validate_rows(df, specs, f)
    _validate_groups(frame, f)
    return StudyTable(frame, f, hashlib.sha256(raw).hexdigest())


def _read_bytes(p: Path, f: str) -> bytes:
    if p.is_dir():
        raise InputError("is a directory, not a CSV file", file=f)
    if not p.is_file():
        raise InputError("file not found", file=f)
    try:
        return p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=f) from None


def _decode(raw: bytes, f: str) -> str:
    """The file as text: UTF-8, with or without a byte-order mark (as Excel writes it)."""
    bom = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    try:
        return raw[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        pos = bom + exc.start
    prefix = raw[bom:pos].decode("utf-8")  # valid up to the first bad byte
    raise InputError(f"not UTF-8 text (byte 0x{raw[pos]:02x}); save the file as UTF-8",
                     file=f, row=len(_LINE_END.findall(prefix)) + 1,
                     column=_column_at(prefix))


_LINE_END = re.compile(r"\r\n|\r|\n")
"""Line ends as the CSV reader counts them (``io.StringIO(newline="")``)."""


def _records(text: str, f: str, delimiter: str = ",") -> list[tuple[int, list[str]]]:
    """``(line, fields)`` of each CSV record, ``line`` being the file line it starts on.

    Records whose every field is blank (blank lines, a spreadsheet's empty rows) are
    skipped; a quoted field may span lines. The one CSV parser of this module, so line
    numbers and fields can never disagree.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter,
                        skipinitialspace=True)
    records, end = [], 0
    while True:
        try:
            rec = next(reader)
        except StopIteration:
            return records
        except csv.Error as exc:
            raise InputError(f"not a readable CSV: {exc}", file=f,
                             row=reader.line_num) from None
        start, end = end + 1, reader.line_num
        if any(field.strip() for field in rec):
            records.append((start, rec))


def _column_at(prefix: str) -> str | None:
    """Header name of the field that ``prefix`` (the text before a position) ends in, or
    None in the header itself (best effort, to locate an encoding error)."""
    try:
        # a sentinel makes the field that the position starts non-blank, so it is kept
        records = _records(prefix + "\ue000", "")
    except InputError:
        return None
    if len(records) < 2:
        return None
    names = [c.strip() for c in records[0][1]]
    index = len(records[-1][1]) - 1
    return _shown(names[index]) if index < len(names) else None


def _shown(name: str) -> str:
    """A name from the file as it can be shown in a one-line message (escapes if needed)."""
    return name if name.isprintable() else repr(name)[1:-1]


_OTHER_DELIMITERS = {";": "semicolon", "\t": "tab"}


def _header(head: list[str], line: int, text: str, f: str) -> list[str]:
    """Column names of the header record, checked: unique, not reserved, all required."""
    # Unnamed columns (e.g. trailing commas from a spreadsheet) get pandas' usual names.
    header = [c.strip() or f"Unnamed: {i}" for i, c in enumerate(head)]
    for col in header:
        if header.count(col) > 1:
            raise InputError("duplicate column name", file=f, row=line, column=_shown(col))
        if col in ("row", "events_rule"):
            raise InputError("reserved column name; rename it", file=f, row=line, column=col)
    # a file of contrast rows (a measure column) needs no n column: n is optional there
    required = [c for c in REQUIRED if c != "n" or "measure" not in header]
    missing = [col for col in required if col not in header]
    if missing:
        delimiter = _other_delimiter(header, text)
        if delimiter:
            raise InputError(
                f"the file looks {_OTHER_DELIMITERS[delimiter]}-separated (as spreadsheets "
                "save CSV in some locales); save it comma-separated", file=f, row=line)
        near = [c for c in header if c.lower() == missing[0]]
        hint = f" (found {_shown(near[0])!r}: names are lower case)" if near else ""
        raise InputError("missing required column" + hint, file=f, row=line,
                         column=missing[0])
    return header


def _other_delimiter(header: list[str], text: str) -> str | None:
    """The delimiter other than a comma that the file seems to use, if any: the header
    split at it has the required columns, or it is one field that contains it."""
    for delimiter in _OTHER_DELIMITERS:
        try:
            records = _records(text, "", delimiter)
        except InputError:
            continue
        names = {c.strip() for c in records[0][1]} if records else set()
        if set(REQUIRED) <= names or (len(header) == 1 and delimiter in header[0]):
            return delimiter
    return None


def _frame(header: list[str], body: list[tuple[int, list[str]]], f: str) -> pd.DataFrame:
    """Data records as a frame of stripped text, with the file line of each in ``row``.

    A record shorter than the header is padded with empty fields (spreadsheets drop
    trailing empty cells); one longer than the header is an error unless the extra
    fields are empty.
    """
    width, rows = len(header), []
    for line, rec in body:
        fields = [x.strip() for x in rec]
        while len(fields) > width and not fields[-1]:
            fields.pop()
        if len(fields) > width:
            raise InputError(f"not a readable CSV: {len(fields)} fields, but the header has "
                             f"{width}", file=f, row=line)
        rows.append(fields + [""] * (width - len(fields)))
    df = pd.DataFrame(rows, columns=header, dtype=object)
    df.insert(0, "row", [line for line, _ in body])
    return df


def _validate_rows(df: pd.DataFrame, specs: dict[str, OutcomeSpec], f: str) -> pd.DataFrame:
    """Check every row; its family's ``check_row`` checks the family's own columns."""
    records = []
    for rec in df.to_dict("records"):
        if contrasts.is_contrast_row(rec):  # arm empty, a measure column: an estimate
            records.append(contrasts.contrast_record(rec, specs, f, NUMERIC))
            continue
        _check_common(rec, specs, f)
        _no_contrast_form(rec, f)
        _check_judgements(rec, f)
        _check_rate_type(rec, f)
        decimals = _decimals(rec.get("percent", ""))
        for col in NUMERIC:
            rec[col] = parse_number(rec.get(col, ""), f=f, row=rec["row"], col=col)
        _one_horizon(rec, f)
        _check_sizes(rec, f)
        get_family(specs[rec["outcome"]].family).check_row(rec, f, decimals)
        records.append(rec)
    return pd.DataFrame.from_records(records)


def _check_common(rec: dict, specs: dict[str, OutcomeSpec], f: str) -> None:
    """Study, outcome and arm present and known (outcome and arm normalised to lower case,
    the study's name by :func:`srsbayes.values.clean_name`: NFKC, invisible characters
    removed)."""
    r = rec["row"]
    rec["study"] = clean_name(rec["study"])  # "Study A" + a zero-width space is "Study A"
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


RATE_TYPES = ("crude", "km")
"""``rate_type`` of a row's percentage: a crude proportion (the default) or a Kaplan-Meier
rate, whose count set the binomial likelihood widens
(:func:`srsbayes.families.binomial.count_set`)."""


def _check_rate_type(rec: dict, f: str) -> None:
    """``rate_type``, where the column exists: empty (= ``crude``) or one of :data:`RATE_TYPES`."""
    if "rate_type" not in rec:
        return
    value = rec["rate_type"].lower() or "crude"
    if value not in RATE_TYPES:
        raise InputError(f"unknown rate_type {_shown(rec['rate_type'])!r}; use 'crude' or "
                         "'km' (Kaplan-Meier)", file=f, row=rec["row"], column="rate_type")
    rec["rate_type"] = value


def _check_judgements(rec: dict, f: str) -> None:
    """``design`` and ``rob``, where present and not empty, from :data:`JUDGEMENTS`
    (normalised to lower case)."""
    for col, allowed in JUDGEMENTS.items():
        value = rec.get(col, "")
        if value == "":
            continue
        if value.lower() not in allowed:
            raise InputError(f"unknown value {_shown(value)!r}; use one of "
                             + ", ".join(allowed) + " (or leave it empty)",
                             file=f, row=rec["row"], column=col)
        rec[col] = value.lower()


def _no_contrast_form(rec: dict, f: str) -> None:
    """The columns of a contrast row's forms (arm rates, O − E, events) are not read on an
    arm row: a value there is an error rather than silently ignored."""
    for col in (*contrasts.FORM_NUMBERS, "lower_arm"):
        if str(rec.get(col, "")).strip():
            raise InputError("used only on a contrast row (arm empty, with measure); an arm "
                             "row gives n and events or percent", file=f, row=rec["row"],
                             column=col)


def _one_horizon(rec: dict, f: str) -> None:
    """An arm row's horizon may be given as ``time_months`` (the contrast rows' name) as
    well as ``follow_up_months``: one thing, so both must agree where both are given."""
    if "time_months" not in rec:
        return
    t = parse_number(str(rec["time_months"]).strip(), f=f, row=rec["row"], col="time_months")
    fu = rec["follow_up_months"]
    if not math.isnan(t) and not math.isnan(fu) and t != fu:
        raise InputError(f"time_months = {t:g} and follow_up_months = {fu:g} differ; both "
                         "name the follow-up (horizon) of the row: give one of them", file=f,
                         row=rec["row"], column="time_months")
    rec["follow_up_months"] = rec["time_months"] = fu if math.isnan(t) else t


def _check_sizes(rec: dict, f: str) -> None:
    """``n`` present and positive; ``follow_up_months`` positive where given."""
    r, n, fu = rec["row"], rec["n"], rec["follow_up_months"]
    if math.isnan(n):
        raise InputError("missing value", file=f, row=r, column="n")
    if n <= 0:
        raise InputError(f"must be > 0, got {n:g}", file=f, row=r, column="n")
    if not math.isnan(fu) and fu <= 0:
        raise InputError(f"must be > 0, got {fu:g}", file=f, row=r, column="follow_up_months")


def _decimals(text: str) -> int:
    """Decimals as written of a percentage (:func:`srsbayes.written.decimals`; capped: a
    percentage, <= 3 digits before the point, with more than 13 decimals has more digits
    than a float holds, so they are not the precision it was reported at)."""
    return decimals(text, 13)


def _validate_groups(frame: pd.DataFrame, f: str) -> None:
    """No duplicate rows, both arms for every study × outcome, covariates per study."""
    frame = contrasts.check_groups(frame, f)  # contrast rows checked; arm rows follow
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
    _check_covariates(frame, f)
    _check_design(frame, f)


def _check_design(frame: pd.DataFrame, f: str) -> None:
    """A study (one cohort, whatever the outcome) has one design."""
    if "design" not in frame.columns:
        return
    for study, rows in frame.groupby("study", sort=False):
        values = list(dict.fromkeys(rows["design"]))
        if len(values) > 1:
            later = rows[rows["design"] != values[0]].iloc[0]
            raise InputError(f"design differs between the rows of study {study!r}: "
                             f"{values[0]!r} vs {values[1]!r}; a study has one design",
                             file=f, row=int(later["row"]), column="design")


def _check_covariates(frame: pd.DataFrame, f: str) -> None:
    """A covariate describes a study: both arms of a study × outcome must agree on it."""
    for (study, _), rows in frame.groupby(["study", "outcome"], sort=False):
        for col in _covariates(frame.columns):
            values = list(dict.fromkeys(rows[col]))
            if len(values) > 1:
                later = rows[rows[col] != values[0]].iloc[0]
                raise InputError(
                    f"covariate differs between the arms of study {study!r}: "
                    f"{values[0]!r} vs {values[1]!r}; a covariate is study-level, one value "
                    "per study", file=f, row=int(later["row"]), column=_shown(col))


def outcome_table(table: StudyTable, spec: OutcomeSpec) -> pd.DataFrame:
    """One row per study for ``spec.id``, arms side by side (``n_preop``, ``n_postop``, ...).

    Studies that give a contrast row (arm empty) instead of arms get the columns of
    :func:`srsbayes.inputs.contrasts.contrast_table` (``contrast_y``, ``contrast_se``,
    ``measure``, ...) and NaN in the arm columns; arm studies NaN in the contrast columns.
    Studies keep the order of their first row in the file.

    One study is analysed as one study (its effect, and the between-study prior's
    prediction for a new setting), not as a meta-analysis; the outputs say so.

    Raises
    ------
    InputError
        When no study reports the outcome.
    """
    rows = table.frame[table.frame["outcome"] == spec.id]
    is_contrast = rows["arm"] == ""
    if is_contrast.all() and len(rows):  # contrast rows only: one per study already
        return contrasts.contrast_table(rows, spec, table.path, table.covariates,
                                        min_studies=1)
    studies = list(dict.fromkeys(rows["study"]))
    if not studies:
        raise InputError(f"outcome {spec.id!r} has no study", file=table.path,
                         column="outcome")
    wide = _arm_table(rows[~is_contrast], table.covariates)
    if is_contrast.any():  # mixed evidence: contrast studies beside the arm studies
        part = contrasts.contrast_table(rows[is_contrast], spec, table.path, table.covariates,
                                        min_studies=1)
        order = {s: i for i, s in enumerate(studies)}
        wide = pd.concat([wide, part], ignore_index=True)
        wide = wide.iloc[wide["study"].map(order).argsort(kind="stable")]
        wide = wide.reset_index(drop=True)
    return wide


def _arm_table(rows: pd.DataFrame, covariates: list[str]) -> pd.DataFrame:
    """One row per study of an outcome's arm rows, arms side by side."""
    studies = list(dict.fromkeys(rows["study"]))
    wide = pd.DataFrame({"study": studies})
    value_cols = ["row", *NUMERIC, "events_rule", "source", "rate_type"]
    for arm in ARMS:
        part = rows[rows["arm"] == arm].set_index("study").reindex(studies)
        for col in value_cols:
            if col in part.columns:
                wide[f"{col}_{arm}"] = part[col].to_numpy()
    for cov in covariates:  # the loader checked that both arms agree
        wide[cov] = rows.groupby("study", sort=False)[cov].first().reindex(studies).to_numpy()
    for col in JUDGEMENTS:  # study-level; ``design`` is a known column, so no covariate
        if col in rows.columns and col not in wide.columns:
            wide[col] = rows.groupby("study", sort=False)[col].first().reindex(studies).to_numpy()
    return wide


def is_bundled_table(table: StudyTable) -> bool:
    """Whether ``table`` was read from the bundled ``studies.csv``
    (:func:`srsbayes.resources.is_bundled_data`)."""
    return is_bundled_data(table.path)


def default_table(specs: dict[str, OutcomeSpec], path: str | Path | None = None) -> StudyTable:
    """Load ``path`` or the bundled data."""
    return read_table(path or DEFAULT_DATA, specs)
