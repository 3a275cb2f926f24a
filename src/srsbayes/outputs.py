"""Atomic writes and provenance: nothing half-written, every output says how it was made."""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import platform
import sys
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("srsbayes", "pymc", "pytensor", "nutpie", "arviz", "arviz-stats", "numpy",
            "scipy", "pandas", "xarray")


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages that shape the numbers, and the lock's hash."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    out["uv.lock sha256"] = lock_sha256()
    return out


def lock_sha256() -> str:
    """SHA-256 of the ``uv.lock`` the environment was installed from.

    ``scripts/bootstrap`` installs a source checkout (editable) from its lock; an installed
    wheel has no lock beside it, which is said instead of a hash (the versions still apply).
    """
    lock = Path(__file__).resolve().parents[2] / "uv.lock"  # src/srsbayes/ -> checkout
    if lock.is_file():
        return hashlib.sha256(lock.read_bytes()).hexdigest()
    return "no lock file (not installed from uv.lock)"


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


@contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path beside ``path``; rename it over ``path`` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; outputs are ordinary files
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(path: str | Path, text: str) -> None:
    """Write ``text`` atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def json_text(obj: Any, *, indent: int | None = 2) -> str:
    """``obj`` as strict JSON (RFC 8259): NaN and infinities become null, never the bare
    ``NaN``/``Infinity`` that ``json.dumps`` writes by default and other readers refuse."""
    return json.dumps(_clean(obj), indent=indent, ensure_ascii=False, allow_nan=False)


def write_json(path: str | Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON atomically; NaN and infinities become null."""
    write_text(path, json_text(obj) + "\n")


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV
Injection"): a study named ``=cmd|' /C calc'!A0`` must not run anything when the CSV is
opened."""


def csv_cell(value: Any) -> Any:
    """A text cell that starts with one of :data:`FORMULA_START`, prefixed with ``'`` (shown
    as text, not run); numbers and other text unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_text(frame: Any) -> str:
    """A :class:`pandas.DataFrame` as CSV text with every text cell made safe by
    :func:`csv_cell` (numeric columns, e.g. -0.5, stay numbers), column names included;
    text cells are quoted, numbers not."""
    safe = frame.rename(columns=csv_cell)
    for col in safe.columns:
        if safe[col].dtype.kind not in "biufcmM":  # text (object or string) columns
            safe[col] = safe[col].map(csv_cell)
    # Every text cell quoted: the csv module quotes a cell holding a line feed but not one
    # holding a lone carriage return, which would otherwise split the row.
    return safe.to_csv(index=False, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)


def write_with(path: str | Path, writer: Callable[[Path], None]) -> None:
    """Call ``writer(tmp_path)`` and move the result into place atomically."""
    with atomic_path(path) as tmp:
        writer(tmp)


def _clean(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalars
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def command_line() -> str:
    """How this process was invoked, for provenance."""
    return " ".join([Path(sys.executable).name, *sys.argv])
