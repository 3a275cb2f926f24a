"""Building an entry from a PyMC model, and assembling nutpie's compiled model from one.

:func:`build_entry` compiles a model as ``nutpie.compile_pymc_model`` does and saves the
wrappers with a description (:class:`.store.EntryMeta`); :func:`load_entry` (with the PyMC
model) and :func:`load_model_free` (from the entry's files alone) rebuild nutpie's
``CompiledPyMCModel`` from the cached wrappers, without PyTensor's graph rewriting or any
numba compilation.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .keys import versions
from .replay import pymc_initial_point_fn, replay_or_none, replayed_initial_point_fn
from .store import EntryMeta, Layout, ModelFree, read_meta, write_manifest, write_meta
from .wrappers import cfunc, load_cached, signatures, sources

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from pytensor.compile.sharedvalue import SharedVariable

logger = logging.getLogger(__name__)

DimsCoords = tuple[dict[str, tuple[str, ...]], dict[str, "pd.Index"]]
"""nutpie's ``dims`` and ``coords`` of a compiled model."""

SharedData = dict[str, "np.ndarray"]
"""Read-only values of the shared variables, by record field (``s0``, ``s1``, ...)."""


@dataclass(frozen=True)
class SharedSlot:
    """What nutpie reads of a shared variable (``pm.Data``) on a model-free hit: its name
    (``with_data``) and rank (the shared-data record)."""

    name: str
    ndim: int


def _pytensor_key(pt_function: Any) -> str | None:
    """PyTensor's numba cache key of a compiled function's graph (None: not cacheable)."""
    from pytensor.link.numba.cache import CACHED_SRC_FUNCTIONS

    return CACHED_SRC_FUNCTIONS.get(pt_function.vm.jit_fn.py_func)


def build_entry(model: Any, folder: Path, key: str) -> tuple[Any, bool]:
    """Compile ``model`` as nutpie does, saving the wrappers and a description in ``folder``.

    Returns the compiled model and whether numba saved both wrappers.
    """
    from nutpie import compile_pymc as cp

    (n_dim, n_expanded, logp_pt, expand_pt, initial_point_fn, shape_info,
     reparameterized) = cp._make_functions(
        model, mode="NUMBA", compute_grad=True, join_expanded=True,
        pymc_initial_point_fn=pymc_initial_point_fn(model), var_names=None)
    # Stable record field names (nutpie draws uuid4 ones per process, defeating any cache).
    shared_vars = list(dict.fromkeys([*logp_pt.get_shared(), *expand_pt.get_shared()]))
    layout: Layout = {
        "n_dim": int(n_dim), "n_expanded": int(n_expanded),
        "names": list(shape_info[0]),
        "slices": [[int(sl.start), int(sl.stop)] for sl in shape_info[1]],
        "shapes": [[int(d) for d in shape] for shape in shape_info[2]],
        "reparameterized": list(reparameterized),
        "shared": [{"key": f"s{i}", "name": v.name, "ndim": int(v.type.ndim),
                    "dtype": str(v.type.dtype)} for i, v in enumerate(shared_vars)],
        "logp_shared": [shared_vars.index(v) for v in logp_pt.get_shared()],
        "expand_shared": [shared_vars.index(v) for v in expand_pt.get_shared()],
    }
    var_keys = {v: f"s{i}" for i, v in enumerate(shared_vars)}
    shared_data = frozen_values(var_keys)
    user_data = cp.make_user_data(var_keys, shared_data)
    logp_src, expand_src = sources(layout)
    folder.mkdir(parents=True)
    sig_logp, sig_expand = signatures()
    logp_c = cfunc(logp_src, "logp", sig_logp, logp_pt.vm.jit_fn, user_data.dtype, folder, key)
    expand_c = cfunc(expand_src, "expand", sig_expand, expand_pt.vm.jit_fn, user_data.dtype,
                     folder, key)
    saved = len(list(folder.glob("*.nbi"))) == 2
    if saved:
        meta: EntryMeta = {
            **layout, "record": str(user_data.dtype.descr), "key": key,
            "pytensor_keys": [_pytensor_key(logp_pt), _pytensor_key(expand_pt)],
            "initial_point": replay_or_none(model, layout["names"]),
            "versions": versions(), "model": _model_free_layout(model, layout, var_keys)}
        write_meta(folder, meta)
        write_manifest(folder)
    else:  # numba declined to cache (e.g. a large constant is a dynamic global)
        shutil.rmtree(folder, ignore_errors=True)
    return _assemble(_dims_and_coords(model, layout), layout, var_keys, shared_data,
                     user_data, (logp_c, expand_c), initial_point_fn,
                     (logp_pt, expand_pt)), saved


def load_entry(model: Any, folder: Path, key: str) -> Any:
    """The compiled model from a complete entry: no PyTensor compilation, no numba compile."""
    meta = read_meta(folder)
    by_name = _shared_by_name(model)
    var_keys = {by_name[s["name"]]: s["key"] for s in meta["shared"]}
    replay = meta.get("initial_point")
    points = (replayed_initial_point_fn(replay) if replay is not None
              else pymc_initial_point_fn(model))
    return _load_wrappers(folder, key, meta, var_keys, frozen_values(var_keys), points,
                          len(model.free_RVs), _dims_and_coords(model, meta))


def load_model_free(folder: Path, key: str, meta: EntryMeta) -> Any:
    """The compiled model of a complete entry from its files alone: neither PyMC nor
    PyTensor is imported. ``None`` for an entry without a model-free description or
    without an initial-point replay (its hits need the PyMC model)."""
    import numpy as np
    import pandas as pd

    free, replay = meta.get("model"), meta.get("initial_point")
    if free is None or replay is None or meta.get("key") != key:
        return None
    var_keys = {SharedSlot(s["name"], int(s["ndim"])): s["key"] for s in meta["shared"]}
    dtypes = {s["key"]: s["dtype"] for s in meta["shared"]}
    shared_data: SharedData = {}
    for k, v in free["shared_values"].items():
        arr = np.array(v["value"], dtype=dtypes[k]).reshape(tuple(v["shape"]))
        arr.flags.writeable = False
        shared_data[k] = arr
    dims = {k: tuple(v) for k, v in free["dims"].items()}
    coords = {k: pd.Index(v) for k, v in free["coords"].items()}
    return _load_wrappers(folder, key, meta, var_keys, shared_data,
                          replayed_initial_point_fn(replay), int(free["n_free"]),
                          (dims, coords))


def _load_wrappers(folder: Path, key: str, meta: EntryMeta, var_keys: Mapping[Hashable, str],
                   shared_data: SharedData, points: Callable[[Any], Any], n_free: int,
                   dims_coords: DimsCoords) -> Any:
    """The ``CompiledPyMCModel`` of an entry's cached wrappers, given its shared data and
    initial points."""
    from nutpie import compile_pymc as cp

    for s in meta["shared"]:
        arr = shared_data[s["key"]]
        if arr.ndim != s["ndim"] or arr.dtype.name != s["dtype"]:
            raise ValueError(f"shared variable {s['name']} does not match the cached layout")
    user_data = cp.make_user_data(var_keys, shared_data)
    if str(user_data.dtype.descr) != meta["record"]:
        raise ValueError("shared-data record does not match the cached layout")
    logp_src, expand_src = sources(meta)
    sig_logp, sig_expand = signatures()
    try:
        cfuncs = (load_cached(logp_src, "logp", sig_logp, user_data.dtype, folder, key),
                  load_cached(expand_src, "expand", sig_expand, user_data.dtype, folder, key))
    except Exception as exc:  # numba's own lookup of the same files
        logger.info("direct load of cached wrappers failed (%s: %s); asking numba",
                    type(exc).__name__, exc)
        # INNER is None: a cache miss here would fail to type, never compile something else.
        cfuncs = (cfunc(logp_src, "logp", sig_logp, None, user_data.dtype, folder, key),
                  cfunc(expand_src, "expand", sig_expand, None, user_data.dtype, folder, key))
        if any(c.cache_hits != 1 for c in cfuncs):
            raise RuntimeError("numba did not load the cached wrappers") from exc
    initial_point_fn = cp._rv_dict_to_flat_array_wrapper(
        points, names=meta["names"][:n_free],
        shapes=[tuple(s) for s in meta["shapes"][:n_free]])
    return _assemble(dims_coords, meta, var_keys, shared_data, user_data, cfuncs,
                     initial_point_fn, (None, None))


def _model_free_layout(model: Any, layout: Layout, var_keys: Mapping[Any, str]) -> ModelFree:
    """What a hit without the PyMC model needs beyond ``layout``: the number of free
    variables, nutpie's dims and coordinates, and the shared variables' values."""
    dims, coords = _dims_and_coords(model, layout)
    return {"n_free": len(model.free_RVs),
            "dims": {k: list(v) for k, v in dims.items()},
            "coords": {k: [x.item() if hasattr(x, "item") else x for x in v]
                       for k, v in coords.items()},
            "shared_values": {key: {"shape": list(var.get_value().shape),
                                    "value": var.get_value().ravel().tolist()}
                              for var, key in var_keys.items()}}


def _shared_by_name(model: Any) -> dict[str, SharedVariable]:
    """The model's named shared variables (``pm.Data``), by name."""
    from pytensor.compile.sharedvalue import SharedVariable
    from pytensor.graph.traversal import graph_inputs

    out: dict[str, SharedVariable] = {}
    values = [model.rvs_to_values[rv] for rv in model.basic_RVs]  # observed data too
    for var in graph_inputs([*model.basic_RVs, *values, *model.potentials,
                             *model.deterministics]):
        if isinstance(var, SharedVariable) and var.name is not None:
            if out.get(var.name, var) is not var:
                raise ValueError(f"shared variable name {var.name!r} is not unique")
            out[var.name] = var
    return out


def frozen_values(var_keys: Mapping[Any, str]) -> SharedData:
    """Read-only copies of the shared variables' values, by record field."""
    import numpy as np

    data = {key: np.array(var.get_value(), order="C", copy=True)
            for var, key in var_keys.items()}
    for arr in data.values():
        arr.flags.writeable = False
    return data


def _shape_info(layout: Layout) -> tuple[list[str], list[slice], list[tuple[int, ...]]]:
    return (layout["names"], [slice(a, b) for a, b in layout["slices"]],
            [tuple(s) for s in layout["shapes"]])


def _dims_and_coords(model: Any, layout: Layout) -> DimsCoords:
    """nutpie's dims and coordinates of ``model`` (``_prepare_dims_and_coords``)."""
    from nutpie import compile_pymc as cp

    return cp._prepare_dims_and_coords(model, _shape_info(layout), layout["reparameterized"])


def _assemble(dims_coords: DimsCoords, layout: Layout, var_keys: Mapping[Any, str],
              shared_data: SharedData, user_data: Any, cfuncs: tuple[Any, Any],
              initial_point_fn: Callable[..., Any], pt_functions: tuple[Any, Any]) -> Any:
    """The ``CompiledPyMCModel`` nutpie's ``_compile_pymc_model_numba`` would return."""
    from nutpie import compile_pymc as cp

    shape_info = _shape_info(layout)
    dims, coords = dims_coords
    return cp.CompiledPyMCModel(
        _n_dim=layout["n_dim"], dims=dims, _coords=coords,
        _shapes={name: tuple(shape) for name, _, shape in zip(*shape_info, strict=True)},
        compiled_logp_func=cfuncs[0], compiled_expand_func=cfuncs[1],
        initial_point_func=initial_point_fn, shared_data=shared_data,
        shared_var_keys=var_keys, user_data=user_data, n_expanded=layout["n_expanded"],
        shape_info=shape_info, logp_func=pt_functions[0], expand_func=pt_functions[1],
        reparameterized_names=layout["reparameterized"])
