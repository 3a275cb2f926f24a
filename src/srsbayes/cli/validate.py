"""``python -m srsbayes validate``: simulation-based calibration of every model family."""

from __future__ import annotations

import argparse

from ..errors import InputError
from ..inputs.data import default_table
from ..inputs.specs import load_specs
from ..outputs import check_output_path
from ..parallel import backend_from
from ..resources import default_out
from ..validation.run import EXIT_SBC_REJECTED, run_validation


def cli_main(args: argparse.Namespace) -> int:
    """Exit 0 if every uniformity test passes, else 4."""
    out = args.out or default_out("validation")
    check_output_path(out)  # before anything is simulated
    specs = load_specs(args.models)
    table = default_table(specs, args.data)
    try:
        backend = backend_from(args.scheduler, args.workers)
    except ValueError as exc:
        raise InputError(str(exc), column="--scheduler") from None
    if backend.kind == "threads":
        backend = None  # one data set after another, as before
    passed = run_validation(table, specs, out, n_sims=args.sims, seed=args.seed,
                            backend=backend)
    print(f"SBC {'PASSED' if passed else 'FAILED'}; outputs in {out}")
    return 0 if passed else EXIT_SBC_REJECTED
