"""What a family reads of an outcome spec, stated in the family layer.

Families sit below ``inputs/`` (``inputs`` calls the families' row and spec-key checks), so
they must not import :class:`srsbayes.inputs.specs.OutcomeSpec`, not even for type hints
(``srsbayes.layers``). :class:`SpecView` names the fields family code reads;
``OutcomeSpec`` satisfies it structurally.
"""

from __future__ import annotations

from typing import Protocol


class SpecView(Protocol):
    """The fields of an outcome spec that family code reads (see ``OutcomeSpec``)."""

    id: str
    family: str
    path: str
    measure: str
    approximate_measures: tuple[str, ...]
    outcome_type: str

    @property
    def sign(self) -> int:
        """+1 when a larger effect favours preop, else -1."""
        ...
