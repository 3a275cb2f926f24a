"""``srsbayes.cli.main.run``: the command line's exit skips interpreter teardown, nothing else.

Each test runs a fresh interpreter with block-buffered standard streams (no
``PYTHONUNBUFFERED``), so an unflushed stream or a skipped exit handler would show.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def _child(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=600, check=False)


def _with_marker(marker: Path, body: str) -> str:
    return ("import atexit\nfrom srsbayes.cli.main import run\n"
            f"atexit.register(lambda: open({str(marker)!r}, 'w').write('ran'))\n{body}")


def test_run_flushes_output_runs_exit_handlers_and_returns_the_status(tmp_path):
    marker = tmp_path / "atexit.txt"
    proc = _child(_with_marker(marker, "run(['audit', '--json'])"), tmp_path)
    assert proc.returncode == 0, proc.stderr
    findings = json.loads(proc.stdout)  # the whole buffered output arrived
    assert isinstance(findings, list) and findings
    assert marker.read_text() == "ran"


def test_run_reports_an_input_error_with_status_2(tmp_path):
    marker = tmp_path / "atexit.txt"
    proc = _child(_with_marker(marker, "print('before', end=' ')\nrun(['fit', 'nosuch'])"),
                  tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == "before "
    assert "unknown outcome 'nosuch'" in proc.stderr
    assert marker.read_text() == "ran"


def test_run_exits_normally_while_another_thread_is_alive(tmp_path):
    """A live non-daemon thread is waited for, as a normal exit does, not killed."""
    marker = tmp_path / "atexit.txt"
    done = tmp_path / "thread.txt"
    body = ("import threading, time\n"
            "def work():\n    time.sleep(0.5)\n"
            f"    open({str(done)!r}, 'w').write('done')\n"
            "threading.Thread(target=work).start()\nrun(['fit', 'nosuch'])")
    proc = _child(_with_marker(marker, body), tmp_path)
    assert proc.returncode == 2
    assert done.read_text() == "done"
    assert marker.read_text() == "ran"
