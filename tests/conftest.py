"""Shared fixtures and helpers of every test folder (the only ``conftest.py``: tests import
its helpers with ``from conftest import ...``, and pytest imports every ``conftest.py`` outside
a package under that one module name, so a second one would shadow this).

- the bundled specs and data, CSV writing and in-process CLI runs;
- NUTS draws against an exact posterior, within Monte Carlo error;
- constructed fit summaries for the certainty tests;
- the shared report of the bundled data (one per test session, across xdist workers);
- at the end: under ``CI=true`` a skipped test is a failure."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from srsbayes.cli.main import main
from srsbayes.inference.fitting import FitSettings
from srsbayes.inputs.data import DEFAULT_DATA, StudyTable, read_table
from srsbayes.inputs.specs import OutcomeSpec, load_specs
from srsbayes.priors.distributions import parse_prior
from srsbayes.resources import BUNDLED_MODELS

MODELS_DIR = BUNDLED_MODELS
DATA_DIR = Path(__file__).parent / "data"
"""``tests/data``: the test folders' own fixtures (each file says where its numbers come from)."""
BUNDLED_OUTCOMES = ("lc", "lmd", "rn", "dbf", "os")


@pytest.fixture(scope="session")
def specs() -> dict[str, OutcomeSpec]:
    """The bundled outcome specs (``models/``), whatever ``$SRSBAYES_MODELS`` says."""
    return load_specs(MODELS_DIR)


@pytest.fixture(scope="session")
def bundled_table(specs: dict[str, OutcomeSpec]) -> StudyTable:
    """The bundled ``data/studies.csv``, validated."""
    return read_table(DEFAULT_DATA, specs)


def write_csv(tmp_path: Path, text: str | bytes, name: str = "studies.csv") -> Path:
    """Write ``text`` (exactly as given: no newline translation) to ``tmp_path/name``."""
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_bytes(text.encode("utf-8"))
    return path


@pytest.fixture(name="write_csv")
def _write_csv_fixture() -> Callable[..., Path]:
    """The :func:`write_csv` helper, as a fixture: ``write_csv(tmp_path, text)``."""
    return write_csv


def _run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    capsys.readouterr()  # drop anything printed before
    try:
        status = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse usage errors
        status = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return int(status), out, err


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[[list[str]], tuple[int, str, str]]:
    """Run ``srsbayes.cli.main(argv)`` in-process; returns ``(status, stdout, stderr)``."""
    return lambda argv: _run(capsys, argv)


def files_under(root: Path) -> set[Path]:
    """Every file and directory below ``root`` (to check that nothing was written)."""
    return set(root.rglob("*"))


@contextlib.contextmanager
def nothing_written(root: Path):
    """Assert that the block creates, deletes or modifies nothing below ``root``."""
    before = {p: p.stat().st_mtime_ns for p in files_under(root)}
    yield
    after = {p: p.stat().st_mtime_ns for p in files_under(root)}
    assert after == before, f"files changed under {root}: {set(after) ^ set(before)}"


# -- NUTS draws against an exact posterior, within Monte Carlo error -----------------------

Z = 3.5
"""Monte Carlo standard errors allowed per comparison (two-sided 5e-4)."""


def draws(result, name: str) -> np.ndarray:
    """Posterior draws of ``name`` as a (chain, draw) array."""
    return np.asarray(result.idata["posterior"][name].transpose("chain", "draw"), dtype=float)


def mcse(x: np.ndarray, method: str) -> float:
    """ArviZ's Monte Carlo standard error of a (chain, draw) array's mean, sd or median."""
    import arviz as az
    import xarray as xr

    return float(az.mcse(xr.Dataset({"x": (("chain", "draw"), x)}), method=method)["x"])


def exact_disagreements(theta: np.ndarray, tau: np.ndarray, exact) -> list[tuple]:
    """The moments of θ and τ (mean, median, sd of θ; mean and median of τ) that differ from
    the exact posterior's by more than ``Z`` Monte Carlo SEs (plus 0.001 for the grid)."""
    checks = [
        ("mu mean", theta.mean(), exact.mu_mean_total(), mcse(theta, "mean")),
        ("mu median", np.median(theta), exact.mu_quantile(0.5), mcse(theta, "median")),
        ("mu sd", theta.std(ddof=1), exact.mu_sd_total(), mcse(theta, "sd")),
        ("tau mean", tau.mean(), exact.tau_mean(), mcse(tau, "mean")),
        ("tau median", np.median(tau), float(exact.tau_quantile(0.5)), mcse(tau, "median")),
    ]
    return [(n, ours, ref, Z * se + 1e-3) for n, ours, ref, se in checks
            if abs(ours - ref) > Z * se + 1e-3]


# -- constructed fit summaries for the certainty tests ---------------------------------------


def at_baseline_entry(spec, theta, value: float) -> dict:
    """A ``summary["absolute_at_baseline"]`` entry made as a fit makes it: the family's
    ``absolute_at`` per draw of θ, then :class:`DrawStats`."""
    import xarray as xr

    from srsbayes.families import get_family
    from srsbayes.inference.summaries import DrawStats

    b = xr.DataArray([value], dims="baseline", coords={"baseline": [value]})
    th = xr.DataArray(np.asarray(theta, float).reshape(1, -1), dims=("chain", "draw"))
    effects = get_family(spec.family).absolute_at(th, b, spec)
    return {"baseline": value,
            **{k: DrawStats.of(v.sel(baseline=value)).as_dict() for k, v in effects.items()}}


# -- the shared report of the bundled data ---------------------------------------------------
# One small report, generated once per test session and read by the report, browser,
# consistency and decision tests (also across pytest-xdist workers, through a file lock in
# the session's temporary root).

# 4 chains x 500 draws pass the ESS >= 400 gate for these models with room to spare, and a
# one-setting grid (a sceptical effect prior) exercises the sweep without the leave-one-out
# structures' compilation.
REPORT_SETTINGS = FitSettings(draws=500, tune=1000, seed=20260226)
SWEEP_OPTIONS = {"data_level": False, "psense": False}


def sweep_grid():
    from srsbayes.sensitivity.sweep import Setting

    return [Setting("sceptical effect N(0, 0.35)", {"effect": parse_prior("normal(0, 0.35)")})]


def _session_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.getbasetemp()
    # Under xdist every worker's basetemp sits in one per-session folder.
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def shared_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder of the shared report (``index.html``, ``index.md``, per-outcome outputs)."""
    from srsbayes.report.build import write_report

    root = _session_root(tmp_path_factory)
    out = root / "shared-report"
    with open(root / "shared-report.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        status = out / "exit_status"
        if not status.exists():
            specs = load_specs(BUNDLED_MODELS)
            table = read_table(DEFAULT_DATA, specs)
            report = write_report(table, specs, out, settings=REPORT_SETTINGS,
                                  grid=sweep_grid(), sweep_options=SWEEP_OPTIONS)
            status.write_text(str(report.exit_status))
    return out


@pytest.fixture(scope="session")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared report's folder (:func:`shared_report`)."""
    return shared_report(tmp_path_factory)


@pytest.fixture(scope="session")
def page(report_dir: Path) -> str:
    """The shared report's ``index.html``."""
    return (report_dir / "index.html").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def summaries(report_dir: Path) -> dict[str, dict]:
    """Each bundled outcome's ``summary.json`` in the shared report."""
    return {o: json.loads((report_dir / o / "summary.json").read_text(encoding="utf-8"))
            for o in BUNDLED_OUTCOMES}


def assert_default_sweep_row_is_the_fit(sweep_dir: Path, summary: dict, page_section: str,
                                        measure: str) -> dict:
    """The sweep's default row is the fit (same draws): its effect and P(benefit) equal the
    summary's exactly, on the measure's own scale, and the report's sweep table prints it.
    Returns ``sweep.json``."""
    from srsbayes.draws import pct
    from srsbayes.report.wording import ci

    sw = json.loads((sweep_dir / "sweep.json").read_text(encoding="utf-8"))
    assert sw["measure"] == measure
    ref = next(r for r in sw["rows"] if r["setting"] == sw["reference_setting"])
    e = summary["effect"]
    assert [ref["effect_lo"], ref["effect_median"], ref["effect_hi"]] == [
        e["ci95"][0], e["median"], e["ci95"][1]]
    assert ref["prob_benefit"] == summary["prob_benefit"]
    row = (f"| **{ref['setting']}** *(default)* | all studies | "
           f"{pct(summary['prob_benefit'])} | {ci(e)} |")
    assert row in page_section
    return sw


# -- CI=true: a skipped test is a failure ----------------------------------------------------
# CI (``.ci/run``) must run the whole suite, so there a test that would be skipped (no browser,
# data not found, ...) fails instead, with the skip's reason. An xfail is no skip: an expected
# failure stays "xfailed" and an unexpected pass "xpassed" (or a failure if strict).


def skips_fail() -> bool:
    """True under ``CI=true``, where every skip is reported as a failure."""
    return os.environ.get("CI", "").lower() == "true"


def _skip_to_failure(report: pytest.TestReport | pytest.CollectReport) -> None:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else longrepr
    report.outcome = "failed"
    report.longrepr = f"CI=true, where a skip is a failure: {reason}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report = yield
    if report.skipped and not hasattr(report, "wasxfail") and skips_fail():
        _skip_to_failure(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    report = yield
    if report.skipped and skips_fail():  # a module-level skip or importorskip
        _skip_to_failure(report)
    return report
