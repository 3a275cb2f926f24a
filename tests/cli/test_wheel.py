"""The package works when installed from a wheel, from any directory (no source tree).

The wheel is built from this checkout (hatchling) and installed with the project's uv,
without its dependencies, into a fresh virtual environment whose only other path is this
environment's site-packages (for PyMC and the rest); the commands run from an empty
temporary directory.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """Python of a fresh venv with only the wheel of srsbayes installed."""
    root = tmp_path_factory.mktemp("wheel")
    # hatchling (a test dependency) builds the wheel the way a build front-end would
    subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d",
                    str(root / "dist")], cwd=REPO, check=True, capture_output=True)
    (wheel,) = (root / "dist").glob("srsbayes-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for spec in ("lc", "lmd", "rn", "dbf", "os"):
        assert f"srsbayes/bundled/models/{spec}.toml" in names
    assert "srsbayes/bundled/data/studies.csv" in names
    assert "srsbayes/bundled/question.toml" in names  # the review question (issue 21)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # Dependencies from this environment; its editable srsbayes is not visible from there
    # (a path added by a .pth file does not process that folder's own .pth files).
    Path(site, "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    # the project's pinned uv installs it (the venvs here have no pip)
    subprocess.run([str(REPO / "scripts" / "uv"), "pip", "install", "-q", "--python", str(py),
                    "--no-deps", "--offline", str(wheel)], check=True)
    return py


def run(py: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(py), "-m", "srsbayes", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600, check=False)


def test_installed_package_is_the_wheel(installed, tmp_path):
    out = subprocess.run([str(installed), "-c", "import srsbayes; print(srsbayes.__file__)"],
                         cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert str(installed.parents[1]) in out and str(REPO / "src") not in out


def test_fit_and_audit_from_any_directory(installed, tmp_path):
    proc = run(installed, tmp_path, "fit", "lmd")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / "reports" / "lmd" / "summary.json").read_text())
    assert summary["ok"] and summary["n_studies"] == 4
    assert Path(summary["data"]["path"]).name == "studies.csv"
    proc = run(installed, tmp_path, "audit", "--json")
    assert proc.returncode == 0, proc.stderr
    grim = [r for r in json.loads(proc.stdout) if r["check"] == "grim" and r["study"]]
    assert sum(not r["consistent"] for r in grim) == 16
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports"]
