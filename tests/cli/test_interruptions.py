"""Interruptions, a full disk and bad output paths end cleanly (issue 20, items 3-6).

The harness runs the real command line in a subprocess and stops it at a chosen point:

- *during sampling*: ``SRSBAYES_TEST_CHECKPOINTS=1`` makes the command print
  ``srsbayes-checkpoint: sampling`` on stderr just before nutpie starts; the test waits for
  that line, lets the chains run for a moment, and sends SIGINT or SIGTERM from outside,
  as a user's Ctrl-C or a job scheduler would;
- *during the write*: ``SRSBAYES_TEST_SIGNAL=staged-fit:SIGTERM`` makes the process send itself
  the signal once every output is staged and before any is moved into place, and
  ``commit-fit:SIGINT`` after the first file has been moved (:mod:`srsbayes.interrupts`).

Each test asserts the exit status (128 + the signal), the one-line message, that the
earlier outputs are byte for byte what they were, and that no staging folder or temporary
file is left.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from srsbayes.outputs import STAGING_PREFIX, verify_outputs

SB = [sys.executable, "-m", "srsbayes"]
FAST = ["--draws", "300", "--tune", "300", "--chains", "2"]


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _leftovers(root: Path) -> list[Path]:
    """Staging folders and temporary files below ``root``."""
    return sorted(p for p in root.rglob("*")
                  if p.name.startswith(STAGING_PREFIX) or p.name.endswith(".tmp"))


def _run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SB, *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=900, check=False)


def _signal_during_sampling(args: list[str], cwd: Path, sig: signal.Signals,
                            after: float = 1.0) -> tuple[int, str, float]:
    """Start the command, wait for sampling to begin, send ``sig`` ``after`` seconds later.

    Returns the exit status, stderr and the seconds from the signal to the exit."""
    proc = subprocess.Popen([*SB, *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "SRSBAYES_TEST_CHECKPOINTS": "1"})
    assert proc.stderr is not None
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if line.strip() == "srsbayes-checkpoint: sampling":
            break
    else:
        proc.wait(timeout=60)
        raise AssertionError("sampling never started: " + "".join(lines))
    time.sleep(after)
    assert proc.poll() is None, "the command ended before the signal was sent"
    sent = time.monotonic()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=300)
    return proc.returncode, "".join(lines) + err, time.monotonic() - sent


@pytest.fixture(scope="module")
def earlier_fit(tmp_path_factory) -> Path:
    """A folder holding a complete earlier ``fit lmd`` (the outputs that must survive)."""
    cwd = tmp_path_factory.mktemp("earlier")
    proc = _run(["fit", "lmd", *FAST, "--out", "reports/lmd"], cwd)
    assert proc.returncode == 0, proc.stderr
    return cwd


@pytest.fixture
def workdir(earlier_fit, tmp_path) -> Path:
    """A copy of the earlier fit's folder for one test to interrupt."""
    for p in earlier_fit.rglob("*"):
        if p.is_file():
            q = tmp_path / p.relative_to(earlier_fit)
            q.parent.mkdir(parents=True, exist_ok=True)
            q.write_bytes(p.read_bytes())
    return tmp_path


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_sampling_stops_the_fit(workdir, sig):
    """Before issue 20 nutpie returned the partial trace on Ctrl-C, the fit failed its gate,
    was retried and the command exited 0 with numbers unlike an uninterrupted run's; SIGTERM
    killed the process without cleaning up."""
    before = _snapshot(workdir)
    status, err, waited = _signal_during_sampling(
        ["fit", "lmd", "--draws", "200000", "--out", "reports/lmd"], workdir, sig)
    assert status == 128 + sig, err
    assert err.splitlines()[-1] == (f"srsbayes: interrupted by {sig.name}; nothing new was "
                                    "written")
    assert "Traceback" not in err
    assert _snapshot(workdir) == before
    assert _leftovers(workdir) == []
    assert waited < 60  # it stopped, rather than sampling 200,000 draws (minutes)


def test_sigterm_once_the_outputs_are_staged_writes_nothing(workdir):
    before = _snapshot(workdir)
    proc = _run(["fit", "lmd", *FAST, "--seed", "5", "--out", "reports/lmd"], workdir,
                SRSBAYES_TEST_SIGNAL="staged-fit:SIGTERM")
    assert proc.returncode == 143, proc.stderr
    assert proc.stderr.splitlines()[-1] == ("srsbayes: interrupted by SIGTERM; nothing new "
                                            "was written")
    assert _snapshot(workdir) == before
    assert _leftovers(workdir) == []


def test_sigint_while_the_outputs_move_into_place_finishes_the_move(workdir):
    """A signal after the first rename waits for the rest: all new, never a mixture."""
    before = _snapshot(workdir)
    proc = _run(["fit", "lmd", *FAST, "--seed", "5", "--out", "reports/lmd"], workdir,
                SRSBAYES_TEST_SIGNAL="commit-fit:SIGINT")
    assert proc.returncode == 130, proc.stderr
    assert "they are complete" in proc.stderr.splitlines()[-1]
    after = _snapshot(workdir)
    changed = {k for k in after if after[k] != before.get(k)}
    assert changed == {"reports/lmd/posterior.nc", "reports/lmd/summary.json",
                       "reports/lmd/manifest-fit.json"}
    assert json.loads(after["reports/lmd/summary.json"])["seed"] == 5
    assert verify_outputs(workdir / "reports" / "lmd") == {"manifest-fit.json": []}
    assert _leftovers(workdir) == []


def test_sigterm_during_the_sweep_write_keeps_the_earlier_sweep(tmp_path):
    """Before issue 20 the CSV and JSON were written before the figure was drawn: a stop in
    between left new CSV/JSON beside the old PNG."""
    grid = tmp_path / "grid.toml"
    grid.write_text('[[setting]]\ntau = "halfnormal(0.5)"\n\n[[setting]]\n'
                    'tau = "halfnormal(1.0)"\n\n[options]\ndata_level = false\n'
                    'psense = false\n', encoding="utf-8")
    args = ["sweep", "lmd", "--grid", str(grid), *FAST, "--out", "sw"]
    first = _run(args, tmp_path)
    assert first.returncode == 0, first.stderr
    before = _snapshot(tmp_path / "sw")
    assert set(before) == {"sweep.csv", "sweep.json", "sweep.png", "manifest-sweep.json"}
    proc = _run([*args[:-2], "--seed", "9", "--out", "sw"], tmp_path,
                SRSBAYES_TEST_SIGNAL="staged-sweep:SIGTERM")
    assert proc.returncode == 143, proc.stderr
    assert _snapshot(tmp_path / "sw") == before
    assert _leftovers(tmp_path) == []


def test_sigterm_during_the_report_write_keeps_the_earlier_report(tmp_path, specs):
    """The report's files (index.html, figures, each outcome's fit, certainty.json) move
    into place together. The report is run from Python with light settings and no sweep,
    under the command line's signal handling (the ``report`` command has no sampler
    options)."""
    lmd_only = tmp_path / "lmd.csv"
    lines = (Path(specs["lmd"].path).parents[1] / "data" / "studies.csv").read_text(
        encoding="utf-8").splitlines()
    lmd_only.write_text("\n".join([lines[0], *(r for r in lines[1:] if ",lmd," in r)]) + "\n",
                        encoding="utf-8")
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from srsbayes import interrupts\n"
        "from srsbayes.inference.fitting import FitSettings\n"
        "from srsbayes.inputs.data import read_table\n"
        "from srsbayes.inputs.specs import load_specs\n"
        "from srsbayes.report.build import write_report\n"
        "specs = load_specs(None)\n"
        f"table = read_table({str(lmd_only)!r}, specs)\n"
        "with interrupts.handling_signals():\n"
        "    try:\n"
        "        write_report(table, specs, Path('rep'), sweep=False,\n"
        "                     settings=FitSettings(draws=300, tune=300, chains=2,\n"
        "                                          seed=int(sys.argv[1])))\n"
        "    except (KeyboardInterrupt, interrupts.Interrupted):\n"
        "        sys.exit(128 + interrupts.received())\n")
    first = subprocess.run([sys.executable, "-c", script, "1"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=900, check=False)
    assert first.returncode == 0, first.stderr
    before = _snapshot(tmp_path / "rep")
    assert {"index.html", "index.md", "lmd/summary.json", "lmd/posterior.nc",
            "certainty.json", "manifest-report.json"} <= set(before)
    # the outcome's fit staged inside the report's staging folder; the whole report staged
    for point in ("staged-fit:SIGTERM", "staged-report:SIGTERM"):
        proc = subprocess.run([sys.executable, "-c", script, "2"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=900, check=False,
                              env={**os.environ, "SRSBAYES_TEST_SIGNAL": point})
        assert proc.returncode == 143, proc.stderr
        assert _snapshot(tmp_path / "rep") == before
        assert verify_outputs(tmp_path / "rep") == {"manifest-certainty.json": [],
                                                     "manifest-report.json": []}
        assert _leftovers(tmp_path) == []


def test_the_library_never_uses_a_partial_trace(tmp_path):
    """From Python, without the command line's signal handling, Ctrl-C during sampling
    still ends the fit (nutpie's partial trace is refused) instead of gating and retrying
    it."""
    script = (
        # A Ctrl-C as a terminal gives it: the default disposition, unblocked, whatever the
        # test worker this child inherits from has done to SIGINT (in a full run a child
        # once never saw it, though it does when this file runs alone).
        "import signal\n"
        "signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "from srsbayes.inputs.data import default_table\n"
        "from srsbayes.inputs.specs import load_specs\n"
        "from srsbayes.inference.fitting import FitSettings, fit_outcome\n"
        "specs = load_specs(None)\n"
        "try:\n"
        "    fit_outcome(default_table(specs, None), specs['lmd'],\n"
        "                settings=FitSettings(draws=200000))\n"
        "    print('carried on')\n"
        "except KeyboardInterrupt as exc:\n"
        "    print('stopped:', exc)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=tmp_path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "SRSBAYES_TEST_CHECKPOINTS": "1"})
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.strip() == "srsbayes-checkpoint: sampling":
            break
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=300)
    assert out.strip() == "stopped: sampling was interrupted"
