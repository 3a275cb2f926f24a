"""Shared fixtures: the bundled specs and data, CSV writing and in-process CLI runs.

Also, at the end: under ``CI=true`` a skipped test is a failure."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from srsbayes.cli.main import main
from srsbayes.inputs.data import DEFAULT_DATA, StudyTable, read_table
from srsbayes.inputs.specs import OutcomeSpec, load_specs
from srsbayes.resources import BUNDLED_MODELS

MODELS_DIR = BUNDLED_MODELS


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
