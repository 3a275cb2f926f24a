"""Sweeps on Dask (issue 25, item 1): a LocalCluster of two worker processes, and a
scheduler with two workers started as separate processes on 127.0.0.1, each give the table
of the in-process run; a failing or dying task is a failed row, never a hung run.

The tables are compared for exact equality: every process runs on this machine with the
same seed and one core per chain, and every compile path runs the same arithmetic
(``tests/integration/test_determinism.py``), so a row is the same draws wherever it ran.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pandas as pd
import pytest

from srsbayes import parallel
from srsbayes.inference.fitting import FitSettings
from srsbayes.parallel import Backend, backend_from, map_tasks, task_seed
from srsbayes.priors.distributions import parse_prior
from srsbayes.sensitivity.sweep import Setting, run_sweep

SETTINGS = FitSettings(draws=250, chains=4, cores=1)  # 1000 draws: passes the gate
GRID = [Setting("narrow tau", {"tau": parse_prior("halfnormal(0.25)")}),
        Setting("wide tau", {"tau": parse_prior("halfnormal(1)")}),
        Setting("sceptical", {"effect": parse_prior("normal(0, 0.35)")})]


def _sweep(table, spec, backend: Backend | None) -> pd.DataFrame:
    return run_sweep(table, spec, GRID, SETTINGS, data_level=False, psense=False,
                     backend=backend).rows


@pytest.fixture(scope="module")
def in_process(bundled_table, specs) -> pd.DataFrame:
    return _sweep(bundled_table, specs["lmd"], None)


def test_sweep_on_a_local_cluster_of_two_processes_equals_in_process(in_process, bundled_table,
                                                                      specs):
    rows = _sweep(bundled_table, specs["lmd"], Backend("local", workers=2))
    assert in_process["ok"].all()
    assert list(rows["setting"]) == ["spec default priors", *[s.label for s in GRID]]
    pd.testing.assert_frame_equal(rows, in_process)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dask(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_" + args[0], *args[1:]],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_sweep_on_a_separate_scheduler_and_workers_equals_in_process(in_process, bundled_table,
                                                                      specs):
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [_dask("scheduler", "--host", "127.0.0.1", "--port", str(port),
                   "--no-dashboard")]
    try:
        procs += [_dask("worker", address, "--nthreads", "1", "--no-dashboard",
                        "--name", f"w{i}") for i in range(2)]
        from distributed import Client

        with Client(address, timeout="120s") as client:
            client.wait_for_workers(2, timeout=300)
        rows = _sweep(bundled_table, specs["lmd"],
                      backend_from(environ={parallel.SCHEDULER_ENV: address}))
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            p.wait(timeout=60)
    pd.testing.assert_frame_equal(rows, in_process)


def _fails(x: int) -> int:
    if x == 2:
        raise ValueError("no convergence for x = 2")
    return 10 * x


def _dies(x: int) -> int:
    if x == 1:
        os._exit(7)  # the worker process dies
    return x


def test_failed_and_killed_tasks_are_reported_not_hung():
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests/
    tasks = [(f"t{i}", (i,)) for i in range(4)]
    seen = []
    threads = map_tasks(_fails, tasks, progress=lambda d, n, r: seen.append((d, n)))
    assert [r.value for r in threads] == [0, 10, None, 30]
    assert threads[2].error == "ValueError: no convergence for x = 2"
    assert sorted(seen) == [(1, 4), (2, 4), (3, 4), (4, 4)]
    start = time.perf_counter()
    local = map_tasks(_dies, tasks, backend=Backend("local", workers=2))
    assert [r.ok for r in local] == [True, False, True, True]
    assert "KilledWorker" in local[1].error
    assert [r.value for r in local if r.ok] == [0, 2, 3]
    assert time.perf_counter() - start < 600  # reported, not retried forever


def test_task_seed_depends_on_seed_and_key_only():
    assert task_seed(20260226, "sbc-7") == task_seed(20260226, "sbc-7")
    assert len({task_seed(1, "a"), task_seed(2, "a"), task_seed(1, "b")}) == 3
    assert 0 <= task_seed(2**40, "x") < 2**63
    # fixed value: SHA-256, not Python's per-process salted hash()
    assert task_seed(1, "a") == int.from_bytes(
        __import__("hashlib").sha256(b"1\0a").digest()[:8], "little") >> 1


def test_backend_from_option_environment_and_errors():
    assert backend_from(environ={}) == Backend("threads")
    assert backend_from("local", 3, environ={}) == Backend("local", 3)
    assert backend_from(environ={"SRSBAYES_SCHEDULER": "tcp://10.0.0.5:8786"}) == Backend(
        "scheduler", None, "tcp://10.0.0.5:8786")
    assert backend_from("threads", environ={"SRSBAYES_SCHEDULER": "local"}).kind == "threads"
    with pytest.raises(ValueError, match="tcp://HOST:PORT"):
        backend_from("10.0.0.5:8786", environ={})


def test_sweep_cli_refuses_a_bad_scheduler(run_cli):
    for command in (["sweep", "lmd"], ["validate", "--sims", "20"], ["report"],
                    ["trial", "lmd", "--n-per-arm", "90", "90"]):
        status, _out, err = run_cli([*command, "--scheduler", "nowhere"])
        assert status == 2
        assert "--scheduler" in err and "tcp://HOST:PORT" in err


def test_sbc_on_a_local_cluster_equals_in_process(bundled_table, specs):
    """``validate``'s data sets on two worker processes: the same ranks, fits and draws."""
    import numpy as np

    from srsbayes.inference.fitting import resolve_priors
    from srsbayes.inputs.data import outcome_table
    from srsbayes.validation import sbc

    wide = outcome_table(bundled_table, specs["os"])
    priors = resolve_priors(specs["os"], wide)
    kw = {"n_sims": 4, "seed": 20260226, "settings": sbc.SBC_SETTINGS}
    here = sbc.run_sbc("lognormal_median", "os", wide, priors, **kw)
    there = sbc.run_sbc("lognormal_median", "os", wide, priors,
                        backend=Backend("local", workers=2), **kw)
    assert [f["seed"] for f in here.fits] == [f["seed"] for f in there.fits]
    assert here.fits == there.fits
    for q in here.ranks:
        np.testing.assert_array_equal(here.ranks[q], there.ranks[q])
        np.testing.assert_array_equal(here.thinned[q], there.thinned[q])


def test_trial_simulations_on_a_local_cluster_equal_in_process(tmp_path):
    """``trial``'s simulations as chunk tasks on two worker processes: the same trial.json
    numbers as the in-process loop, refits included. The eight schools (Rubin 1981, J Educ
    Stat 6:377-401; the data of ``tests/integration/test_trials.py``) with a trial of standard
    error 1: of 400 simulated trials, two (116 and 318) have k̂ > 0.7, and a cap of one refit must
    spend it on the first in index order on either backend."""
    import json
    from pathlib import Path

    import numpy as np

    from srsbayes.inference.fitting import fit_outcome
    from srsbayes.inputs.data import read_table
    from srsbayes.inputs.specs import load_specs
    from srsbayes.trials.run import run_trial

    ys = [28.39, 7.94, -2.75, 6.82, -0.64, 0.63, 18.01, 12.16]
    ses = [14.9, 10.2, 16.3, 11.0, 9.4, 11.4, 10.4, 17.6]
    models = Path(__file__).parents[1] / "data" / "contrast_models"
    specs = load_specs(models)
    path = tmp_path / "schools.csv"
    path.write_text("\n".join(["study,outcome,arm,measure,estimate,ci_low,ci_high,se"]
                              + [f"School {k},schools,,mean_difference,{y!r},,,{s!r}"
                                 for k, y, s in zip("ABCDEFGH", ys, ses, strict=True)])
                    + "\n", encoding="utf-8")
    table = read_table(path, specs)
    fit = fit_outcome(table, specs["schools"], checks=False)
    assert fit.ok
    kw = {"n_preop": 100, "n_postop": 100, "se": 1.0, "sims": 400, "seed": 3,
          "max_refits": 1, "chunk": 100}
    here = run_trial(fit, table, specs, **kw)
    there = run_trial(fit, table, specs, backend=Backend("local", workers=2), **kw)
    assert list(np.flatnonzero(here.updated.khat > 0.7)) == [116, 318]
    assert list(np.flatnonzero(here.updated.refitted)) == [116]  # the cap, in index order
    for field in ("p_benefit", "p_thresholds", "benefit", "khat", "refitted", "failed"):
        np.testing.assert_array_equal(getattr(here.updated, field),
                                      getattr(there.updated, field))
    a, b = here.as_dict(), there.as_dict()
    assert (a.pop("provenance")["backend"], b.pop("provenance")["backend"]) == (
        "in process", "dask LocalCluster, 2 processes")
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_report_fits_on_a_local_cluster_equal_in_process(bundled_table, specs, tmp_path,
                                                         monkeypatch):
    """``report --scheduler local``: every outcome's main fit as a task on two worker
    processes gives the in-process summary (estimates, diagnostics, certainty)."""
    import json

    from srsbayes.analysis import run
    from srsbayes.analysis.data import validate_inputs
    from srsbayes.report.build import build_report

    made: list[dict] = []  # what the workers returned (the real function, observed)
    real = run.fit_on_backend
    monkeypatch.setattr(run, "fit_on_backend",
                        lambda *a: made.append(real(*a)) or made[-1])

    inputs = validate_inputs(bundled_table, specs, tmp_path / "r")
    settings = FitSettings(draws=250, chains=4, cores=1)
    here = build_report(inputs, settings=settings, sweep=False)
    there = build_report(inputs, settings=settings, sweep=False,
                         sweep_options={"backend": Backend("local", workers=2)})
    assert [o.spec.id for o in here.outcomes] == [o.spec.id for o in there.outcomes]
    assert len(here.outcomes) == 5 and all(o.status == "ok" for o in here.outcomes)
    assert made[0] == {} and sorted(made[1]) == sorted(o.spec.id for o in here.outcomes)
    assert all(b.fit is made[1][b.spec.id] for b in there.outcomes)  # fitted on workers
    for a, b in zip(here.outcomes, there.outcomes, strict=True):
        assert json.dumps(a.summary.as_dict(), sort_keys=True, default=str) == json.dumps(
            b.summary.as_dict(), sort_keys=True, default=str), a.spec.id
