"""The compile cache's public names, where the rest of srsbayes imports them from.

The cache itself is the subpackage :mod:`srsbayes.inference.cache` (its docstring describes
how it works): :mod:`~.cache.keys` (where and under which key), :mod:`~.cache.store`
(entries on disk, the typed layout), :mod:`~.cache.wrappers` (generated nutpie wrappers,
numba's cache), :mod:`~.cache.replay` (PyMC's initial points as data), :mod:`~.cache.entry`
(building and loading an entry) and :mod:`~.cache.compile` (look up, load or build).
"""

from __future__ import annotations

from .cache.compile import STATS, compile_model, compile_structure, ieee_math
from .cache.entry import SharedSlot, load_model_free
from .cache.keys import (
    CACHE_ENV,
    FORMAT,
    NUTPIE_SOURCE_SHA256,
    NUTPIE_SUPPORTED,
    SOURCE_PACKAGES,
    cache_root,
    entry_key,
    model_source_sha256,
    nutpie_source_sha256,
    nutpie_supported,
    structure_key,
    versions,
)
from .cache.replay import REPLAY_CHECK_SEEDS, initial_point_replay, replayed_initial_point_fn
from .cache.store import LOCK_TIMEOUT, EntryMeta, Layout, Replay
from .cache.store import entry_complete as _entry_complete
from .cache.store import write_manifest as _write_manifest
from .cache.wrappers import expand_source, logp_source

__all__ = [
    "CACHE_ENV", "FORMAT", "LOCK_TIMEOUT", "NUTPIE_SOURCE_SHA256", "NUTPIE_SUPPORTED",
    "REPLAY_CHECK_SEEDS", "SOURCE_PACKAGES", "STATS", "EntryMeta", "Layout", "Replay",
    "SharedSlot", "_entry_complete", "_write_manifest", "cache_root", "compile_model",
    "compile_structure", "entry_key", "expand_source", "ieee_math", "initial_point_replay",
    "load_model_free", "logp_source", "model_source_sha256", "nutpie_source_sha256",
    "nutpie_supported", "replayed_initial_point_fn", "structure_key", "versions",
]
