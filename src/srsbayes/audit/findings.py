"""What an audit check returns: :class:`Finding`, and its severities."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..outputs import JSONObject


class Severity(StrEnum):
    """How bad a finding is; a string (``"error"`` ...) in JSON and text, as before."""

    ERROR = "error"
    """Impossible data."""
    WARNING = "warning"
    """A problem for inference."""
    INFO = "info"
    """Context, or a check that passed."""


SEVERITIES = tuple(Severity)
"""``error``: impossible data; ``warning``: a problem for inference; ``info``: context,
or a check that passed (worst first)."""

type FindingValue = Fraction | float | int | bool | str | list[str] | dict[str, int] | None
"""One number (or list of names) behind a finding's sentence; a Fraction is written as a
float, a NaN as null (:meth:`Finding.to_dict`)."""


@dataclass
class Finding:
    """One audit result.

    Attributes
    ----------
    study, outcome, arm
        What it is about; ``None`` when not specific (e.g. a pooled row has no study).
    check
        Check id, one of :data:`srsbayes.audit.CHECKS`.
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
    severity: Severity
    detail: str
    row: int | None = None
    values: dict[str, FindingValue] = field(default_factory=dict)
    file: str | None = None

    def __post_init__(self) -> None:
        # checks pass the severity as its string; one type from here on (ValueError if unknown)
        self.severity = Severity(self.severity)

    def to_dict(self) -> JSONObject:
        """Flat JSON-ready dict: the fields, then ``values`` (NaN becomes ``None``)."""
        out: JSONObject = {"study": self.study, "outcome": self.outcome, "arm": self.arm,
                           "check": self.check, "severity": self.severity,
                           "detail": self.detail, "file": self.file, "row": self.row}
        for key, v in self.values.items():
            if isinstance(v, Fraction):
                v = float(v)
            if isinstance(v, float) and not math.isfinite(v):
                v = None
            out[key] = v
        return out


def located(path: str | Path, findings: list[Finding]) -> list[Finding]:
    """Record which file the findings' line numbers refer to (in place; returns them)."""
    for f in findings:
        if f.row is not None and f.file is None:
            f.file = str(path)
    return findings
