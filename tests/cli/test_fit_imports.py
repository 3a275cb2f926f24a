"""``fit`` imports only what fitting needs (issue 15: the floor of a warm ``fit``).

Structural checks, not timings: fresh interpreters report which modules they loaded. The
plotting stack (matplotlib, about 0.4 s), the report, sweep, audit, certainty and
validation packages are for other commands and must stay out of ``fit``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

NOT_FOR_FIT = ("matplotlib", "srsbayes.sensitivity", "srsbayes.plots", "srsbayes.validation",
               "srsbayes.audit", "srsbayes.certainty", "srsbayes.report.build",
               "srsbayes.report.model", "srsbayes.report.sections", "srsbayes.report.render")
"""Packages a ``fit`` never needs (``srsbayes.report.text``, the plain-language wording of
the printed summary, is the one report module it uses)."""


def _loaded_after(code: str, tmp_path: Path) -> set[str]:
    """The ``sys.modules`` of a fresh interpreter after running ``code``."""
    script = (f"import json, sys\n{code}\n"
              f"print('MODULES=' + json.dumps(sorted(sys.modules)))\n")
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=600, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("MODULES=")]
    assert lines, proc.stdout + proc.stderr
    return set(json.loads(lines[-1].removeprefix("MODULES=")))


def _offending(modules: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes))


def test_fit_command_imports_nothing_of_the_report_before_sampling(tmp_path):
    """What ``fit`` has imported when it starts to sample: the command module, the sampler
    (imported as ``cli.fit`` does it) and the fitting code."""
    mods = _loaded_after("import srsbayes.cli.main\nimport srsbayes.cli.fit as f\n"
                         "f.import_sampler()\nimport srsbayes.inference.fitting\n"
                         "import srsbayes.inference.compile_cache", tmp_path)
    assert {"nutpie", "srsbayes.inference.fitting"} <= mods  # the check saw a real import
    assert _offending(mods, (*NOT_FOR_FIT, "srsbayes.report")) == []


def test_a_whole_fit_imports_no_plotting_report_or_sweep_code(tmp_path):
    """A complete ``python -m srsbayes fit lmd`` run (sampling, checks, writing)."""
    out = tmp_path / "out"
    mods = _loaded_after(
        "from srsbayes.cli.main import main\n"
        f"status = main(['fit', 'lmd', '--out', {str(out)!r}])\n"
        "assert status == 0, status", tmp_path)
    assert (out / "posterior.nc").is_file()
    assert {"nutpie", "srsbayes.report.text"} <= mods
    assert _offending(mods, NOT_FOR_FIT) == []


def test_other_commands_are_not_imported_by_fit(tmp_path):
    """``cli.main`` imports a command's module only when that command runs."""
    mods = _loaded_after("import srsbayes.cli.main\nimport srsbayes.cli.fit", tmp_path)
    others = ("audit", "sweep", "report", "validate", "certainty")
    assert _offending(mods, tuple(f"srsbayes.cli.{c}" for c in others)) == []
