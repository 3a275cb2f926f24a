"""One small report of the bundled data, generated once per test session and shared by
``test_report.py`` and ``test_browser.py`` (also across pytest-xdist workers, through a
file lock in the session's temporary root)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from srsbayes.inference.fitting import FitSettings
from srsbayes.inputs.data import DEFAULT_DATA, read_table
from srsbayes.inputs.specs import load_specs
from srsbayes.priors.distributions import parse_prior
from srsbayes.resources import BUNDLED_MODELS

# 4 chains x 500 draws pass the ESS >= 400 gate for these models with room to spare, and a
# one-setting grid (a sceptical effect prior) exercises the sweep without the leave-one-out
# structures' compilation.
SETTINGS = FitSettings(draws=500, tune=1000, seed=20260226)
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
            report = write_report(table, specs, out, settings=SETTINGS, grid=sweep_grid(),
                                  sweep_options=SWEEP_OPTIONS)
            status.write_text(str(report.exit_status))
    return out


def assert_default_sweep_row_is_the_fit(sweep_dir: Path, summary: dict, page_section: str,
                                        measure: str) -> dict:
    """The sweep's default row is the fit (same draws): its effect and P(benefit) equal the
    summary's exactly, on the measure's own scale, and the report's sweep table prints it.
    Returns ``sweep.json``."""
    import json

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
