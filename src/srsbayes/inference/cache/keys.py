"""Where the compile cache lives and under which key an entry is filed.

Two keys name an entry. :func:`entry_key` hashes the model's graph
(:func:`..graph_key.model_graph_key`) with :func:`versions`; :func:`structure_key` names a
model by how it is built (family, number of studies, structure, placeholder priors, the
source it is built from) so that a hit never builds the model. Both include the versions
of everything whose change could make a cached wrapper stale: numba's own cache does not
notice a changed callee.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

CACHE_ENV = "SRSBAYES_CACHE_DIR"
"""Environment variable naming the cache folder; ``off`` (or ``0``, ``no``, ``false``)
disables the cache."""

NUTPIE_SUPPORTED = ("0.16.11", "0.17")
"""nutpie versions ``[low, high)`` whose internals this package was written against."""

NUTPIE_SOURCE_SHA256 = "52cf4cd08eeedb3a9a22ef3ed68abad17248197aab4841566ad142c8cd81adb7"
"""``nutpie/compile_pymc.py`` of nutpie 0.16.11, read when this package was written. Any
other source uses the ordinary compile (a changed nutpie may have changed what we copy)."""

FORMAT = 3
"""Version of the generated wrappers and entry layout; part of every key (2: compiled
without fast-math, :func:`.compile.ieee_math`; 3: the wrappers' numba environment is
rebuilt from :mod:`.wrappers`, so a hit never imports PyTensor)."""

SOURCE_PACKAGES = ("families", "priors")
"""Subpackages of srsbayes whose source a family's model is built from: part of every
:func:`structure_key` (with the family's own module, wherever it lives)."""

_VERSIONED = ("numba", "llvmlite", "numpy", "pytensor", "pymc", "nutpie", "srsbayes")
_OFF = {"off", "0", "no", "false", "none"}


def cache_root(environ: Mapping[str, str] | None = None) -> Path | None:
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


def resolve_root(root: Path | str | None) -> Path | None:
    """``root`` as a folder: ``"default"`` reads :func:`cache_root`, ``None`` is off."""
    return cache_root() if root == "default" else (Path(root) if root is not None else None)


def versions() -> dict[str, str]:
    """Versions of everything whose change could make a cached wrapper stale (read from
    the installed distributions' metadata: nothing is imported)."""
    out = {"python": sys.version, "format": str(FORMAT), "cache_code": own_source_sha256()}
    for name in _VERSIONED:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "unknown"
    return out


def own_source_sha256() -> str:
    """SHA-256 of the modules that write and read an entry: this package, the
    :mod:`..compile_cache` facade and :mod:`..graph_key`."""
    package = Path(__file__).resolve().parent
    files = [*sorted(package.glob("*.py")), package.parent / "compile_cache.py",
             package.parent / "graph_key.py"]
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
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


def nutpie_source_sha256() -> str:
    """SHA-256 of the installed ``nutpie/compile_pymc.py``, whose internals we mirror
    (found without importing nutpie)."""
    from importlib.util import find_spec

    spec = find_spec("nutpie")
    if spec is None or spec.origin is None:
        return "not installed"
    return hashlib.sha256(Path(spec.origin).with_name("compile_pymc.py").read_bytes()
                          ).hexdigest()


def cache_usable() -> bool:
    """Whether the installed nutpie is the one whose internals this package mirrors."""
    return nutpie_supported() and nutpie_source_sha256() == NUTPIE_SOURCE_SHA256


def entry_key(graph: str) -> str:
    """SHA-256 of the model graph's key and :func:`versions`."""
    payload = json.dumps({"graph": graph, "versions": versions()}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def model_source_sha256(module_file: str | Path) -> str:
    """SHA-256 of the source a family's model is built from: the family's module and every
    module of :data:`SOURCE_PACKAGES` (a change to any of them starts a new entry)."""
    package = Path(__file__).resolve().parents[2]
    files = {Path(module_file).resolve()}
    for sub in SOURCE_PACKAGES:
        files.update(p.resolve() for p in (package / sub).glob("*.py"))
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def structure_key(description: Mapping[str, object], module_file: str | Path,
                  environ: Mapping[str, str] | None = None) -> str:
    """The key of a model known by how it is built, without building it.

    ``description`` says what ``build_model`` is called with (family, number of studies,
    structure, placeholder priors); the key adds the source it is built from
    (:func:`model_source_sha256`), :func:`versions` (Python, numba, PyTensor, PyMC, nutpie,
    srsbayes, this package) and ``$PYTENSOR_FLAGS``, which can change the compiled graph.
    """
    env = os.environ if environ is None else environ
    payload = json.dumps({"model": description, "source": model_source_sha256(module_file),
                          "pytensor_flags": env.get("PYTENSOR_FLAGS", ""),
                          "versions": versions()}, sort_keys=True, default=repr)
    return hashlib.sha256(payload.encode()).hexdigest()
