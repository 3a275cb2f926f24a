"""A command's outputs as one unit (issue 20, items 3-5 and 10): :class:`OutputUnit`,
:func:`check_output_path`, a full disk and the provenance block.

No sampling here: these tests write small files. The full disk is a real 200 KB tmpfs
where the machine lets us mount one (CI runs as root on such a machine), and an injected
``ENOSPC`` otherwise, so the test never skips.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srsbayes import interrupts
from srsbayes.errors import InputError, OutputError
from srsbayes.outputs import (
    STAGING_PREFIX,
    OutputUnit,
    check_output_path,
    verify_outputs,
    write_json,
    write_text,
    write_with,
)
from srsbayes.provenance import lock_sha256, provenance


def _staging_dirs(root: Path) -> list[Path]:
    return sorted(root.rglob(STAGING_PREFIX + "*"))


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_committed_unit_appears_with_a_manifest_of_every_file(tmp_path):
    out = tmp_path / "reports" / "lmd"
    with OutputUnit(out, "fit", {"seed": 7}) as unit:
        folder = unit.folder()
        write_text(folder / "summary.json", "{}\n")
        write_with(folder / "posterior.nc", lambda tmp: tmp.write_bytes(b"\x89HDF" * 10))
        assert not out.exists()  # nothing visible before the commit
        assert unit.final(folder / "summary.json") == out / "summary.json"
    manifest = json.loads((out / "manifest-fit.json").read_text())
    assert manifest["command"] == "fit" and manifest["provenance"] == {"seed": 7}
    assert manifest["files"]["posterior.nc"] == {
        "bytes": 40, "sha256": hashlib.sha256(b"\x89HDF" * 10).hexdigest()}
    assert sorted(p.name for p in out.iterdir()) == ["manifest-fit.json", "posterior.nc",
                                                     "summary.json"]
    assert verify_outputs(out) == {"manifest-fit.json": []}
    assert _staging_dirs(tmp_path) == []


def test_an_error_in_the_block_leaves_earlier_outputs_and_no_staging(tmp_path):
    out = tmp_path / "lmd"
    with OutputUnit(out, "fit") as unit:
        write_text(unit.folder() / "summary.json", "old\n")
    before = _snapshot(tmp_path)
    with pytest.raises(RuntimeError, match="boom"), OutputUnit(out, "fit") as unit:
        write_text(unit.folder() / "summary.json", "new\n")
        write_text(unit.folder() / "posterior.nc", "new\n")
        raise RuntimeError("boom")
    assert _snapshot(tmp_path) == before
    assert _staging_dirs(tmp_path) == []


def test_nothing_is_created_for_a_new_folder_when_the_run_fails(tmp_path):
    out = tmp_path / "a" / "b"
    with pytest.raises(KeyboardInterrupt), OutputUnit(out, "sweep") as unit:
        write_text(unit.folder() / "sweep.csv", "x\n")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_files_of_the_previous_run_that_this_run_does_not_write_are_removed(tmp_path):
    """A report that drew a figure last time and not now must not keep the old figure
    beside the new page; files of other commands in the folder are kept."""
    out = tmp_path / "r"
    with OutputUnit(out, "report") as unit:
        write_text(unit.folder("figures") / "ppc_lc.png", "old figure")
        write_text(unit.folder() / "index.html", "old page")
    write_text(out / "notes.txt", "mine")
    with OutputUnit(out, "report") as unit:
        write_text(unit.folder() / "index.html", "new page")
    assert not (out / "figures" / "ppc_lc.png").exists()
    assert (out / "index.html").read_text() == "new page"
    assert (out / "notes.txt").read_text() == "mine"
    assert verify_outputs(out) == {"manifest-report.json": []}


def test_a_manifest_that_would_describe_a_mixture_is_removed(tmp_path):
    """``fit lmd`` into a report's outcome folder replaces files the report's manifest
    lists: that manifest is removed (the folder is now a mixture), the fit's is written."""
    out = tmp_path / "reports"
    with OutputUnit(out, "report") as unit:
        write_text(unit.folder("lmd") / "summary.json", "report's fit")
        write_text(unit.folder() / "index.html", "page")
    assert verify_outputs(out) == {"manifest-report.json": []}
    with OutputUnit(out / "lmd", "fit") as unit:
        write_text(unit.folder() / "summary.json", "new fit")
    assert verify_outputs(out) == {}
    assert verify_outputs(out / "lmd") == {"manifest-fit.json": []}
    # a file of a manifest's name that srsbayes did not write is never touched
    foreign = tmp_path / "manifest-notes.json"
    foreign.write_text('{"files": {"reports/lmd/summary.json": {}}}')
    with OutputUnit(out / "lmd", "fit") as unit:
        write_text(unit.folder() / "summary.json", "newer fit")
    assert foreign.read_text() == '{"files": {"reports/lmd/summary.json": {}}}'
    assert verify_outputs(tmp_path) == {}
    # a tampered file is reported by the manifest that lists it
    (out / "lmd" / "summary.json").write_text("edited")
    assert verify_outputs(out / "lmd") == {"manifest-fit.json": ["summary.json"]}


def test_units_nest_inside_a_staging_folder(tmp_path):
    """The report stages each outcome's fit unit inside its own staging folder: the inner
    manifest travels with the outer commit."""
    out = tmp_path / "reports"
    with OutputUnit(out, "report") as outer:
        with OutputUnit(outer.folder() / "lmd", "fit") as inner:
            write_text(inner.folder() / "summary.json", "fit")
        write_text(outer.folder() / "index.html", "page")
        assert not out.exists()
    assert verify_outputs(out / "lmd") == {"manifest-fit.json": []}
    assert verify_outputs(out) == {"manifest-report.json": []}
    assert "lmd/manifest-fit.json" in json.loads(
        (out / "manifest-report.json").read_text())["files"]
    assert _staging_dirs(tmp_path) == []


def test_staging_left_by_a_killed_process_is_removed(tmp_path):
    dead = subprocess.Popen(["true"])  # a pid that has exited
    dead.wait()
    orphan = tmp_path / f"{STAGING_PREFIX}fit-{dead.pid}-abc"
    (orphan / "x").mkdir(parents=True)
    alive = tmp_path / f"{STAGING_PREFIX}fit-{os.getpid()}-def"
    alive.mkdir()
    with OutputUnit(tmp_path, "fit") as unit:
        write_text(unit.folder() / "summary.json", "{}")
    assert not orphan.exists() and alive.exists()


def test_a_signal_during_the_commit_waits_until_every_file_is_in_place(tmp_path,
                                                                       monkeypatch):
    """The commit's renames run with signals deferred: a signal that arrives after the
    first rename is acted on once the unit is complete."""
    out = tmp_path / "sweep"
    with OutputUnit(out, "sweep") as unit:
        for name in ("sweep.csv", "sweep.json", "sweep.png"):
            write_text(unit.folder() / name, "old " + name)
    monkeypatch.setattr(interrupts, "_received", None)
    calls = []

    def arrive(name: str) -> None:
        calls.append(name)
        if name == "commit-sweep":  # what the SIGINT handler does while deferred
            interrupts._handler(2, None)

    monkeypatch.setattr("srsbayes.outputs.checkpoint", arrive)
    with pytest.raises(interrupts.Interrupted) as exc, OutputUnit(out, "sweep") as unit:
        for name in ("sweep.csv", "sweep.json", "sweep.png"):
            write_text(unit.folder() / name, "new " + name)
    assert exc.value.outputs_complete and exc.value.exit_status == 130
    assert calls == ["staged-sweep", "commit-sweep"]
    assert {p.name: p.read_text() for p in out.glob("sweep.*")} == {
        n: "new " + n for n in ("sweep.csv", "sweep.json", "sweep.png")}
    assert verify_outputs(out) == {"manifest-sweep.json": []}


# -- output paths, checked before any computation ---------------------------------------------


def test_an_existing_file_or_a_path_under_a_file_is_refused(tmp_path):
    f = tmp_path / "afile"
    f.write_text("x")
    with pytest.raises(InputError, match="it is an existing file"):
        check_output_path(f)
    with pytest.raises(InputError, match=f"{f} is an existing file") as exc:
        check_output_path(f / "x" / "y")
    assert exc.value.column == "--out"
    assert check_output_path(tmp_path / "new" / "folder") == tmp_path


def _mount_tmpfs(target: Path, options: str) -> bool:
    target.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],
                          capture_output=True, check=False)
    return proc.returncode == 0


def _umount(target: Path) -> None:
    subprocess.run(["umount", str(target)], capture_output=True, check=False)


def test_a_read_only_folder_is_refused(tmp_path, monkeypatch):
    """A read-only file system (a real read-only tmpfs where the machine allows mounting;
    else ``statvfs`` reporting one), and a folder the user may not write."""
    ro = tmp_path / "ro"
    if _mount_tmpfs(ro, "ro,size=64k"):
        try:
            with pytest.raises(InputError, match="on a read-only file system"):
                check_output_path(ro / "lmd")
        finally:
            _umount(ro)
    else:
        ro.mkdir(exist_ok=True)
        real = os.statvfs

        class _RO:
            f_flag = os.ST_RDONLY

        monkeypatch.setattr(os, "statvfs", lambda p: _RO() if Path(p) == ro else real(p))
        with pytest.raises(InputError, match="on a read-only file system"):
            check_output_path(ro / "lmd")
        monkeypatch.setattr(os, "statvfs", real)
    locked = tmp_path / "locked"
    locked.mkdir()
    monkeypatch.setattr(os, "access", lambda p, mode: Path(p) != locked)  # root may write
    with pytest.raises(InputError, match="locked is not writable"):
        check_output_path(locked / "out")


# -- a full disk ------------------------------------------------------------------------------


@pytest.fixture
def full_disk(tmp_path, monkeypatch):
    """A folder on a 200 KB file system: a real tmpfs if it can be mounted, else one whose
    writes beyond 200 KB raise ENOSPC (injected into ``Path.write_bytes``)."""
    disk = tmp_path / "disk"
    if _mount_tmpfs(disk, "size=200k"):
        yield disk
        _umount(disk)
        return
    disk.mkdir(exist_ok=True)
    real = Path.write_bytes

    def write_bytes(self: Path, data: bytes) -> int:
        if self.is_relative_to(disk) and len(data) > 200_000:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    yield disk


def test_a_full_disk_is_one_error_and_leaves_earlier_outputs(full_disk):
    out = full_disk / "lmd"
    with OutputUnit(out, "fit") as unit:
        write_json(unit.folder() / "summary.json", {"run": 1})
    before = _snapshot(full_disk)
    with pytest.raises(OutputError) as exc, OutputUnit(out, "fit") as unit:
        write_json(unit.folder() / "summary.json", {"run": 2})
        write_with(unit.folder() / "posterior.nc", lambda tmp: tmp.write_bytes(b"0" * 400_000))
    msg = exc.value.oneline()
    assert msg == (f"no space left on the device to write {out / 'posterior.nc'}; nothing of "
                   "this run was written and earlier outputs are intact")
    assert exc.value.errno == errno.ENOSPC
    assert _snapshot(full_disk) == before
    assert _staging_dirs(full_disk) == []


def test_a_sweep_onto_a_full_disk_leaves_no_new_table_beside_the_old_figure(full_disk, specs,
                                                                          monkeypatch):
    """Before issue 20 ``sweep.csv`` and ``sweep.json`` were written first: a full disk at
    the figure left the new table beside the old figure."""
    import pandas as pd

    from srsbayes.sensitivity.sweep import SweepResult

    out = full_disk / "sweep"
    out.mkdir()
    for name in ("sweep.csv", "sweep.json", "sweep.png"):
        (out / name).write_text("earlier " + name)
    before = _snapshot(full_disk)
    result = SweepResult(specs["lmd"], pd.DataFrame({"setting": ["default"],
                                                     "prob_benefit": [0.9]}),
                         {"rule": "P(benefit) >= 0.95"}, None, {"seed": 1}, "default")
    # a figure larger than the disk (the real one is ~100 KB; the disk is 200 KB)
    monkeypatch.setattr(SweepResult, "figure_png",
                        lambda self, dpi=150, question=None: b"\x89PNG" + b"0" * 400_000)
    with pytest.raises(OutputError, match=r"to write .*sweep\.png"):
        result.write(out)
    assert _snapshot(full_disk) == before
    assert _staging_dirs(full_disk) == []


# -- provenance -------------------------------------------------------------------------------


def test_one_provenance_block(bundled_table, specs):
    spec = specs["lmd"]
    block = provenance(table=bundled_table, specs=[spec], priors={"lmd": spec.priors},
                       seed=11, settings={"draws": 10})
    assert block["data"] == {"path": bundled_table.path, "sha256": bundled_table.sha256}
    assert block["specs"]["lmd"] == {
        "path": spec.path, "text": spec.text,
        "sha256": hashlib.sha256(spec.text.encode("utf-8")).hexdigest()}
    assert block["priors"]["lmd"] == {k: str(v) for k, v in spec.priors.items()}
    assert block["priors"]["lmd"]["tau"] == "halfnormal(0.5)"
    assert block["seed"] == 11 and block["settings"] == {"draws": 10}
    assert block["lock_sha256"] == lock_sha256() == block["versions"]["uv.lock sha256"]
    assert len(block["lock_sha256"]) == 64
    assert block["command"]


# -- output paths, property-based ------------------------------------------------------------

_SEGMENT = st.text(alphabet="abcXYZ0_-. ", min_size=1, max_size=8).filter(
    lambda s: s not in (".", ".."))


@settings(max_examples=60, deadline=None)
@given(segments=st.lists(_SEGMENT, min_size=1, max_size=4),
       file_at=st.one_of(st.none(), st.integers(min_value=0, max_value=3)))
def test_any_output_path_is_accepted_iff_no_existing_part_of_it_is_a_file(segments, file_at):
    """Whatever the path, ``check_output_path`` either returns the existing folder the
    outputs will be staged in, or refuses with one line naming ``--out`` when an existing
    part of the path is a file; a unit then writes there and commits, leaving no staging."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        out = root.joinpath(*segments)
        blocker = None
        if file_at is not None and file_at < len(segments):
            blocker = root.joinpath(*segments[:file_at + 1])
            blocker.parent.mkdir(parents=True, exist_ok=True)
            blocker.write_text("a file")
        if blocker is not None:
            with pytest.raises(InputError) as exc:
                check_output_path(out)
            assert exc.value.column == "--out" and "is an existing file" in exc.value.message
            assert "\n" not in exc.value.oneline()
            return
        staged_in = check_output_path(out)
        assert staged_in.is_dir() and (staged_in == out or staged_in in out.parents)
        with OutputUnit(out, "fit") as unit:
            write_text(unit.folder() / "summary.json", "{}")
        assert (out / "summary.json").read_text() == "{}"
        assert _staging_dirs(root) == []
