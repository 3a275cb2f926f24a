"""Shared fixtures: the bundled specs and data, CSV writing and in-process CLI runs."""

from __future__ import annotations

import contextlib
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
