"""Command line: argument parsing and dispatch only; the work is in the API modules.

Exit statuses: 0 success, 2 bad input (one line on stderr naming file, row and column,
nothing written), 3 a fit failed its convergence gate (outputs say so prominently).
"""

from __future__ import annotations

import argparse
import atexit
import os
import sys
import threading
from importlib import import_module
from pathlib import Path
from typing import NoReturn

from ..errors import EXIT_INPUT, InputError

# each command is the module srsbayes.cli.<command>, whose cli_main(args) -> int runs it
COMMANDS = ("audit", "fit", "sweep", "report", "validate", "certainty")


def _common_data(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, default=None,
                   help="study CSV (default: the bundled data/studies.csv)")
    p.add_argument("--models", type=Path, default=None,
                   help="folder of outcome specs (default: the bundled models/)")


def _sampler_opts(p: argparse.ArgumentParser, *, draws: int = 1000) -> None:
    p.add_argument("--draws", type=int, default=draws, help="draws per chain (default %(default)s)")
    p.add_argument("--tune", type=int, default=None,
                   help="tuning steps per chain (default: the family's, e.g. 300 for binary "
                        "outcomes, 1000 for median OS)")
    p.add_argument("--chains", type=int, default=4, help="number of chains")
    p.add_argument("--seed", type=int, default=20260226, help="random seed")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m srsbayes",
        description="Bayesian re-analysis of preop vs postop SRS evidence.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("audit", help="audit the evidence: GRIM checks, pooled rows, follow-up")
    _common_data(p)
    p.add_argument("--pooled", type=Path, default=None,
                   help="CSV of the paper's reported pooled values (default: bundled)")
    p.add_argument("--json", action="store_true", help="print findings as a JSON list")
    p.add_argument("--paper", type=Path, default=None,
                   help="text of the source paper, to re-derive the facts the reference "
                        "and reporting checks use (default: the facts recorded from the "
                        "bundled data's paper, data/paper_facts.toml)")

    p = sub.add_parser("fit", help="fit one outcome's random-effects model")
    p.add_argument("outcome", metavar="OUTCOME", help="outcome id, e.g. lmd")
    _common_data(p)
    p.add_argument("--prior", action="append", default=[], metavar="NAME=DIST",
                   help="override a prior, e.g. 'tau=halfnormal(0.5)' (repeatable)")
    p.add_argument("--baseline", "--baseline-risk", type=float, action="append", default=[],
                   metavar="LEVEL",
                   help="also give absolute effects at this stated postop level: a risk (0-1) "
                        "for binary outcomes, median months for OS (repeatable)")
    p.add_argument("--bias-adjusted", nargs="?", const="bundled", default=None, metavar="FILE",
                   help="fit with an additive bias per study whose prior depends on its design "
                        "and risk of bias, from meta-epidemiology (the bundled "
                        "data/bias_priors.toml, or FILE)")
    _sampler_opts(p)
    p.add_argument("--out", type=Path, default=None, help="output folder (default reports/OUTCOME)")

    p = sub.add_parser("sweep", help="prior- and data-sensitivity sweep for one outcome")
    p.add_argument("outcome", metavar="OUTCOME")
    _common_data(p)
    p.add_argument("--grid", type=Path, default=None, help="TOML grid replacing the default")
    _sampler_opts(p)
    p.add_argument("--out", type=Path, default=None,
                   help="output folder (default reports/OUTCOME/sweep)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="where the settings run: 'threads' (default), 'local' (a Dask "
                        "LocalCluster of processes) or a Dask scheduler's tcp://HOST:PORT "
                        "(default: $SRSBAYES_SCHEDULER)")
    p.add_argument("--workers", type=int, default=None,
                   help="threads, or LocalCluster processes (default: one per core)")
    p.add_argument("--reweight", action="store_true",
                   help="compute prior settings from the default fit by Pareto-smoothed "
                        "importance sampling where k-hat <= 0.7 and the weights' ESS >= 400, "
                        "refitting the others")

    p = sub.add_parser("report", help="fit every outcome and write the clinical report")
    _common_data(p)
    p.add_argument("--out", type=Path, default=None, help="output folder (default reports/)")
    p.add_argument("--seed", type=int, default=20260226, help="random seed")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="where the sweeps' settings run: 'threads' (default), 'local' (a Dask "
                        "LocalCluster of processes) or a Dask scheduler's tcp://HOST:PORT "
                        "(default: $SRSBAYES_SCHEDULER)")
    p.add_argument("--workers", type=int, default=None,
                   help="LocalCluster processes (default: one per core)")

    p = sub.add_parser("certainty", help="GRADE certainty, summary-of-findings table and "
                                         "net clinical benefit of every outcome")
    _common_data(p)
    p.add_argument("--json", action="store_true", help="print certainty.json instead of text")
    p.add_argument("--weights", type=Path, default=None,
                   help="TOML of net-benefit criteria and weights (default: the bundled "
                        "data/net_benefit.toml)")
    p.add_argument("--baseline-risk", action="append", default=[], metavar="[ID=]R",
                   help="baseline (postop) risk for the absolute effects of binary outcomes, "
                        "e.g. 0.12 or lmd=0.12 (repeatable; default: the pooled postop risk "
                        "of the studies)")
    p.add_argument("--seed", type=int, default=20260226, help="random seed")
    p.add_argument("--out", type=Path, default=None,
                   help="folder for certainty.json (default reports/)")

    p = sub.add_parser("validate", help="simulation-based calibration of every model family "
                                        "(binomial, median, contrast; the contrast family also "
                                        "by its exact posterior on 5 x --sims data sets)")
    _common_data(p)
    p.add_argument("--sims", type=int, default=200, help="simulated data sets per family")
    p.add_argument("--seed", type=int, default=20260226, help="random seed")
    p.add_argument("--out", type=Path, default=None,
                   help="output folder (default reports/validation)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="where the data sets are fitted: 'threads' (default: one after "
                        "another), 'local' (a Dask LocalCluster of processes) or a Dask "
                        "scheduler's tcp://HOST:PORT (default: $SRSBAYES_SCHEDULER)")
    p.add_argument("--workers", type=int, default=None,
                   help="LocalCluster processes (default: one per core)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        module = import_module(f".{args.command}", __package__)
        return int(module.cli_main(args))
    except InputError as exc:
        print(f"srsbayes: error: {exc.oneline()}", file=sys.stderr)
        return EXIT_INPUT


def run(argv: list[str] | None = None) -> NoReturn:
    """The command line's entry point (for ``__main__`` and the ``srsbayes`` script):
    :func:`main`, then exit without tearing the interpreter down.

    Finalising an interpreter that has imported PyMC, nutpie, numba and ArviZ (about 2,000
    modules) takes 0.5-1 s, as long as a fit's sampling. The exit handlers (``atexit``:
    logging, open netCDF files, file locks) still run and the standard streams are flushed;
    only the module teardown is skipped. Outputs are complete by then: every file is written
    atomically and closed before :func:`main` returns. With other threads still alive the
    interpreter exits normally (they would otherwise be killed).
    """
    exit_now(main(argv))


MODULES_ENV = "SRSBAYES_DEBUG_MODULES"
"""A file to which :func:`exit_now` writes the names of the imported modules (one a line):
how ``tests/test_compile_cache.py`` checks that a warm ``fit`` never imports PyMC."""


def exit_now(status: int) -> NoReturn:
    """Run the exit handlers, flush stdout and stderr and end the process with ``status``."""
    if target := os.environ.get(MODULES_ENV):
        Path(target).write_text("\n".join(sorted(sys.modules)) + "\n", encoding="utf-8")
    # other threads alive, or a profiler/tracer (cProfile, coverage) that writes its results
    # when the interpreter exits normally: exit normally
    if threading.active_count() > 1 or sys.getprofile() is not None \
            or sys.gettrace() is not None:
        raise SystemExit(status)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed or broken pipe: nothing left to save
            pass
    os._exit(status)
