"""Compile a PyMC model for nutpie through the cache: look up, load, or build and save.

:func:`compile_structure` is what fits call: a hit by structure key loads the entry's
files with numba, nutpie and NumPy alone (neither PyMC nor PyTensor is imported); a miss
builds the model and goes through :func:`compile_model`, the graph-keyed path with its
file lock, manifest check and fallback to ``nutpie.compile_pymc_model``.
"""

from __future__ import annotations

import logging
import shutil
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import store
from .entry import build_entry, load_entry, load_model_free
from .keys import cache_usable, entry_key, resolve_root, structure_key
from .store import (
    entry_complete,
    entry_name,
    entry_of_structure,
    read_meta,
    record_structure,
)
from .wrappers import register_locator

logger = logging.getLogger("srsbayes.inference.compile_cache")

STATS: Counter[str] = Counter()
"""Per-process counts: ``hit`` (both wrappers loaded from disk), ``miss`` (compiled and
saved), ``uncached`` (compiled without the cache) and ``fallback`` (cached path failed)."""


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
    a cache hit, a first compile, a fallback or no cache
    (``tests/integration/test_determinism.py``).
    It costs about half again the sampling time of the binomial family's fits (LMD 0.6 ->
    0.95 s per 4 x 2000 steps; OS unchanged; ``docs/performance.md``).
    """
    import pytensor

    with pytensor.config.change_flags(numba__fastmath=False):
        yield


def compile_model(model: Any, root: Path | str | None = "default") -> Any:
    """``nutpie.compile_pymc_model(model)`` with the compiled model cached on disk.

    Parameters
    ----------
    model
        A ``pymc.Model``.
    root
        Cache folder; ``"default"`` reads :func:`.keys.cache_root`, ``None`` disables the
        cache.

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


def compile_structure(description: Mapping[str, object], module_file: str | Path,
                      build: Callable[[], Any], root: Path | str | None = "default") -> Any:
    """The compiled model that ``build()`` returns, found by :func:`.keys.structure_key`
    first.

    A hit reads the entry a previous process recorded under the key and loads its cached
    wrappers (:func:`.entry.load_model_free`): ``build`` is not called and neither PyMC nor
    PyTensor is imported. Otherwise the model is built and compiled by
    :func:`compile_model` (its own graph-keyed entry, the checks and the fallback of the
    ordinary path), and the key is recorded to point to that entry.
    """
    folder = resolve_root(root)
    key = None
    if folder is not None and cache_usable():
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
    if folder is not None and key is not None and entry is not None:
        try:
            record_structure(folder, key, entry)
        except OSError as exc:
            logger.info("structure key not recorded: %s", exc)
    return compiled


def _load_by_structure(root: Path, key: str) -> Any:
    """The compiled model recorded under structure key ``key`` in ``root``, or ``None``."""
    from filelock import FileLock

    entry = entry_of_structure(root, key)
    if entry is None:
        return None
    register_locator()
    with FileLock(str(root / f"{entry.name}.lock"), timeout=store.LOCK_TIMEOUT):
        if not entry_complete(entry):
            return None
        meta = read_meta(entry)
        return load_model_free(entry, meta["key"], meta)


def _compile_model(model: Any, root: Path | str | None) -> tuple[Any, Path | None]:
    """The compiled model and the cache entry it is stored in (``None``: not cached)."""
    import nutpie

    folder = resolve_root(root)
    if folder is None or not cache_usable():
        STATS["uncached"] += 1
        return nutpie.compile_pymc_model(model), None
    try:
        return _compile_cached(model, folder)
    except Exception as exc:  # the cache may never fail a fit
        STATS["fallback"] += 1
        logger.warning("srsbayes: warning: compile cache failed (%s: %s); compiling without it",
                       type(exc).__name__, exc)
        return nutpie.compile_pymc_model(model), None


def _compile_cached(model: Any, root: Path) -> tuple[Any, Path | None]:
    """Load the model's entry under ``root``, building it first if it is missing."""
    from filelock import FileLock

    from ..graph_key import Unkeyable, model_graph_key

    try:
        graph = model_graph_key(model)
    except Unkeyable as exc:
        import nutpie

        logger.info("compile cache skipped: %s", exc)
        STATS["uncached"] += 1
        return nutpie.compile_pymc_model(model), None
    key = entry_key(graph)
    name = entry_name(key)
    folder = root / name
    root.mkdir(parents=True, exist_ok=True)
    register_locator()
    with FileLock(str(root / f"{name}.lock"), timeout=store.LOCK_TIMEOUT):
        if entry_complete(folder):
            try:
                compiled = load_entry(model, folder, key)
            except Exception:
                shutil.rmtree(folder, ignore_errors=True)  # so the next process rebuilds it
                raise
            status = "hit"
        else:
            shutil.rmtree(folder, ignore_errors=True)  # unfinished or corrupted
            compiled, saved = build_entry(model, folder, key)
            status = "miss" if saved else "uncached"
    STATS[status] += 1
    logger.info("compile cache %s: %s", status, folder)
    return compiled, (folder if status != "uncached" else None)
