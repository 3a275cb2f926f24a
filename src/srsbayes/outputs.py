"""Atomic writes: no half-written file, and each command's outputs as one unit
(:class:`OutputUnit`); the provenance every output records is :mod:`srsbayes.provenance`."""

from __future__ import annotations

import csv
import errno
import hashlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypedDict

from .errors import InputError, OutputError
from .interrupts import checkpoint, deferred, masked
from .provenance import command_line, lock_sha256, package_versions

__all__ = ["JSONObject", "JSONValue", "OutputUnit", "atomic_path", "check_output_path",
           "command_line", "lock_sha256", "package_versions", "verify_outputs", "write_json",
           "write_text", "write_with"]


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()

type JSONValue = (str | int | float | bool | list[JSONValue] | tuple[JSONValue, ...]
                  | dict[str, JSONValue] | None)
"""A value :func:`write_json` writes (a tuple becomes a list; NaN and infinities null)."""

type JSONObject = dict[str, JSONValue]
"""The JSON form of a typed result (``summary.json``, ``certainty.json``, ``trial.json``, an
audit finding): what a result's ``as_dict``/``to_dict`` returns at the JSON boundary, and
what a reader of such a file gets back. Results cross layers as dataclasses, TypedDicts and
enums; only their writers build one of these."""


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
    except OSError as exc:
        if exc.filename is None:  # a failed write() names no file: name the output
            exc.filename = str(path)
        raise
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


# -- output paths ------------------------------------------------------------------------------


def check_output_path(out: str | Path, option: str = "--out") -> Path:
    """Check, before any computation, that the folder ``out`` can be created or written.

    Returns the nearest existing folder at or above ``out`` (where its outputs are staged).

    Raises
    ------
    InputError
        ``out`` or a folder above it is an existing file, or the nearest existing folder
        is on a read-only file system or not writable by this user.
    """
    out = Path(out)
    for p in (out, *out.absolute().parents):
        if p.exists() or p.is_symlink():
            break
    if not p.is_dir():
        raise InputError("output path is not a folder: " + (
            "it is an existing file" if p == out else f"{p} is an existing file"),
            file=out, column=option)
    try:
        read_only = bool(os.statvfs(p).f_flag & os.ST_RDONLY)
    except OSError:
        read_only = False
    if read_only or not os.access(p, os.W_OK | os.X_OK):
        raise InputError(f"output folder cannot be written: {p} is "
                         + ("on a read-only file system" if read_only else "not writable"),
                         file=out, column=option)
    return p


# -- a command's outputs, written as one unit -------------------------------------------------

STAGING_PREFIX = ".srsbayes-staging-"
"""Name prefix of the folder a command's outputs are staged in before they move into place."""
MANIFEST = "manifest-{command}.json"
"""Name of a command's manifest in its output folder, written last."""
MANIFEST_FORMAT = "srsbayes output manifest 1"
"""The ``format`` entry of every manifest: files of that name without it are not ours."""
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


class OutputUnit:
    """The outputs of one command, staged in a hidden sibling folder and moved into place
    together, or not at all.

    ``with OutputUnit(out, "fit") as unit:`` writes into ``unit.folder()`` (a staging folder
    that stands for ``out``). When the block ends without an error the unit is committed:
    a manifest (``manifest-<command>.json``: each file's size and SHA-256, the run's
    provenance) is staged, then — with SIGINT and SIGTERM held back
    (:func:`srsbayes.interrupts.deferred`) — every manifest elsewhere that lists a file being
    replaced is removed (it now describes a mixture), the staged files are renamed over the
    old ones (``index.html`` and the manifest last), and files of this command's previous run
    that this run does not write are removed. Renames need no disk space, so once every file
    is staged the commit cannot run out of it. On any error, signal or ``KeyboardInterrupt``
    the staging folder is removed and ``out`` is left as it was; an ``OSError`` while
    writing becomes an :class:`~srsbayes.errors.OutputError` naming the output file.

    A reader checks a folder with :func:`verify_outputs`: a file whose bytes differ from its
    manifest's, or a folder without a manifest, is not (or not only) from one run.
    """

    def __init__(self, out: str | Path, command: str,
                 provenance: Mapping[str, object] | None = None) -> None:
        self.out = Path(out)
        self.command = command
        self.provenance = provenance
        self._root = check_output_path(self.out)
        self._staging: Path | None = None

    def folder(self, *parts: str) -> Path:
        """The staging folder standing for ``out/parts`` (created on first use)."""
        if self._staging is None:
            _remove_orphans(self._root)
            self._staging = Path(tempfile.mkdtemp(
                prefix=f"{STAGING_PREFIX}{self.command}-{os.getpid()}-", dir=self._root))
        folder = self._staging.joinpath(*parts)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def final(self, staged: str | Path) -> Path:
        """Where a staged path will be once the unit is committed."""
        assert self._staging is not None
        return self.out / Path(staged).relative_to(self._staging)

    def __enter__(self) -> OutputUnit:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 _tb: Any) -> None:
        if kind is None:
            try:
                self.commit()
                return
            except BaseException as err:
                exc = err
        error = (self._output_error(exc)
                 if isinstance(exc, OSError) and not isinstance(exc, OutputError) else None)
        self.discard()
        if error is not None:
            raise error from exc
        if exc is not None and kind is None:
            raise exc

    def _output_error(self, exc: OSError) -> OutputError:
        name = Path(exc.filename) if exc.filename else None
        if name is not None and self._staging is not None and name.is_relative_to(self._staging):
            name = self.final(name)
        target = name or self.out
        if exc.errno in _DISK_FULL:
            err = OutputError(f"no space left on the device to write {target}; nothing of "
                              "this run was written and earlier outputs are intact")
        else:
            err = OutputError(f"cannot write {target}: {exc.strerror or exc}; nothing of "
                              "this run was written and earlier outputs are intact")
        err.errno = exc.errno
        return err

    def discard(self) -> None:
        """Remove the staging folder and everything in it."""
        if self._staging is not None:
            with masked():
                shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None

    def commit(self) -> list[Path]:
        """Move the staged outputs into place (see the class docstring); returns them."""
        if self._staging is None:
            return []
        staged = _files_below(self._staging)
        manifest_name = MANIFEST.format(command=self.command)
        record = {"format": MANIFEST_FORMAT, "command": self.command,
                  "files": {p.relative_to(self._staging).as_posix(): _file_record(p)
                            for p in staged if p.name != manifest_name},
                  "provenance": self.provenance}
        own_manifest = self._staging / manifest_name
        write_json(own_manifest, record)
        # index.html (a report's entry point) and the manifest move last
        staged = [*sorted((p for p in staged if p != own_manifest),
                          key=lambda p: p.name == "index.html"), own_manifest]
        finals = [self.final(p) for p in staged]
        previous = _read_manifest(self.out / manifest_name)
        checkpoint(f"staged-{self.command}")
        with deferred():
            _invalidate_manifests(self.out, finals)
            for i, (src, dst) in enumerate(zip(staged, finals, strict=True)):
                dst.parent.mkdir(parents=True, exist_ok=True)
                _move(src, dst)
                if i == 0:
                    checkpoint(f"commit-{self.command}")
            for rel in previous.get("files", {}) if previous else {}:
                old = self.out / rel
                if old not in finals and old.is_file() and old.resolve().is_relative_to(
                        self.out.resolve()):
                    old.unlink()
            self.discard()
        return finals


def _files_below(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


class FileRecord(TypedDict):
    """A file's entry in a manifest."""

    bytes: int
    sha256: str


def _file_record(path: Path) -> FileRecord:
    return {"bytes": path.stat().st_size, "sha256": _sha256(path)}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _read_manifest(path: Path) -> JSONObject | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not (isinstance(doc, dict) and doc.get("format") == MANIFEST_FORMAT
            and isinstance(doc.get("files"), dict)):
        return None  # not a manifest srsbayes wrote
    return doc


def _manifests(folder: Path) -> list[Path]:
    try:
        return [p for p in folder.glob(MANIFEST.format(command="*")) if p.is_file()]
    except OSError:
        return []


def _invalidate_manifests(out: Path, finals: list[Path]) -> None:
    """Remove every manifest (in ``out``, above it, or in a folder this unit writes into)
    that lists a file about to be replaced: it would describe a mixture of two runs."""
    replaced = {p.resolve() for p in finals}
    folders = {p.resolve() for p in (out, *out.absolute().parents)}
    for f in finals:
        folders.update(q.resolve() for q in f.parents if q.is_relative_to(out))
    for folder in folders:
        for m in _manifests(folder):
            doc = _read_manifest(m)  # None: not one of ours, left alone
            if doc is not None and {(folder / rel).resolve() for rel in doc["files"]} & replaced:
                m.unlink(missing_ok=True)


def _move(src: Path, dst: Path) -> None:
    try:
        os.replace(src, dst)
    except OSError as exc:
        if exc.errno != errno.EXDEV:  # dst is on another file system (a mount inside out)
            raise
        with atomic_path(dst) as tmp:
            shutil.copyfile(src, tmp)


def _remove_orphans(root: Path) -> None:
    """Remove staging folders of processes that no longer exist (killed with SIGKILL)."""
    for p in root.glob(STAGING_PREFIX + "*"):
        try:
            pid = int(p.name[len(STAGING_PREFIX):].split("-")[1])
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(p, ignore_errors=True)
        except (ValueError, IndexError, OSError):
            continue


def verify_outputs(out: str | Path) -> dict[str, list[str]]:
    """Check a folder's manifests against its files.

    Returns
    -------
    dict
        For each manifest in ``out`` (by file name), the files whose size or SHA-256
        differ from what it records (an empty list: every file is from that run). An
        empty dict: ``out`` has no manifest (no complete run, or one whose files were
        since overwritten by another command).
    """
    out = Path(out)
    result = {}
    for m in sorted(_manifests(out)):
        doc = _read_manifest(m)
        if doc is None:  # a file of that name that srsbayes did not write
            continue
        bad = []
        for rel, want in doc["files"].items():
            p = out / rel
            if not p.is_file() or _file_record(p) != want:
                bad.append(rel)
        result[m.name] = bad
    return result
