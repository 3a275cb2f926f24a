"""The study table as the checks read it: cells as written, rows by kind of data."""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path
from typing import TypedDict, cast

import pandas as pd

from ..families import FAMILIES
from ..inputs.data import StudyTable
from ..inputs.specs import OutcomeSpec


def raw_cells(table: StudyTable, column: str) -> dict[int, str]:
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


class StudyRecord(TypedDict, total=False):
    """One row of the validated study table as the checks read it (a record of
    ``table.frame``: numbers are floats, NaN where the cell is empty; other columns of the
    table are there too)."""

    study: str
    outcome: str
    arm: str
    row: int
    n: float
    events: float
    percent: float
    median_months: float
    follow_up_months: float
    events_rule: str


def study_records(frame: pd.DataFrame) -> list[StudyRecord]:
    """The rows of (a slice of) the study table's frame as :class:`StudyRecord`."""
    return cast(list[StudyRecord], frame.to_dict("records"))


def count_rows(table: StudyTable, specs: dict[str, OutcomeSpec]) -> list[StudyRecord]:
    """Arm rows of outcomes whose family's data are event counts (``count_data``).

    A contrast row (``arm`` empty: a published OR, HR, ...) of such an outcome has no count
    and no percentage to check; the contrast checks (:mod:`.contrast_checks`) read it.
    """
    return [rec for rec in study_records(table.frame)
            if rec["outcome"] in specs and FAMILIES[specs[rec["outcome"]].family].count_data
            and str(rec.get("arm", "")) != ""]
