"""A disk cache for nutpie's compiled PyMC models, shared by every process of a user.

``nutpie.compile_pymc_model`` (numba backend) compiles PyTensor's logp-and-gradient and
expand functions, which PyTensor caches on disk itself, and then wraps each in a
``numba.cfunc`` that nutpie rebuilds in every process (about 7 s and 2 s). nutpie builds
those wrappers as closures over per-process values (random uuid field names, captured
tuples), so numba cannot cache them. :func:`compile_model` does what
``compile_pymc_model`` does with nutpie's own defaults, but generates the two wrappers as
source text with everything they depend on spelled out (stable field names, sizes), and
compiles them with numba's on-disk cache into a folder named by a hash of

- the model's graph (:func:`.graph_key.model_graph_key`: every node, type, constant and
  shared value, and the roles of the model's variables);
- the versions of Python, numba, llvmlite, NumPy, PyTensor, PyMC, nutpie and srsbayes,
  and the source of this module and of :mod:`.graph_key`, so that an upgrade of any of
  them starts a new entry instead of reusing a stale one (numba's own cache does not
  notice a changed callee).

Beside numba's files the entry keeps ``layout.json`` (sizes, variable names and shapes,
the shared-data layout) and, where it reproduces PyMC's bit for bit, a replay of the
initial-point function (:func:`initial_point_replay`), so a hit rebuilds nutpie's
``CompiledPyMCModel`` without PyTensor's graph rewriting (most of a warm compile), any numba
compilation or, with the replay, compiling PyMC's initial-point function.

Where it lives: ``$SRSBAYES_CACHE_DIR``, else ``$XDG_CACHE_HOME/srsbayes``, else
``~/.cache/srsbayes``; ``SRSBAYES_CACHE_DIR=off`` turns the cache off. An entry is written
under a file lock (two processes compiling the same model: the second waits and loads),
numba writes its files atomically, and a manifest of SHA-256 sums, written last, marks an
entry complete; an entry that fails its manifest is rebuilt. Any failure of the cached
path logs a warning and falls back to ``nutpie.compile_pymc_model``: the cache can make a
fit slower, never wrong or failed.

This relies on nutpie internals (``nutpie.compile_pymc``), checked by
``tests/test_compile_cache.py`` and limited to :data:`NUTPIE_SUPPORTED`; outside that
range the ordinary compile is used.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from ..values import DEFAULT_SEED

logger = logging.getLogger(__name__)

CACHE_ENV = "SRSBAYES_CACHE_DIR"
"""Environment variable naming the cache folder; ``off`` (or ``0``, ``no``, ``false``)
disables the cache."""

NUTPIE_SUPPORTED = ("0.16.11", "0.17")
"""nutpie versions ``[low, high)`` whose internals this module was written against."""

FORMAT = 2
"""Version of the generated wrappers and entry layout; part of every key (2: compiled
without fast-math, :func:`ieee_math`)."""

LOCK_TIMEOUT = 600.0
"""Seconds to wait for another process compiling the same entry before compiling
without the cache."""

STATS: Counter[str] = Counter()
"""Per-process counts: ``hit`` (both wrappers loaded from disk), ``miss`` (compiled and
saved), ``uncached`` (compiled without the cache) and ``fallback`` (cached path failed)."""

_VERSIONED = ("numba", "llvmlite", "numpy", "pytensor", "pymc", "nutpie", "srsbayes")
_OFF = {"off", "0", "no", "false", "none"}
_MANIFEST = "manifest.json"

# py_func -> (entry folder, key) for the functions this module compiles; read by _Locator.
_ENTRIES: WeakKeyDictionary[Callable, tuple[Path, str]] = WeakKeyDictionary()


# -- where and under which key --------------------------------------------------------------


def cache_root(environ: dict[str, str] | None = None) -> Path | None:
    """The cache folder, or ``None`` when the cache is switched off.

    ``$SRSBAYES_CACHE_DIR``, else ``$XDG_CACHE_HOME/srsbayes``, else ``~/.cache/srsbayes``.
    """
    env = os.environ if environ is None else environ
    explicit = env.get(CACHE_ENV, "").strip()
    if explicit.lower() in _OFF:
        return None
    if explicit:
        return Path(explicit).expanduser()
    xdg = env.get("XDG_CACHE_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "srsbayes"


def versions() -> dict[str, str]:
    """Versions of everything whose change could make a cached wrapper stale."""
    out = {"python": sys.version, "format": str(FORMAT), "cache_code": _own_source_sha256()}
    for name in _VERSIONED:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "unknown"
    return out


def _own_source_sha256() -> str:
    """SHA-256 of this module and :mod:`.graph_key`: what writes and reads an entry."""
    here = Path(__file__).resolve()
    digest = hashlib.sha256()
    for path in (here, here.with_name("graph_key.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _release(text: str) -> tuple[int, ...]:
    """Leading numeric release of a version string: ``"0.16.11"`` -> ``(0, 16, 11)``."""
    parts = []
    for piece in text.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits or digits != piece:
            break
        parts.append(int(digits))
    return tuple(parts)


def nutpie_supported(installed: str | None = None) -> bool:
    """Whether the installed nutpie lies in :data:`NUTPIE_SUPPORTED`."""
    v = _release(installed if installed is not None else version("nutpie"))
    lo, hi = (_release(x) for x in NUTPIE_SUPPORTED)
    return lo <= v < hi


# -- numba cache locator ---------------------------------------------------------------------


def _locator_class() -> type:
    """A numba cache locator that files this module's wrappers under their entry folder.

    numba's own locators key a cache on the source file's timestamp; ours keys it on the
    entry key, which already covers the source, the graph and the versions.
    """
    from numba.core.caching import _CacheLocator

    class _Locator(_CacheLocator):
        def __init__(self, folder: Path, key: str) -> None:
            self._folder, self._key = folder, key

        def ensure_cache_path(self) -> None:
            self._folder.mkdir(parents=True, exist_ok=True)

        def get_cache_path(self) -> str:
            return str(self._folder)

        def get_source_stamp(self) -> str:
            return self._key

        def get_disambiguator(self) -> str:
            return self._key[:16]

        @classmethod
        def from_function(cls, py_func, py_file):
            entry = _ENTRIES.get(py_func)
            return None if entry is None else cls(*entry)

    return _Locator


def _register_locator() -> None:
    from numba.core.caching import CacheImpl

    if not any(getattr(c, "__qualname__", "").endswith("_Locator")
               and c.__module__ == __name__ for c in CacheImpl._locator_classes):
        CacheImpl._locator_classes.insert(0, _locator_class())


# -- generated wrappers ----------------------------------------------------------------------

_HEADER = """\
# Generated by srsbayes.inference.compile_cache: nutpie's C-callable wrappers around
# PyTensor's compiled functions, with the shared-data layout spelled out.
import numba
import numpy as np
from nutpie.compile_pymc import address_as_void_pointer
"""


def _extract_lines(keys: list[str], ndims: dict[str, int], dtypes: dict[str, str]) -> list[str]:
    """Source lines binding ``a0, a1, ...`` to the shared arrays ``keys`` in ``user_data_``."""
    lines = ["shared = numba.carray(user_data_, (), RECORD)['shared']"]
    for i, key in enumerate(keys):
        lines += [f"p{i} = address_as_void_pointer(shared['data']['{key}'][()])",
                  f"a{i} = numba.carray(p{i}, int(shared['size']['{key}'][()]), "
                  f"np.{dtypes[key]})"]
        if ndims[key]:
            lines.append(f"h{i} = shared['shape']['{key}']")
            dims = ", ".join(f"int(h{i}[{j}])" for j in range(ndims[key]))
            lines.append(f"a{i} = a{i}.reshape(({dims},))")
        else:
            lines.append(f"a{i} = a{i}.reshape(())")
    return lines


def _indent(lines: list[str], n: int) -> str:
    return "".join(" " * n + line + "\n" for line in lines)


def logp_source(n_dim: int, keys: list[str], ndims: dict[str, int],
                dtypes: dict[str, str]) -> str:
    """Source of nutpie's logp wrapper (``_make_c_logp_func``) for this layout."""
    args = "".join(f", a{i}" for i in range(len(keys)))
    return (_HEADER + "\n\ndef logp(dim, x_, out_, logp_, user_data_):\n"
            f"    if dim != {n_dim}:\n        return -1\n    try:\n"
            f"        x = numba.carray(x_, ({n_dim},))\n"
            f"        out = numba.carray(out_, ({n_dim},))\n"
            "        logp = numba.carray(logp_, ())\n"
            + _indent(_extract_lines(keys, ndims, dtypes), 8)
            + f"        logp_val, grad = INNER(x{args})\n"
            "        logp[()] = logp_val\n        out[...] = grad\n"
            "        if not np.all(np.isfinite(out)):\n            return 3\n"
            "        if not np.isfinite(logp_val):\n            return 4\n"
            "    except Exception:  # noqa: BLE001\n        return 1\n    return 0\n")


def expand_source(n_dim: int, n_expanded: int, keys: list[str], ndims: dict[str, int],
                  dtypes: dict[str, str]) -> str:
    """Source of nutpie's expand wrapper (``_make_c_expand_func``) for this layout."""
    args = "".join(f", a{i}" for i in range(len(keys)))
    return (_HEADER + "\n\ndef expand(dim, expanded, x_, out_, user_data_):\n"
            f"    if dim != {n_dim}:\n        return -1\n"
            f"    if expanded != {n_expanded}:\n        return -1\n    try:\n"
            f"        x = numba.carray(x_, ({n_dim},))\n"
            f"        out = numba.carray(out_, ({n_expanded},))\n"
            + _indent(_extract_lines(keys, ndims, dtypes), 8)
            + f"        (values,) = INNER(x{args})\n        out[...] = values\n"
            "    except Exception:  # noqa: BLE001\n        return -2\n    return 0\n")


def _load_function(source: str, name: str, path: Path | None, env: dict[str, Any]) -> Callable:
    """Execute generated ``source`` (written to ``path`` for tracebacks) and return ``name``."""
    filename = "<srsbayes-generated>"
    if path is not None:
        if not path.exists() or path.read_text() != source:
            _atomic_write(path, source.encode())
        filename = str(path)
    # numba rebuilds a cached function's environment by importing its module by name
    namespace = {"__name__": __name__, **env}
    exec(compile(source, filename, "exec"), namespace)  # our own generated source
    return namespace[name]


# -- entries on disk -------------------------------------------------------------------------


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir())
            if p.is_file() and p.name != _MANIFEST and not p.name.startswith(".")}


def _entry_complete(folder: Path) -> bool:
    """Whether ``folder`` holds a finished entry whose files match its manifest."""
    try:
        manifest = json.loads((folder / _MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    return bool(manifest.get("files")) and manifest["files"] == _digests(folder)


def _write_manifest(folder: Path) -> None:
    body = {"files": _digests(folder)}
    _atomic_write(folder / _MANIFEST, json.dumps(body, indent=1, sort_keys=True).encode())


# -- compiling -------------------------------------------------------------------------------


def _cfunc(source: str, name: str, sig, inner, record, folder: Path | None, key: str | None):
    """``numba.cfunc`` of the generated ``name``; cached in ``folder`` when it is given."""
    import numba

    py_file = folder / f"{name}.py" if folder is not None else None
    func = _load_function(source, name, py_file, {"INNER": inner, "RECORD": record})
    if folder is None or key is None:
        return numba.cfunc(sig)(func)
    _ENTRIES[func] = (folder, key)
    return numba.cfunc(sig, cache=True)(func)


def _graph_key(pt_function) -> str | None:
    """PyTensor's numba cache key of a compiled function's graph (None: not cacheable)."""
    from pytensor.link.numba.cache import CACHED_SRC_FUNCTIONS

    return CACHED_SRC_FUNCTIONS.get(pt_function.vm.jit_fn.py_func)


def nutpie_source_sha256() -> str:
    """SHA-256 of the installed ``nutpie/compile_pymc.py``, whose internals we mirror."""
    from nutpie import compile_pymc

    return hashlib.sha256(Path(compile_pymc.__file__).read_bytes()).hexdigest()


NUTPIE_SOURCE_SHA256 = "52cf4cd08eeedb3a9a22ef3ed68abad17248197aab4841566ad142c8cd81adb7"
"""``nutpie/compile_pymc.py`` of nutpie 0.16.11, read when this module was written. Any
other source uses the ordinary compile (a changed nutpie may have changed what we copy)."""


@contextmanager
def ieee_math() -> Iterator[None]:
    """PyTensor's numba backend without fast-math while the block compiles.

    PyTensor compiles with LLVM's ``reassoc``, ``contract`` and ``afn`` flags by default,
    which let the optimiser reorder sums, fuse multiply-adds and approximate ``exp`` and
    ``log`` differently depending on what is inlined where. What is inlined depends on
    the compile's history (a first compile, PyTensor's or numba's caches, which process
    filled them), so the same model and seed gave draws that differ in the last bits, and
    after thousands of NUTS steps in the third digit (issue 23 item 2: a first run with an
    empty cache, a fallback compile). Without fast-math every path executes IEEE
    arithmetic in the order the graph states, and the same seed gives the same draws from
    a cache hit, a first compile, a fallback or no cache (``tests/test_determinism.py``).
    It costs about half again the sampling time of the binomial family's fits (LMD 0.6 ->
    0.95 s per 4 x 2000 steps; OS unchanged; ``docs/performance.md``).
    """
    import pytensor

    with pytensor.config.change_flags(numba__fastmath=False):
        yield


def compile_model(model, root: Path | str | None = "default"):
    """``nutpie.compile_pymc_model(model)`` with the compiled model cached on disk.

    Parameters
    ----------
    model
        A ``pymc.Model``.
    root
        Cache folder; ``"default"`` reads :func:`cache_root`, ``None`` disables the cache.

    Returns
    -------
    nutpie.compile_pymc.CompiledPyMCModel
        The model ``nutpie.compile_pymc_model`` returns, draw for draw. A cache hit skips
        PyTensor's graph rewriting as well as numba: it carries no PyTensor functions
        (``logp_func`` and ``expand_func`` are ``None``; nutpie's sampler never reads them).
        Every path compiles under :func:`ieee_math`, so all give the same draws.
    """
    with ieee_math():
        return _compile_model(model, root)[0]


SOURCE_PACKAGES = ("families", "priors")
"""Subpackages of srsbayes whose source a family's model is built from: part of every
:func:`structure_key` (with the family's own module, wherever it lives)."""


def model_source_sha256(module_file: str | Path) -> str:
    """SHA-256 of the source a family's model is built from: the family's module and every
    module of :data:`SOURCE_PACKAGES` (a change to any of them starts a new entry)."""
    package = Path(__file__).resolve().parents[1]
    files = {Path(module_file).resolve()}
    for sub in SOURCE_PACKAGES:
        files.update(p.resolve() for p in (package / sub).glob("*.py"))
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def structure_key(description: dict[str, Any], module_file: str | Path,
                  environ: dict[str, str] | None = None) -> str:
    """The key of a model known by how it is built, without building it.

    ``description`` says what ``build_model`` is called with (family, number of studies,
    structure, placeholder priors); the key adds the source it is built from
    (:func:`model_source_sha256`), :func:`versions` (Python, numba, PyTensor, PyMC, nutpie,
    srsbayes, this module) and ``$PYTENSOR_FLAGS``, which can change the compiled graph.
    """
    env = os.environ if environ is None else environ
    payload = json.dumps({"model": description, "source": model_source_sha256(module_file),
                          "pytensor_flags": env.get("PYTENSOR_FLAGS", ""),
                          "versions": versions()}, sort_keys=True, default=repr)
    return hashlib.sha256(payload.encode()).hexdigest()


def compile_structure(description: dict[str, Any], module_file: str | Path,
                      build: Callable[[], Any], root: Path | str | None = "default"):
    """The compiled model that ``build()`` returns, found by :func:`structure_key` first.

    A hit reads the entry a previous process recorded under the key and loads its cached
    wrappers (:func:`load_model_free`): ``build`` is not called and neither PyMC nor
    PyTensor is imported. Otherwise the model is built and compiled by
    :func:`compile_model` (its own graph-keyed entry, the checks and the fallback of the
    ordinary path), and the key is recorded to point to that entry.
    """
    folder = _resolve_root(root)
    key = None
    if folder is not None and _cache_usable():
        key = structure_key(description, module_file)
        try:
            compiled = _load_by_structure(folder, key)
        except Exception as exc:  # build the model instead: never fail a fit
            logger.info("model-free cache load failed (%s: %s)", type(exc).__name__, exc)
            compiled = None
        if compiled is not None:
            STATS["hit"] += 1
            logger.info("compile cache hit by structure: %s", folder)
            return compiled
    model = build()
    with ieee_math():
        compiled, entry = _compile_model(model, root)
    if key is not None and entry is not None:
        try:
            _atomic_write(_structure_file(folder, key),
                          json.dumps({"structure_key": key, "entry": entry.name}).encode())
        except OSError as exc:
            logger.info("structure key not recorded: %s", exc)
    return compiled


def _structure_file(root: Path, key: str) -> Path:
    return root / f"structure-{key[:32]}.json"


def _load_by_structure(root: Path, key: str):
    """The compiled model recorded under ``key`` in ``root``, or ``None``."""
    from filelock import FileLock

    try:
        record = json.loads(_structure_file(root, key).read_text())
    except (OSError, ValueError):
        return None
    if record.get("structure_key") != key:
        return None
    entry = root / str(record["entry"])
    if entry.parent != root or not entry.name.startswith("nutpie-"):
        return None
    _register_locator()
    with FileLock(str(root / f"{entry.name}.lock"), timeout=LOCK_TIMEOUT):
        if not _entry_complete(entry):
            return None
        layout = json.loads((entry / "layout.json").read_text())
        return load_model_free(entry, layout["key"], layout)


def _compile_model(model, root: Path | str | None) -> tuple[Any, Path | None]:
    """The compiled model and the cache entry it is stored in (``None``: not cached)."""
    import nutpie

    folder = _resolve_root(root)
    if folder is None or not _cache_usable():
        STATS["uncached"] += 1
        return nutpie.compile_pymc_model(model), None
    try:
        return _compile_cached(model, folder)
    except Exception as exc:  # the cache may never fail a fit
        STATS["fallback"] += 1
        logger.warning("srsbayes: warning: compile cache failed (%s: %s); compiling without it",
                       type(exc).__name__, exc)
        return nutpie.compile_pymc_model(model), None


def _resolve_root(root: Path | str | None) -> Path | None:
    return cache_root() if root == "default" else (Path(root) if root is not None else None)


def _cache_usable() -> bool:
    """Whether the installed nutpie is the one whose internals this module mirrors."""
    return nutpie_supported() and nutpie_source_sha256() == NUTPIE_SOURCE_SHA256


def _compile_cached(model, root: Path) -> tuple[Any, Path | None]:
    """Load the model's entry under ``root``, building it first if it is missing."""
    from filelock import FileLock

    from .graph_key import Unkeyable, model_graph_key

    try:
        graph = model_graph_key(model)
    except Unkeyable as exc:
        import nutpie

        logger.info("compile cache skipped: %s", exc)
        STATS["uncached"] += 1
        return nutpie.compile_pymc_model(model), None
    key = entry_key(graph)
    name = f"nutpie-{key[:32]}"
    folder = root / name
    root.mkdir(parents=True, exist_ok=True)
    _register_locator()
    with FileLock(str(root / f"{name}.lock"), timeout=LOCK_TIMEOUT):
        if _entry_complete(folder):
            try:
                compiled = _load_entry(model, folder, key)
            except Exception:
                shutil.rmtree(folder, ignore_errors=True)  # so the next process rebuilds it
                raise
            status = "hit"
        else:
            shutil.rmtree(folder, ignore_errors=True)  # unfinished or corrupted
            compiled, saved = _build_entry(model, folder, key)
            status = "miss" if saved else "uncached"
    STATS[status] += 1
    logger.info("compile cache %s: %s", status, folder)
    return compiled, (folder if status != "uncached" else None)


def entry_key(graph: str) -> str:
    """SHA-256 of the model graph's key and :func:`versions`."""
    payload = json.dumps({"graph": graph, "versions": versions()}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def _signatures():
    import numba

    t = numba.types
    return (t.int64(t.uint64, *[t.CPointer(t.double)] * 3, t.voidptr),
            t.int64(t.uint64, t.uint64, *[t.CPointer(t.double)] * 2, t.voidptr))


def _build_entry(model, folder: Path, key: str):
    """Compile ``model`` as nutpie does, saving the wrappers and a description in ``folder``.

    Returns the compiled model and whether numba saved both wrappers.
    """
    from nutpie import compile_pymc as cp

    (n_dim, n_expanded, logp_pt, expand_pt, initial_point_fn, shape_info,
     reparameterized) = cp._make_functions(
        model, mode="NUMBA", compute_grad=True, join_expanded=True,
        pymc_initial_point_fn=_pymc_initial_point_fn(model), var_names=None)
    # Stable record field names (nutpie draws uuid4 ones per process, defeating any cache).
    shared_vars = list(dict.fromkeys([*logp_pt.get_shared(), *expand_pt.get_shared()]))
    layout = {
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
    shared_data = _frozen_values(var_keys)
    user_data = cp.make_user_data(var_keys, shared_data)
    sources = _sources(layout)
    folder.mkdir(parents=True)
    sig_logp, sig_expand = _signatures()
    logp_c = _cfunc(sources[0], "logp", sig_logp, logp_pt.vm.jit_fn, user_data.dtype,
                    folder, key)
    expand_c = _cfunc(sources[1], "expand", sig_expand, expand_pt.vm.jit_fn,
                      user_data.dtype, folder, key)
    saved = len(list(folder.glob("*.nbi"))) == 2
    if saved:
        meta = {**layout, "record": str(user_data.dtype.descr), "key": key,
                "pytensor_keys": [_graph_key(logp_pt), _graph_key(expand_pt)],
                "initial_point": _replay_or_none(model, layout["names"]),
                "versions": versions(), "model": _model_free_layout(model, layout, var_keys)}
        _atomic_write(folder / "layout.json", json.dumps(meta, indent=1).encode())
        _write_manifest(folder)
    else:  # numba declined to cache (e.g. a large constant is a dynamic global)
        shutil.rmtree(folder, ignore_errors=True)
    return _assemble(_dims_and_coords(model, layout), layout, var_keys, shared_data,
                     user_data, (logp_c, expand_c), initial_point_fn,
                     (logp_pt, expand_pt)), saved


def _load_entry(model, folder: Path, key: str):
    """The compiled model from a complete entry: no PyTensor compilation, no numba compile."""
    layout = json.loads((folder / "layout.json").read_text())
    by_name = _shared_by_name(model)
    var_keys = {by_name[s["name"]]: s["key"] for s in layout["shared"]}
    n_free = len(model.free_RVs)
    replay = layout.get("initial_point")
    points = (replayed_initial_point_fn(replay) if replay is not None
              else _pymc_initial_point_fn(model))
    return _load_wrappers(folder, key, layout, var_keys, _frozen_values(var_keys), points,
                          n_free, _dims_and_coords(model, layout))


def _load_wrappers(folder: Path, key: str, layout: dict[str, Any], var_keys: dict[Any, str],
                   shared_data: dict[str, Any], points: Callable, n_free: int,
                   dims_coords: tuple[dict, dict]):
    """The ``CompiledPyMCModel`` of an entry's cached wrappers, given its shared data and
    initial points."""
    from nutpie import compile_pymc as cp

    for s in layout["shared"]:
        arr = shared_data[s["key"]]
        if arr.ndim != s["ndim"] or arr.dtype.name != s["dtype"]:
            raise ValueError(f"shared variable {s['name']} does not match the cached layout")
    user_data = cp.make_user_data(var_keys, shared_data)
    if str(user_data.dtype.descr) != layout["record"]:
        raise ValueError("shared-data record does not match the cached layout")
    sources = _sources(layout)
    sig_logp, sig_expand = _signatures()
    # INNER is None: a cache miss here would fail to type, never compile something else.
    cfuncs = (_cfunc(sources[0], "logp", sig_logp, None, user_data.dtype, folder, key),
              _cfunc(sources[1], "expand", sig_expand, None, user_data.dtype, folder, key))
    if any(c.cache_hits != 1 for c in cfuncs):
        raise RuntimeError("numba did not load the cached wrappers")
    initial_point_fn = cp._rv_dict_to_flat_array_wrapper(
        points, names=layout["names"][:n_free],
        shapes=[tuple(s) for s in layout["shapes"][:n_free]])
    return _assemble(dims_coords, layout, var_keys, shared_data, user_data, cfuncs,
                     initial_point_fn, (None, None))


# -- a hit without the model -------------------------------------------------------------------


@dataclass(frozen=True)
class SharedSlot:
    """What nutpie reads of a shared variable (``pm.Data``) on a model-free hit: its name
    (``with_data``) and rank (the shared-data record)."""

    name: str
    ndim: int


def _model_free_layout(model, layout: dict[str, Any], var_keys: dict[Any, str]
                       ) -> dict[str, Any]:
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


def load_model_free(folder: Path, key: str, layout: dict[str, Any]):
    """The compiled model of a complete entry from its files alone: neither PyMC nor
    PyTensor is imported. ``None`` for an entry without a model-free description or
    without an initial-point replay (its hits need the PyMC model)."""
    import numpy as np
    import pandas as pd

    free, replay = layout.get("model"), layout.get("initial_point")
    if free is None or replay is None or layout.get("key") != key:
        return None
    var_keys = {SharedSlot(s["name"], int(s["ndim"])): s["key"] for s in layout["shared"]}
    dtypes = {s["key"]: s["dtype"] for s in layout["shared"]}
    shared_data = {}
    for k, v in free["shared_values"].items():
        arr = np.array(v["value"], dtype=dtypes[k]).reshape(tuple(v["shape"]))
        arr.flags.writeable = False
        shared_data[k] = arr
    dims = {k: tuple(v) for k, v in free["dims"].items()}
    coords = {k: pd.Index(v) for k, v in free["coords"].items()}
    return _load_wrappers(folder, key, layout, var_keys, shared_data,
                          replayed_initial_point_fn(replay), int(free["n_free"]),
                          (dims, coords))


def _pymc_initial_point_fn(model):
    """nutpie's default initial points: support points, jittered on every free variable."""
    from nutpie import compile_pymc as cp
    from pymc.initial_point import make_initial_point_fn

    return cp._wrap_with_lock(make_initial_point_fn(
        model=model, overrides=None, default_strategy="support_point",
        jitter_rvs=set(model.free_RVs), return_transformed=True))


REPLAY_CHECK_SEEDS = (0, 1, 7, DEFAULT_SEED, 2**32 + 5, 2**64 - 1)
"""Seeds at which a replayed initial point must equal PyMC's bit for bit before an entry
records it (nutpie passes a u64 per chain)."""


def initial_point_replay(model, names: list[str]) -> dict[str, Any] | None:
    """PyMC's initial-point function of ``model`` as data, or ``None`` if it is not
    reproduced exactly.

    nutpie's initial points are PyMC's ``support_point`` of every free variable (in the
    unconstrained space) plus a ``Uniform(-1, 1)`` jitter drawn, for each variable, from one
    of the streams ``SeedSequence(seed).spawn(n)`` (``pymc.pytensorf.reseed_rngs``). When
    no support point depends on another variable's jittered value (as in a non-centred
    model), the initial point is ``support + jitter`` with a fixed support and one stream
    per variable: then the support values and stream indices replace the compiled PyTensor
    function on a cache hit (0.1-0.25 s per process). The replay is recorded only if it
    equals PyMC's function exactly at every seed of :data:`REPLAY_CHECK_SEEDS`.
    """
    import numpy as np
    from pymc.initial_point import make_initial_point_fn

    free = model.free_RVs
    names = names[:len(free)]
    pymc_fn = make_initial_point_fn(model=model, overrides=None,
                                    default_strategy="support_point",
                                    jitter_rvs=set(free), return_transformed=True)
    support = make_initial_point_fn(model=model, overrides=None,
                                    default_strategy="support_point", jitter_rvs=set(),
                                    return_transformed=True)(0)
    if sorted(support) != sorted(names) or any(
            np.asarray(support[n]).dtype != np.float64 for n in names):
        return None
    replay = {"names": names, "n_streams": len(free),
              "support": [np.asarray(support[n]).tolist() for n in names],
              "shapes": [list(np.shape(support[n])) for n in names]}
    first = pymc_fn(REPLAY_CHECK_SEEDS[1])
    streams = []
    for name, shape in zip(names, replay["shapes"], strict=True):
        found = [j for j in range(len(free))
                 if np.array_equal(first[name], np.asarray(support[name])
                                   + _jitter(REPLAY_CHECK_SEEDS[1], len(free), j, shape))]
        if len(found) != 1:
            return None
        streams.append(found[0])
    replay["streams"] = streams
    replayed = replayed_initial_point_fn(replay)
    for seed in REPLAY_CHECK_SEEDS:
        want, got = pymc_fn(seed), replayed(seed)
        if not all(np.asarray(want[n]).tobytes() == np.asarray(got[n]).tobytes()
                   and np.shape(want[n]) == np.shape(got[n]) for n in names):
            return None
    return replay


def _replay_or_none(model, names: list[str]) -> dict[str, Any] | None:
    """:func:`initial_point_replay`, or ``None`` (PyMC's function on hits) if it fails."""
    try:
        return initial_point_replay(model, names)
    except Exception as exc:  # an optimisation only: never fail the entry for it
        logger.info("initial-point replay not recorded: %s: %s", type(exc).__name__, exc)
        return None


def _jitter(seed, n_streams: int, stream: int, shape) -> Any:
    """The ``Uniform(-1, 1)`` draw of ``pymc.pytensorf.reseed_rngs``' stream ``stream``."""
    import numpy as np

    sub = np.random.SeedSequence(seed).spawn(n_streams)[stream]
    return np.random.Generator(np.random.PCG64(sub)).uniform(-1, 1, size=tuple(shape))


def replayed_initial_point_fn(replay: dict[str, Any]) -> Callable[[Any], dict[str, Any]]:
    """The initial-point function recorded by :func:`initial_point_replay`."""
    import numpy as np

    support = [np.asarray(v, dtype=np.float64).reshape(shape)
               for v, shape in zip(replay["support"], replay["shapes"], strict=True)]
    parts = list(zip(replay["names"], support, replay["streams"], strict=True))
    n_streams = int(replay["n_streams"])

    def initial_point(seed) -> dict[str, Any]:
        subs = np.random.SeedSequence(seed).spawn(n_streams)
        return {name: np.asarray(base + np.random.Generator(np.random.PCG64(subs[j]))
                                 .uniform(-1, 1, size=base.shape))
                for name, base, j in parts}

    return initial_point


def _shared_by_name(model) -> dict[str, Any]:
    """The model's named shared variables (``pm.Data``), by name."""
    from pytensor.compile.sharedvalue import SharedVariable
    from pytensor.graph.traversal import graph_inputs

    out: dict[str, Any] = {}
    values = [model.rvs_to_values[rv] for rv in model.basic_RVs]  # observed data too
    for var in graph_inputs([*model.basic_RVs, *values, *model.potentials,
                             *model.deterministics]):
        if isinstance(var, SharedVariable) and var.name is not None:
            if out.get(var.name, var) is not var:
                raise ValueError(f"shared variable name {var.name!r} is not unique")
            out[var.name] = var
    return out


def _frozen_values(var_keys: dict[Any, str]) -> dict[str, Any]:
    import numpy as np

    data = {key: np.array(var.get_value(), order="C", copy=True)
            for var, key in var_keys.items()}
    for arr in data.values():
        arr.flags.writeable = False
    return data


def _sources(layout: dict[str, Any]) -> tuple[str, str]:
    shared = layout["shared"]
    ndims = {s["key"]: s["ndim"] for s in shared}
    dtypes = {s["key"]: s["dtype"] for s in shared}
    logp_keys = [shared[i]["key"] for i in layout["logp_shared"]]
    expand_keys = [shared[i]["key"] for i in layout["expand_shared"]]
    return (logp_source(layout["n_dim"], logp_keys, ndims, dtypes),
            expand_source(layout["n_dim"], layout["n_expanded"], expand_keys, ndims, dtypes))


def _shape_info(layout: dict[str, Any]) -> tuple:
    return (layout["names"], [slice(a, b) for a, b in layout["slices"]],
            [tuple(s) for s in layout["shapes"]])


def _dims_and_coords(model, layout: dict[str, Any]) -> tuple[dict, dict]:
    """nutpie's dims and coordinates of ``model`` (``_prepare_dims_and_coords``)."""
    from nutpie import compile_pymc as cp

    return cp._prepare_dims_and_coords(model, _shape_info(layout), layout["reparameterized"])


def _assemble(dims_coords, layout, var_keys, shared_data, user_data, cfuncs, initial_point_fn,
              pt_functions):
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
