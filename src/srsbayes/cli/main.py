"""Command line: argument parsing and dispatch only; the work is in the API modules.

Exit statuses (``docs/cli.md``): 0 success, 1 an unexpected error (a bug: a traceback),
2 bad input or output path (one line on stderr naming file, row and column, nothing
written), 3 a fit failed its convergence gate (outputs say so prominently), 4 ``validate``
found a calibration failure, 5 the outputs could not be written (disk full; one line,
nothing of the run left behind), 130 / 143 stopped by SIGINT (Ctrl-C) / SIGTERM (nothing
new written).
"""

from __future__ import annotations

import argparse
import atexit
import errno
import os
import signal
import sys
import threading
from importlib import import_module
from pathlib import Path
from typing import NoReturn

from .. import interrupts
from ..errors import EXIT_INPUT, EXIT_OUTPUT, EXIT_TASK, InputError, OutputError, TaskError
from ..provenance import recording_command
from ..values import DEFAULT_SEED
from . import types

# each command is the module srsbayes.cli.<command>, whose cli_main(args) -> int runs it
COMMANDS = ("audit", "fit", "sweep", "report", "validate", "certainty", "trial")


def _common_data(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, default=None,
                   help="study CSV (default: the bundled data/studies.csv), or 'real' for the "
                        "bundled real-record dataset (data/real_record.csv with its specs); "
                        "default outputs of other data go to reports/<file stem>/")
    p.add_argument("--models", type=Path, default=None,
                   help="folder of outcome specs (default: the bundled models/)")


def _paper_files(p: argparse.ArgumentParser) -> None:
    """The source paper's files the paper-level audit checks read; the bundled paper's are
    used for the bundled data only, never for a user's own studies."""
    p.add_argument("--pooled", type=Path, default=None,
                   help="CSV of the paper's reported pooled values (default: the bundled "
                        "paper's, for the bundled data only)")
    p.add_argument("--claims", type=Path, default=None,
                   help="CSV of the paper's claims (default: the bundled paper's, for the "
                        "bundled data only)")
    p.add_argument("--paper", type=Path, default=None,
                   help="text of the source paper, to re-derive the facts the reference "
                        "and reporting checks use (default: the facts recorded from the "
                        "bundled paper, data/paper_facts.toml, for the bundled data only)")
    p.add_argument("--question", type=Path, default=None,
                   help="the review question (TOML: title, source paper, arms' wording, topic "
                        "terms of the reference check; default: the bundled "
                        "question.toml)")


def _sampler_opts(p: argparse.ArgumentParser, *, draws: int = 1000) -> None:
    p.add_argument("--draws", type=types.draws, default=draws,
                   help=f"draws per chain, {types.MIN_DRAWS} to {types.MAX_DRAWS:,} "
                        "(default %(default)s)")
    p.add_argument("--tune", type=types.tune, default=None,
                   help="tuning steps per chain (default: the family's, e.g. 300 for binary "
                        "outcomes, 1000 for median OS)")
    p.add_argument("--chains", type=types.chains, default=4,
                   help=f"number of chains, 1 to {types.MAX_CHAINS} (default %(default)s)")
    _seed_opt(p)


def _seed_opt(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=types.seed, default=DEFAULT_SEED,
                   help="random seed, 0 to 2^64 - 1 (default %(default)s)")


def _scheduler_opts(p: argparse.ArgumentParser, where: str,
                    workers: str = "LocalCluster processes") -> None:
    """``--scheduler`` and ``--workers``: where independent tasks run
    (:func:`srsbayes.parallel.backend_from`)."""
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help=f"where {where}: 'threads' (default), 'local' (a Dask LocalCluster "
                        "of processes) or a Dask scheduler's tcp://HOST:PORT (default: "
                        "$SRSBAYES_SCHEDULER)")
    p.add_argument("--workers", type=types.bounded_int(1, 1024), default=None,
                   help=f"{workers} (default: one per core)")


def build_parser() -> argparse.ArgumentParser:
    parser = types.Parser(
        prog="python -m srsbayes",
        description="Bayesian re-analysis of preop vs postop SRS evidence.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("audit", help="audit the evidence: GRIM checks, pooled rows, follow-up")
    _common_data(p)
    _paper_files(p)
    p.add_argument("--json", action="store_true", help="print findings as a JSON list")

    p = sub.add_parser("fit", help="fit one outcome's random-effects model")
    p.add_argument("outcome", metavar="OUTCOME", type=types.outcome_id,
                   help="outcome id, e.g. lmd")
    _common_data(p)
    p.add_argument("--prior", action="append", default=[], metavar="NAME=DIST",
                   help="override a prior, e.g. 'tau=halfnormal(0.5)' (repeatable)")
    p.add_argument("--baseline", "--baseline-risk", type=types.finite_float, action="append",
                   default=[],
                   metavar="LEVEL",
                   help="also give absolute effects at this stated postop level: a risk (0-1) "
                        "for binary outcomes, median months for OS (repeatable)")
    p.add_argument("--bias-adjusted", nargs="?", const="bundled", default=None, metavar="FILE",
                   help="fit with a bias shared by the studies (Welton et al. 2009) whose prior "
                        "depends on their design and risk of bias, from meta-epidemiology (the "
                        "bundled data/bias_priors.toml; 'wide' for the wider bundled family, "
                        "either direction; or FILE)")
    _sampler_opts(p)
    p.add_argument("--out", type=Path, default=None, help="output folder (default reports/OUTCOME)")

    p = sub.add_parser("sweep", help="prior- and data-sensitivity sweep for one outcome")
    p.add_argument("outcome", metavar="OUTCOME", type=types.outcome_id)
    _common_data(p)
    p.add_argument("--grid", type=Path, default=None, help="TOML grid replacing the default")
    _sampler_opts(p)
    p.add_argument("--out", type=Path, default=None,
                   help="output folder (default reports/OUTCOME/sweep)")
    _scheduler_opts(p, "the settings run", "threads, or LocalCluster processes")
    p.add_argument("--refit-all", action="store_true",
                   help="refit every setting; by default a setting that changes only priors, "
                        "leaves one study out or changes the data of the same model is "
                        "computed from the default fit by Pareto-smoothed importance "
                        "sampling where k-hat and the weights' ESS allow (refitted otherwise)")

    p = sub.add_parser("report", help="fit every outcome and write the clinical report")
    _common_data(p)
    _paper_files(p)
    p.add_argument("--out", type=Path, default=None, help="output folder (default reports/)")
    _seed_opt(p)
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--trials", nargs="?", const="bundled", default=None, metavar="FILE",
                   help="add 'The trials under way': assurance, preposterior and EVSI of each "
                        "trial of the trials file (the bundled data/trials.toml, or FILE)")
    p.add_argument("--trial-size", action="append", default=[], metavar="ID=N_PREOP,N_POSTOP",
                   help="patients per arm of a trial whose size is not public (repeatable)")
    p.add_argument("--trial-sims", type=types.bounded_int(100, types.MAX_SIMS), default=1000,
                   help="simulated trials per trial and outcome (default %(default)s)")
    _scheduler_opts(p, "the outcomes' fits and the sweeps' settings run")

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
    p.add_argument("--question", type=Path, default=None,
                   help="the review question (TOML) whose arms' wording the statements use "
                        "(default: the bundled question.toml)")
    _seed_opt(p)
    p.add_argument("--out", type=Path, default=None,
                   help="folder for certainty.json (default reports/)")

    p = sub.add_parser("validate", help="simulation-based calibration of every model family "
                                        "(binomial, median, contrast; the contrast family also "
                                        "by its exact posterior on 5 x --sims data sets)")
    _common_data(p)
    p.add_argument("--sims", type=types.sims, default=200,
                   help=f"simulated data sets per family, 1 to {types.MAX_SIMS:,}")
    _seed_opt(p)
    p.add_argument("--out", type=Path, default=None,
                   help="output folder (default reports/validation)")
    _trial_parser(sub)
    _scheduler_opts(p, "the data sets are fitted")
    return parser


def _trial_parser(sub) -> None:
    p = sub.add_parser("trial", help="assurance, preposterior and value of information (EVSI, "
                                     "EVPI) of a randomised trial, from the meta-analysis")
    p.add_argument("outcome", metavar="OUTCOME", type=types.outcome_id,
                   help="outcome id, e.g. lmd")
    _common_data(p)
    p.add_argument("--design", default=None, metavar="ID",
                   help="a trial of the trials file by registry id or alias, e.g. NCT03741673 "
                        "(its public size; a size that is not public must be given)")
    p.add_argument("--trials", type=Path, default=None, metavar="FILE",
                   help="trials file (default: the bundled data/trials.toml)")
    p.add_argument("--n-per-arm", type=types.bounded_int(1, 10**7), nargs=2, default=None,
                   metavar=("N_PREOP", "N_POSTOP"), help="patients per arm")
    p.add_argument("--se", type=types.finite_float, default=None,
                   help="expected standard error of the trial's estimate on the analysis "
                        "scale (log scale for a ratio); needed for outcomes without counts")
    p.add_argument("--success", default="p<0.05",
                   help="success rule: 'p<0.05' (two-sided test) or 'P>0.95' (the trial's "
                        "posterior probability of benefit); default %(default)s")
    p.add_argument("--bias-adjusted", nargs="?", const="bundled", default=None, metavar="FILE",
                   help="bias-adjust the observational evidence (as fit --bias-adjusted)")
    p.add_argument("--sims", type=types.bounded_int(100, types.MAX_SIMS), default=2000,
                   help="simulated trials (default %(default)s)")
    p.add_argument("--max-refits", type=types.bounded_int(0, types.MAX_SIMS), default=50,
                   help="most refits of simulated trials whose Pareto k > 0.7 (default "
                        "%(default)s)")
    p.add_argument("--weights", type=Path, default=None,
                   help="net-benefit weights TOML (default: the bundled data/net_benefit.toml)")
    p.add_argument("--patients-per-year", type=types.finite_float, default=None,
                   help="patients a year the decision concerns (for population EVSI/EVPI)")
    p.add_argument("--horizon-months", type=types.finite_float, default=None,
                   help="months over which the decision applies (for population EVSI/EVPI)")
    _seed_opt(p)
    p.add_argument("--json", action="store_true", help="print trial.json instead of text")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--out", type=Path, default=None,
                   help="output folder (default reports/OUTCOME/trial)")
    _scheduler_opts(p, "the simulations run in chunks", "LocalCluster processes")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    if hasattr(args, "data"):  # a bundled dataset by name (--data real) and its specs
        from ..resources import dataset

        args.data, args.models = dataset(args.data, args.models)
    with interrupts.handling_signals(), recording_command(argv):
        try:
            module = import_module(f".{args.command}", __package__)
            status = int(module.cli_main(args))
            interrupts.check()  # a signal that arrived where nothing raised on it
            return status
        except InputError as exc:
            print(f"srsbayes: error: {exc.oneline()}", file=sys.stderr)
            return EXIT_INPUT
        except OutputError as exc:
            print(f"srsbayes: error: {exc.oneline()}", file=sys.stderr)
            return EXIT_OUTPUT
        except TaskError as exc:
            print(f"srsbayes: error: {exc.oneline()}", file=sys.stderr)
            return EXIT_TASK
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            print(f"srsbayes: error: no space left on the device ({exc.filename or exc}); "
                  "earlier outputs are intact", file=sys.stderr)
            return EXIT_OUTPUT
        except (KeyboardInterrupt, interrupts.Interrupted) as exc:
            signum = interrupts.received() or signal.SIGINT
            done = getattr(exc, "outputs_complete", False)
            print(f"srsbayes: interrupted by {signal.Signals(signum).name}; "
                  + ("it arrived while the outputs were moved into place: they are complete"
                     if done else "nothing new was written"), file=sys.stderr)
            return 128 + signum


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
how ``tests/integration/test_compile_cache.py`` checks that a warm ``fit`` never imports PyMC."""


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
