"""The layer order of ``srsbayes.layers`` holds: imports only go down, and no cycle.

Every module under ``src/srsbayes`` is parsed with :mod:`ast` (nothing is imported, so
lazy imports inside functions and imports under ``if TYPE_CHECKING:`` count as well) and
each import of another unit of the package is checked against the table.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

import pytest

import srsbayes
from srsbayes.layers import LAYERS, layer_of

PACKAGE = Path(srsbayes.__file__).parent


def _module_name(path: Path) -> tuple[str, list[str]]:
    """``path``'s dotted module name and the package its relative imports start from."""
    parts = ["srsbayes", *path.relative_to(PACKAGE).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts = parts[:-1]
        return ".".join(parts), parts
    return ".".join(parts), parts[:-1]


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every ``srsbayes`` module ``path`` imports, with the line of the import."""
    _, package = _module_name(path)
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                found.append((node.module or "", node.lineno))
                continue
            base = package[: len(package) - node.level + 1]
            if node.module:
                found.append((".".join([*base, node.module]), node.lineno))
            else:  # ``from .. import x``: x may be a module
                found += [(".".join([*base, a.name]), node.lineno) for a in node.names]
    return [(name, line) for name, line in found
            if name == "srsbayes" or name.startswith("srsbayes.")]


def _unit(module: str) -> str:
    """The unit (subpackage or top-level module) of a dotted ``srsbayes`` module name."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _edges() -> dict[tuple[str, str], list[str]]:
    """``(importer unit, imported unit)`` -> where (``file:line``), across units only."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(PACKAGE.rglob("*.py")):
        here = _unit(_module_name(path)[0])
        for name, line in _imports(path):
            there = _unit(name)
            if there != here:
                edges[here, there].append(f"{path.relative_to(PACKAGE.parent)}:{line}")
    return edges


def test_every_unit_of_the_package_is_in_one_layer():
    units = {_unit(_module_name(p)[0]) for p in PACKAGE.rglob("*.py")}
    listed = [u for _, us in LAYERS for u in us]
    assert len(listed) == len(set(listed)), "a unit is listed twice"
    assert units == set(listed)


def test_no_import_runs_up_a_layer():
    edges = _edges()
    assert len(edges) > 60  # the check saw the real import graph
    upward = [f"{a} (layer {LAYERS[layer_of(a)][0]}) imports {b} (layer {LAYERS[layer_of(b)][0]})"
              f" at {', '.join(where)}"
              for (a, b), where in sorted(edges.items()) if layer_of(b) > layer_of(a)]
    assert upward == []


def test_no_cycle_between_units():
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b in _edges():
        graph[a].add(b)
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert cycles == []


@pytest.mark.parametrize(("source", "upward"), [
    ("from ..inputs.specs import OutcomeSpec", True),
    ("if TYPE_CHECKING:\n    from ..report import build", True),
    ("from ..priors.distributions import Prior", False),
    ("from . import binomial", False),
])
def test_the_checker_sees_upward_imports(tmp_path, monkeypatch, source, upward):
    """A module of ``families`` with ``source``: the parser maps it to the right unit."""
    fake = tmp_path / "srsbayes" / "families" / "fake.py"
    fake.parent.mkdir(parents=True)
    fake.write_text(source + "\n", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path / "srsbayes")
    targets = {_unit(name) for name, _ in _imports(fake)}
    assert any(layer_of(t) > layer_of("families") for t in targets) is upward
