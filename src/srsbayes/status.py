"""The status of one outcome's analysis, shared by every layer that reports it.

A :class:`enum.StrEnum`, so a status is its string in JSON (``"ok"``, ``"failed"``,
``"unavailable"``) and compares equal to it.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """What became of an outcome's analysis."""

    OK = "ok"
    """The fit passed its convergence gate: its numbers are reported."""
    FAILED = "failed"
    """The fit failed its convergence gate: no number is reported (NOT TRUSTWORTHY)."""
    UNAVAILABLE = "unavailable"
    """The outcome's model family could not be loaded: nothing was fitted."""
