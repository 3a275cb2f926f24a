"""Entries on disk: atomic writes, the manifest that marks an entry complete, the record
that points a structure key to its entry, and the typed layout an entry describes itself by.

An entry is a folder ``nutpie-<key[:32]>`` holding numba's cache files of the two wrappers,
their generated source, ``layout.json`` (:class:`EntryMeta`) and, written last,
``manifest.json``: the SHA-256 of every other file. An entry whose files do not match its
manifest is unfinished or damaged and is rebuilt. ``structure-<key[:32]>.json`` names the
entry a structure key (:func:`.keys.structure_key`) was compiled into.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, TypedDict

LOCK_TIMEOUT = 600.0
"""Seconds to wait for another process compiling the same entry before compiling
without the cache."""

MANIFEST = "manifest.json"
LAYOUT = "layout.json"


class SharedEntry(TypedDict):
    """A shared variable (``pm.Data``) in the wrappers' shared-data record."""

    key: str
    """Its stable field name in the record (``s0``, ``s1``, ...)."""
    name: str
    ndim: int
    dtype: str


class Layout(TypedDict):
    """What the generated wrappers and nutpie's ``CompiledPyMCModel`` need of a model."""

    n_dim: int
    n_expanded: int
    names: list[str]
    slices: list[list[int]]
    shapes: list[list[int]]
    reparameterized: list[str]
    shared: list[SharedEntry]
    logp_shared: list[int]
    """Indices into ``shared`` of the logp function's shared inputs, in order."""
    expand_shared: list[int]


class Replay(TypedDict):
    """PyMC's initial-point function as data (:func:`.replay.initial_point_replay`)."""

    names: list[str]
    n_streams: int
    support: list[Any]
    """Each free variable's support point (nested lists of floats)."""
    shapes: list[list[int]]
    streams: list[int]


class SharedValue(TypedDict):
    shape: list[int]
    value: list[Any]


class ModelFree(TypedDict):
    """What a hit without the PyMC model needs beyond :class:`Layout`."""

    n_free: int
    dims: dict[str, list[str]]
    coords: dict[str, list[Any]]
    shared_values: dict[str, SharedValue]


class EntryMeta(Layout):
    """``layout.json``: the layout, the key, and how the entry was made."""

    record: str
    """``str(numpy dtype.descr)`` of the shared-data record."""
    key: str
    pytensor_keys: list[str | None]
    initial_point: Replay | None
    versions: dict[str, str]
    model: ModelFree


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def digests(folder: Path) -> dict[str, str]:
    """SHA-256 of every file of ``folder`` but the manifest and hidden temporaries."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir())
            if p.is_file() and p.name != MANIFEST and not p.name.startswith(".")}


def entry_complete(folder: Path) -> bool:
    """Whether ``folder`` holds a finished entry whose files match its manifest."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    return bool(manifest.get("files")) and manifest["files"] == digests(folder)


def write_manifest(folder: Path) -> None:
    """Mark ``folder`` complete: written last, after every other file."""
    body = {"files": digests(folder)}
    atomic_write(folder / MANIFEST, json.dumps(body, indent=1, sort_keys=True).encode())


def read_meta(folder: Path) -> EntryMeta:
    """An entry's ``layout.json``."""
    meta: EntryMeta = json.loads((folder / LAYOUT).read_text())
    return meta


def write_meta(folder: Path, meta: EntryMeta) -> None:
    atomic_write(folder / LAYOUT, json.dumps(meta, indent=1).encode())


def entry_name(key: str) -> str:
    """The folder name of the entry of ``key``."""
    return f"nutpie-{key[:32]}"


def structure_file(root: Path, key: str) -> Path:
    """The record pointing structure key ``key`` to its entry."""
    return root / f"structure-{key[:32]}.json"


def record_structure(root: Path, key: str, entry: Path) -> None:
    """Point structure key ``key`` to ``entry`` (written atomically)."""
    atomic_write(structure_file(root, key),
                 json.dumps({"structure_key": key, "entry": entry.name}).encode())


def entry_of_structure(root: Path, key: str) -> Path | None:
    """The entry folder recorded for structure key ``key`` under ``root``, or ``None``."""
    try:
        record = json.loads(structure_file(root, key).read_text())
    except (OSError, ValueError):
        return None
    if record.get("structure_key") != key:
        return None
    entry = root / str(record["entry"])
    if entry.parent != root or not entry.name.startswith("nutpie-"):
        return None
    return entry
