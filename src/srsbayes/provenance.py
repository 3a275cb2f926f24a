"""How an output was made: one block, built by :func:`provenance`, in every output.

``summary.json``, ``sweep.json``, ``certainty.json``, ``sbc_<family>.json``, the report's
methods section and every output folder's manifest (:mod:`srsbayes.outputs`) carry the same
block: the data file (path and SHA-256), every spec used (path, SHA-256 and full text), the
priors, the seed and sampler settings, the package versions with the SHA-256 of ``uv.lock``,
and the command line. Re-running the recorded command on the recorded data and specs with
the recorded versions gives the same numbers on the same machine (within Monte Carlo error
on another: ``docs/reproducibility.md``).
"""

from __future__ import annotations

import hashlib
import platform
import shlex
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol, TypedDict

PACKAGES = ("srsbayes", "pymc", "pytensor", "nutpie", "arviz", "arviz-stats", "numpy",
            "scipy", "pandas", "xarray")


class _Table(Protocol):
    path: str
    sha256: str


class _Spec(Protocol):
    id: str
    path: str
    text: str


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages that shape the numbers, and the lock's hash."""
    return dict(_package_versions())


@lru_cache(maxsize=1)
def _package_versions() -> tuple[tuple[str, str], ...]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    out["uv.lock sha256"] = lock_sha256()
    return tuple(out.items())


def lock_sha256() -> str:
    """SHA-256 of the ``uv.lock`` the environment was installed from.

    ``scripts/bootstrap`` installs a source checkout (editable) from its lock; an installed
    wheel has no lock beside it, which is said instead of a hash (the versions still apply).
    """
    lock = Path(__file__).resolve().parents[2] / "uv.lock"  # src/srsbayes/ -> checkout
    if lock.is_file():
        return hashlib.sha256(lock.read_bytes()).hexdigest()
    return "no lock file (not installed from uv.lock)"


_command: list[str] | None = None


@contextmanager
def recording_command(argv: Sequence[str]) -> Iterator[None]:
    """While the block runs, :func:`command_line` is ``python -m srsbayes`` + ``argv``
    (the command line's ``main`` is also called in-process, with ``sys.argv`` another's)."""
    global _command
    previous, _command = _command, ["-m", "srsbayes", *argv]
    try:
        yield
    finally:
        _command = previous


def command_line() -> str:
    """How this process was invoked, quoted so that it can be pasted into a shell."""
    if _command is not None:
        args = _command
    else:
        args = list(sys.argv) or [""]
        if Path(args[0]).name == "__main__.py" and Path(args[0]).parent.name == "srsbayes":
            args = ["-m", "srsbayes", *args[1:]]
    return shlex.join([Path(sys.executable).name, *args])


class DataRecord(TypedDict):
    """The study table an output was made from."""

    path: str
    sha256: str


class Provenance(TypedDict):
    """The provenance block (:func:`provenance`); an output may add its own keys beside
    these (a TypedDict is a plain dict in JSON, so the block is written as it is)."""

    data: DataRecord | None
    specs: dict[str, dict[str, str]]
    priors: dict[str, dict[str, str]]
    seed: int | None
    settings: dict[str, object]
    versions: dict[str, str]
    lock_sha256: str
    command: str


def spec_record(spec: _Spec) -> dict[str, str]:
    """A spec's path, the SHA-256 of its text and the text itself."""
    return {"path": spec.path, "sha256": hashlib.sha256(spec.text.encode("utf-8")).hexdigest(),
            "text": spec.text}


def provenance(*, table: _Table | None, specs: Iterable[_Spec],
               priors: Mapping[str, Mapping[str, Any]] | None = None,
               seed: int | None = None, settings: Mapping[str, Any] | None = None,
               ) -> Provenance:
    """The provenance block of an output.

    Parameters
    ----------
    table
        The study table read (``path``, ``sha256``); None for an output made from no data.
    specs
        The outcome specs used (each recorded with :func:`spec_record`, by id).
    priors
        The priors used, by outcome id then prior slot (their text, e.g. ``halfnormal(0.5)``).
    seed
        The seed of the run.
    settings
        Sampler settings (draws, tune, chains, target acceptance, ...).

    Returns
    -------
    Provenance
        ``data``, ``specs``, ``priors``, ``seed``, ``settings``, ``versions`` (including
        ``uv.lock sha256``), ``lock_sha256`` and ``command`` (the command line).
    """
    return {
        "data": None if table is None else {"path": table.path, "sha256": table.sha256},
        "specs": {s.id: spec_record(s) for s in specs},
        "priors": {k: {slot: str(p) for slot, p in v.items()} for k, v in (priors or {}).items()},
        "seed": seed,
        "settings": dict(settings or {}),
        "versions": package_versions(),
        "lock_sha256": lock_sha256(),
        "command": command_line(),
    }
