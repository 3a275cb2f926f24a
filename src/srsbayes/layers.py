"""The package's layers, bottom to top: the one table of which module may import which.

A module may import its own layer and the layers below it, never one above; and no two
units (subpackages or top-level modules) may import each other in a cycle, even within a
layer. ``tests/unit/test_layers.py`` parses every module of the package and enforces both, as
arviz-stats states its own layer rule in code; ``docs/architecture.md`` describes the same
table. Imports under ``if TYPE_CHECKING:`` count: a type hint that needs a higher layer is
a dependency on it (a lower layer states the fields it reads as a ``Protocol``, e.g.
:class:`srsbayes.families.spec_view.SpecView`).
"""

from __future__ import annotations

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ground", ("errors", "values", "written", "resources", "interrupts", "provenance",
                "outputs", "draws", "parallel", "layers", "status")),
    ("priors", ("priors",)),
    ("families", ("families",)),
    ("inputs", ("inputs",)),
    ("inference", ("inference", "plots")),
    ("analyses", ("sensitivity", "audit", "validation")),
    ("certainty", ("certainty",)),
    ("trials", ("trials",)),
    ("analysis", ("analysis",)),
    ("report", ("report",)),
    ("cli", ("cli",)),
    ("entry", ("__init__", "__main__")),
)
"""``(layer, units)`` from the ground up. A unit is a subpackage or top-level module of
``srsbayes``; ``__init__`` is the package's own API (it loads model code lazily) and
``__main__`` runs the command line. ``plots`` sits beside ``inference``: figures are pure
functions of fit results and study tables, and the sweep draws its figure with them."""


def layer_of(unit: str) -> int:
    """The level of ``unit`` (0 = ground) in :data:`LAYERS`.

    Raises
    ------
    KeyError
        ``unit`` is in no layer (a new subpackage must be added to the table).
    """
    for level, (_, units) in enumerate(LAYERS):
        if unit in units:
            return level
    raise KeyError(f"srsbayes.{unit} is in no layer of srsbayes.layers.LAYERS")
