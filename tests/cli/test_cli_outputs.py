"""Every command checks its output path first, ends a full disk with one line, keeps
LOO/PPC failures out of the way, and records the one provenance block (issue 20, items 3,
4, 7 and 10)."""

from __future__ import annotations

import errno
import hashlib
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from srsbayes.errors import EXIT_INPUT, EXIT_OUTPUT, EXIT_UNCONVERGED
from srsbayes.outputs import STAGING_PREFIX

DATA = Path(__file__).parents[1] / "data"


def _no_sampling(monkeypatch):
    """Make any attempt to sample (or to run SBC) fail the test."""
    def forbidden(*_a, **_k):
        raise AssertionError("computation started before the output path was checked")

    monkeypatch.setattr("srsbayes.inference.fitting.sample_posterior", forbidden)
    monkeypatch.setattr("srsbayes.validation.run.run_sbc", forbidden)


@pytest.mark.parametrize("command", [["fit", "lmd"], ["sweep", "lmd"], ["certainty"],
                                     ["validate", "--sims", "100"], ["report"]])
@pytest.mark.parametrize("where", ["file", "under a file"])
def test_a_bad_output_path_is_refused_before_any_computation(tmp_path, run_cli, monkeypatch,
                                                            command, where):
    """Before issue 20, fit, sweep, certainty and validate sampled everything, then ended
    in a traceback (exit 1) when they came to write."""
    _no_sampling(monkeypatch)
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    out = afile if where == "file" else afile / "sub" / "dir"
    status, _, err = run_cli([*command, "--out", out])
    assert status == EXIT_INPUT, err
    assert len(err.splitlines()) == 1
    assert err.startswith(f"srsbayes: error: {out}: column '--out': output path is not a "
                          "folder")
    assert afile.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_a_read_only_output_folder_is_refused_before_any_computation(tmp_path, run_cli,
                                                                     monkeypatch):
    _no_sampling(monkeypatch)
    ro = tmp_path / "ro"
    ro.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(ro)],
                             capture_output=True, check=False).returncode == 0
    if not mounted:  # no mounting here: a folder this user may not write (root may)
        monkeypatch.setattr("os.access", lambda p, mode: Path(p) != ro)
    try:
        status, _, err = run_cli(["fit", "lmd", "--out", ro / "lmd"])
    finally:
        if mounted:
            subprocess.run(["umount", str(ro)], capture_output=True, check=False)
    assert status == EXIT_INPUT
    assert err.strip().endswith("on a read-only file system" if mounted else "not writable")


# -- a full disk, through the command line ---------------------------------------------------


def test_fit_onto_a_full_disk_is_one_line_exit_5_and_leaves_nothing(tmp_path, run_cli,
                                                                    monkeypatch):
    """Before issue 20: 441 lines of HDF5 errors, SIGSEGV, and ``.posterior.nc.*.tmp``
    left behind. A real 200 KB tmpfs where the machine allows mounting one (the posterior
    is about 1 MB), else ``ENOSPC`` injected into the writes."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(disk)],
                             capture_output=True, check=False).returncode == 0
    if not mounted:
        real = Path.write_bytes

        def full(self: Path, data: bytes) -> int:
            if self.is_relative_to(disk) and len(data) > 200_000:
                raise OSError(errno.ENOSPC, "No space left on device")
            return real(self, data)

        monkeypatch.setattr(Path, "write_bytes", full)
    try:
        out = disk / "lmd"
        out.mkdir()
        (out / "summary.json").write_text('{"earlier": true}\n')
        status, _, err = run_cli(["fit", "lmd", "--draws", "500", "--chains", "2",
                                  "--out", out])
        assert status == EXIT_OUTPUT, err
        assert err.splitlines() == [
            f"srsbayes: error: no space left on the device to write {out / 'posterior.nc'}; "
            "nothing of this run was written and earlier outputs are intact"]
        assert sorted(p.name for p in out.iterdir()) == ["summary.json"]
        assert (out / "summary.json").read_text() == '{"earlier": true}\n'
        assert not list(disk.rglob(STAGING_PREFIX + "*"))
    finally:
        if mounted:
            subprocess.run(["umount", str(disk)], capture_output=True, check=False)


# -- LOO and PPC: converged fits only, a failure is a diagnostic ------------------------------


def test_a_near_zero_standard_error_ends_as_a_failed_gate_not_a_traceback(tmp_path, run_cli):
    """A contrast row with se = 1e-10 (accepted input): before issue 20 ArviZ's PSIS raised
    "All tail values are the same" after the unconverged fit."""
    text = (DATA / "mixed_lmd.csv").read_text(encoding="utf-8")
    assert ",1.116236124966739," in text
    csv = tmp_path / "tiny_se.csv"
    csv.write_text(text.replace(",1.116236124966739,", ",1e-10,"), encoding="utf-8")
    status, stdout, err = run_cli(["fit", "lmd", "--data", csv, "--draws", "300",
                                   "--out", tmp_path / "out"])
    assert status == EXIT_UNCONVERGED, err
    assert "NOT a result" in stdout
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["ok"] is False and "ppc" not in summary


def test_two_draws_fail_the_gate_without_a_loo_traceback(bundled_table, specs):
    """``--draws 2`` reached PSIS with two draws per chain ("n_draws_tail must be at least
    5"); an unconverged fit now gets no LOO or PPC at all."""
    from srsbayes.inference.fitting import FitSettings, fit_outcome

    result = fit_outcome(bundled_table, specs["lmd"],
                         settings=FitSettings(draws=2, tune=50, chains=2, seed=1))
    assert not result.ok
    assert "ppc" not in result.summary
    assert "log_likelihood" not in result.idata.children


def test_a_loo_failure_on_a_converged_fit_is_reported():
    """PSIS on identical log-likelihoods fails inside ArviZ; the check records the error
    and the posterior-predictive p-values are still computed."""
    from srsbayes.inference.fitting import posterior_checks

    rng = np.random.default_rng(3)
    post = xr.Dataset({"effect": (("chain", "draw"), rng.normal(size=(2, 50)))})
    log_lik = {"y": xr.DataArray(np.zeros((2, 50, 3)), dims=("chain", "draw", "study"))}
    rep = {"y": xr.DataArray(rng.integers(0, 5, size=(2, 50, 3)),
                             dims=("chain", "draw", "study"))}
    out = posterior_checks({"y": np.array([1, 2, 9])}, rep, post, log_lik)
    assert out.loo is None and set(out.errors) == {"loo"}
    assert out.pvalues["y"][2] == 0.0  # 9 is above every replicate (0-4)
    assert out.errors["loo"].startswith("ValueError: ")
    assert set(out.as_dict()) == {"pvalues", "errors"}  # summary.json's ppc


# -- provenance: one block in every output ---------------------------------------------------


def test_summary_records_the_provenance_block(tmp_path, run_cli, specs, bundled_table):
    status, _, err = run_cli(["fit", "lmd", "--draws", "500", "--seed", "3",
                              "--prior", "tau=halfnormal(0.25)", "--out", tmp_path])
    assert status in (0, EXIT_UNCONVERGED), err  # provenance is recorded either way
    prov = json.loads((tmp_path / "summary.json").read_text())["provenance"]
    spec = specs["lmd"]
    assert prov["data"] == {"path": bundled_table.path, "sha256": bundled_table.sha256}
    assert prov["specs"]["lmd"]["sha256"] == hashlib.sha256(spec.text.encode()).hexdigest()
    assert prov["specs"]["lmd"]["text"] == spec.text
    assert prov["priors"]["lmd"]["tau"] == "halfnormal(0.25)"
    assert prov["seed"] == 3 and prov["settings"]["draws"] == 500
    assert len(prov["lock_sha256"]) == 64
    assert prov["command"].endswith(f"-m srsbayes fit lmd --draws 500 --seed 3 "
                                    f"--prior 'tau=halfnormal(0.25)' --out {tmp_path}")
    manifest = json.loads((tmp_path / "manifest-fit.json").read_text())
    assert manifest["provenance"] == prov
    tree = xr.open_datatree(tmp_path / "posterior.nc", engine="h5netcdf")
    assert json.loads(tree.attrs["srsbayes_provenance"]) == prov


def test_to_reproduce_names_the_models_folder_and_every_option(tmp_path, specs,
                                                               bundled_table, monkeypatch):
    """Before issue 20 the report's "To reproduce" line dropped ``--models``."""
    import shutil

    from srsbayes.analysis.provenance import models_folder, reproduce_command
    from srsbayes.inference.fitting import FitSettings
    from srsbayes.inputs.specs import load_specs

    models = tmp_path / "my models"
    models.mkdir()
    for spec in specs.values():
        shutil.copy(spec.path, models)
    mine = load_specs(models)
    assert models_folder(specs) is None  # the bundled specs need no --models
    assert models_folder(mine) == models.resolve()
    cmd = reproduce_command(bundled_table, FitSettings(seed=5), False,
                            models=models_folder(mine), out=tmp_path / "rep")
    assert cmd == (f"python -m srsbayes report --data {bundled_table.path} "
                   f"--models '{models.resolve()}' --seed 5 --out {tmp_path / 'rep'}")
    monkeypatch.chdir(tmp_path)  # the default output folder, ./reports, is left out
    assert reproduce_command(bundled_table, FitSettings(seed=5), True,
                             out=Path("reports")) == "python -m srsbayes report --seed 5"


def test_a_task_failed_on_a_worker_is_one_line_and_exit_6(run_cli, tmp_path, monkeypatch):
    """A chunk of a trial's simulations that failed on a Dask worker stops the command with
    one line (no traceback), and nothing is written."""
    from conftest import nothing_written
    from srsbayes.cli import trial
    from srsbayes.errors import EXIT_TASK, TaskError

    def failing(args):
        raise TaskError("simulation task 3 failed on a worker (KilledWorker)\nsecond line")

    monkeypatch.setattr(trial, "cli_main", failing)
    with nothing_written(tmp_path):
        status, out, err = run_cli(["trial", "lmd", "--n-per-arm", "90", "90",
                                    "--out", tmp_path / "t"])
    assert status == EXIT_TASK == 6
    assert err == ("srsbayes: error: simulation task 3 failed on a worker (KilledWorker) "
                   "second line\n") and out == ""
