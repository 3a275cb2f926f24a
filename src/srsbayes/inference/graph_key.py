"""A key for a PyMC model's graph that is stable across processes, without compiling it.

The key is the SHA-256 of a text description of the model: every apply node in
topological order (the op's class and each of its ``__props__``, its inputs by position),
every variable's type, every constant's and shared variable's value (bytes), the roles
of the model's variables (free, observed, potential, deterministic, their value variables
and transforms), ``check_bounds`` and the coordinates. Two models with equal keys build
the same logp and expand graphs, so the compile cache (:mod:`.compile_cache`) may reuse
one's compiled functions for the other. Anything that cannot be described stably (a
default ``repr`` with a memory address) raises :class:`Unkeyable`: the cache then steps
aside rather than risk a key that could match a different graph.
"""

from __future__ import annotations

import hashlib
import types
from typing import Any

import numpy as np

_MAX_DEPTH = 8


class Unkeyable(ValueError):
    """Part of the graph has no stable description."""


def describe(obj: Any, depth: int = 0) -> str:
    """A text description of an op property (or op) that is equal across processes."""
    if depth > _MAX_DEPTH:
        raise Unkeyable("op properties nested too deeply")
    if obj is None or isinstance(obj, bool | int | float | complex | str | bytes):
        return repr(obj)
    if isinstance(obj, np.ndarray):
        return _describe_array(obj)
    if isinstance(obj, np.generic | np.dtype):
        return repr(obj)
    if isinstance(obj, tuple | list):
        return f"{type(obj).__name__}({','.join(describe(x, depth + 1) for x in obj)})"
    if isinstance(obj, set | frozenset):
        return f"set({','.join(sorted(describe(x, depth + 1) for x in obj))})"
    if isinstance(obj, dict) or type(obj).__name__ == "frozendict":
        items = sorted(f"{describe(k, depth + 1)}:{describe(v, depth + 1)}"
                       for k, v in obj.items())
        return "{" + ",".join(items) + "}"
    if isinstance(obj, type):
        return f"{obj.__module__}.{obj.__qualname__}"
    if isinstance(obj, types.FunctionType | types.BuiltinFunctionType | np.ufunc):
        return f"fn:{getattr(obj, '__module__', None)}.{getattr(obj, '__qualname__', obj)}"
    cls = type(obj)
    name = f"{cls.__module__}.{cls.__qualname__}"
    props = getattr(cls, "__props__", None)
    if props is not None:
        return name + "{" + ",".join(f"{p}={describe(getattr(obj, p), depth + 1)}"
                                     for p in props) + "}"
    text = repr(obj)
    if " at 0x" not in text:
        return f"{name}:{text}"
    state = getattr(obj, "__dict__", None)
    if state is None:
        raise Unkeyable(f"no stable description of {name}")
    return f"{name}{describe(state, depth + 1)}"  # e.g. PyMC's transforms


def _describe_array(arr: np.ndarray) -> str:
    digest = hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()
    return f"array({arr.dtype.str},{arr.shape},{digest})"


def _describe_type(var) -> str:
    """A variable's type; a type without properties is described by its class alone."""
    cls = type(var.type)
    if getattr(cls, "__props__", None) is not None:
        return describe(var.type)
    return f"{cls.__module__}.{cls.__qualname__}"


def _describe_root(var) -> str:
    from pytensor.compile.sharedvalue import SharedVariable
    from pytensor.graph.basic import Constant

    if isinstance(var, Constant):
        return f"const {describe(var.data)}"
    if isinstance(var, SharedVariable):
        value = var.get_value(borrow=True)
        shown = describe(value) if isinstance(value, np.ndarray | np.generic) else "-"
        return f"shared {var.name!r} {shown}"
    return f"input {var.name!r}"


def model_graph_text(model) -> str:
    """The description :func:`model_graph_key` hashes (one line per variable or node)."""
    from pytensor.graph.traversal import graph_inputs, io_toposort

    roles = [("free", v) for v in model.free_RVs] + [("observed", v) for v in model.observed_RVs]
    roles += [("potential", v) for v in model.potentials]
    roles += [("deterministic", v) for v in model.deterministics]
    rvs = [*model.free_RVs, *model.observed_RVs]
    outputs = [v for _, v in roles] + [model.rvs_to_values[rv] for rv in rvs]
    index: dict[Any, int] = {}
    lines: list[str] = []

    def ref(var) -> int:
        if var not in index:
            index[var] = len(index)
            lines.append(f"v{index[var]} {_describe_root(var)} {_describe_type(var)}")
        return index[var]

    for node in io_toposort(list(graph_inputs(outputs)), outputs):
        args = ",".join(str(ref(i)) for i in node.inputs)
        lines.append(f"{describe(node.op)}({args})")
        for out in node.outputs:
            index[out] = len(index)
            lines.append(f"v{index[out]} = {_describe_type(out)} {out.name!r}")
    lines += [f"{role} {v.name!r} v{ref(v)}" for role, v in roles]
    lines += [f"value {rv.name!r} v{ref(model.rvs_to_values[rv])} "
              f"{describe(model.rvs_to_transforms.get(rv))}" for rv in rvs]
    lines.append(f"check_bounds {model.check_bounds!r}")
    coords = {k: None if v is None else [describe(x) for x in v] for k, v in model.coords.items()}
    lines.append(f"coords {describe(coords)}")
    return "\n".join(lines)


def model_graph_key(model) -> str:
    """SHA-256 of :func:`model_graph_text`; raises :class:`Unkeyable` when there is none."""
    return hashlib.sha256(model_graph_text(model).encode()).hexdigest()
